"""The outcomes page in a real browser: the plot and table of GET /v1/outcomes, in English and Chinese."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from kcrm.kg.mining.outcome_graph import remove_outcomes, run_outcomes
from kcrm.ontology.model import load_ontology
from tests.browser.conftest import settled

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def estimates(loaded, graph) -> Iterator[None]:
    """The sample's actions measured and written once; removed afterwards."""
    run_outcomes(graph, load_ontology())
    yield
    remove_outcomes(graph, load_ontology())


def test_outcomes_page_plots_each_uplift_with_its_interval(estimates, signed_in, api, shot) -> None:
    page = signed_in
    page.locator("#nav-outcomes").click()
    settled(page)
    body = api.get("/v1/outcomes").json()
    assert body["source"] == "kcrm.mine" and len(body["items"]) == 3
    rows = page.locator("#outcomes-plot g.outcome-row")
    expect(rows).to_have_count(3)
    assert rows.evaluate_all("els => els.map(e => e.dataset.kind)") == [i["kind"] for i in body["items"]]
    expect(page.locator("#outcomes-plot circle.uplift")).to_have_count(3)
    expect(page.locator("#outcomes-plot line.interval")).to_have_count(3)
    first = body["items"][0]
    cell = page.locator(f'#outcomes-table tr[data-kind="{first["kind"]}"] td.uplift')
    expect(cell).to_have_text(f"{first['uplift'] * 100:.1f}%")
    # the dot lies between the ends of its interval
    x = page.locator("#outcomes-plot g.outcome-row").first.evaluate(
        "g => [g.querySelector('line').x1.baseVal.value, g.querySelector('circle').cx.baseVal.value, "
        "g.querySelector('line').x2.baseVal.value]")
    assert x[0] < x[1] < x[2]
    shot("outcomes-en")
    page.locator("#lang-toggle").click()
    settled(page)
    expect(page.locator("#outcomes-table")).to_contain_text("挽留电话")
    expect(page.locator("#nav-outcomes")).to_have_text("行动成效")
    shot("outcomes-zh")


def test_outcomes_page_tells_a_non_analyst_it_needs_the_role(api_url, page, make_key) -> None:
    """The shell's rule for a 403: the server's reason (the role needed) on the page, still signed in."""
    from tests.browser.conftest import settled, sign_in

    sign_in(page, api_url, make_key(roles=("agent",), name="outcomes-page-agent"))
    page.goto(f"{api_url}/#/outcomes")
    settled(page)
    message = page.locator("#error")
    expect(message).to_contain_text("403")
    expect(message).to_contain_text("analyst")
    expect(page.locator("#outcomes-table")).to_have_count(0)
    assert page.evaluate("sessionStorage.getItem('kcrm.apiKey')"), "a 403 must not sign the person out"
