"""Helpers for running the same tests on the Spark backend (local Spark over an export of a database)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from metrics.definitions import Config
from metrics.export import export_parquet

# Small local session settings for tests: 2 cores, few shuffle partitions, tables kept in memory.
TEST_SPARK = {"master": "local[2]", "cache": True, "conf": {"spark.sql.shuffle.partitions": "2"}}


def spark_config(config: Config, source: Path) -> Config:
    """The config with engine 'spark' reading the export at `source`."""
    spark = dataclasses.replace(config.spark, master=TEST_SPARK["master"], source=str(source),
                                cache=TEST_SPARK["cache"], conf={**config.spark.conf, **TEST_SPARK["conf"]})
    return dataclasses.replace(config, engine="spark", spark=spark)


def spark_config_file(config: Config, source: Path, target: Path) -> Path:
    """config.yaml with `engine: spark` and `spark.source` set, written to `target` (for the dashboard)."""
    raw = yaml.safe_load(Path(config.path).read_text(encoding="utf-8"))
    raw["engine"] = "spark"
    raw["spark"] = {**(raw.get("spark") or {}), **TEST_SPARK, "source": str(source)}
    target.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def exported(con, folder: Path) -> Path:
    """Export the database behind `con` as Parquet into `folder` (the export-parquet command's function)."""
    export_parquet(con, folder)
    return folder
