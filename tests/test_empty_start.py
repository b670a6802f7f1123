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
            who = "load it on the Data page" if role == Role.ADMIN else "an administrator loads it on the Data page"
            assert "No contacts loaded yet" in shown and who in shown, title
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
