"""Browser fixtures: one headless Debian Chromium per session, a fresh page (and screenshot) per test.

Playwright drives the system's `chromium` (installed by `make install` with apt-get); it never
downloads a browser. Screenshots land in var/test-artifacts/screenshots/, one per test plus the
named steps a test takes.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

SCREENSHOTS = Path(os.environ.get("KCRM_SCREENSHOT_DIR", REPO / "var" / "test-artifacts" / "screenshots"))
PLACEHOLDER_KEY = "placeholder-key"  # typed when the API has no authentication yet (api_key == "")
WAIT_MS = 90_000  # generous: the test machine is shared, and the first queries warm the index
LAPTOP = {"width": 1366, "height": 800}


def chromium_path() -> str:
    """Debian's Chromium (or KCRM_CHROMIUM), or a failure that says how to install it."""
    path = os.environ.get("KCRM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("the browser tests need Debian's Chromium on PATH: run `make install` as root "
                    "(apt-get install chromium fonts-wqy-zenhei) or set KCRM_CHROMIUM; "
                    "`playwright install` is not used", pytrace=False)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def sign_in_key(api_key: str) -> str:
    """What a person types at sign-in: the test key, or any placeholder while the API has no auth."""
    return api_key or PLACEHOLDER_KEY


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:120]


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """A new browser context and page (laptop-sized, English); its last state is screenshotted."""
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport=LAPTOP, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.js_errors = errors
    yield tab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        tab.screenshot(path=str(SCREENSHOTS / f"{_safe(request.node.name)}.png"), full_page=True)
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def shot(page) -> Callable[[str], Path]:
    """Save a named full-page screenshot of the current page; returns its path."""

    def take(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_safe(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def signed_in(page, api_url: str, sign_in_key: str):
    """The page opened at the API's root and signed in the way a person does it."""
    sign_in(page, api_url, sign_in_key)
    return page


def sign_in(page, api_url: str, key: str) -> None:
    """Open the page, type the key, press Enter, wait for the home page."""
    page.goto(f"{api_url}/")
    page.locator("#api-key").fill(key)
    page.locator("#api-key").press("Enter")
    page.locator("#taxonomy").wait_for()
    settled(page)


SETTLED = """() => {
    const main = document.getElementById('main');
    return main.dataset.view === location.hash && !main.hasAttribute('aria-busy');
}"""


def settled(page) -> None:
    """Wait until the page has drawn the view its address names (every call it makes has answered)."""
    page.wait_for_function(SETTLED, timeout=WAIT_MS)
