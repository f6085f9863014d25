"""Customer 360 over HTTP lists only the policies and rules that can apply where the customer is."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e

REACHABLE = """
MATCH (c:Customer {country: $country})-[:PURCHASED]->(:Product)-[:IN_CATEGORY]->(:ProductCategory)
      -[:BROADER*0..3]->(:ProductCategory)<-[:APPLIES_TO]-(r)
WHERE (r:Policy OR r:IndustryRule) AND NOT (c)-[:GOVERNED_BY]->(r)
WITH c, collect(DISTINCT r) AS rules
RETURN c.uid AS uid, c.language AS language,
       [r IN rules WHERE r.jurisdiction IS NULL AND r.language <> c.language | r.uid] AS foreign,
       [r IN rules WHERE r.jurisdiction IS NOT NULL AND r.jurisdiction <> $country
                  AND NOT r.jurisdiction STARTS WITH 'International' | r.uid] AS elsewhere,
       [r IN rules WHERE r.jurisdiction = $country | r.uid] AS local
ORDER BY size(foreign) DESC, uid LIMIT 1
"""


def test_uk_customer_360_leaves_out_rules_of_other_jurisdictions_and_languages(api: httpx.Client, graph) -> None:
    rows = graph.read(REACHABLE, country="United Kingdom")
    if not rows or not rows[0]["foreign"]:
        pytest.skip("the loaded data has no UK customer reaching a foreign-language policy")
    row = rows[0]
    foreign_local = graph.read("MATCH (r:Policy) WHERE r.uid IN $uids AND r.language <> 'en' RETURN r.uid AS uid",
                               uids=row["foreign"])
    response = api.get(f"/v1/customers/{row['uid']}/360", timeout=60)
    assert response.status_code == 200, response.text
    listed = {r["uid"] for r in response.json()["rules"]}
    assert foreign_local and not listed & {r["uid"] for r in foreign_local}, "a non-English local policy leaked"
    assert not listed & set(row["elsewhere"]), "a rule of another jurisdiction leaked"
    assert set(row["local"]) <= listed, "UK rules reached through APPLIES_TO must stay"
