"""The figure store: every figure the pages show for the standard periods, computed in bulk once per change of the
data, then read from memory (the idea behind Cube's pre-aggregations and Superset's cache warm-up).

What it holds: for every catalogue metric (but `type: observed`, whose pre-aggregated rows do not fall into
calendar buckets), every standard period — each calendar month, quarter and year from the first to the last year
of the data — and every unit: the organisation, each directorate, department and team (its rows and those of the
units under it, "u:KEY"), the rows recorded on a unit itself ("d:KEY", what a breakdown shows for a unit above
the level it cuts at), and each person ("s:ID"). Each entry is the (numerator, denominator, value) that
QueryBuilder's SQL gives for that metric, rows and period.

How it is computed: one grouped query per metric, grain and kind of unit (organisation, units, people) — the
same QueryBuilder SQL as a live figure, cut by calendar bucket and joined to a map from each department to every
unit it belongs to, so a median or percentile is computed over each unit's own rows, never rolled up from
smaller groups. A rebuild recomputes only the metrics whose source tables changed (per-table versions, from load
batches and the audit trail of dashboard writes); the others are carried over.

How it is read: `answer()` returns what the live query would have returned for a (metric, rows, period, grouping)
it covers — the rows behind a figure, before the engine fills empty buckets, applies the privacy rule and adds
targets and status, exactly as for a live figure — or None, and the engine computes the figure live (a custom
date range, a weekly trend, a breakdown by person within a department). Readers never see a half-built store:
the engine swaps a new store in only when it is complete.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import dataclass, field

import pandas as pd

from metrics.catalogue.definitions import Config, Metric
from metrics.compute.periods import Period, bucket_start
from metrics.compute.query import Grouping, QueryBuilder, Rows, ratio_value, with_value

STORED_GRAINS = ("month", "quarter", "year")
ORG = "org"
NOTHING = Period(dt.date(1900, 1, 1), dt.date(1900, 1, 1))   # no row is this old: the figure over no rows


def unit_key(kind: str, key: str | None = None) -> str:
    """The store's name for a set of rows: org, u:<unit> (with the units under it), d:<unit> (its own), s:<person>."""
    return ORG if kind == "org" else f"{kind}:{key}"


def _number(x) -> float | None:
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return None
    return float(x)


