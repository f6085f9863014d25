"""The one rule for mined customer figures (`kg.field_access`) and the neighbour facts search may copy."""

from __future__ import annotations

import pytest

from kcrm.foundation.errors import Forbidden
from kcrm.kg.field_access import (
    MINED_CUSTOMER_FIELDS,
    check_mined_filters,
    node_properties,
    not_mined,
    reads_mined,
    search_meta,
)
from kcrm.kg.mining.writeback import CUSTOMER_PROPERTIES
from kcrm.search.from_graph import neighbour_facts
from kcrm.security.access import Principal


def principal(*roles: str) -> Principal:
    return Principal(key_id="k", name="k", roles=frozenset(roles))


def test_only_analysts_and_admins_read_mined_figures() -> None:
    assert [reads_mined(principal(r)) for r in ("agent", "expert", "app", "analyst", "admin")] == [
        False, False, False, True, True]


def test_every_property_mining_writes_is_hidden_from_an_agent() -> None:
    assert set(CUSTOMER_PROPERTIES) <= MINED_CUSTOMER_FIELDS
    profile = {"uid": "CUS-1", "name": "Acme", **dict.fromkeys(MINED_CUSTOMER_FIELDS, 1)}
    assert node_properties(profile, mined=False) == {"uid": "CUS-1", "name": "Acme"}
    assert node_properties(profile, mined=True) == profile


def test_search_meta_and_filters_on_mined_fields() -> None:
    meta = {"status": "open", "customer": "Acme", "tier": "gold", "churn_risk": "high"}
    assert search_meta(meta, mined=False) == {"status": "open", "customer": "Acme"}
    assert search_meta(meta, mined=True) == meta
    with pytest.raises(Forbidden, match="tier.*analyst"):
        check_mined_filters(principal("agent"), {"tier": frozenset({"gold"})})
    check_mined_filters(principal("analyst"), {"tier": frozenset({"gold"})})
    check_mined_filters(principal("agent"), {"status": frozenset({"open"}), "tier": frozenset()})


def test_not_mined_takes_only_variables() -> None:
    assert not_mined("r") == "($minedOk OR coalesce(r.source, '') <> $minedSource)"
    with pytest.raises(ValueError):
        not_mined("r) OR true //")


CUSTOMER = {"name": "Lex & Co", "uid": "CUS-9", "valueTier": "gold", "churnRiskLevel": "high"}


@pytest.mark.parametrize(("item", "customer_groups", "copied"), [
    (frozenset(), None, True),                                        # both public
    (frozenset(), ["key-accounts"], False),                           # public case, confidential customer
    (frozenset({"public"}), ["key-accounts"], False),
    (frozenset({"key-accounts"}), ["key-accounts"], True),            # same audience
    (frozenset({"key-accounts", "emea"}), ["key-accounts"], False),   # an emea member would learn the customer
    (frozenset({"key-accounts"}), ["key-accounts", "emea"], True),
    (frozenset({"key-accounts"}), ["public"], True),
])
def test_a_neighbour_fact_is_copied_only_when_the_item_is_no_more_visible(item, customer_groups, copied) -> None:
    facts = neighbour_facts(item, {"customer": {**CUSTOMER, "accessGroups": customer_groups},
                                   "resolvedBy": {"name": "Li Na", "accessGroups": None}})
    assert facts["resolvedBy"] == "Li Na"
    customer_keys = {"customer", "customerUid", "tier", "churn_risk"}
    assert (customer_keys <= facts.keys()) is copied
    assert not copied or facts["customer"] == "Lex & Co"
    assert copied or not customer_keys & facts.keys()
