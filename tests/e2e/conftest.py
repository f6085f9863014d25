"""Fixtures shared by the end-to-end tests: the sample's restricted records that trimming tests probe.

The sample company carries one customer restricted as a whole (a law firm, `key-accounts`), and
public customers whose cases and orders alone are restricted; each leak test needs the same ones.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def confidential(graph, loaded) -> dict:
    """The customer whose whole account is restricted to `key-accounts`: uid, name, email, country."""
    return graph.read("MATCH (n:Customer) WHERE 'key-accounts' IN n.accessGroups "
                      "RETURN n.uid AS uid, n.name AS name, n.email AS email, n.country AS country")[0]


@pytest.fixture(scope="module")
def key_account(graph, loaded) -> str:
    """A public customer whose cases and orders are all restricted to the key-account team."""
    return graph.read("MATCH (c:Customer)-[:RAISED]->(k:SupportCase) WHERE c.accessGroups IS NULL "
                      "AND 'key-accounts' IN k.accessGroups RETURN c.uid AS uid, count(k) AS n "
                      "ORDER BY n DESC, uid LIMIT 1")[0]["uid"]


@pytest.fixture(scope="module")
def restricted_case(graph, key_account: str) -> dict:
    """A resolved, restricted case of `key_account`, with its text and the employee who resolved it."""
    return graph.read("MATCH (:Customer {uid: $uid})-[:RAISED]->(k:SupportCase)-[:RESOLVED_BY]->(e:Employee) "
                      "WHERE k.status IN ['resolved', 'closed'] RETURN k.uid AS uid, k.title AS title, "
                      "k.description AS description, e.uid AS resolver ORDER BY k.uid LIMIT 1", uid=key_account)[0]
