"""From nothing to a first page, in a real browser: a server started on an organisation's config file that does not
exist yet opens on its set-up page; the administrator creates the organisation there from a departments CSV and a
staff CSV, signs in with the account made there, builds a profile for a city's 311 export (never seen by the
shipped profile's author: ../shared/data/external/boston-311-graffiti-2015/) on the Data page's profile builder,
saves it and loads the export with it. The rows loaded — and so every figure — equal those of the shipped boston_311
profile loaded into the same organisation by the command-line loader."""
import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from metrics.access import SYSTEM
from metrics.catalogue.parse import load_config
from metrics.catalogue.scope import Scope
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.features import setup
from metrics.ingest.loader import load_file
from metrics.ingest.profiles import load_profile
from metrics.store.database import connect
from tests.e2e.test_browser import ARTIFACTS, BAD_WORDS, HEADLESS, ROOT, browser, page_text, wait_rendered  # noqa: F401
from tests.perf import streamlit_server

EXPORT = ROOT.parent / "shared" / "data" / "external" / "boston-311-graffiti-2015" / "graffiti_removal_2015.csv"
DEPARTMENTS = """key,name,parent,front_line
public_works,Public Works,,yes
street_cleansing,Street Cleaning,public_works,yes
highways,Highways,public_works,yes
highways_maintenance,Highway Maintenance,highways,yes
transport,Transportation,,yes
parking,Parking Enforcement,transport,yes
inspections,Inspectional Services,,yes
building_control,Building Control,inspections,yes
contact_centre,BOS:311,,yes
cc_digital,311 Digital,contact_centre,yes
admin_services,Administration,,no
finance,Finance,admin_services,no
it,Innovation & Technology,admin_services,no
"""
# The catalogue's departments this organisation has no unit of that key for (contact_centre, finance, highways and
# it it has, and the set-up page preselects them).
MAPPED = {"communications": "admin_services", "customer_experience": "contact_centre", "cx_complaints": "contact_centre",
          "housing": "inspections", "people": "admin_services", "planning": "inspections",
          "revenues_benefits": "finance", "waste": "street_cleansing"}
STAFF = ("staff_id,name,email,department_id,manager_id,active,started_on,left_on\n"
         "B1,Robin Chief,robin@boston.example,public_works,,true,2014-01-06,\n"
         "B2,Kim Crew,kim@boston.example,street_cleansing,B1,true,2014-03-03,\n"
         "B3,Lou Agent,lou@boston.example,cc_digital,,true,2014-05-05,\n")
ADMIN, PASSWORD = "admin@boston.example", "correct horse battery staple"
# The builder's choices for each column of requests: (column of the export, values mapped by hand).
CHOICES = {"request_id": ("CASE_ENQUIRY_ID", {}), "created_at": ("OPEN_DT", {}), "due_at": ("TARGET_DT", {}),
           "closed_at": ("CLOSED_DT", {}), "category": ("TYPE", {}),
           "status": ("CASE_STATUS", {}),          # Closed → closed, Open → open: the builder matches them itself
           "channel": ("Source", {"Constituent Call": "phone", "Citizens Connect App": "app", "Self Service": "web",
                                  "Employee Generated": "staff"}),
           "department_id": ("Department", {"PROP": "street_cleansing", "PWDx": "highways_maintenance",
                                            "PARK": "street_cleansing", "BWSC": "highways_maintenance",
                                            "BTDT": "parking", "INFO": "cc_digital", "ISD": "building_control"})}


@pytest.fixture()
def organisation_server(tmp_path):
    """A server on tmp/boston.yaml, which does not exist yet; profiles saved to tmp/mappings."""
    config, db, mappings = tmp_path / "boston.yaml", tmp_path / "boston.duckdb", tmp_path / "mappings"
    env = {**os.environ, "CX_CONFIG": str(config), "CX_DB": str(db), "CX_MAPPINGS": str(mappings),
           "CX_FIGURE_STORE": "background"}
    log = open(tmp_path / "server.log", "w")
    p, url = streamlit_server.start(env, HEADLESS, output=log)
    yield url, config, db, mappings, p
    if p.poll() is None:
        p.terminate()
        p.wait(timeout=20)
    log.close()


