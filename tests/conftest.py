"""Shared fixtures: the real config, and a small demo database built once per test process."""
import os

import pytest

from metrics.catalogue.parse import load_config

# The dashboard's background cache warm-up would race with tests that swap the database between runs
# (app_cache.engine.clear()); pages are tested on what they compute themselves.
os.environ["CX_WARM_UP"] = "0"
# Dashboard tests swap in a fresh engine per test (env below), and each would start a background figure-store
# build racing the test for the CPU: they compute live. The store is proven equal to the live engine in
# tests/test_figure_store.py (also through the rendered pages), and the browser tests' servers run the default.
os.environ.setdefault("CX_FIGURE_STORE", "off")


@pytest.fixture(scope="session")
def config():
    return load_config("config.yaml")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, config):
    """A demo database at scale 0.25 (~100,000 contacts), same generator and seed as `make run`'s."""
    from metrics.demo.build import build_demo_database
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_database(path, config, scale=0.25)
    return str(path)


@pytest.fixture(scope="module")
def app_db(demo_db, tmp_path_factory):
    """A copy of the demo database for one test module's dashboard runs (they may write to it)."""
    import shutil
    db = tmp_path_factory.mktemp("app") / "app.duckdb"
    shutil.copy(demo_db, db)
    return str(db)


@pytest.fixture
def env(app_db, monkeypatch):
    """The dashboard (app_cache) pointed at the module's copy of the demo database."""
    import app_cache
    monkeypatch.setenv("CX_DB", app_db)
    app_cache.engine.clear()
    yield app_db
    app_cache.engine.clear()


def demo_sign_in(role: str, db: str, config, timeout: int = 120):
    """The dashboard in AppTest, signed in on the demo sign-in page as the persona of `role`: (app, viewer)."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from metrics.compute.engine import Engine
    from metrics.present.personas import demo_personas
    persona = next(p for p in demo_personas(Engine.open(db, config)) if p.viewer.role == role)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "dashboard.py"), default_timeout=timeout)
    at.run()
    at.radio[0].set_value(persona.label)
    at.button[0].click()
    at.run()
    assert not at.exception
    return at, persona.viewer


@pytest.fixture(scope="module")
def engine(config):
    """The hand-worked fixture organisation (tests/fixture.sql) in an in-memory database."""
    from pathlib import Path

    from metrics.compute.engine import Engine
    from metrics.store.database import connect
    con = connect(":memory:", config, create=True)
    con.execute(with_columns(con, (Path(__file__).parent / "fixture.sql").read_text(encoding="utf-8")))
    yield Engine(con, config)
    con.close()


# Columns added for loads (003) and for working cases and suggestions in the dashboard (004): the fixture
# leaves them at their defaults.
BOOKKEEPING = {"batch_id", "assigned_to", "assigned_at", "follow_up_note", "reopened_at", "reopen_count", "shared_at",
               "shared_by", "version", "detail", "reviewed_at", "decided_by", "assigned_from",
               "reason", "handle_seconds"}   # migration 014: contacts' reason and handling time (NULL in the fixture)


@pytest.fixture
def fresh_engine(config):
    """The fixture organisation in a new in-memory database for each test (for tests that write)."""
    from pathlib import Path

    from metrics.compute.engine import Engine
    from metrics.store.database import connect
    con = connect(":memory:", config, create=True)
    con.execute(with_columns(con, (Path(__file__).parent / "fixture.sql").read_text(encoding="utf-8")))
    yield Engine(con, config)
    con.close()


def with_columns(con, sql: str) -> str:
    """Positional INSERTs of the fixture name the public columns, so added bookkeeping columns stay NULL."""
    import re

    def columns(m):
        table = m.group(1)
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in BOOKKEEPING]
        return f"INSERT INTO {table} ({', '.join(cols)}) VALUES"
    return re.sub(r"INSERT INTO (\w+) VALUES", columns, sql)


def serve_in_password_mode(db, tmp_path, monkeypatch) -> None:
    """Point the dashboard (AppTest) at database `db` with a copy of config.yaml saying auth.mode: password;
    the caller clears app_cache.engine again when done."""
    from pathlib import Path

    import app_cache
    cfg = tmp_path / "config.yaml"
    cfg.write_text((Path(__file__).resolve().parent.parent / "config.yaml").read_text().replace("  mode: demo",
                                                                                                "  mode: password"))
    monkeypatch.setenv("CX_DB", str(db))
    monkeypatch.setenv("CX_CONFIG", str(cfg))
    monkeypatch.setattr(app_cache, "CONFIG_PATH", str(cfg))
    app_cache.engine.clear()
