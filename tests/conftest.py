"""Shared fixtures: the real config, and a small demo database built once per test process."""
import pytest

from metrics.config import load_config


@pytest.fixture(scope="session")
def config():
    return load_config("config.yaml")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, config):
    """A demo database at scale 0.25 (~100,000 contacts), same generator and seed as `make run`'s."""
    from metrics.demodb import build_demo_database
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_database(path, config, scale=0.25)
    return str(path)


@pytest.fixture(scope="module")
def engine(config):
    """The hand-worked fixture organisation (tests/fixture.sql) in an in-memory database."""
    from pathlib import Path

    from metrics.engine import Engine
    from metrics.store import connect
    con = connect(":memory:", config, create=True)
    con.execute((Path(__file__).parent / "fixture.sql").read_text(encoding="utf-8"))
    yield Engine(con, config)
    con.close()