@pytest.fixture()
def browser_page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.set_default_timeout(60_000)
    yield page
    page.close()


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` (typing narrows long lists)."""
    box = page.get_by_label(label, exact=True)
    if box.count() > 1:                 # the run before a rerun's may linger a moment
        wait_rendered(page)
    box = box.first
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    wait_rendered(page)


def type_into(page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Enter")
    wait_rendered(page)


def upload(page, label_text: str, path: Path) -> None:
    box = page.locator("[data-testid='stFileUploader']").filter(has_text=label_text)
    box.locator("input[type='file']").set_input_files(str(path))
    box.locator(f"[data-testid='stFileChipName'][title='{path.name}']").wait_for()
    wait_rendered(page)


def test_an_organisation_set_up_in_the_browser_loads_an_export_through_a_profile_built_there(
        organisation_server, browser_page, tmp_path):
    url, config_path, db, mappings, server = organisation_server
    page = browser_page
    (tmp_path / "departments.csv").write_text(DEPARTMENTS)
    (tmp_path / "staff.csv").write_text(STAFF)

    # 1. The set-up page: the organisation, its units (mapped onto the catalogue's), its people, its administrator.
    page.goto(url)
    page.get_by_text("Set up your organisation").first.wait_for()
    wait_rendered(page)
    code = setup.setup_code_path(config_path).read_text().strip()
    type_into(page, "Set-up code", code)
    type_into(page, "Name", "City of Boston")
    choose(page, "Time zone", "America/New_York")
    type_into(page, "Country (ISO code, for public holidays)", "US")
    type_into(page, "Region (optional, e.g. ENG)", "MA")
    upload(page, "Departments CSV", tmp_path / "departments.csv")
    page.get_by_text("13 units").first.wait_for()
    names = dict(line.split(",")[:2] for line in DEPARTMENTS.splitlines()[1:])
    for key, ours in MAPPED.items():
        label = page.locator("[data-testid='stSelectbox'] label").filter(has_text=f"({key})").first.inner_text()
        choose(page, label.strip(), f"{names[ours]} ({ours})")
    upload(page, "Staff CSV", tmp_path / "staff.csv")
    type_into(page, "User name (e-mail)", ADMIN)
    type_into(page, "Password", PASSWORD)
    type_into(page, "Password again", PASSWORD)
    page.screenshot(path=str(ARTIFACTS / "setup.png"), full_page=True)
    type_into(page, "Set-up code", code + "x")             # a wrong code: one sentence, nothing written
    page.get_by_role("button", name="Create the organisation").click()
    page.get_by_text("that is not the set-up code").first.wait_for()
    assert not config_path.exists() and not db.exists()
    type_into(page, "Set-up code", code)
    page.get_by_role("button", name="Create the organisation").click()
    page.get_by_text("Created City of Boston: 13 units, 3 staff").first.wait_for()
    assert config_path.exists() and db.exists()
    assert not setup.setup_code_path(config_path).exists()              # used once, then gone

    # 2. Sign in with the account made there: an empty organisation says what is missing.
    page.get_by_role("button", name="Go to sign-in").click()
    page.get_by_role("button", name="Sign in", exact=True).wait_for()
    wait_rendered(page)
    page.get_by_label("User name (e-mail)", exact=True).fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
    wait_rendered(page)
    assert "loaded yet" in page_text(page)
    page.screenshot(path=str(ARTIFACTS / "empty-overview.png"), full_page=True)

    # 3. The profile builder: the sample, each column of requests, the maps; preview; save.
    page.get_by_role("link", name="Data").first.click()
    page.get_by_text("Build a profile").first.wait_for()
    wait_rendered(page)
    upload(page, "Sample of the export", EXPORT)
    page.get_by_text("4,284 rows, 34 columns").first.wait_for()
    for target, (column, mapped) in CHOICES.items():
        choose(page, f"How {target} is made", "a column of the file")
        choose(page, f"Column for {target}", column)
        if mapped:
            check = page.get_by_label(f"Map the values of {column} for {target}", exact=True)
            if not check.is_checked():
                page.get_by_text(f"Map the values of {column} for {target}", exact=True).click()
                wait_rendered(page)
        for value, becomes in mapped.items():
            label = page.locator("label").filter(has_text=f"{target}: {value} (").first.inner_text().strip()
            if target == "department_id":
                choose(page, label, becomes)
            else:
                type_into(page, label, becomes)
    page.get_by_text("Not mapped:").first.wait_for(state="detached")     # every value of every map is mapped
    type_into(page, "Profile name", "boston_graffiti")
    page.get_by_role("button", name="Preview").click()
    page.get_by_text("would insert 4,284").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "profile-builder.png"), full_page=True)
    page.get_by_role("button", name="Save the profile").click()
    page.get_by_text("Saved").first.wait_for()
    wait_rendered(page)
    assert (mappings / "boston_graffiti.yaml").exists()

    # 4. Load the whole export with it.
    choose(page, "Mapping profile", "boston_graffiti")
    upload(page, "File (CSV, TSV, Excel or Parquet)", EXPORT)
    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text("inserted 4,284").first.wait_for()
    assert not any(w in page_text(page) for w in BAD_WORDS)
    server.terminate()
    server.wait(timeout=30)

    # 5. The same export through the shipped profile into the same organisation, by the command-line loader.
    config = load_config(str(config_path))
    reference = tmp_path / "reference.duckdb"
    con = connect(reference, config, create=True)
    assert load_file(con, config, "staff", tmp_path / "staff.csv").ok
    assert load_file(con, config, "requests", EXPORT, load_profile("boston_311")).ok
    con.close()
    columns = "* EXCLUDE (batch_id)"
    with duckdb.connect(str(db), read_only=True) as built, duckdb.connect(str(reference), read_only=True) as shipped:
        ours = built.execute(f"SELECT {columns} FROM requests ORDER BY request_id").df()
        theirs = shipped.execute(f"SELECT {columns} FROM requests ORDER BY request_id").df()
    assert len(ours) == 4284
    assert ours.equals(theirs)
    year = Period(dt.date(2015, 1, 1), dt.date(2015, 12, 31))
    figures = {}
    for path in (db, reference):
        con = duckdb.connect(str(path), read_only=True)
        eng = Engine(con, config)
        scopes = [Scope("organisation")] + [Scope(d.level, k) for k, d in config.departments.items()]
        figures[path] = {(m, s.key): eng.value(SYSTEM, m, s, year, compare=False).value
                         for m, metric in config.metrics.items()
                         if any(x.source == "requests" for x in metric.measures()) for s in scopes}
        con.close()
    assert figures[db] == figures[reference]
    assert any(v is not None for v in figures[db].values())