@dataclass
class FigureStore:
    """A complete store for one state of the data. Immutable once built; the engine swaps whole stores."""
    version: str                                   # the data version it was built from
    table_versions: dict[str, str]                 # each source table's version, to rebuild only what changed
    last_load: str | None                          # the "last loaded" line of that state
    spans: tuple[dt.date, dt.date]                 # first and last day of the calendar years covered
    data_range: tuple[dt.date, dt.date] | None     # first and last day with contacts in that state
    metric_versions: dict[str, str] = field(default_factory=dict)
    entries: dict[str, dict[str, dict[tuple[dt.date, dt.date], tuple]]] = field(default_factory=dict)  # metric → unit → period
    empty: dict[str, tuple] = field(default_factory=dict)        # each metric's figure over no rows
    units: dict[frozenset, str] = field(default_factory=dict)    # the departments a unit covers → its unit key
    seconds: float = 0.0
    queries: int = 0
    recomputed: tuple[str, ...] = ()

    def covers(self, metric_key: str, period: Period) -> bool:
        return (metric_key in self.metric_versions and self.spans[0] <= period.start and period.end <= self.spans[1]
                and _standard(period) is not None)

    def size(self) -> int:
        """Entries held (one per metric × unit × period with rows)."""
        return sum(len(p) for units in self.entries.values() for p in units.values())

    def answer(self, metric: Metric, rows: Rows, period: Period, grouping: Grouping) -> pd.DataFrame | dict | None:
        """What QueryBuilder's SQL returns for this question, if the store holds it: a dict (numerator, denominator,
        value) for an ungrouped figure, else a DataFrame with [bucket] [grp] numerator denominator value, one row
        per bucket and group with rows, ordered as the SQL orders them. None when the store cannot answer — among
        others, for a cut by a dimension column (grouping.column): the store holds units and people only."""
        if grouping.requester_map or grouping.column is not None or metric.key not in self.metric_versions:
            return None
        grain = grouping.grain
        if grain is None:
            periods = [period] if self.covers(metric.key, period) else None
        elif grain in STORED_GRAINS:
            periods = list(grouping.buckets)
            if not all(self.covers(metric.key, b) and _standard(b) == grain for b in periods):
                periods = None
        else:
            periods = None
        if not periods:
            return None
        if grouping.department_map:
            groups = self._groups(grouping.department_map, rows)
        elif grouping.by_staff:
            if rows.kind != "all":          # a person's rows inside one unit: not stored, computed live
                return None
            prefix = unit_key("s", "")
            groups = sorted((u[len(prefix):], u) for u in self.entries.get(metric.key, {}) if u.startswith(prefix))
        else:
            one = self._unit(rows)
            if one is None:
                return None
            if grain is None:
                got = self.entries.get(metric.key, {}).get(one, {}).get((period.start, period.end))
                return dict(zip(("numerator", "denominator", "value"), got if got is not None else self.empty[metric.key]))
            groups = [(None, one)]
        if groups is None:
            return None
        out, units = [], self.entries.get(metric.key, {})
        for b in periods:
            for name, unit in groups:
                got = units.get(unit, {}).get((b.start, b.end))
                if got is not None:
                    out.append(({"bucket": b.start} if grain else {}) | ({"grp": name} if name is not None else {})
                               | dict(zip(("numerator", "denominator", "value"), got)))
        cols = (["bucket"] if grain else []) + (["grp"] if grouping.department_map or grouping.by_staff else [])
        df = pd.DataFrame(out, columns=cols + ["numerator", "denominator", "value"])
        return df.sort_values(cols, kind="stable").reset_index(drop=True) if cols and len(df) else df

    def _unit(self, rows: Rows) -> str | None:
        if rows.kind == "all":
            return ORG
        if rows.kind == "staff":
            return unit_key("s", rows.staff)
        return self.units.get(frozenset(rows.departments))

    def _groups(self, department_map, rows: Rows) -> list[tuple[str, str]] | None:
        """Each group of a breakdown → the stored unit with exactly its rows, or None if one has no such unit."""
        members: dict[str, set] = {}
        allowed = None if rows.kind == "all" else set(rows.departments)
        for dep, grp in department_map:
            if allowed is None or dep in allowed:
                members.setdefault(grp, set()).add(dep)
        out = []
        for grp, deps in members.items():
            unit = self.units.get(frozenset(deps))
            if unit is None:
                return None
            out.append((grp, unit))
        return sorted(out)


# --- kept in the file -------------------------------------------------------------------------
_COLUMNS = ("metric_key", "unit", "period_start", "period_end", "numerator", "denominator", "value")
_INSERT = ("INSERT INTO figure_store SELECT metric_key, unit, period_start, period_end, numerator, denominator, value "
           "FROM _figures")
_SELECT = "SELECT metric_key, unit, period_start, period_end, numerator, denominator, value FROM figure_store"


def save(con, store: FigureStore) -> float:
    """Write the store into the DuckDB file (tables figure_store and figure_store_state), replacing the one kept
    there, in one transaction; returns the seconds it took."""
    t0 = time.perf_counter()
    rows = [(m, u, a, b, n, d, v) for m, units in store.entries.items() for u, periods in units.items()
            for (a, b), (n, d, v) in periods.items()]
    frame = pd.DataFrame(rows, columns=list(_COLUMNS)).astype(
        {"numerator": "float64", "denominator": "float64", "value": "float64"})
    state = {"table_versions": store.table_versions, "last_load": store.last_load,
             "spans": [d.isoformat() for d in store.spans],
             "data_range": [d.isoformat() for d in store.data_range] if store.data_range else None,
             "metric_versions": store.metric_versions, "empty": store.empty,
             "units": [[sorted(deps), key] for deps, key in store.units.items()],
             "seconds": store.seconds, "queries": store.queries}
    cur = con.cursor()
    try:
        cur.execute("BEGIN TRANSACTION")
        cur.execute("DELETE FROM figure_store")
        cur.execute("DELETE FROM figure_store_state")
        cur.register("_figures", frame)
        cur.execute(_INSERT)
        cur.unregister("_figures")
        cur.execute("INSERT INTO figure_store_state VALUES ($v, now(), $s)",
                    {"v": store.version, "s": json.dumps(state)})
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    finally:
        cur.close()
    return time.perf_counter() - t0


