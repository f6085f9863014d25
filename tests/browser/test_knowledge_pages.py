"""The knowledge map, the knowledge-risk page and the 360's "who knows this customer", in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settled

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def uids(locator) -> list[str]:
    return locator.evaluate_all("els => els.map(e => e.dataset.uid)")


def test_knowledge_map_browses_down_from_the_taxonomy_root_in_both_languages(signed_in, api, shot) -> None:
    page = signed_in
    page.locator("#nav-map").click()
    settled(page)
    body = api.get("/v1/knowledge-map").json()
    rows = page.locator("#map-table tbody tr")
    assert uids(rows) == [r["uid"] for r in body["roots"]]
    top = max(body["roots"], key=lambda r: len(r["children"]))
    row = page.locator(f'#map-table tr[data-uid="{top["uid"]}"]')
    expect(row.locator("a.concept")).to_have_text(top["label_en"])
    row.locator("a.concept").click()
    settled(page)
    expect(page.locator("#map-title")).to_have_text(top["label_en"])
    assert uids(page.locator("#map-table tbody tr")) == [c["uid"] for c in top["children"]]
    shot("knowledge-map")
    page.locator("#lang-toggle").click()
    settled(page)
    expect(page.locator("#map-title")).to_have_text(top["label_zh"])
    expect(page.locator("#map-home")).to_have_text("全部主题")
    page.locator("#lang-toggle").click()
    settled(page)


def test_knowledge_risk_page_lists_subjects_and_a_departure(signed_in, api, shot) -> None:
    page = signed_in
    page.locator("#nav-risk").click()
    settled(page)
    body = api.get("/v1/analytics/knowledge-risk", params={"k": 200}).json()
    assert uids(page.locator("#risk-table tbody tr")) == [s["uid"] for s in body["items"]]
    single = [s for s in body["items"] if s["single_expert"]]
    assert single, "the sample has customers known by one person only"
    leaver = single[0]["people"][0]["uid"]
    page.locator("#risk-leaver").fill(leaver)
    page.locator("#risk-submit").click()
    settled(page)
    impact = api.get(f"/v1/employees/{leaver}/departure-impact").json()
    assert uids(page.locator("#departure-table tbody tr")) == [i["subject"]["uid"] for i in impact["sole"]]
    first = impact["sole"][0]
    if first["next_best"]:
        expect(page.locator("#departure-table tbody tr").first.locator(".next-best a")).to_have_text(
            first["next_best"]["name"])
    shot("knowledge-risk")


def test_customer_360_says_who_knows_the_customer(signed_in, api, api_url) -> None:
    page = signed_in
    customer = api.get("/v1/analytics/knowledge-risk", params={"kind": "customer", "k": 1}).json()["items"][0]
    page.goto(f"{api_url}/#/customer/{customer['uid']}")
    settled(page)
    knowledge = api.get(f"/v1/customers/{customer['uid']}/360").json()["knowledge"]
    names = page.locator("#customer-knowledge li a").all_inner_texts()
    assert names == [p["name"] for p in knowledge["people"]][:10] and names


def test_an_agent_sees_the_role_problem_and_stays_signed_in(page, api_url, make_key) -> None:
    from tests.browser.conftest import sign_in

    sign_in(page, api_url, make_key(roles=("agent",), name="kr-browser-agent"))
    page.goto(f"{api_url}/#/knowledge-risk")
    settled(page)
    expect(page.locator("#error")).to_contain_text("403")
    expect(page.locator("#error")).to_contain_text("analyst")
    assert page.evaluate("sessionStorage.getItem('kcrm.apiKey')"), "a 403 must not sign the person out"
    page.locator("#nav-map").click()
    settled(page)
    expect(page.locator("#map-table tbody tr").first).to_be_visible()
