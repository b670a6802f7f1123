"""The Spark backend: the same metric SQL, run by Apache Spark over the exported tables.

`engine: spark` in config.yaml (or `--engine spark`) makes `Engine` send every metric query — cards,
trends, breakdowns, the internal-service matrix, the rows behind a figure — here instead of to DuckDB.
The SQL is the one `QueryBuilder` writes, carried to Spark SQL by `metrics.dialect.to_spark`; values stay
bound parameters. Spark reads each table from `spark.source` (a folder written by
`python -m metrics export-parquet`, local or on s3a://, hdfs://, abfss://) or from a Spark table named in
`spark.tables`. The DuckDB file still holds what must be written in a transaction (sign-in, cases,
thanks, suggestions) and the organisation's structure used for access checks.

pyspark is imported only when this backend is used, so the DuckDB default needs no Java.
"""
from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from metrics.catalogue.definitions import SparkSettings
from metrics.compute.spark.dialect import to_spark
from metrics.errors import MetricsError
from metrics.store.export import PARTITIONED, TABLES

_LOCK = threading.Lock()
_SESSION = None                 # one SparkSession per process (Spark allows one active context)
# Settings for a small local session; a cluster's own settings (spark.conf) override them.
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",          # timestamps are wall-clock values, as in DuckDB
    "spark.sql.shuffle.partitions": "4",          # figures are small; 200 partitions would cost seconds per query
    "spark.ui.enabled": "false",
    "spark.sql.ansi.enabled": "true",
    "spark.driver.memory": "2g",
    "spark.ui.showConsoleProgress": "false",
}
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")


def session(settings: SparkSettings):
    """The process's SparkSession: Spark Connect if `remote` is set, else a session on `master`. Spark allows one
    context per process, so the first settings asked for win (a process serves one config)."""
    global _SESSION
    with _LOCK:
        if _SESSION is not None:
            return _SESSION
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise MetricsError("engine 'spark' needs pyspark; run `pip install -r requirements.txt` "
                               "(and Java 17 or 21 for a local session)") from None
        builder = SparkSession.builder.appName("cx-metrics")
        builder = builder.remote(settings.remote) if settings.remote else builder.master(settings.master)
        for key, value in {**DEFAULT_CONF, **settings.conf}.items():
            if settings.remote and key == "spark.driver.memory":
                continue
            builder = builder.config(key, value)
        if not settings.remote:          # a local JVM: quiet logging from its first line (before setLogLevel can act)
            os.environ.setdefault("PYSPARK_SUBMIT_ARGS", "--driver-java-options "
                                  f"-Dlog4j2.configurationFile={LOG_CONFIG.resolve().as_uri()} pyspark-shell")
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        try:
            _SESSION = builder.getOrCreate()
        except Exception as exc:         # Java missing, cluster unreachable: one sentence, not a JVM trace
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            where = settings.remote or settings.master
            raise MetricsError(f"could not start Spark on {where} ({first[:200]}); check spark.master/spark.remote "
                               "in config.yaml and that Java 17 or 21 is installed") from None
        if not settings.remote:
            _SESSION.sparkContext.setLogLevel("ERROR")
        return _SESSION


class SparkFacts:
    """Runs the metric SQL on Spark. Tables are temporary views named as in DuckDB, in a session of their own
    (two backends over different sources in one process never see each other's tables)."""

    def __init__(self, settings: SparkSettings):
        self.settings = settings
        shared = session(settings)
        self.spark = shared if settings.remote else shared.newSession()
        self._register()

    def _register(self) -> None:
        root = self.settings.source
        for table in TABLES:
            if table in self.settings.tables:
                where = f"table:{self.settings.tables[table]}"
            else:
                where = f"{root.rstrip('/')}/{table}"
            try:
                if where.startswith("table:"):
                    df = self.spark.table(self.settings.tables[table])
                else:
                    df = self.spark.read.parquet(where)
                    if table in PARTITIONED:                 # the partition columns are not the table's own
                        df = df.drop("year", "month")
            except Exception as exc:
                raise MetricsError(
                    f"Spark cannot read table {table!r} from {where.removeprefix('table:')} "
                    f"({_first_line(exc)}); run `python -m metrics export-parquet {root}` or name the table "
                    "under spark.tables in config.yaml") from None
            if self.settings.cache:
                df = df.cache()
            df.createOrReplaceTempView(table)

    def version(self) -> str:
        """Changes when the source is re-exported (the newest modification time of a local export)."""
        root = Path(self.settings.source)
        if not root.exists():
            return self.settings.source
        # The folder's absolute path: the same export named relatively by one process and absolutely by another
        # (the command line that built the figure store, the dashboard serving it) is the same version.
        return f"{root.resolve()}@{max((p.stat().st_mtime_ns for p in root.iterdir()), default=0)}"

    def query(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        """Run DuckDB-dialect metric SQL on Spark; the DataFrame has the types DuckDB's own would have."""
        from pyspark.sql.pandas.types import to_arrow_schema
        text = to_spark(sql)
        try:
            result = self.spark.sql(text, args=dict(params or {}))
            rows = result.collect()               # metric results are small: a few rows per bucket and group
            schema = to_arrow_schema(result.schema)
        except Exception as exc:
            raise MetricsError(f"Spark could not run a metric query ({_first_line(exc)})") from None
        table = pa.Table.from_pylist([r.asDict() for r in rows], schema=schema)
        with duckdb.connect() as con:             # DuckDB's own Arrow → pandas conversion: the same dtypes
            return con.from_arrow(table).df()

    def row(self, sql: str, params: dict | None = None) -> dict:
        """The first row of the result as a dict ({} when there is none)."""
        df = self.query(sql, params)
        return {} if df.empty else df.iloc[0].to_dict()


def with_source(config, source: str | Path, **settings):
    """The config with engine 'spark' reading the export at `source` (and other `spark:` settings replaced)."""
    import dataclasses
    return dataclasses.replace(config, engine="spark",
                               spark=dataclasses.replace(config.spark, source=str(source), **settings))


def write_config(config, source: str | Path, target: Path, **settings) -> Path:
    """The config file with `engine: spark` and `spark.source` (plus `settings`) set, written to `target` — for a
    dashboard or page-timing process pointed at it with CX_CONFIG / --config."""
    import yaml
    raw = yaml.safe_load(Path(config.path).read_text(encoding="utf-8"))
    raw["engine"] = "spark"
    raw["spark"] = {**(raw.get("spark") or {}), **settings, "source": str(source)}
    target.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def _first_line(exc: BaseException) -> str:
    """The first line of what went wrong: the Java exception's own message rather than Py4J's wrapper."""
    text = str(exc).strip()
    java = getattr(exc, "java_exception", None)
    if java is not None:
        try:
            text = str(java.getMessage() or java.toString()).strip()
        except Exception:        # the JVM itself is gone
            pass
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]
