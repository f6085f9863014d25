"""Customer 360 over HTTP lists only the policies and rules that can apply where the customer is."""

from __future__ import annotations

import pytest

from kcrm.kg.customer360 import jurisdiction_covers

pytestmark = pytest.mark.e2e

REACHABLE = """
MATCH (c:Customer {country: $country})-[:PURCHASED]->(:Product)-[:IN_CATEGORY]->(:ProductCategory)
      -[:BROADER*0..3]->(:ProductCategory)<-[:APPLIES_TO]-(r)
WHERE (r:Policy OR r:IndustryRule) AND NOT (c)-[:GOVERNED_BY]->(r)
WITH c, collect(DISTINCT r {.uid, .jurisdiction, .language}) AS rules
RETURN c.uid AS uid, rules ORDER BY size(rules) DESC, uid LIMIT 1
"""


def test_every_sample_policy_and_rule_names_its_jurisdiction(loaded, graph) -> None:
    missing = graph.read("MATCH (r) WHERE (r:Policy OR r:IndustryRule) AND r.jurisdiction IS NULL "
                         "RETURN collect(r.uid) AS uids")[0]["uids"]
    assert missing == []


@pytest.mark.parametrize("country", ["United Kingdom", "China"])
def test_customer_360_keeps_exactly_the_rules_whose_jurisdiction_covers_the_customer(country: str, api,
                                                                                     graph) -> None:
    row = graph.read(REACHABLE, country=country)[0]
    elsewhere = {r["uid"] for r in row["rules"] if not jurisdiction_covers(r["jurisdiction"], country)}
    covering = {r["uid"] for r in row["rules"]} - elsewhere
    assert elsewhere and covering, row
    response = api.get(f"/v1/customers/{row['uid']}/360")
    assert response.status_code == 200, response.text
    listed = {r["uid"]: r for r in response.json()["rules"]}
    assert not set(listed) & elsewhere, "a rule of another jurisdiction leaked"
    assert covering <= set(listed), "rules whose jurisdiction covers the customer must stay"
    assert all(r["jurisdiction"] for r in listed.values())
