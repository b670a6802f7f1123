"""Browser tests: a real `streamlit run` server on loopback, driven by Playwright in Debian's Chromium.

Screenshots of every page go to tests/artifacts/ (not committed). These never skip: CI installs
chromium (.ci/run).
"""
import csv
import io
import os
import subprocess
import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.perf import streamlit_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ROLES = {"executive": ("Executive", ["Overview", "Department", "My contribution", "Voice of the customer",
                                     "The chain", "Benchmarks", "Suggestions", "You said, we did",
                                     "Metric definitions"]),
         "head": ("Head of department", ["Department", "Overview", "My contribution", "Voice of the customer",
                                         "The chain", "Benchmarks", "Suggestions", "Metric definitions"]),
         "staff": ("Staff member", ["My contribution", "Department", "Voice of the customer", "The chain",
                                    "Metric definitions"]),
         "admin": ("Administrator", ["Overview", "Department", "Suggestions", "Metric definitions"])}
BAD_WORDS = ("Traceback", "Error:", "Exception")
HEADLESS = ("--server.headless", "true", "--browser.gatherUsageStats", "false")


@pytest.fixture(scope="module")
def server_factory(demo_db, tmp_path_factory):
    procs = []

    def start() -> str:
        db = tmp_path_factory.mktemp("e2e") / "e2e.duckdb"
        shutil.copy(demo_db, db)
        env = {**os.environ, "CX_DB": str(db), "CX_FIGURE_STORE": "background"}    # as `make run` serves
        p, url = streamlit_server.start(env, HEADLESS)
        procs.append(p)
        return url

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Debian's chromium is required: apt-get install -y chromium (see .ci/run)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-quic",
                                                              "--disable-background-networking"])
        yield b
        b.close()


def page_text(page) -> str:
    return page.locator("section.stMain, [data-testid='stMain']").first.inner_text()


def sign_in(page, url: str, persona: str) -> None:
    page.goto(url, timeout=60_000)
    page.get_by_text(persona).first.click()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)


def wait_rendered(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(800)


def test_pages_without_sign_in_on_a_fresh_server_show_no_data(server_factory, browser):
    url = server_factory()                       # nobody has signed in on this server yet
    page = browser.new_page()
    for path in ("overview", "department", "my_contribution", "definitions"):
        page.goto(f"{url}/{path}", timeout=60_000)
        page.get_by_text(re.compile("sign in", re.I)).first.wait_for(timeout=60_000)
        wait_rendered(page)
        text = page_text(page)
        assert "Sign in" in text or "Please sign in" in text, path
        assert page.locator("[data-testid='stMetric']").count() == 0, path
        assert not any(w in text for w in BAD_WORDS), path
    page.close()


@pytest.fixture(scope="module")
def url(server_factory):
    return server_factory()


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_opens_each_page(url, browser, role):
    persona, pages = ROLES[role]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    sign_in(page, url, persona)
    for title in pages:
        page.get_by_role("link", name=title).first.click()
        wait_rendered(page)
        page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
        text = page_text(page)
        assert not any(w in text for w in BAD_WORDS), (role, title, text[:500])
        page.screenshot(path=str(ARTIFACTS / f"{role}-{title.lower().replace(' ', '-')}.png"), full_page=True)
    page.close()


def test_forbidden_url_shows_the_default_page(url, browser):
    page = browser.new_page()
    page.goto(f"{url}/overview", timeout=60_000)      # staff may not open the Overview
    page.get_by_text("Page not found").wait_for(timeout=60_000)   # Streamlit's notice over the default page
    page.keyboard.press("Escape")
    page.get_by_text("Staff member").first.click()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)
    wait_rendered(page)
    page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
    assert page.get_by_role("heading", level=1).first.inner_text() == "My contribution"
    assert page.get_by_role("link", name="Overview").count() == 0
    assert page.locator("text=Departments at a glance").count() == 0
    page.close()