def load(cur) -> FigureStore | None:
    """The store kept in the file, or None when there is none."""
    row = cur.execute("SELECT version, state FROM figure_store_state").fetchone()
    if row is None:
        return None
    version, state = row[0], json.loads(row[1])
    day = dt.date.fromisoformat
    store = FigureStore(version, state["table_versions"], state["last_load"], tuple(map(day, state["spans"])),
                        tuple(map(day, state["data_range"])) if state["data_range"] else None,
                        metric_versions=state["metric_versions"],
                        empty={k: tuple(v) for k, v in state["empty"].items()},
                        units={frozenset(deps): key for deps, key in state["units"]},
                        seconds=state["seconds"], queries=state["queries"])
    for m, u, a, b, n, d, v in cur.execute(_SELECT).fetchall():
        store.entries.setdefault(m, {}).setdefault(u, {})[(a, b)] = (_number(n), _number(d), _number(v))
    for key in store.metric_versions:
        store.entries.setdefault(key, {})
    return store


def _standard(period: Period) -> str | None:
    """The grain of a whole calendar month, quarter or year; None for any other period."""
    months = period.whole_months()
    if months in (1, 3, 12) and period.start == bucket_start(period.start, {1: "month", 3: "quarter", 12: "year"}[months]):
        return {1: "month", 3: "quarter", 12: "year"}[months]
    return None


def unit_map(config: Config) -> tuple[tuple[tuple[str, str], ...], dict[frozenset, str]]:
    """(department → unit key pairs for the grouped query, the departments each unit key covers)."""
    pairs, covers = [], {}
    for key in config.departments:
        for unit in config.ancestors(key):
            pairs.append((key, unit_key("u", unit)))
        if len(config.descendants(key)) > 1:          # a unit with units under it: its own rows too
            pairs.append((key, unit_key("d", key)))
    for key in config.departments:
        covers[frozenset(config.descendants(key))] = unit_key("u", key)
        covers.setdefault(frozenset([key]), unit_key("d", key) if len(config.descendants(key)) > 1 else unit_key("u", key))
    return tuple(pairs), covers


def metric_version(config: Config, metric: Metric, table_versions: dict[str, str]) -> str:
    """A metric's figures change when one of its source tables (or the whole store: demo build, calendar,
    departments) changes."""
    tables = sorted({config.sources[m.source].table for m in metric.measures()})
    return "|".join([table_versions.get("*", "")] + [f"{t}={table_versions.get(t, '')}" for t in tables])


def storable(metric: Metric) -> bool:
    """Observed metrics come from pre-aggregated rows of any length, which do not fall into calendar buckets."""
    return not metric.observations


def build(run, config: Config, data_range: tuple[dt.date, dt.date] | None, version: str,
          table_versions: dict[str, str], last_load: str | None, previous: FigureStore | None = None) -> FigureStore:
    """A complete store for the data as `run(sql, params) -> DataFrame` sees it (the engine's facts, inside one
    snapshot). Metrics whose version is unchanged since `previous` (same years covered) are carried over."""
    t0 = time.perf_counter()
    first, last = data_range if data_range else (dt.date.today(), dt.date.today())
    spans = (dt.date(first.year, 1, 1), dt.date(last.year, 12, 31))
    pairs, covers = unit_map(config)
    store = FigureStore(version, dict(table_versions), last_load, spans, data_range, units=covers)
    builder = QueryBuilder(config)
    reuse = previous is not None and previous.spans == spans
    done = []
    for key, metric in config.metrics.items():
        if not storable(metric):
            continue
        mv = metric_version(config, metric, table_versions)
        store.metric_versions[key] = mv
        if reuse and previous.metric_versions.get(key) == mv:
            store.empty[key] = previous.empty[key]
            store.entries[key] = previous.entries.get(key, {})
            continue
        done.append(key)
        sql, params = builder.build(metric, Rows("all"), NOTHING, Grouping())
        row = with_value(metric, run(sql, params)).iloc[0]
        store.empty[key] = tuple(_number(row[c]) for c in ("numerator", "denominator", "value"))
        store.queries += 1
        srcs = [config.sources[m.source] for m in metric.measures()]
        has_units, has_staff = all(s.department is not None for s in srcs), all(s.staff is not None for s in srcs)
        whole = Period(spans[0], spans[1])
        entries = store.entries.setdefault(key, {})
        if additive(metric):
            store.queries += _counted_by_month(run, builder, metric, whole, has_units, has_staff, config, entries)
            continue
        kinds = ["org"] + (["units"] if has_units else []) + (["staff"] if has_staff else [])
        for grain in STORED_GRAINS:
            buckets = tuple(whole.buckets(grain))
            ends = {b.start: b.end for b in buckets}
            for kind in kinds:
                grouping = Grouping(grain, buckets, pairs if kind == "units" else (), kind == "staff")
                df = with_value(metric, run(*builder.build(metric, Rows("all"), whole, grouping)))
                store.queries += 1
                starts = pd.to_datetime(df["bucket"]).dt.date if len(df) else []
                groups = df["grp"] if "grp" in df.columns else [None] * len(df)
                for start, grp, n, d, v in zip(starts, groups, df["numerator"], df["denominator"], df["value"]):
                    if kind == "staff" and pd.isna(grp):
                        continue               # rows with no person recorded belong to nobody's own figures
                    unit = ORG if kind == "org" else (grp if kind == "units" else unit_key("s", grp))
                    entries.setdefault(unit, {})[(start, ends[start])] = (_number(n), _number(d), _number(v))
    store.recomputed = tuple(done)
    store.seconds = time.perf_counter() - t0
    return store


