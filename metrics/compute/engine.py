"""The metrics engine: figures for any metric, scope and period, with comparison, target and status.

`Engine.frame` is the one code path: `value`, `series` and `breakdown` all call it, so a department
row in a breakdown and the department's own card are the same aggregation over the same rows. Standard periods
are read from the figure store (metrics/compute/figures.py) — the same SQL's results, computed in bulk once per
change of the data — and everything after (fill, privacy, target, status) is shared.
Every public method takes the Viewer first and checks access before any figure is computed.
"""
from __future__ import annotations

import datetime as dt
import math
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd

from metrics import access

from metrics.compute import figures, target_status
from metrics.access import Viewer
from metrics.catalogue.definitions import Config, Metric
from metrics.errors import MetricsError, UnknownError
from metrics.formatting import format_value
from metrics.compute.periods import GRAINS, Period
from metrics.compute.query import Grouping, QueryBuilder, Rows, dimension_words, dimensions_of, with_value
from metrics.compute.reads import Reads, Tracked
from metrics.compute.in_force import TargetsInForce
from metrics.compute.served import ServedState
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.store.database import connect, up_to_date

LEVELS = ("directorate", "department", "team")
# What a breakdown is by when `by` is not given: the unit level below the scope; a team's (and a person's) people.
DEFAULT_BY = {"organisation": "department", "directorate": "department", "department": "team", "team": "staff"}
NO_VALUE = "(none)"             # a breakdown by a dimension: the name of the rows with no value in that column
# off: every figure live. wait: a page asking after a change waits for the new store (tests, one-person use).
# background: the server — after a change pages keep the previous complete store while one thread builds the next.
# saved: the command line — the store kept in the file when it is of the data as it is now, else live; never builds.
# Every mode but off starts from the store kept in the file, and a writable engine keeps each store it builds.
STORE_MODES = ("off", "wait", "background", "saved")


@dataclass(frozen=True)
class Figure:
    """A metric's figure for one period."""
    start: dt.date
    end: dt.date
    numerator: float | None
    denominator: float | None
    value: float | None
    status: str


@dataclass(frozen=True)
class MetricResult:
    """A metric for a scope and period, with its target, status and the comparison periods."""
    metric: str
    label: str
    scope: str
    start: dt.date
    end: dt.date
    numerator: float | None
    denominator: float | None
    value: float | None
    target: float | None
    warning: float | None
    status: str
    formatted: str
    previous: Figure | None
    last_year: Figure | None

    def to_dict(self) -> dict:
        """Plain JSON-ready fields; `from`/`to` as ISO dates."""
        def figure(f: Figure | None) -> dict | None:
            if f is None:
                return None
            d = asdict(f)
            return {"from": d.pop("start").isoformat(), "to": d.pop("end").isoformat(), **d}
        d = asdict(self)
        d.pop("previous"), d.pop("last_year")
        out = {"metric": d.pop("metric"), "label": d.pop("label"), "scope": d.pop("scope"),
               "from": d.pop("start").isoformat(), "to": d.pop("end").isoformat(), **d}
        out["previous"], out["last_year"] = figure(self.previous), figure(self.last_year)
        return out


# Moves whenever a load, an unload, a dashboard write or a meta change does: table_versions() reads the per-table
# versions only when it moved.


def _empty_counts_as(metric: Metric) -> dict[str, float]:
    """What a figure with no rows is (an empty bucket, group or period): a count or sum is 0 (a ratio's sides
    both 0, so no value); a median, quantile, min or max has 0 rows behind it but no value; a mean has none."""
    ratio = metric.type == "ratio" or metric.observations          # pre-aggregated figures are summed sides
    if ratio or (metric.measure is not None and metric.measure.agg in ("count", "count_distinct", "sum")):
        return {"numerator": 0.0, "denominator": 0.0} if ratio else {"numerator": 0.0, "value": 0.0}
    if metric.measure is not None and metric.measure.agg != "avg":
        return {"denominator": 0.0}
    return {}