def test_administrator_loads_a_file_on_the_data_page(url, browser):
    bad_inputs = ROOT / "tests" / "bad_inputs"
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    sign_in(page, url, "Administrator")
    page.get_by_role("link", name="Data").first.click()
    page.get_by_text("Load an export").first.wait_for(timeout=60_000)
    wait_rendered(page)
    page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").nth(1).click()     # Table
    page.get_by_role("option", name="invoices", exact=True).click()
    page.locator("input[type='file']").first.set_input_files(str(bad_inputs / "unknown_department.csv"))
    uploaded(page, "unknown_department.csv")
    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text("1 problem(s) in 2 rows; nothing was written").first.wait_for(timeout=60_000)
    wait_rendered(page)
    page.screenshot(path=str(ARTIFACTS / "admin-data-problems.png"), full_page=True)   # the table is a canvas
    page.locator("input[type='file']").first.set_input_files(str(bad_inputs / "good.csv"))
    uploaded(page, "good.csv")
    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text("inserted 2, updated 0").first.wait_for(timeout=60_000)
    wait_rendered(page)
    assert not any(w in page_text(page) for w in BAD_WORDS)
    page.screenshot(path=str(ARTIFACTS / "admin-data.png"), full_page=True)
    page.close()


def uploaded(page, name: str) -> None:
    """Wait until the uploader holds `name` and the rerun it causes is done (on a busy machine the upload lags,
    and pressing Load before it lands loads the previous file)."""
    page.locator(f"[data-testid='stFileChipName'][title='{name}']").wait_for(timeout=60_000)
    wait_rendered(page)


def card(page, label: str) -> str:
    """The value shown on the KPI card (or st.metric) whose label contains `label`."""
    return page.locator("[data-testid='stMetric']").filter(has_text=label).first \
        .locator("[data-testid='stMetricValue']").inner_text()


