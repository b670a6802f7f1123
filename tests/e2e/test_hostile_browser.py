"""Hostile use through the real server in Chromium: a shared link from another time, and an administrator's
"view as" (the sidebar box lives in dashboard.py, which AppTest does not re-run after the first page)."""
import pytest

from tests.e2e.test_browser import ARTIFACTS, BAD_WORDS, browser, page_text, server_factory, sign_in, wait_rendered  # noqa: F401


@pytest.fixture(scope="module")
def url(server_factory):  # noqa: F811
    return server_factory()


@pytest.mark.parametrize("query", ["from=2022-06-01&to=2023-01-31", "from=2031-01-01&to=2031-12-31",
                                   "from=2025-12-31&to=2024-01-01", "from=%27%3B--&to=%3Cscript%3E",
                                   "grain=fortnight&department=nowhere"])
def test_a_shared_link_from_another_time_never_shows_a_traceback(url, browser, query):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    sign_in(page, f"{url}/?{query}", "Executive")
    wait_rendered(page)
    page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
    page.locator("[data-testid='stMetric']").first.wait_for(timeout=60_000)
    text = page_text(page) + page.locator("[data-testid='stSidebar']").inner_text()
    assert not any(w in text for w in BAD_WORDS), (query, text[:600])
    if query.startswith("from=20"):
        assert "showing" in text and "instead" in text, text[:600]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"link-{query.split('&')[0].replace('=', '-')[:20]}.png"))
    page.close()


def test_view_as_is_read_only_in_the_browser(url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    sign_in(page, url, "Administrator")
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.locator("[data-testid='stSelectbox']").filter(has_text="View as").click()
    page.get_by_role("option", name="Head of department").first.click()
    wait_rendered(page)
    page.get_by_text("which is read-only").first.wait_for(timeout=60_000)
    page.get_by_role("link", name="Suggestions").first.click()
    wait_rendered(page)
    button = page.get_by_role("button", name="Submit the idea")
    page.get_by_text("Put forward an idea").first.click()
    button.wait_for(timeout=60_000)
    assert button.is_disabled()
    text = page_text(page)
    assert "Administrator is viewing as" in text and "read-only" in text
    assert not any(w in text for w in BAD_WORDS)
    page.screenshot(path=str(ARTIFACTS / "admin-view-as-head-suggestions.png"), full_page=True)
    page.close()
