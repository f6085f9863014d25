"""Access groups for the sample company: which records only some people may see.

Realistic restrictions, derived from the generated data (no random draw, so the rest of the
sample is unchanged): the cases and orders of the biggest business accounts are for the
key-account team only (and so are the actions taken on them); one of them, a law firm, is confidential as a whole (its customer node
too); internal security runbooks (troubleshooting guides on malware, single sign-on, 2FA and
locked accounts) are for staff in the "internal" group. Everything else stays public.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from kcrm.sample.common import Record

KEY_ACCOUNTS = "key-accounts"
INTERNAL = "internal"
KEY_ACCOUNT_COUNT = 5
CONFIDENTIAL_INDUSTRY = "Legal services"
RUNBOOK_TOPICS = frozenset({"topic-malware", "topic-sso", "topic-2fa", "topic-account-locked"})


def _ends(record: Record, rel_type: str) -> list[str]:
    return [r.get("to") or r.get("from") for r in record["rels"] if r["type"] == rel_type]


def key_accounts(data: dict[str, list[Record]], count: int = KEY_ACCOUNT_COUNT) -> list[str]:
    """The `count` business customers with the largest order value, largest first."""
    spend: dict[str, float] = defaultdict(float)
    for order in data["Transaction"]:
        for customer in _ends(order, "PLACED"):
            spend[customer] += float(order["props"].get("total") or 0.0)
    business = {c["uid"] for c in data["Customer"] if c["props"].get("industry") != "Consumer"}
    return sorted((uid for uid in spend if uid in business), key=lambda uid: (-spend[uid], uid))[:count]


def _restrict(record: Record, group: str) -> None:
    props: dict[str, Any] = record["props"]
    props["accessGroups"] = sorted({*props.get("accessGroups", []), group})


def assign_access_groups(data: dict[str, list[Record]]) -> dict[str, list[str]]:
    """Set `accessGroups` on the restricted records (in place); returns group -> restricted uids."""
    accounts = key_accounts(data)
    customers = {c["uid"]: c for c in data["Customer"]}
    restricted: dict[str, list[str]] = defaultdict(list)
    for record in (*data["SupportCase"], *data["Transaction"], *data.get("Action", [])):
        if set(_ends(record, "RAISED") + _ends(record, "PLACED") + _ends(record, "ACTION_ON")) & set(accounts):
            _restrict(record, KEY_ACCOUNTS)
            restricted[KEY_ACCOUNTS].append(record["uid"])
    confidential = [uid for uid in accounts if customers[uid]["props"].get("industry") == CONFIDENTIAL_INDUSTRY]
    for uid in (confidential or accounts)[:1]:
        _restrict(customers[uid], KEY_ACCOUNTS)
        restricted[KEY_ACCOUNTS].append(uid)
    for doc in data["Document"]:
        if doc["props"].get("docType") == "troubleshooting-guide" and set(_ends(doc, "HAS_TOPIC")) & RUNBOOK_TOPICS:
            _restrict(doc, INTERNAL)
            restricted[INTERNAL].append(doc["uid"])
    return dict(restricted)
