"""The page's shell in a real browser: sign-in, the key on every call, language, errors, keyboard, narrow windows."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settled

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_page_is_served_with_a_policy_that_forbids_other_origins(api) -> None:
    index = api.get("/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    policy = index.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    script = api.get("/static/js/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert api.get("/static/js/no-such-file.js").status_code == 404


def test_sign_in_keeps_the_key_in_the_tab_and_sends_it_on_every_call(page, api_url, sign_in_key, shot) -> None:
    requests = []
    page.on("request", lambda request: requests.append(request))
    page.goto(f"{api_url}/#/search?q=refund")
    settled(page)
    expect(page.locator("#signin-form")).to_be_visible()
    expect(page.locator("#api-key")).to_be_focused()
    shot("sign-in")
    page.locator("#api-key").fill(sign_in_key)
    page.locator("#signin-submit").click()
    settled(page)
    # Signing in returns to the page that was asked for.
    expect(page.locator("#results-summary")).to_contain_text("refund")
    assert page.evaluate("sessionStorage.getItem('kcrm.apiKey')") == sign_in_key
    calls = [r for r in requests if urlsplit(r.url).path.startswith("/v1/")]
    assert {urlsplit(r.url).path for r in calls} >= {"/v1/search", "/v1/taxonomy"}
    assert all(r.headers.get("authorization") == f"Bearer {sign_in_key}" for r in calls)
    # Nothing is fetched from anywhere but the API's own origin.
    origin = urlsplit(api_url).netloc
    assert {urlsplit(r.url).netloc for r in requests if not r.url.startswith("data:")} == {origin}

    page.reload()
    expect(page.locator("#results-summary")).to_contain_text("refund")
    expect(page.locator("#signin-form")).to_have_count(0)
    page.locator("#sign-out").click()
    expect(page.locator("#signin-form")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('kcrm.apiKey')") is None


@pytest.fixture
def authenticating_api(api_key: str) -> None:
    """Skip (before a page is opened) while the API accepts any key: there is nothing to reject."""
    if not api_key:
        pytest.skip("the API accepts any key until authentication lands (api_key is empty)")


def test_a_rejected_key_sends_the_user_back_to_sign_in(authenticating_api, page, api_url, shot) -> None:
    sign_in_attempt = "not-a-valid-key-" + "x" * 16
    page.goto(f"{api_url}/")
    settled(page)
    page.locator("#api-key").fill(sign_in_attempt)
    page.locator("#api-key").press("Enter")
    settled(page)
    message = page.locator("#signin-message")
    expect(message).to_contain_text("not accepted")
    expect(message).to_contain_text(re.compile(r"\b40[13]\b"))
    assert page.evaluate("sessionStorage.getItem('kcrm.apiKey')") is None
    shot("sign-in-rejected")


def test_chinese_interface_from_one_dictionary(signed_in, shot) -> None:
    page = signed_in
    keys = page.evaluate("""async () => {
        const { STRINGS } = await import('/static/js/i18n.js');
        return [Object.keys(STRINGS.en).sort(), Object.keys(STRINGS.zh).sort()];
    }""")
    assert keys[0] == keys[1], "every English string needs a Chinese one and the other way round"
    expect(page.locator("#nav-search")).to_have_text("Search")
    page.locator("#lang-toggle").click()
    expect(page.locator("#nav-search")).to_have_text("搜索")
    expect(page.locator("#taxonomy-title")).to_have_text("按主题浏览")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    # Concept labels follow the language: the topic tree shows Chinese labels.
    expect(page.locator("#taxonomy .concept-label").first).to_have_text(re.compile(r"[\u4e00-\u9fff]"))
    page.reload()
    expect(page.locator("#nav-experts")).to_have_text("专家")
    shot("chinese-home")
    page.locator("#lang-toggle").click()
    expect(page.locator("#nav-experts")).to_have_text("Experts")


def test_problem_details_are_shown_as_clear_errors(signed_in, api) -> None:
    page = signed_in
    expected = api.get("/v1/entities/NO-SUCH-CASE").json()
    page.goto(page.url.split("#")[0] + "#/case/NO-SUCH-CASE")
    settled(page)
    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error.locator("h2")).to_have_text(f"{expected['title']} ({expected['status']})")
    expect(error.locator(".error-detail")).to_have_text(expected["detail"])
    # A query the API refuses (over 1,000 characters) names the field and the reason.
    page.goto(page.url.split("#")[0] + "#/search?q=" + "x" * 1001)
    settled(page)
    expect(error.locator("h2")).to_contain_text("422")
    expect(error).to_contain_text("over the limit of 1000")


def test_keyboard_slash_focuses_search_and_enter_submits(signed_in) -> None:
    page = signed_in
    page.locator("body").press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("printer driver")
    page.keyboard.press("Enter")
    settled(page)
    expect(page.locator("#results-summary")).to_contain_text("printer driver")
    assert "#/search?q=printer+driver" in page.url or "#/search?q=printer%20driver" in page.url
    # On a fresh load the first Tab reaches the skip link, the next ones the brand and the search box.
    page.reload()
    expect(page.locator("#results-summary")).to_contain_text("printer driver")
    order = []
    for _ in range(3):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id"))
    assert order == ["skip-link", "brand", "q"]


def test_narrow_window_has_one_column_and_no_sideways_scrolling(signed_in, shot) -> None:
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#q").fill("退款")
    page.locator("#q").press("Enter")
    settled(page)
    expect(page.locator("#results .hit").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    results = page.locator("#results").bounding_box()
    sidebar = page.locator("#sidebar").bounding_box()
    assert abs(results["x"] - sidebar["x"]) < 2, "narrow windows stack sidebar and results in one column"
    shot("narrow-search")
