"""The case page, the expert finder and the customer 360 page in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settled

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def resolved_case(api, q: str) -> dict:
    hits = api.get("/v1/search", params={"q": q, "status": "resolved", "type": "SupportCase", "k": 1}).json()["hits"]
    assert hits, f"the sample has a resolved case for {q!r}"
    return hits[0]


def test_case_page_shows_similar_cases_policies_and_experts(signed_in, api, api_url, shot) -> None:
    page = signed_in
    case = resolved_case(api, "printer driver")
    page.goto(f"{api_url}/#/case/{case['uid']}")
    settled(page)
    expect(page.locator("#case-title")).to_have_text(case["title"])
    entity = api.get(f"/v1/entities/{case['uid']}").json()
    expect(page.locator("#case .resolution")).to_have_text(entity["properties"]["resolution"])
    similar = page.locator("#similar .similar-list > li")
    expect(similar.first).to_be_visible()
    uids = similar.evaluate_all("els => els.map(e => e.dataset.uid)")
    assert case["uid"] not in uids and len(uids) >= 1
    expect(page.locator("#rules .rule-list > li").first).to_be_visible()
    experts = page.locator("#case-experts article.expert")
    expect(experts.first).to_be_visible()
    expect(experts.first.locator(".evidence li, .skills li").first).to_be_visible()
    shot("case-page")
    # The customer who raised it is one click away.
    raised = next(g for g in entity["groups"] if g["type"] == "RAISED" and g["direction"] == "in")["items"][0]
    page.locator("#case-customer").click()
    settled(page)
    expect(page.locator("#customer-name")).to_have_text(raised["name"])


def test_expert_finder_ranks_people_with_their_evidence(signed_in, api, shot) -> None:
    page = signed_in
    page.locator("#nav-experts").click()
    settled(page)
    expect(page.locator("#experts-q")).to_be_focused()
    page.keyboard.type("打印机驱动")
    page.keyboard.press("Enter")
    settled(page)
    expect(page).to_have_url(re.compile(r"#/experts\?q="))
    cards = page.locator("#expert-list article.expert")
    expect(cards.first).to_be_visible()
    expected = api.get("/v1/experts", params={"q": "打印机驱动", "k": 10}).json()["experts"]
    assert cards.evaluate_all("els => els.map(e => e.dataset.uid)") == [e["uid"] for e in expected]
    top = cards.first
    expect(top.locator(".expert-name")).to_have_text(expected[0]["name"])
    evidence = top.locator(".evidence li a")
    expect(evidence).to_have_count(min(5, len(expected[0]["evidence"])))
    shot("experts-printer-driver")
    first_evidence = expected[0]["evidence"][0]
    evidence.first.click()
    settled(page)
    if first_evidence["type"] == "SupportCase":
        expect(page.locator("#case-title")).to_have_text(first_evidence["title"])
    else:
        expect(page.locator("#entity")).to_have_attribute("data-uid", first_evidence["uid"])


def test_customer_360_draws_the_neighbourhood(signed_in, api, api_url, shot) -> None:
    page = signed_in
    # A customer reached the way an agent would: from a case hit's customer link.
    page.locator("#q").fill("退款")
    page.locator("#q").press("Enter")
    settled(page)
    link = page.locator('#results .hit a[href^="#/customer/"]').first
    uid = link.get_attribute("href").split("/")[-1]
    link.click()
    settled(page)
    view = api.get(f"/v1/customers/{uid}/360").json()
    expect(page.locator("#customer-name")).to_have_text(view["profile"]["name"])
    expect(page.locator("#customer-orders")).to_have_text(f"{view['transactions']['orders']:,}")
    expect(page.locator("#closed-cases li")).to_have_count(len(view["closed_cases"]) or 0)
    entity = api.get(f"/v1/entities/{uid}", params={"limit": 6}).json()
    neighbours = sum(min(6, len(g["items"])) for g in entity["groups"])
    graph = page.locator("svg#graph")
    expect(graph.locator("a.node-link")).to_have_count(neighbours)
    expect(graph.locator("circle.centre")).to_have_count(1)
    expect(graph.locator("title#graph-title")).to_contain_text(view["profile"]["name"])
    shot("customer-360")
    case_node = graph.locator('a.node-link[data-uid^="CASE-"]').first
    case_uid = case_node.get_attribute("data-uid")
    case_node.focus()
    page.keyboard.press("Enter")
    settled(page)
    expect(page.locator("#case")).to_have_attribute("data-uid", case_uid)
