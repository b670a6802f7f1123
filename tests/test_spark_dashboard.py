"""The Spark backend behind the dashboard and the rest of the metrics layer: the rows behind a figure, the
translations whose meaning differs between the dialects (checked by hand on both engines), clear errors,
and the Overview and Department pages showing the same figures on Spark as on DuckDB.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from metrics.access import SYSTEM
from metrics.catalogue.parse import load_config
from metrics.compute.spark.dialect import to_spark
from metrics.compute.engine import Engine
from metrics.errors import MetricsError
from metrics.present.personas import demo_personas
from metrics.catalogue.scope import Scope
from tests.spark_support import ROOT, demo, engines, spark_config, spark_config_file  # noqa: F401 (fixtures)


def test_the_rows_behind_a_figure_are_the_same_on_spark(engines):
    from metrics.compute.records import metric_records
    duck, spark = engines
    period = duck.default_period()
    scope = Scope("department", "housing")
    a, b = (metric_records(e, SYSTEM, "sla_attainment", scope, period, limit=100_000) for e in (duck, spark))
    assert len(a) == len(b) > 100
    key = "request_id"
    assert sorted(a[key]) == sorted(b[key])
    merged = a[[key, "counted"]].merge(b[[key, "counted"]], on=key, suffixes=("_d", "_s"))
    assert (merged["counted_d"] == merged["counted_s"]).all()


# --- the few translations whose meaning differs between the dialects, checked by hand on both engines ----
CASES = [
    # date_diff counts boundaries crossed: 23:59:59 → 00:00:01 is one day, two seconds
    ("SELECT date_diff('day', TIMESTAMP '2024-01-01 23:59:59', TIMESTAMP '2024-01-02 00:00:01') AS x", 1),
    ("SELECT date_diff('second', TIMESTAMP '2024-01-01 23:59:59', TIMESTAMP '2024-01-02 00:00:01') AS x", 2),
    ("SELECT date_diff('second', TIMESTAMP '2024-01-01 10:00:00.900', TIMESTAMP '2024-01-01 10:00:01.100') AS x", 1),
    ("SELECT date_diff('hour', TIMESTAMP '2024-01-01 10:59:00', TIMESTAMP '2024-01-01 11:01:00') AS x", 1),
    ("SELECT date_diff('month', DATE '2024-01-31', DATE '2024-02-01') AS x", 1),
    ("SELECT date_diff('year', DATE '2023-12-31', DATE '2025-01-01') AS x", 2),
    # seconds / 3600.0 is a double, not a 6-decimal number: 1 s = 1/3600 h exactly as a double
    ("SELECT date_diff('second', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-01 00:00:01') / 3600.0 AS x",
     1 / 3600),
    # two lists side by side are zipped (2 rows), not crossed (4 rows)
    ("SELECT count(*) AS x FROM (SELECT unnest(['a', 'b']) AS d, unnest(['p', 'q']) AS g) t", 2),
    # membership in a bound list: 'a' is in ['a', 'c'], 'b' is not, NULL is never
    ("SELECT count(*) AS x FROM (SELECT unnest(['a', 'b', NULL]) AS v) t WHERE v IN (SELECT unnest(['a', 'c']))", 1),
    # continuous median of 1, 2, 3, 10 is (2 + 3) / 2
    ("SELECT quantile_cont(v, 0.5) AS x FROM (SELECT unnest([1.0, 2.0, 3.0, 10.0]) AS v) t", 2.5),
]


@pytest.mark.parametrize("sql, expected", CASES)
def test_translated_sql_means_the_same_on_both_engines(engines, sql, expected):
    duck, spark = engines
    assert duckdb.connect().execute(sql).fetchone()[0] == pytest.approx(expected, rel=1e-15)
    assert spark.spark.query(sql).iloc[0, 0] == pytest.approx(expected, rel=1e-15)


def test_values_stay_bound_parameters_in_spark_sql():
    text = to_spark("SELECT * FROM contacts WHERE department_id IN (SELECT unnest($d)) AND received_at >= $a")
    assert ":d" in text and ":a" in text and "$" not in text


def test_a_missing_export_is_one_sentence(config, demo, tmp_path):
    with pytest.raises(MetricsError, match=r"^Spark cannot read table 'departments' from .*nowhere/departments .*"
                                           r"run `python -m metrics export-parquet"):
        Engine.open(demo, spark_config(config, tmp_path / "nowhere"), read_only=True)


def test_an_unknown_engine_in_config_is_named(tmp_path):
    raw = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("engine: duckdb", "engine: sparkk", 1)
    (tmp_path / "c.yaml").write_text(raw, encoding="utf-8")
    with pytest.raises(Exception) as info:
        load_config(tmp_path / "c.yaml")
    assert "engine: 'sparkk' is not one of duckdb, spark" in "; ".join(info.value.errors)


def test_spark_settings_typos_are_named(tmp_path):
    raw = (ROOT / "config.yaml").read_text(encoding="utf-8")
    raw = raw.replace("  master: local[2]", "  master: local[2]\n  remote: spark-connect:15002\n  cach: true", 1)
    raw = raw.replace("    spark.sql.shuffle.partitions: 4", "    sql.shuffle.partitions: 4", 1)
    (tmp_path / "c.yaml").write_text(raw, encoding="utf-8")
    with pytest.raises(Exception) as info:
        load_config(tmp_path / "c.yaml")
    errors = "; ".join(info.value.errors)
    assert "spark.cach: unknown key" in errors
    assert "spark.remote: 'spark-connect:15002' is not a Spark Connect URL (sc://host:15002)" in errors
    assert "spark.conf.sql.shuffle.partitions: expected a Spark setting (spark.…)" in errors


def test_the_command_line_gives_the_same_figure_on_either_engine(engines, demo, config, tmp_path, capsys):
    import json

    from metrics.cli.main import main
    duck, spark = engines
    cfg_file = spark_config_file(config, Path(spark.config.spark.source), tmp_path / "spark.yaml")
    db = tmp_path / "cli.duckdb"               # the fixture holds the demo read-only; the CLI opens it to write
    shutil.copy(demo, db)
    got = {}
    for engine in ("duckdb", "spark"):
        assert main(["value", "csat", "--scope", "department:housing", "--json", "--db", str(db),
                     "--config", str(cfg_file), "--engine", engine]) == 0
        got[engine] = json.loads(capsys.readouterr().out)
    assert got["spark"] == got["duckdb"] and got["duckdb"]["denominator"] > 0
    with pytest.raises(SystemExit) as exit_:
        main(["value", "csat", "--db", str(db), "--engine", "oracle"])
    assert exit_.value.code == 2 and "invalid choice: 'oracle' (choose from 'duckdb', 'spark')" in capsys.readouterr().err


# --- the dashboard, unchanged, on Spark -------------------------------------------------------------------
def _signed_in(monkeypatch, db: str, config_file: str | None, role: str):
    """The dashboard (AppTest) with CX_CONFIG/CX_DB set, empty caches, signed in as a persona of `role`."""

    import app_cache
    if config_file:
        monkeypatch.setenv("CX_CONFIG", config_file)
    else:
        monkeypatch.delenv("CX_CONFIG", raising=False)
    monkeypatch.setenv("CX_DB", db)
    app_cache.engine.clear()
    app_cache.clear()
    return _sign_in_as(db, role)


def _sign_in_as(db, role: str):
    """A new AppTest of the dashboard, signed in as the demo persona of `role`."""
    from streamlit.testing.v1 import AppTest
    lookup = Engine.open(db, load_config(ROOT / "config.yaml"))
    persona = next(p for p in demo_personas(lookup) if p.viewer.role == role)
    lookup.con.close()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
    at.run()
    at.radio[0].set_value(persona.label)
    at.button[0].click()
    at.run()
    return at


def _page_figures(monkeypatch, db: str, config_file: str | None, role: str, page: str | None) -> tuple[dict, str]:
    """Every st.metric on a page (label → value, delta) for a persona of `role`, and the engine that ran it."""
    import app_cache
    at = _signed_in(monkeypatch, db, config_file, role)
    if page:
        at.switch_page(str(ROOT / f"pages/{page}.py"))
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    ran = app_cache.engine().engine
    app_cache.engine.clear()
    return {m.label: (m.value, m.delta) for m in at.metric}, ran


@pytest.mark.parametrize("role, page", [("executive", None), ("head", "department")])
def test_overview_and_department_pages_show_the_same_figures_on_spark(engines, demo, config, role, page,
                                                                      monkeypatch, tmp_path):
    duck, spark = engines
    db = tmp_path / "app.duckdb"
    shutil.copy(demo, db)
    cfg_file = spark_config_file(config, Path(spark.config.spark.source), tmp_path / "spark.yaml")
    on_duck, ran_duck = _page_figures(monkeypatch, str(db), None, role, page)
    on_spark, ran_spark = _page_figures(monkeypatch, str(db), str(cfg_file), role, page)
    assert (ran_duck, ran_spark) == ("duckdb", "spark")
    assert len(on_duck) >= 8
    assert on_spark == on_duck


def test_spark_failing_under_a_page_is_one_sentence(engines, demo, config, monkeypatch, tmp_path):
    """The export disappears while the dashboard runs (a cluster or its storage gone): the page says so in one
    sentence, and the sidebar still works."""
    import app_cache
    duck, spark = engines
    db = tmp_path / "app.duckdb"
    shutil.copy(demo, db)
    source = tmp_path / "export"
    shutil.copytree(spark.config.spark.source, source)
    cfg_file = spark_config_file(config, source, tmp_path / "spark.yaml", cache=False)
    monkeypatch.setenv("CX_CONFIG", str(cfg_file))
    monkeypatch.setenv("CX_DB", str(db))
    app_cache.engine.clear()
    assert app_cache.engine().engine == "spark"      # the dashboard process's engine, tables registered
    shutil.rmtree(source / "contacts")               # ... and now one of them can no longer be read
    app_cache.clear()
    at = _sign_in_as(db, "staff")
    app_cache.engine.clear()
    assert not at.exception, [e.message for e in at.exception]
    assert any(e.value.startswith("Spark could not run a metric query (") and "contacts" in e.value
               for e in at.error), [e.value for e in at.error]
    assert at.sidebar.button[0].label == "Sign out"