def additive(metric: Metric) -> bool:
    """Every measure counts rows in a time window: a quarter's or a unit's figure is then exactly the sum of its
    months' or departments' counts (whole numbers, so summing them in any order gives the same double)."""
    return storable(metric) and all(m.agg == "count" and not m.at_period_end for m in metric.measures())


def _counted_by_month(run, builder: QueryBuilder, metric: Metric, whole: Period, has_units: bool, has_staff: bool,
                      config: Config, entries: dict) -> int:
    """An additive metric's entries from two queries — its counts by month and recorded department, and by month
    and person — summed into every unit, quarter and year; returns the number of queries run."""
    months = tuple(whole.buckets("month"))
    periods = [b for grain in STORED_GRAINS for b in whole.buckets(grain)]
    ratio = metric.type == "ratio"
    mult = float(metric.multiplier) if ratio else None

    def counts(grouping: Grouping) -> dict:
        """(group, month start) → [numerator, denominator], summed (a NULL group can come back twice, one row per
        side of a two-source ratio)."""
        df = run(*builder.build(metric, Rows("all"), whole, grouping))
        cells: dict = {}
        starts = pd.to_datetime(df["bucket"]).dt.date if len(df) else []
        groups = df["grp"] if "grp" in df.columns else [None] * len(df)
        for start, grp, n, d in zip(starts, groups, df["numerator"], df["denominator"]):
            cell = cells.setdefault((None if pd.isna(grp) else grp, start), [0.0, 0.0])
            cell[0] += _number(n) or 0.0
            cell[1] += _number(d) or 0.0
        return cells

    def put(unit: str, cells: dict, members) -> None:
        by_month: dict = {}
        for (grp, start), (n, d) in cells.items():
            if members is None or grp in members:
                cell = by_month.setdefault(start, [0.0, 0.0])
                cell[0] += n
                cell[1] += d
        if not by_month:
            return
        out = entries.setdefault(unit, {})
        for p in periods:
            inside = [by_month[m.start] for m in months if p.start <= m.start <= p.end and m.start in by_month]
            if inside:
                n, d = sum(c[0] for c in inside), sum(c[1] for c in inside)
                out[(p.start, p.end)] = (n, d, ratio_value(n, d, mult)) if ratio else (n, None, n)

    cells = counts(Grouping("month", months, by_department=has_units))
    put(ORG, cells, None)
    if has_units:
        for key in config.departments:
            below = config.descendants(key)
            put(unit_key("u", key), cells, set(below))
            if len(below) > 1:
                put(unit_key("d", key), cells, {key})
    if not has_staff:
        return 1
    by_person: dict = {}
    for (grp, start), cell in counts(Grouping("month", months, by_staff=True)).items():
        if grp is not None:            # rows with no person recorded belong to nobody's own figures
            by_person.setdefault(grp, {})[(grp, start)] = cell
    for person, cells in by_person.items():
        put(unit_key("s", person), cells, None)
    return 2
