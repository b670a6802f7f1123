"""A new organisation starts on an empty database: every page opens without an error and says what is missing."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import app_cache
import session
from metrics.access import Role, Viewer
from metrics.store.database import connect
from tests.perf.page_times import page_table

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def empty(tmp_path, monkeypatch, config):
    db = tmp_path / "empty.duckdb"
    connect(db, config, create=True).close()
    monkeypatch.setenv("CX_DB", str(db))
    monkeypatch.setenv("CX_FIGURE_STORE", "off")
    app_cache.engine.clear()
    app_cache.clear()
    yield db
    app_cache.engine.clear()
    app_cache.clear()


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.ADMIN, Role.HEAD])
def test_every_page_opens_on_an_empty_database_and_says_what_is_missing(empty, role):
    viewer = Viewer(f"{role}@example.org", role, "housing" if role == Role.HEAD else None)
    for path, (title, _, roles) in page_table().items():
        if role not in roles or path == "pages/my_contribution.py":
            continue
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
        at.session_state[session.KEY] = viewer
        at.run()
        at.switch_page(str(ROOT / path))
        at.run()
        assert not at.exception, (title, at.exception)
        shown = " ".join(m.value for m in [*at.info, *at.warning, *at.error])
        if path in ("pages/overview.py", "pages/department.py", "pages/voice.py", "pages/chain.py"):
            who = "load one on the Data page" if role == Role.ADMIN else "an administrator loads one on the Data page"
            assert "No contacts, requests, feedback or invoices loaded yet" in shown and who in shown, title
            assert at.title[0].value == title                     # the page says which page it is


def test_on_an_empty_database_the_administrator_signs_in_and_reaches_the_data_page(empty):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    assert at.radio[0].options == ["Administrator — data and users"]      # no staff yet: nobody else to be
    at.button[0].click()
    at.run()
    at.switch_page(str(ROOT / "pages/data.py"))
    at.run()
    assert not at.exception and at.title[0].value == "Data"


def test_an_organisation_whose_first_export_is_its_requests_has_periods_and_figures(empty, config):
    """organisation.periods_from: the days of any of those sources bound the periods; contacts are not needed."""
    import datetime as dt

    from metrics.access import SYSTEM
    from metrics.compute.engine import Engine
    from metrics.compute.periods import Period
    con = connect(empty, config)
    try:
        con.execute("""INSERT INTO requests (request_id, department_id, created_at, due_at, closed_at, status)
                       VALUES ('R1', 'housing_repairs', '2024-03-04 09:00', '2024-03-08 17:00', '2024-03-06 12:00', 'closed'),
                              ('R2', 'housing_repairs', '2024-05-20 10:00', '2024-05-24 17:00', '2024-05-30 12:00', 'closed')""")
        eng = Engine(con, config)
        assert eng.data_range() == (dt.date(2024, 3, 4), dt.date(2024, 5, 20))      # requests' time: created_at
        assert eng.default_period() == Period(dt.date(2024, 4, 1), dt.date(2024, 4, 30))   # the last full month
        sla = eng.value(SYSTEM, "sla_attainment", period=Period(dt.date(2024, 3, 1), dt.date(2024, 5, 31)),
                        compare=False)
        assert (sla.numerator, sla.denominator) == (1, 2)          # R1 closed before its due time, R2 after
    finally:
        con.close()
