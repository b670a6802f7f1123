"""The Spark backend gives the same numbers as DuckDB, from the same metric definitions.

Parity: every metric of the catalogue, for the organisation, two departments, one team and one staff
member, for two periods and a twelve-month monthly series (plus a breakdown by department and the
internal-service matrix, which use the zipped department lists), computed by DuckDB from the demo
database and by Spark (local mode) from `export-parquet` of that same database: no figure may differ
by more than 1e-9 relative. The dashboard's Overview and Department pages show the same figures on both.
"""
from __future__ import annotations

import datetime as dt
import math
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from metrics.access import SYSTEM
from metrics.config import load_config
from metrics.dialect import to_spark
from metrics.engine import Engine
from metrics.errors import MetricsError, UnknownError
from metrics.periods import Period
from metrics.scope import ORGANISATION, Scope
from tests.spark_support import exported, spark_config, spark_config_file

ROOT = Path(__file__).resolve().parent.parent
REL = 1e-9


@pytest.fixture(scope="module")
def demo(config, tmp_path_factory):
    """The demo database `make run` opens (built by `make test`; built here when missing), read-only."""
    db = ROOT / config.database_path
    if not db.exists():
        from metrics.demodb import build_demo_database
        db = tmp_path_factory.mktemp("demo1") / "cx.duckdb"
        build_demo_database(db, config)
    return db


@pytest.fixture(scope="module")
def engines(config, demo, tmp_path_factory):
    """(DuckDB engine, Spark engine) over the same demo data: the database, and its Parquet export."""
    duck = Engine.open(demo, config, read_only=True)
    folder = exported(duck.con, tmp_path_factory.mktemp("pq") / "demo")
    spark = Engine.open(demo, spark_config(config, folder), read_only=True)
    assert spark.engine == "spark" and spark.spark is not None and duck.spark is None
    yield duck, spark
    duck.con.close()
    spark.con.close()


def same(a, b) -> bool:
    """Equal within 1e-9 relative (or both missing)."""
    a_nan = a is None or (isinstance(a, float) and math.isnan(a)) or a is pd.NA
    b_nan = b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA
    if a_nan or b_nan:
        return a_nan and b_nan
    a, b = float(a), float(b)
    return a == b or abs(a - b) <= REL * max(abs(a), abs(b))


def differences(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Every cell where two result frames disagree (keys exactly, figures within 1e-9 relative)."""
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return [f"shape {list(a.columns)}×{len(a)} vs {list(b.columns)}×{len(b)}"]
    out = []
    keys = [c for c in ("bucket", "grp", "grp2") if c in a.columns]
    for c in keys + ["suppressed"]:
        if c in a.columns and [str(x) for x in a[c]] != [str(x) for x in b[c]]:
            out.append(f"{c}: {list(a[c])[:5]} vs {list(b[c])[:5]}")
    for c in ("numerator", "denominator", "value"):
        for i, (x, y) in enumerate(zip(a[c], b[c])):
            if not same(x, y):
                out.append(f"row {i} {c}: duckdb {x!r} spark {y!r}")
    return out


def test_every_metric_has_the_same_figures_on_spark_as_on_duckdb(engines, config):
    duck, spark = engines
    last = duck.default_period()
    quarter = Period(dt.date(last.start.year, 7, 1), dt.date(last.start.year, 9, 30))
    y, m = (last.start.year, last.start.month - 11) if last.start.month == 12 else (last.start.year - 1,
                                                                                    last.start.month + 1)
    year = Period(dt.date(y, m, 1), last.end)                      # the twelve months ending with `last`
    staff_id = duck.query("""SELECT s.staff_id FROM staff s JOIN contacts c USING (staff_id)
                             WHERE s.department_id = 'cc_phones' GROUP BY s.staff_id
                             ORDER BY count(*) DESC, s.staff_id LIMIT 1""").iloc[0, 0]
    scopes = [ORGANISATION, Scope("department", "contact_centre"), Scope("department", "housing"),
              Scope("team", "cc_phones"), Scope("staff", staff_id)]
    jobs = []
    for key in config.metrics:
        for scope in scopes:
            jobs += [(key, scope, last, None, None), (key, scope, quarter, None, None), (key, scope, year, "month", None)]
        jobs.append((key, ORGANISATION, last, None, "department"))

    def run(job):
        key, scope, period, grain, by = job
        got = []
        for eng in (duck, spark):
            try:
                got.append(eng.frame(SYSTEM, key, scope, period, grain=grain, by=by))
            except UnknownError as exc:      # a figure the definition cannot give (e.g. per person): refused alike
                got.append(str(exc))
        return job, got

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, jobs))
    compared, refused, problems = 0, 0, []
    for (key, scope, period, grain, by), (a, b) in results:
        where = f"{key} {scope.kind}:{scope.key} {period.start}..{period.end} {grain or ''} {by or ''}"
        if isinstance(a, str) or isinstance(b, str):
            if a != b:
                problems.append(f"{where}: duckdb {a!r} spark {b!r}")
            elif scope.kind != "staff":
                problems.append(f"{where}: refused on both ({a})")
            refused += 1
            continue
        compared += 1
        problems += [f"{where}: {d}" for d in differences(a, b)]
    assert not problems, "\n".join(problems[:30])
    assert compared + refused == len(config.metrics) * 16
    # Every figure a person can have was compared: refusals are only the metrics with no per-person source.
    per_person = sum(1 for m in config.metrics.values()
                     if not m.observations and all(config.sources[x.source].staff for x in m.measures()))
    assert refused == 3 * (len(config.metrics) - per_person)
    assert compared >= 13 * len(config.metrics)


def test_internal_service_matrix_is_the_same_on_spark(engines, config):
    duck, spark = engines
    period = duck.default_period()
    keys = [k for k, m in config.metrics.items()
            if not m.observations and all(config.sources[x.source].requester for x in m.measures())]
    filled = 0
    for key in keys:
        a, b = (e.matrix(SYSTEM, key, period) for e in (duck, spark))
        a, b = (x.sort_values(["grp", "grp2"]).reset_index(drop=True) for x in (a, b))
        assert not differences(a, b), (key, differences(a, b)[:5])
        filled += len(a) > 0
    assert filled >= 4          # internal SLA, response hours, declines, colleagues' CSAT have pairs


def test_the_rows_behind_a_figure_are_the_same_on_spark(engines):
    from metrics.records import metric_records
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


# --- the dashboard, unchanged, on Spark -------------------------------------------------------------------
def _page_figures(monkeypatch, db: str, config_file: str | None, role: str, page: str | None) -> tuple[dict, str]:
    """Every st.metric on a page (label → value, delta) for a persona of `role`, and the engine that ran it."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import app_cache
    from metrics.personas import demo_personas
    if config_file:
        monkeypatch.setenv("CX_CONFIG", config_file)
    else:
        monkeypatch.delenv("CX_CONFIG", raising=False)
    monkeypatch.setenv("CX_DB", db)
    app_cache.engine.clear()
    st.cache_data.clear()
    cfg = load_config(config_file or ROOT / "config.yaml")
    persona = next(p for p in demo_personas(Engine.open(db, cfg, engine="duckdb")) if p.viewer.role == role)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
    at.run()
    at.radio[0].set_value(persona.label)
    at.button[0].click()
    at.run()
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
