"""The issue's bar as a click path: a newcomer finds a resolved case for 退款 and the right expert for it.

Every step is a click or a key a person would use; the test counts them instead of timing them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settled

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_newcomer_finds_a_resolved_case_and_its_expert_for_a_chinese_query(page, api, api_url, sign_in_key,
                                                                             shot) -> None:
    actions = 0

    def act(step) -> None:
        nonlocal actions
        actions += 1
        step()

    page.goto(f"{api_url}/")
    settled(page)
    page.locator("#api-key").fill(sign_in_key)
    act(lambda: page.locator("#api-key").press("Enter"))
    settled(page)
    act(lambda: page.locator("body").press("/"))
    page.keyboard.type("退款")
    act(lambda: page.keyboard.press("Enter"))
    settled(page)
    expect(page.locator("#results .hit").first).to_be_visible()
    shot("newcomer-1-search")

    act(lambda: page.locator('#facets a.facet-value[data-field="status"][data-value="resolved"]').click())
    settled(page)
    expect(page).to_have_url(re.compile(r"status=resolved"))
    first_case = page.locator('#results .group[data-type="SupportCase"] .hit').first
    case_uid = first_case.get_attribute("data-uid")
    shot("newcomer-2-resolved")

    act(lambda: first_case.locator("a.hit-title").click())
    settled(page)
    expect(page.locator("#case")).to_have_attribute("data-uid", case_uid)
    case = api.get(f"/v1/entities/{case_uid}").json()
    assert case["properties"]["status"] == "resolved" and "退款" in case["properties"]["title"] + case["properties"]["description"]
    expect(page.locator("#case .resolution")).to_have_text(case["properties"]["resolution"])
    experts = page.locator("#case-experts article.expert")
    expect(experts.first).to_be_visible()
    shot("newcomer-3-case")

    # The right expert: the first one suggested is skilled in the case's topic (or a broader one) and
    # has resolved cases like it; the graph, not the page, says so.
    topic = next(g for g in case["groups"] if g["type"] == "HAS_TOPIC")["items"][0]["uid"]
    top_uid = experts.first.get_attribute("data-uid")
    top = api.get(f"/v1/entities/{top_uid}", params={"limit": 200}).json()
    skills = {i["uid"] for g in top["groups"] if g["type"] == "HAS_SKILL" for i in g["items"]}
    assert topic in skills, f"{top_uid} should be skilled in {topic}, has {sorted(skills)}"
    resolved = next(g for g in top["groups"] if g["type"] == "RESOLVED_BY" and g["direction"] == "in")
    assert resolved["total"] > 0
    evidence = experts.first.locator(".evidence li a")
    expect(evidence.first).to_be_visible()

    act(lambda: page.locator("#more-experts").click())
    settled(page)
    expect(page).to_have_url(re.compile(r"#/experts\?q="))
    expect(page.locator("#expert-list article.expert").first).to_be_visible()
    finder = page.locator("#expert-list article.expert").evaluate_all("els => els.map(e => e.dataset.uid)")
    assert top_uid in finder[:3], "the expert finder agrees with the case page's first suggestion"
    shot("newcomer-4-experts")
    assert actions <= 6