def _clean(x) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return None
    return float(x)


class Engine(ServedState, TargetsInForce):
    """Computes metrics from one DuckDB database (or, with engine 'spark', from Spark over the exported
    tables — see metrics.spark); give each thread its own Engine or share one."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: Config, engine: str | None = None,
                 figure_store: str = "off", keep: bool = False):
        self.con = con
        self.config = config
        up_to_date(con)                          # derived tables of rows written without the loader (own SQL)
        self.builder = QueryBuilder(config)
        self._local = threading.local()          # a thread's snapshot cursor, while one is open
        self._state = ("", {})                   # (data version, facts about that state: range, last load, ...)
        self._versions = None                    # (fingerprint, table_versions()) last read
        self.engine = engine or config.engine
        if self.engine not in ("duckdb", "spark"):
            raise MetricsError(f"engine {self.engine!r} is not one of duckdb, spark")
        if figure_store not in STORE_MODES:
            raise MetricsError(f"figure store mode {figure_store!r} is not one of {', '.join(STORE_MODES)}")
        self.figure_store = figure_store
        self._store: figures.FigureStore | None = None     # the complete store served (swapped whole)
        self._store_lock = threading.Lock()                # one build at a time
        self._store_thread: threading.Thread | None = None
        self._store_failed: str | None = None              # a data version whose background build failed
        self._kept_read = False                            # the store kept in the file was looked at
        self.keep = keep                                   # write each store built into the file
        self.last_save_seconds: float | None = None
        self.reads = Reads(frozenset(r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()))
        self.spark = None
        if self.engine == "spark":
            # Imported here, not at the top: pyspark (and Java) are needed only when Spark computes the metrics.
            from metrics.compute.spark.facts import SparkFacts
            self.spark = SparkFacts(config.spark)

    @contextmanager
    def snapshot(self):
        """Every query of this thread inside the block reads the same committed state of the database.

        A page run is wrapped in one, so a load committed half-way through a page cannot give it old figures
        in one place and new ones in another (DuckDB's MVCC: the read transaction keeps its snapshot and
        never blocks writers). Nested calls reuse the open snapshot.
        """
        if getattr(self._local, "cursor", None) is not None:
            yield self
            return
        cur = self.con.cursor()
        cur.execute("BEGIN TRANSACTION")
        self._local.cursor = cur
        self._local.versions = None             # the state's table versions, read once per snapshot
        self._local.staff = {}                  # staff id → department, looked up once per snapshot
        self._local.store = None                # the figure store served, the same for the whole snapshot
        try:
            yield self
        finally:
            self._local.cursor = None
            self._local.versions = None
            self._local.staff = {}
            self._local.store = None
            try:
                cur.execute("ROLLBACK")          # read-only: nothing to keep
            finally:
                cur.close()

    @classmethod
    def open(cls, db_path: str | Path, config: Config, read_only: bool = False, engine: str | None = None,
             figure_store: str = "off") -> "Engine":
        """Open a database file (upgrading its schema unless read-only) and return an Engine computing metrics
        on `engine` (default: config's `engine`), reading standard figures from a figure store (STORE_MODES)."""
        con = connect(db_path, config, read_only=read_only)
        try:
            return cls(con, config, engine, figure_store, keep=not read_only)
        except BaseException:
            con.close()
            raise

    # --- lookups -----------------------------------------------------------------------------
    def metric(self, key: str) -> Metric:
        """The metric definition; UnknownError if there is none."""
        return self.config.metric(key)

    @contextmanager
    def cursor(self):
        """This thread's snapshot cursor if one is open, else a fresh cursor closed after the block; its queries are
        noted as read by the cached computation running in this thread, if any (metrics/compute/reads.py)."""
        snap = getattr(self._local, "cursor", None)
        if snap is not None:
            yield Tracked(snap, self.reads) if self.reads.active() else snap
            return
        cur = self.con.cursor()
        try:
            yield Tracked(cur, self.reads) if self.reads.active() else cur
        finally:
            cur.close()

    # --- reads: every read names what it reads ------------------------------------------------
    # Figures (value, series, breakdown, matrix) and the rows behind them (rows_behind) are the catalogue's facts:
    # the SQL QueryBuilder writes from a definition, run by the metrics engine (DuckDB, or Spark with engine:
    # spark). Everything else is read_store: the DuckDB file itself.
    def read_store(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        """Hand-written SQL on the DuckDB file itself, whichever engine computes the metrics: the store's own tables
        (users, sessions, audit_log, load_batches, ...), the people, the live state the dashboard's writes change
        (cases, shared praise, suggestions) and lists over them — always current (a write shows at once). Runs on a
        fresh cursor (safe across threads), or in this thread's open snapshot."""
        with self.cursor() as cur:
            return cur.execute(sql, params or {}).df()

    def rows_behind(self, metric: Metric, rows: Rows, period: Period, limit: int,
                    counts: tuple[str, ...] = ()) -> pd.DataFrame:
        """The rows behind a metric's figure (QueryBuilder.records: a ratio's denominator rows with `counted`; the
        misses of a misses metric; kpi_observations rows of an observed metric), newest first, on the metrics
        engine — the same rows, on the same engine, as the figure they explain. No access check: callers check."""
        if metric.observations:
            return self._facts("SELECT * FROM kpi_observations WHERE metric_key = $k AND period_start >= $a AND "
                               "period_end <= $b ORDER BY period_start DESC",
                               {"k": metric.key, "a": period.start, "b": period.end})
        return self._facts(*self.builder.records(metric, rows, period, limit, counts))

    def _facts(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        """QueryBuilder's SQL on the metrics engine: DuckDB, or Spark with engine 'spark'."""
        if self.spark is not None:
            self.reads.note_sql(sql)
            return self.spark.query(sql, params)
        return self.read_store(sql, params)

    def staff_department(self, staff_id: str) -> str:
        """The department key of a staff member; UnknownError if there is none. Looked up once per snapshot."""
        known = getattr(self._local, "staff", None) if getattr(self._local, "cursor", None) is not None else None
        if known is not None and staff_id in known:
            self.reads.note(("t:staff",))
            return known[staff_id]
        with self.cursor() as cur:
            row = cur.execute("SELECT department_id FROM staff WHERE staff_id = $id", {"id": staff_id}).fetchone()
        if row is None:
            raise UnknownError(f"unknown staff member {staff_id!r}; `python -m metrics staff` lists them")
        if known is not None:
            known[staff_id] = row[0]
        return row[0]

    # --- the one code path -------------------------------------------------------------------
    def rows_for(self, metric: Metric, scope: Scope) -> Rows:
        """Which rows of the metric's sources belong to the scope (errors if the sources cannot place them)."""
        for m in metric.measures():
            src = self.config.sources[m.source]
            if scope.kind == "staff" and src.staff is None:
                raise UnknownError(f"{metric.key} has no figure per person: its source {src.key!r} "
                                   "records no staff member")
            if scope.is_unit and src.department is None:
                raise UnknownError(f"{metric.key} has no figure per department: its source {src.key!r} "
                                   "records no department")
        if metric.observations and scope.kind == "staff":
            raise UnknownError(f"{metric.key} comes from pre-aggregated figures with no per-person breakdown")
        if scope.kind == "organisation":
            return Rows("all")
        if scope.kind == "staff":
            return Rows("staff", staff=scope.key)
        return Rows("departments", departments=self.config.descendants(scope.key))

    def _department_map(self, scope: Scope, level: str) -> tuple[tuple[str, str], ...]:
        """Each department key in the scope → its ancestor at `level` (or itself when above it)."""
        keys = self.config.descendants(scope.key) if scope.is_unit else tuple(self.config.departments)
        rank = LEVELS.index(level)
        out = []
        for key in keys:
            chain = self.config.ancestors(key)
            at_level = [k for k in chain if LEVELS.index(self.config.departments[k].level) == rank]
            out.append((key, at_level[0] if at_level else key))
        return tuple(out)

    def frame(self, viewer: Viewer, metric_key: str, scope: Scope = ORGANISATION, period: Period | None = None,
              grain: str | None = None, by: str | None = None) -> pd.DataFrame:
        """Raw figures: [bucket] [grp] numerator, denominator, value — empty buckets and groups filled.

        Args:
            viewer: who is asking (checked against the scope).
            metric_key: a key of the catalogue.
            scope: whose rows.
            period: the days covered (default: the last full month in the data).
            grain: cut into day/week/month/quarter/year buckets.
            by: cut by directorate/department/team (within the scope), staff, or a dimension column the metric's
                sources declare (`dimensions:`, e.g. channel): one group per value, NULL a group of its own (grp
                None), ordered by value with that last.
        Returns:
            A DataFrame with one row per bucket and/or group.
        """
        metric = self.metric(metric_key)
        period = period or self.default_period()
        if grain is None and by is None:
            values = self._ungrouped(viewer, metric, scope, period)
            return pd.DataFrame({k: [v] for k, v in values.items()})
        self.authorize(viewer, scope, records=False)
        if scope.kind == "staff":
            self.staff_department(scope.key)
        if grain is not None and grain not in GRAINS:
            raise MetricsError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
        buckets = tuple(period.buckets(grain)) if grain else (period,)
        dmap, by_staff, column = (), False, None
        if by in LEVELS:
            dmap = self._department_map(scope, by)
        elif by == "staff":
            by_staff = True
        elif by is not None:
            column = self._dimension(metric, by)
        rows = self.rows_for(metric, scope)
        grouping = Grouping(grain, buckets if grain else (), dmap, by_staff, column=column)
        store = self.served_figures()
        stored = store.answer(metric, rows, period, grouping) if store is not None else None
        if stored is not None:
            self.reads.note((f"m:{metric.key}",))
        df = stored if stored is not None else with_value(metric, self._facts(*self.builder.build(metric, rows, period,
                                                                                        grouping)))
        if by_staff:
            df = self._visible_staff_rows(viewer, df)
        groups = None
        if dmap:   # every unit at the level, in config order; units above it only if they have rows
            groups = [g for g in dict.fromkeys(g for _, g in dmap) if self.config.departments[g].level == by]
        elif column is not None:      # the values with rows in the period (NULL as None, last)
            df = self._one_null_group(metric, df, grouping.keys)
            groups = sorted(set(df["grp"]), key=lambda v: (v is None, str(v)))
        df = self._fill(metric, df, [b.start for b in buckets] if grain else None, groups)
        if column is not None:        # the fill's index made NULL NaN again (a column of text has no None)
            df["grp"] = pd.Series([None if pd.isna(g) else g for g in df["grp"]], index=df.index, dtype=object)
        return self._suppress(metric, df, whole_organisation=scope.kind == "organisation" and by is None)

    @staticmethod
    def _one_null_group(metric: Metric, df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        """A cut by a dimension with NULL as one group, grp None: a ratio of two sources joins its sides on the value,
        and NULL does not join NULL, so each side's NULL row comes back alone — summed here into one (a side's
        missing half is 0, as the SQL's coalesce makes it)."""
        if df.duplicated(keys).any():
            df = df.groupby(keys, dropna=False, sort=False)[["numerator", "denominator"]].sum().reset_index()
            df = with_value(metric, df.assign(value=float("nan")))
        df["grp"] = pd.Series([None if pd.isna(g) else g for g in df["grp"]], index=df.index, dtype=object)
        return df

    def _dimension(self, metric: Metric, by: str) -> str:
        """`by` as a dimension column of the metric's sources (query.dimensions_of), else one sentence saying what
        would be accepted."""
        if by in dimensions_of(self.config, metric):
            return by
        if metric.observations:
            raise MetricsError(f"{metric.label} comes from pre-aggregated figures (kpi_observations), which cannot be "
                               f"split by {by!r}; use one of {', '.join(LEVELS)}")
        people = ("staff",) if all(self.config.sources[m.source].staff for m in metric.measures()) else ()
        raise MetricsError(f"{metric.label} cannot be split by {by!r}; use one of "
                           f"{', '.join(LEVELS + people + dimensions_of(self.config, metric))} "
                           f"({dimension_words(self.config, metric)})")

    def check_by(self, metric: Metric, by: str | None) -> None:
        """Raise MetricsError unless `by` is a way `frame` can cut the metric: none, a level, staff or one of its
        dimensions (the sentence lists them)."""
        if by is not None and by not in LEVELS and by != "staff":
            self._dimension(metric, by)

    def dimensions(self, metric_key: str) -> tuple[str, ...]:
        """The dimension columns `frame` and `breakdown` can split a metric by (`by=`): those its sources declare."""
        return dimensions_of(self.config, self.metric(metric_key))

    def authorize(self, viewer: Viewer, scope: Scope, *, records: bool) -> None:
        """Raise AccessDenied unless the viewer may see the scope's figures (records=False) or also its records and
        verbatim comments (records=True) — the rules of metrics.access, checked by every read of the layer."""
        with self.cursor() as cur:
            if records:
                access.authorize_records(cur, self.config, viewer, scope)
            else:
                access.authorize(cur, viewer, scope)

    def matrix(self, viewer: Viewer, metric_key: str, period: Period | None = None,
               level: str = "department") -> pd.DataFrame:
        """Internal service between units: one row per (provider `grp`, requester `grp2`) pair with rows.

        The same aggregation as `frame`, cut by the providing unit (the source's department column) and the
        asking unit (its `requester` column), both rolled up to `level`. Pairs without internal requests are
        absent; anonymous survey figures from small groups are blanked as everywhere.
        """
        metric = self.metric(metric_key)
        period = period or self.default_period()
        self.authorize(viewer, ORGANISATION, records=False)
        if level not in LEVELS:
            raise MetricsError(f"level {level!r} is not one of {', '.join(LEVELS)}")
        dmap = self._department_map(ORGANISATION, level)
        sql, params = self.builder.build(metric, self.rows_for(metric, ORGANISATION), period,
                                         Grouping(None, (), dmap, False, dmap))
        df = with_value(metric, self._facts(sql, params))
        df = df.astype({"numerator": "float64", "denominator": "float64", "value": "float64"})
        return self._suppress(metric, df, whole_organisation=False)

    def _one_row(self, sql: str, params: dict) -> dict:
        """An ungrouped figure's one row, as a dict (no DataFrame on the way from the database)."""
        if self.spark is not None:
            self.reads.note_sql(sql)
            return self.spark.row(sql, params)
        with self.cursor() as cur:
            rel = cur.execute(sql, params)
            names = [d[0] for d in rel.description]
            row = rel.fetchone()
        return dict(zip(names, row)) if row else {}

    def _ungrouped(self, viewer: Viewer, metric: Metric, scope: Scope, period: Period) -> dict:
        """One figure — numerator, denominator, value, suppressed — as a dict: checked, read from the figure store
        or the database, then filled and suppressed by the same rules as every frame (_empty_counts_as,
        _suppressed). No DataFrame on the way: this is the path of every card."""
        self.authorize(viewer, scope, records=False)
        if scope.kind == "staff":
            self.staff_department(scope.key)
        rows = self.rows_for(metric, scope)
        store = self.served_figures()
        got = store.answer(metric, rows, period, Grouping()) if store is not None else None
        if got is not None:
            self.reads.note((f"m:{metric.key}",))
        else:
            got = with_value(metric, self._one_row(*self.builder.build(metric, rows, period, Grouping())))
        fills = _empty_counts_as(metric)
        values = {}
        for k in ("numerator", "denominator", "value"):
            v = _clean(got.get(k))
            values[k] = float("nan") if v is None and k not in fills else (fills[k] if v is None else v)
        suppressed = bool(self._suppressed(metric, values["denominator"], scope.kind == "organisation"))
        if suppressed:
            values = dict.fromkeys(values, float("nan"))
        return values | {"suppressed": suppressed}

    def _suppress(self, metric: Metric, df: pd.DataFrame, whole_organisation: bool) -> pd.DataFrame:
        """Blank the figures _suppressed says are too small to show."""
        df["suppressed"] = self._suppressed(metric, df["denominator"], whole_organisation)
        if df["suppressed"].any():
            df.loc[df["suppressed"], ["numerator", "denominator", "value"]] = float("nan")
        return df

    def _suppressed(self, metric: Metric, denominator, whole_organisation: bool):
        """The privacy rule (privacy.min_group_size): an anonymous survey figure from fewer answers than the
        minimum is not shown, except for the whole organisation. `denominator` is one number or a column."""
        small = (denominator > 0) & (denominator < self.config.min_group_size)
        return small & metric.anonymous & (not whole_organisation)

    def _visible_staff_rows(self, viewer: Viewer, df: pd.DataFrame) -> pd.DataFrame:
        """Keep only the people whose figures the viewer may see (access.visible_staff)."""
        with self.cursor() as cur:
            seen = access.visible_staff(cur, viewer)
        return df[df["grp"].notna() & (True if seen is None else df["grp"].isin(seen))]

    @staticmethod
    def _fill(metric: Metric, df: pd.DataFrame, buckets: list | None, groups: list | None) -> pd.DataFrame:
        """Add the buckets and groups with no rows: counts are 0 there; other values have none."""
        keys = (["bucket"] if buckets is not None else []) + (["grp"] if groups is not None else [])
        if buckets is not None:
            df["bucket"] = pd.to_datetime(df["bucket"]).dt.date if len(df) else pd.Series(dtype=object)
        if groups is not None and len(df):   # units above the level appear only when they have rows
            groups = list(groups) + [g for g in df["grp"].unique() if g not in groups]
        if keys:
            levels = [buckets if k == "bucket" else groups for k in keys]
            full = pd.MultiIndex.from_product(levels, names=keys) if len(keys) > 1 else pd.Index(levels[0], name=keys[0])
            df = df.set_index(keys).reindex(full).reset_index()
        if not len(df) and "grp" not in df.columns:      # an ungrouped figure always has its one row
            df = pd.DataFrame([{"numerator": None, "denominator": None, "value": None}])
        df = df.fillna(_empty_counts_as(metric))   # event rows and kpi_observations look the same to callers
        return df.astype({"numerator": "float64", "denominator": "float64", "value": "float64"})

    # --- figures with targets (the target in force: metrics/compute/in_force.py) -------------
    def figure(self, viewer: Viewer, metric_key: str, scope: Scope, period: Period) -> Figure:
        """One figure with its status (no comparison periods)."""
        metric = self.metric(metric_key)
        row = self._ungrouped(viewer, metric, scope, period)
        num, den, val = _clean(row["numerator"]), _clean(row["denominator"]), _clean(row["value"])
        target = self.target(metric, self.target_department(scope, period.start), period)
        status = target_status.SUPPRESSED if row["suppressed"] else target_status.status(metric, val, den, target)
        return Figure(period.start, period.end, num, den, val, status)

    def value(self, viewer: Viewer, metric_key: str, scope: Scope = ORGANISATION, period: Period | None = None,
              compare: bool = True) -> MetricResult:
        """A metric for a scope and period, with target, status, previous period and last year.

        Args:
            viewer: who is asking.
            metric_key: a key of the catalogue.
            scope: whose figures (default the organisation).
            period: default the last full month in the data.
            compare: also compute the previous period and the same period last year.
        Returns:
            A MetricResult.
        """
        metric = self.metric(metric_key)
        period = period or self.default_period()
        fig = self.figure(viewer, metric_key, scope, period)
        target = self.target(metric, self.target_department(scope, period.start), period)
        previous = self.figure(viewer, metric_key, scope, period.previous()) if compare else None
        last_year = self.figure(viewer, metric_key, scope, period.last_year()) if compare else None
        return MetricResult(metric.key, metric.label, str(scope), period.start, period.end, fig.numerator,
                            fig.denominator, fig.value, target.target if target else None,
                            target.warning if target else None, fig.status, format_value(metric, fig.value),
                            previous, last_year)

    def series(self, viewer: Viewer, metric_key: str, scope: Scope = ORGANISATION, period: Period | None = None,
               grain: str = "month") -> pd.DataFrame:
        """A metric per time bucket: bucket, end, numerator, denominator, value, target, warning, status."""
        metric = self.metric(metric_key)
        period = period or self.default_period()
        df = self.frame(viewer, metric_key, scope, period, grain=grain)
        ends = {b.start: b.end for b in period.buckets(grain)}
        df.insert(1, "end", df["bucket"].map(ends))
        starts = list(df["bucket"])
        return self._with_status(metric, df, [self.target_department(scope, on) for on in starts], starts)

    def breakdown(self, viewer: Viewer, metric_key: str, scope: Scope = ORGANISATION, period: Period | None = None,
                  by: str | None = None) -> pd.DataFrame:
        """A metric per unit below the scope (or per person, or per value of a dimension): grp, name, numerator,
        denominator, value, target, warning, status.

        Args:
            by: directorate, department, team, staff, or a dimension of the metric's sources (e.g. channel);
                default one level below the scope. A dimension's groups are its values within the scope: `name` is
                the value as text ("(none)" for rows with no value, which stay a group so every row is counted), and
                each is judged against the scope's own target (its unit's, or the organisation's). Anonymous survey
                groups too small to show are suppressed as units are.
        """
        metric = self.metric(metric_key)
        period = period or self.default_period()
        if by is None:
            by = DEFAULT_BY.get(scope.kind, "staff")
        df = self.frame(viewer, metric_key, scope, period, by=by)
        if by not in LEVELS and by != "staff":          # a dimension (frame checked it)
            df.insert(1, "name", [NO_VALUE if g is None else str(g) for g in df["grp"]])
            return self._with_status(metric, df, [self.target_department(scope, period.start)] * len(df),
                                     [period.start] * len(df))
        if by == "staff":
            names = self.read_store("SELECT staff_id, name, department_id FROM staff")
            lookup = dict(zip(names.staff_id, names.name))
            dept = dict(zip(names.staff_id, names.department_id))
            df.insert(1, "name", df["grp"].map(lookup))
            return self._with_status(metric, df, [dept.get(g) for g in df["grp"]], [period.start] * len(df))
        deps = self.config.departments
        df.insert(1, "name", [deps[g].name if LEVELS.index(deps[g].level) >= LEVELS.index(by)
                              else f"{deps[g].name} (not in a {by})" for g in df["grp"]])
        return self._with_status(metric, df, list(df["grp"]), [period.start] * len(df))

    def _with_status(self, metric: Metric, df: pd.DataFrame, departments: list, starts: list) -> pd.DataFrame:
        """Each row's target (of its department, in force on its period's first day), warning and status."""
        held = self.held_targets()
        targets = [target_status.target_for(metric, d, self.config, held, on) for d, on in zip(departments, starts)]
        df["target"] = [t.target if t else None for t in targets]
        df["warning"] = [t.warning if t else None for t in targets]
        df["status"] = [target_status.SUPPRESSED if hidden else target_status.status(metric, _clean(v), _clean(d), t)
                        for v, d, t, hidden in zip(df["value"], df["denominator"], targets, df["suppressed"])]
        return df
