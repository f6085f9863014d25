"""Searching in a real browser: highlighted grouped hits, facets, removable chips, pages, the taxonomy."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settled

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def total_shown(page) -> int:
    """The number of matches the summary line states."""
    text = page.locator("#results-summary").inner_text()
    return int(re.search(r"([\d,]+)", text)[1].replace(",", ""))


def hit_uids(page) -> list[str]:
    return page.locator("#results .hit").evaluate_all("els => els.map(e => e.dataset.uid)")


def test_search_shows_highlighted_hits_grouped_by_type(signed_in, api, shot) -> None:
    page = signed_in
    page.locator("#q").fill("退款")
    page.locator("#q").press("Enter")
    settled(page)
    expect(page.locator("#results .hit").first).to_be_visible()
    expected = api.get("/v1/search", params={"q": "退款", "k": 10, "facets": "true"}).json()
    assert total_shown(page) == expected["total"]
    assert hit_uids(page) == sorted((h["uid"] for h in expected["hits"]),
                                    key=lambda uid: ["SupportCase", "Document", "Policy", "IndustryRule"].index(
                                        next(h["type"] for h in expected["hits"] if h["uid"] == uid)))
    groups = page.locator("#results .group").evaluate_all("els => els.map(e => e.dataset.type)")
    assert groups == sorted(set(groups), key=groups.index), "each type is one group"
    assert set(groups) == {h["type"] for h in expected["hits"]}
    marks = page.locator("#results .hit mark").all_inner_texts()
    assert marks and all(m in "退款" or m.lower() in " ".join(expected["expanded_terms"]).lower() for m in marks)
    shot("search-refund")


def test_facet_drills_down_and_its_chip_removes_the_filter(signed_in, api, shot) -> None:
    page = signed_in
    page.locator("#q").fill("退款")
    page.locator("#q").press("Enter")
    settled(page)
    expect(page.locator("#results .hit").first).to_be_visible()
    before = total_shown(page)
    facet = page.locator('#facets a.facet-value[data-field="status"][data-value="resolved"]')
    count = int(facet.locator(".count").inner_text().replace(",", ""))
    # Keyboard: focus the facet and press Enter.
    facet.focus()
    page.keyboard.press("Enter")
    settled(page)
    expect(page).to_have_url(re.compile(r"status=resolved"))
    expect(page.locator("#chips .chip").first).to_contain_text("resolved")
    expect(page.locator('#facets a.facet-value[data-field="status"][aria-pressed="true"]')).to_have_count(1)
    # The facet counted the resolved items among the first match set; filtering first lets the
    # dense side bring more resolved candidates, so the new total is the API's, not the count.
    assert 0 < count and total_shown(page) < before
    statuses = page.locator('#results .group[data-type="SupportCase"] .hit .badge[class*="status-"]').all_inner_texts()
    assert statuses and set(statuses) == {"resolved"}
    api_total = api.get("/v1/search", params={"q": "退款", "status": "resolved", "k": 10}).json()["total"]
    assert total_shown(page) == api_total
    shot("search-facet-resolved")

    page.locator("#chips .chip", has_text="resolved").click()
    settled(page)
    expect(page.locator("#chips")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"status="))
    expect(page.locator("#results-summary")).to_contain_text(f"{before:,}")


def test_pages_move_through_the_hits(signed_in) -> None:
    page = signed_in
    page.locator("#q").fill("refund")
    page.locator("#q").press("Enter")
    settled(page)
    expect(page.locator("#pager")).to_be_visible()
    first = hit_uids(page)
    page.locator("#pager a", has_text=re.compile(r"^2$")).click()
    settled(page)
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#pager a.current")).to_have_text("2")
    second = hit_uids(page)
    assert len(first) == len(second) == 10 and not set(first) & set(second)
    page.locator("#pager a[rel=prev]").click()
    settled(page)
    expect(page.locator("#pager a.current")).to_have_text("1")
    assert hit_uids(page) == first


def test_taxonomy_browsing_drills_down_to_a_topic(signed_in, api, shot) -> None:
    page = signed_in
    tree = api.get("/v1/taxonomy", params={"scheme": "topics"}).json()
    parent = next(node for node in tree["nodes"] if any(c["count"] for c in node["children"]))
    child = max(parent["children"], key=lambda c: c["count"])
    summary = page.locator(f'#taxonomy summary:has(> a.concept[data-uid="{parent["uid"]}"])')
    expect(summary.locator(".count")).to_have_text(f"{parent['count']:,}")
    summary.click(position={"x": 4, "y": 8})  # the disclosure triangle, not the link
    concept = page.locator(f'#taxonomy a.concept[data-uid="{child["uid"]}"]')
    expect(concept).to_be_visible()
    concept.click()
    settled(page)
    expect(page).to_have_url(re.compile(rf"topic={child['uid']}"))
    expect(page.locator("#chips .chip").first).to_contain_text(child["label_en"])
    assert total_shown(page) == child["count"]
    expect(page.locator(f'#taxonomy a.concept[data-uid="{child["uid"]}"][aria-current="true"]')).to_be_visible()
    shot("taxonomy-topic")
    page.locator("#taxonomy .tabs a", has_text="Product categories").click()
    settled(page)
    expect(page.locator("#taxonomy .tabs a[aria-current=page]")).to_have_text("Product categories")
    categories = api.get("/v1/taxonomy", params={"scheme": "product-categories", "topic": child["uid"]}).json()
    shown = page.locator("#taxonomy .tree > li > details > summary a.concept, #taxonomy .tree > li > a.concept")
    expect(shown).to_have_count(len([n for n in categories["nodes"] if n["count"]]))
