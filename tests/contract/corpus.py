"""The contract corpus: a few cases, documents and a policy in English and Chinese, some restricted.

`key-accounts` items hold words nobody else's items have (`zephyrine`, three times, so a
spelling corrector would learn it) and extra occurrences of shared words (`refund`), so that
a leak of restricted text or of its frequencies shows in what an outsider sees.
"""

from __future__ import annotations

from kcrm.search.types import IndexItem

GROUP = "key-accounts"
SECRET = "zephyrine"


def case(uid: str, title: str, text: str, day: str, language: str = "en", **meta: object) -> IndexItem:
    return IndexItem(uid, "SupportCase", title, text, language, {"openedAt": day, **meta})


ITEMS = [
    case("CASE-1", "Refund not received", "I returned the router and want my refund.", "2023-01-05",
         status="open", priority="high", product="Skylark X200 Router", customer="Ashford", topic="Refund"),
    case("CASE-2", "Refund for a late parcel", "The parcel came late; a refund was asked.", "2025-03-01",
         status="closed", priority="low", customer="Brook"),
    case("CASE-3", "Printer driver fails", "The printer driver fails after the update.", "2024-06-01",
         status="open", priority="medium", product="Inkjet P10 Printer"),
    case("CASE-ZH", "退款没有到账", "客户退回了路由器，要求退款。", "2024-02-10", language="zh", status="open"),
    case("CASE-S1", "Zephyrine contract refund", "Zephyrine refund for the key account, refund approved.",
         "2024-06-15", status="open", priority="high", customer="Cobalt", topic="Refund", accessGroups=[GROUP]),
    case("CASE-S2", "Zephyrine renewal", "The zephyrine renewal needs a refund review.", "2024-07-01",
         status="closed", priority="high", customer="Cobalt", accessGroups=[GROUP]),
    case("CASE-S3", "Router refund escalation", "Escalated refund for a key account router.", "2022-11-20",
         status="open", priority="high", product="Skylark X200 Router", customer="Cobalt",
         accessGroups=[GROUP]),
    IndexItem("DOC-1", "Document", "Refund policy notes", "Refund rules and the refund form.", "en",
              {"publishedAt": "2021-04-01", "topic": "Refund"}),
    IndexItem("DOC-2", "Document", "Printer guide", "How to install the printer driver.", "en",
              {"publishedAt": "2022-09-09"}),
    IndexItem("POL-1", "Policy", "Refund policy", "Refunds are paid within 14 days of the return.", "en",
              {"effectiveFrom": "2020-01-01"}),
]
PUBLIC = [item for item in ITEMS if GROUP not in item.meta.get("accessGroups", [])]
RESTRICTED = {item.uid for item in ITEMS} - {item.uid for item in PUBLIC}