def test_head_follows_up_an_overdue_case_and_the_closed_loop_figures_change(url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    sign_in(page, url, "Head of department")
    page.get_by_role("link", name="Voice of the customer").first.click()
    wait_rendered(page)
    page.get_by_text("Unhappy customers to follow up").wait_for(timeout=60_000)
    # Period: the whole demo (1 Jan 2023 – 31 Dec 2025), typed into the sidebar's date field, so every overdue
    # case is inside it.
    page.get_by_role("spinbutton", name="year, Period start date").click()
    page.keyboard.type("20230101")
    page.keyboard.press("Enter")
    page.locator("h1").first.click()
    page.get_by_text("January 2023 to December 2025").first.wait_for(timeout=60_000)   # the caption (issue 15)
    wait_rendered(page)
    rate_before = float(card(page, "Followed up at all").rstrip(" %"))
    awaiting_before, overdue_before = int(card(page, "Awaiting follow-up")), int(card(page, "Overdue now"))
    assert overdue_before >= 1
    page.get_by_label("Open a case").click()
    page.get_by_role("option", name=re.compile(r"· overdue$")).first.click()
    wait_rendered(page)
    page.screenshot(path=str(ARTIFACTS / "head-voice-overdue-case.png"), full_page=True)
    page.get_by_role("textbox", name="What you told the customer").fill("Called back, apologised, repair booked")
    page.get_by_role("button", name="Record follow-up").click()
    page.get_by_text("Follow-up recorded").wait_for(timeout=60_000)
    wait_rendered(page)
    # The closed-loop figures: a larger share of the period's unhappy customers followed up, and in the inbox one
    # fewer waiting and one fewer overdue.
    assert float(card(page, "Followed up at all").rstrip(" %")) > rate_before
    assert int(card(page, "Awaiting follow-up")) == awaiting_before - 1
    assert int(card(page, "Overdue now")) == overdue_before - 1
    assert not any(w in page_text(page) for w in BAD_WORDS)
    page.screenshot(path=str(ARTIFACTS / "head-voice-followed-up.png"), full_page=True)
    page.close()


def test_staff_member_thanks_a_colleague_who_then_sees_it(url, browser):
    message = f"Thanks for untangling the backlog {int(time.time())}"
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(url, timeout=60_000)
    head_name = page.get_by_text("Head of department").first.inner_text().split("—")[-1].strip()
    sign_in(page, url, "Staff member")
    page.get_by_text("Say thank you").wait_for(timeout=60_000)
    page.get_by_role("combobox", name="Colleague", exact=True).click()
    page.keyboard.type(head_name)
    page.get_by_role("option", name=head_name).first.click()
    page.get_by_role("textbox", name="Message").fill(message)
    page.get_by_role("button", name="Send thanks").click()
    page.get_by_text("Thanks sent").wait_for(timeout=60_000)
    wait_rendered(page)
    page.screenshot(path=str(ARTIFACTS / "staff-gives-thanks.png"), full_page=True)
    page.close()
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    sign_in(page, url, "Head of department")
    page.get_by_role("link", name="My contribution").first.click()
    page.get_by_text(message).wait_for(timeout=60_000)
    wait_rendered(page)
    page.screenshot(path=str(ARTIFACTS / "head-receives-thanks.png"), full_page=True)
    page.close()


def test_a_table_downloads_as_csv_when_clicked(url, browser):
    """Download buttons write their CSV only when clicked (widgets.table): the click still gives the table's rows,
    with the screen's column names, and costs the page no rerun."""
    page = browser.new_page(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    sign_in(page, url, "Executive")
    page.get_by_role("link", name="The chain").first.click()
    wait_rendered(page)
    page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Download CSV").first.wait_for(timeout=60_000)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=60_000)
    shown = page.locator("[data-testid='stDataFrame']").count()
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download CSV").first.click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line]
    assert download.suggested_filename.endswith(".csv")
    assert len(lines) >= 2 and "," in lines[0], text[:300]
    assert shown and page.locator("[data-testid='stDataFrame']").count() >= shown     # the tables stay on the page
    page.close()


def pdf_text(data: bytes) -> str:
    """A PDF's text as pdftotext (poppler-utils) reads it, runs of spaces as one."""
    assert data[:5] == b"%PDF-", data[:40]
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


def download(page, button: str) -> tuple[str, bytes]:
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name=button).first.click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def test_the_overview_and_my_contribution_download_as_pdfs_of_what_is_on_screen(url, browser):
    """The executive's Overview and the staff member's My contribution, as PDFs: the period and the figures on the
    screen are in the PDF's text."""
    page = browser.new_page(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    sign_in(page, url, "Executive")
    page.get_by_role("link", name="Overview").first.click()
    wait_rendered(page)
    subtitle = page.get_by_text("The whole organisation ·").first.inner_text()
    period = subtitle.split(" · ")[1]                                  # e.g. 'December 2025'
    labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()[:8]
    on_screen = {label: card(page, label) for label in labels}
    name, data = download(page, "Download PDF")
    text = pdf_text(data)
    assert name.startswith("overview") and name.endswith(".pdf")
    assert f"Period {period}" in text and "Scope The whole organisation" in text
    for label, value in on_screen.items():
        assert value in text, (label, value)
    page.screenshot(path=str(ARTIFACTS / "pdf-overview-page.png"))
    page.close()

    page = browser.new_page(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    sign_in(page, url, "Staff member")
    page.get_by_role("link", name="My contribution").first.click()
    wait_rendered(page)
    page.get_by_role("heading", name="Waiting on me").wait_for(timeout=60_000)
    waiting = page.get_by_text(re.compile(r"at the end of \d")).first.inner_text()   # '3 overdue of 12 at the end of …'
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=60_000)
    # The figures in the 'My figures beside my team's' table, from its own CSV (the grid draws on a canvas).
    with page.expect_download(timeout=60_000) as info:
        page.locator(".st-key-dl-my-figures button").click()          # widgets.table keys it dl-NAME
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    _, data = download(page, "Download PDF")
    text = pdf_text(data)
    assert waiting in text
    assert rows and all(r["Me"] in text and r["Measure"] in text for r in rows), rows
    page.close()

