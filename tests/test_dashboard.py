"""The placeholder dashboard renders the organisation's headline figures, equal to the engine's."""
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from metrics.access import SYSTEM
from metrics.engine import Engine


@pytest.fixture
def app(demo_db, monkeypatch, tmp_path):
    # The app's own copy: DuckDB refuses a second in-process connection with different settings.
    db = tmp_path / "app.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("CX_DB", str(db))
    at = AppTest.from_file("../dashboard.py", default_timeout=60)
    at.run()
    return at


def test_headline_figures_match_the_engine(app, demo_db, config):
    assert not app.exception
    assert "Riverside Borough Council" in app.title[0].value
    engine = Engine.open(demo_db, config, read_only=True)
    shown = {m.label: m.value for m in app.metric}
    assert len(shown) == 8
    for key in ("grade_of_service", "sla_attainment", "csat"):
        r = engine.value(SYSTEM, key)
        assert shown[config.metrics[key].label] == r.formatted
    assert any("synthetic" in i.value for i in app.info)
    assert len(app.expander) == 5                       # the five shared goals


def test_missing_database_is_one_sentence_not_a_traceback(monkeypatch, tmp_path):
    import app_cache
    app_cache.engine.clear()
    monkeypatch.setenv("CX_DB", str(tmp_path / "none.duckdb"))
    at = AppTest.from_file("../dashboard.py", default_timeout=60)
    at.run()
    assert not at.exception
    assert "no database at" in at.error[0].value
