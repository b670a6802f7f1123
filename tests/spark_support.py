"""Helpers for running the same tests on the Spark backend (local Spark over an export of a database)."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from metrics.catalogue.definitions import Config
from metrics.compute.engine import Engine
from metrics.store.export import export_parquet
from metrics.compute.spark.facts import with_source, write_config

# Small local session settings for tests: 2 cores, few shuffle partitions, tables kept in memory.
TEST_SPARK = {"master": "local[2]", "cache": True, "conf": {"spark.sql.shuffle.partitions": "2"}}


def spark_config(config: Config, source: Path) -> Config:
    """The config with engine 'spark' reading the export at `source`, with the test session settings."""
    return with_source(config, source, master=TEST_SPARK["master"], cache=TEST_SPARK["cache"],
                       conf={**config.spark.conf, **TEST_SPARK["conf"]})


def spark_config_file(config: Config, source: Path, target: Path, cache: bool = True) -> Path:
    """config.yaml with `engine: spark` and `spark.source` set, written to `target` (for the dashboard)."""
    return write_config(config, source, target, **{**TEST_SPARK, "cache": cache})


def exported(con, folder: Path) -> Path:
    """Export the database behind `con` as Parquet into `folder` (the export-parquet command's function)."""
    export_parquet(con, folder)
    return folder


ROOT = Path(__file__).resolve().parent.parent
REL = 1e-9        # the largest relative difference allowed between the engines


@pytest.fixture(scope="module")
def demo(config, tmp_path_factory):
    """The demo database `make run` opens (built by `make test`; built here when missing), read-only."""
    db = ROOT / config.database_path
    if not db.exists():
        from metrics.demo.build import build_demo_database
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


