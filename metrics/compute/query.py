"""Metric definition + scope + period (+ grain or breakdown) → one SQL statement and its parameters.

This is the only place metric SQL is written. Every figure — a card, a trend point, a department
row, a person's number — comes from `build()`, so they always agree. The SQL is plain, portable
SQL (CTEs, aggregates with FILTER, window functions, unnest of bound lists) so a transpiler can
carry it to another engine. Values are bound parameters; identifiers come from validated config.

Result columns: [bucket DATE] [grp VARCHAR] numerator DOUBLE, denominator DOUBLE, value DOUBLE.
A ratio's value column is NULL in the SQL: `with_value` computes it from the two sides, on whichever engine ran
the query (writing the division into the SELECT cost DuckDB 0.4 ms to plan — a fifth of a small figure's time).
What numerator and denominator mean depends on the aggregation:
  count, count_distinct, sum → numerator = value, denominator NULL
  avg                        → numerator = sum, denominator = count, value = their quotient
  median, quantile, min, max → numerator NULL, denominator = number of values
  ratio                      → numerator and denominator summed over the scope, then divided
"""
from __future__ import annotations

from dataclasses import dataclass, field

from metrics.catalogue.definitions import Config, Measure, Metric
from metrics.errors import MetricsError
from metrics.compute.periods import Period
import re

from metrics.sql import PLACEHOLDER, conjuncts, expression, ident, mentions, replace_names


@dataclass(frozen=True)
class Rows:
    """Which rows a query covers: every row, rows of some departments, or rows of one person."""
    kind: str                                  # all | departments | staff
    departments: tuple[str, ...] = ()
    staff: str | None = None


@dataclass(frozen=True)
class Grouping:
    """How to cut the result: by time bucket (grain) and/or by one of a department map, person, the department column
    as recorded, or a dimension column of the source (`column`: one of its config `dimensions`, NULL and all)."""
    grain: str | None = None
    buckets: tuple[Period, ...] = ()           # needed for snapshots; the whole period when no grain
    department_map: tuple[tuple[str, str], ...] = ()   # (department key, group key)
    by_staff: bool = False
    requester_map: tuple[tuple[str, str], ...] = ()    # internal service: the asking department → group (grp2)
    by_department: bool = False                # by the source's department column as recorded (NULL and all)
    column: str | None = None                  # by a dimension column of the source(s) (NULL a group of its own)

    @property
    def keys(self) -> list[str]:
        return ((["bucket"] if self.grain else [])
                + (["grp"] if self.department_map or self.by_staff or self.by_department or self.column else [])
                + (["grp2"] if self.requester_map else []))


@dataclass
class _Params:
    values: dict = field(default_factory=dict)

    def bind(self, name: str, value) -> str:
        self.values[name] = value
        return f"${name}"


class QueryBuilder:
    """Writes the SQL of a metric; stateless apart from the config."""

    def __init__(self, config: Config):
        self.config = config
        self._built: dict = {}          # (metric, rows, period, grouping) → (sql, params): pages ask the same again

    def build(self, metric: Metric, rows: Rows, period: Period, grouping: Grouping) -> tuple[str, dict]:
        """The SQL and bound parameters computing `metric` over `rows` in `period`, cut by `grouping` (_write);
        written once per question — the config does not change under a builder — and a fresh copy of the
        parameters handed out each time."""
        key = (metric.key, rows, period, grouping)
        known = self._built.get(key)
        if known is None:
            if len(self._built) >= 20_000:
                self._built.clear()
            known = self._built[key] = self._write(metric, rows, period, grouping)
        return known[0], dict(known[1])

    def _write(self, metric: Metric, rows: Rows, period: Period, grouping: Grouping) -> tuple[str, dict]:
        """The SQL and bound parameters computing `metric` over `rows` in `period`, cut by `grouping`.

        A simple metric, or a ratio whose sides read the same rows (one scan), is one SELECT over the source:
        each level of SQL around it costs DuckDB about half a millisecond to plan, which is a small figure's
        whole query time. A ratio of two sources is one aggregate per side, joined on the keys."""
        params = _Params()
        if grouping.column is not None:
            self._check_column(metric, grouping)
        if metric.observations:
            return self._observations(metric, rows, period, grouping, params), params.values
        keys = grouping.keys
        order = f" ORDER BY {', '.join(keys)}" if keys else ""
        if self._one_scan(metric):           # both sides of the ratio from one scan
            num, den = metric.numerator, metric.denominator
            scan = self._scan("m0", den, metric, rows, period, grouping, params,
                              tuple(t for t in (num.filter, num.expr) if t))
            v0, v1, shared = _pair_aggregates(num, den, scan)
            select = f"coalesce({v0}, 0) AS numerator, coalesce({v1}, 0) AS denominator, {_VALUE_LATER}"
            return scan.select(select, shared) + order, params.values
        if metric.type == "simple":
            scan = self._scan("m0", metric.measure, metric, rows, period, grouping, params)
            v, n = scan.aggregates(metric.measure)
            return scan.select(_simple_columns(metric.measure.agg, v, n), scan.filter(metric.measure)) + order, \
                params.values
        sides = []
        for i, m in enumerate(metric.measures()):
            scan = self._scan(f"m{i}", m, metric, rows, period, grouping, params)
            v, n = scan.aggregates(m)
            sides.append(scan.select(f"{v} AS v" if not keys else f"{v} AS v, {n} AS n", scan.filter(m)))
        if not keys:                          # one row: each side a scalar subquery, as one would write it
            return (f"SELECT coalesce(({sides[0]}), 0) AS numerator, coalesce(({sides[1]}), 0) AS denominator, "
                    f"{_VALUE_LATER}"), params.values
        ctes = [f"m{i} AS ({side})" for i, side in enumerate(sides)]
        select = f"coalesce(m0.v, 0) AS numerator, coalesce(m1.v, 0) AS denominator, {_VALUE_LATER}"
        body = f"FROM m0 FULL OUTER JOIN m1 USING ({', '.join(keys)})" if keys else "FROM m0 CROSS JOIN m1"
        key_cols = "".join(f"{k}, " for k in keys)
        return f"WITH {', '.join(ctes)}\nSELECT {key_cols}{select} {body}{order}", params.values

    def _check_column(self, metric: Metric, grouping: Grouping) -> None:
        """A dimension cut is one of the metric's dimensions (dimensions_of), alone among the group cuts."""
        if grouping.department_map or grouping.by_staff or grouping.by_department:
            raise MetricsError(f"{metric.key} cannot be cut by the column {grouping.column!r} and by units or people "
                               "in one query; ask for one of them")
        if metric.observations:
            raise MetricsError(f"{metric.key} comes from pre-aggregated figures (kpi_observations), which cannot be "
                               f"split by {grouping.column!r}; split it by directorate, department or team")
        accepted = dimensions_of(self.config, metric)
        if grouping.column not in accepted:
            raise MetricsError(f"{metric.key} cannot be split by {grouping.column!r}: {dimension_words(self.config, metric)}")

    def _one_scan(self, metric: Metric) -> bool:
        """A ratio whose two sides read the same rows in the same time window is computed in one scan."""
        if metric.type != "ratio" or metric.observations:
            return False
        num, den = metric.numerator, metric.denominator
        src = self.config.sources[den.source]
        return (num.source == den.source and not num.at_period_end and not den.at_period_end
                and (num.time or src.time) == (den.time or src.time))

    def _source_rows(self, name: str, m: Measure, also: tuple[str, ...] = (),
                     inline: bool = False) -> tuple[str, list[str], dict[str, str]]:
        """The source's rows with the derived and business-day columns this measure (or `also`) uses, as (a FROM
        item named r, conditions on it, derived columns to write into the expressions instead). A measure that uses
        none — or, with `inline`, only derived columns without a window — reads the table itself: one level of SQL
        fewer to plan, which is most of a small table's time."""
        src = self.config.sources[m.source]
        texts = (m.expr, m.filter) + also
        source_filter = [f"({expression(src.filter, {})})"] if src.filter else []
        used = {col: expr for col, expr in src.derived.items() if any(mentions(t, col) for t in texts)}
        bdays = any(any(mentions(t, col) for t in texts) for col in src.business_days)
        if inline and not bdays and not any(_WINDOW.search(expr) for expr in used.values()):
            return f"{ident(src.table)} r", source_filter, {c: expression(e, {}) for c, e in used.items()}
        cols, joins = ["s.*"], []
        for col, expr in used.items():
            cols.append(f"({expression(expr, {})}) AS {ident(col)}")
        for i, (col, (start, end)) in enumerate(src.business_days.items()):
            if any(mentions(t, col) for t in texts):
                cs, ce = f"{name}_cs{i}", f"{name}_ce{i}"
                joins.append(f"LEFT JOIN calendar {cs} ON {cs}.day = CAST(s.{ident(start)} AS DATE) "
                             f"LEFT JOIN calendar {ce} ON {ce}.day = CAST(s.{ident(end)} AS DATE)")
                cols.append(f"({ce}.bd_before - {cs}.bd_before) AS {ident(col)}")
        if len(cols) == 1:
            return f"{ident(src.table)} r", source_filter, {}
        inner = f"SELECT * FROM {ident(src.table)}" + (f" WHERE {source_filter[0]}" if source_filter else "")
        return f"(SELECT {', '.join(cols)} FROM ({inner}) s {' '.join(joins)}) r", [], {}

    def _rows_condition(self, name: str, m: Measure, metric: Metric, rows: Rows, params: _Params) -> list[str]:
        src = self.config.sources[m.source]
        if rows.kind == "departments":
            return [f"r.{ident(src.department)} IN (SELECT unnest({params.bind(name + '_depts', list(rows.departments))}))"]
        if rows.kind == "staff":
            return [f"r.{ident(src.staff)} = {params.bind(name + '_staff', rows.staff)}"]
        return []

    def _scan(self, name: str, m: Measure, metric: Metric, rows: Rows, period: Period, grouping: Grouping,
              params: _Params, also: tuple[str, ...] = (), inline: bool = True) -> "_Scan":
        """The rows one measure reads (and `also` mentions — a ratio's other side read in the same scan): the source
        as r joined to the period-end buckets and unit maps the grouping needs, the conditions of the period and
        the rows, the group expressions, and the SQL of the metric's parameters."""
        src = self.config.sources[m.source]
        conds = self._rows_condition(name, m, metric, rows, params)
        used = set(PLACEHOLDER.findall(" ".join(t for t in (m.filter, m.expr) + also if t)))
        holders = {k: params.bind(f"{name}_{k}", v) for k, v in metric.params.items() if k in used}
        groups: list[tuple[str, str]] = []
        joins = ""
        if m.at_period_end:
            opened, closed = (ident(c) for c in m.at_period_end)
            buckets = grouping.buckets or (period,)
            if not grouping.grain and len(buckets) == 1:      # one period end: no bucket list to join
                at = params.bind(f"{name}_at", buckets[0].end_exclusive)
                conds += [f"r.{opened} < {at}", f"(r.{closed} IS NULL OR r.{closed} >= {at})"]
                holders["period_end"] = at
            else:
                start, end = (params.bind(f"{name}_start", period.start_instant),
                              params.bind(f"{name}_end", period.end_exclusive))
                conds += [f"r.{opened} < {end}", f"(r.{closed} IS NULL OR r.{closed} >= {start})"]
                bs = params.bind(f"{name}_bstart", [b.start for b in buckets])
                be = params.bind(f"{name}_bend", [b.end_exclusive for b in buckets])
                joins += (f" JOIN (SELECT unnest({bs}) AS _b, unnest({be}) AS _e) b"
                          f" ON r.{opened} < b._e AND (r.{closed} IS NULL OR r.{closed} >= b._e)")
                holders["period_end"] = "b._e"
                if grouping.grain:
                    groups.append(("bucket", "b._b"))
        else:
            time = f"r.{ident(m.time or src.time)}"
            start, end = params.bind(f"{name}_start", period.start_instant), params.bind(f"{name}_end", period.end_exclusive)
            conds += [f"{time} >= {start}", f"{time} < {end}"]
            if grouping.grain == "day":
                groups.append(("bucket", f"CAST({time} AS DATE)"))
            elif grouping.grain:
                first = params.bind(f"{name}_first", period.start)
                groups.append(("bucket", f"greatest(CAST(date_trunc('{grouping.grain}', {time}) AS DATE), {first})"))
        if grouping.department_map:
            mf = params.bind(f"{name}_map_from", [a for a, _ in grouping.department_map])
            mt = params.bind(f"{name}_map_to", [b for _, b in grouping.department_map])
            joins += f" JOIN (SELECT unnest({mf}) AS _d, unnest({mt}) AS _g) mp ON mp._d = r.{ident(src.department)}"
            groups.append(("grp", "mp._g"))
        elif grouping.by_staff:
            groups.append(("grp", f"r.{ident(src.staff)}"))
        elif grouping.by_department:
            groups.append(("grp", f"r.{ident(src.department)}"))
        elif grouping.column is not None:     # checked against the source's dimensions (_check_column)
            groups.append(("grp", f"r.{ident(grouping.column)}"))
        if grouping.requester_map:
            if src.requester is None:
                raise MetricsError(f"{metric.key} cannot be split by the asking department: its source {src.key!r} "
                                   "names no `requester` column")
            qf = params.bind(f"{name}_req_from", [a for a, _ in grouping.requester_map])
            qt = params.bind(f"{name}_req_to", [b for _, b in grouping.requester_map])
            joins += f" JOIN (SELECT unnest({qf}) AS _d, unnest({qt}) AS _g) rq ON rq._d = r.{ident(src.requester)}"
            groups.append(("grp2", "rq._g"))
        relation, where_source, derived = self._source_rows(name, m, also, inline)
        return _Scan(relation + joins, where_source + conds, groups, holders, derived)

    def records(self, metric: Metric, rows: Rows, period: Period, limit: int,
                counts: tuple[str, ...] = ()) -> tuple[str, dict]:
        """The rows behind a figure: the simple measure's rows, or a ratio's denominator rows with a
        `counted` column saying whether each is in the numerator (when both sides read the same rows); a misses
        metric's rows are its misses alone, each `counted`.
        With `counts` (source column names), also `_n` (rows behind the figure) and `_n_<column>` (rows with
        the same value of that column), counted before the limit: what small-group suppression needs."""
        params = _Params()
        m = metric.measure if metric.type == "simple" else metric.denominator
        num = metric.numerator
        also = (num.filter,) if num is not None and num.filter else ()
        scan = self._scan("m0", m, metric, rows, period, Grouping(), params, also, inline=False)   # rows show them
        columns = ["r.*"]
        if num is not None and num.source == m.source and (num.time or None) == (m.time or None) and num.filter:
            columns.insert(0, f"coalesce(({expression(num.filter, scan.holders)}), false) AS counted")
        elif metric.kind == "misses":
            columns.insert(0, "true AS counted")
        if counts:
            columns = (["count(*) OVER () AS _n"] + [f"count(*) OVER (PARTITION BY r.{ident(c)}) AS {ident('_n_' + c)}"
                                                     for c in counts] + columns)
        src = self.config.sources[m.source]
        time = ident(m.at_period_end[0] if m.at_period_end else (m.time or src.time))
        sql = (scan.select(", ".join(columns), scan.filter(m))
               + f" ORDER BY r.{time} DESC LIMIT {params.bind('limit', int(limit))}")
        return sql, params.values

    def _observations(self, metric: Metric, rows: Rows, period: Period, grouping: Grouping, params: _Params) -> str:
        """A `type: observed` metric: pre-aggregated figures from kpi_observations, summed like a ratio's sides.

        Organisation-wide rows (department_id NULL) are used for the organisation when present in a
        bucket; otherwise the organisation is the sum of its departments' rows.
        """
        conds = ["r.metric_key = " + params.bind("o_key", metric.key),
                 "r.period_start >= " + params.bind("o_start", period.start),
                 "r.period_end <= " + params.bind("o_end", period.end)]
        if rows.kind == "departments":
            conds.append(f"r.department_id IN (SELECT unnest({params.bind('o_depts', list(rows.departments))}))")
        groups, source = [], "kpi_observations r"
        if grouping.grain:
            first = params.bind("o_first", period.start)
            trunc = "r.period_start" if grouping.grain == "day" else f"date_trunc('{grouping.grain}', r.period_start)"
            groups.append(("bucket", f"greatest(CAST({trunc} AS DATE), {first})"))
        if grouping.department_map:
            mf = params.bind("o_map_from", [a for a, _ in grouping.department_map])
            mt = params.bind("o_map_to", [b for _, b in grouping.department_map])
            source += f" JOIN (SELECT unnest({mf}) AS _d, unnest({mt}) AS _g) mp ON mp._d = r.department_id"
            groups.append(("grp", "mp._g"))

        def total(col: str) -> str:
            org = "r.department_id IS NULL"
            return (f"CASE WHEN count(*) FILTER (WHERE {org}) > 0 THEN sum({col}) FILTER (WHERE {org}) "
                    f"ELSE sum({col}) END")
        num, den = total("coalesce(r.numerator, r.value)"), total("r.denominator")
        mult = params.bind("multiplier", float(metric.multiplier))
        select = f"CAST({num} AS DOUBLE) AS numerator, CAST({den} AS DOUBLE) AS denominator, " \
                 f"CAST({num} AS DOUBLE) / NULLIF({den}, 0) * {mult} AS value"
        group_sel = "".join(f"{e} AS {k}, " for k, e in groups)
        group_by = f" GROUP BY {', '.join(e for _, e in groups)}" if groups else ""
        return f"SELECT {group_sel}{select} FROM {source} WHERE {' AND '.join(conds)}{group_by}"


def _source_keys(metric: Metric) -> list[str]:
    """The sources a metric reads, each once, in the order of its measures."""
    return list(dict.fromkeys(m.source for m in metric.measures()))


def dimensions_of(config: Config, metric: Metric) -> tuple[str, ...]:
    """The dimension columns a metric can be split by: those every source it reads declares (`dimensions:`), in the
    first source's order; none for a `type: observed` metric (pre-aggregated figures have no rows to split)."""
    if metric.observations:
        return ()
    keys = _source_keys(metric)
    common = [d for d in config.sources[keys[0]].dimensions
              if all(d in config.sources[k].dimensions for k in keys[1:])] if keys else []
    return tuple(common)


def dimension_words(config: Config, metric: Metric) -> str:
    """What a metric can be split by among dimensions, as words for an error: 'its source 'contacts' declares the
    dimension channel', 'its sources 'complaints' and 'contacts' have no dimension in common', ..."""
    if metric.observations:
        return "it comes from pre-aggregated figures (kpi_observations), which have no dimensions"
    keys, dims = _source_keys(metric), dimensions_of(config, metric)
    names = " and ".join(repr(k) for k in keys)
    listed = f"the dimension{'s' if len(dims) > 1 else ''} {', '.join(dims)}"
    if len(keys) == 1:
        return f"its source {names} declares {listed if dims else 'no dimensions'}"
    return f"its sources {names} have {listed} in common" if dims else f"its sources {names} have no dimension in common"


_WINDOW = re.compile(r"\bOVER\b", re.IGNORECASE)   # a derived column over a window stays in a subquery
_VALUE_LATER = "CAST(NULL AS DOUBLE) AS value"      # a ratio's value: with_value, from the two sides


def ratio_value(numerator: float, denominator: float, multiplier: float) -> float | None:
    """A ratio's value: numerator / denominator × multiplier; none when the denominator is 0."""
    return None if denominator == 0 else numerator / denominator * multiplier


def with_value(metric: Metric, result):
    """A ratio's result (a DataFrame, or one row as a dict) with its value computed from the two sides
    (ratio_value, over a whole column at once: the same IEEE divisions); other results as they are."""
    if metric.type != "ratio" or metric.observations:
        return result
    mult = float(metric.multiplier)
    if isinstance(result, dict):
        n, d = result.get("numerator"), result.get("denominator")
        result["value"] = None if n is None or d is None or d != d else ratio_value(float(n), float(d), mult)
        return result
    d = result["denominator"].astype("float64")
    result["value"] = result["numerator"].astype("float64") / d.where(d != 0) * mult
    return result


@dataclass
class _Scan:
    """One measure's rows (QueryBuilder._scan): what a SELECT over them needs."""
    relation: str                       # the source as r, joined to buckets and unit maps
    conds: list[str]                    # the period's and the rows' conditions
    groups: list[tuple[str, str]]       # (result column, SQL expression)
    holders: dict                       # the metric's parameters: {name} → bound parameter
    derived: dict                       # derived columns written into the expressions: name → SQL

    def sql(self, text: str) -> str:
        """A config expression over these rows as SQL."""
        return expression(replace_names(text, self.derived), self.holders)

    def filter(self, m: Measure) -> list[str]:
        """A measure's filter as SQL conditions, one per top-level conjunct."""
        return [f"({self.sql(c)})" for c in conjuncts(m.filter)] if m.filter else []

    def aggregates(self, m: Measure) -> tuple[str, str]:
        """(value, count) of a measure over these rows, as DOUBLE."""
        value, count = _aggregate(m, f"({self.sql(m.expr)})" if m.expr else None)
        return f"CAST({value} AS DOUBLE)", f"CAST({count} AS DOUBLE)"

    def select(self, columns: str, where: list[str] = ()) -> str:
        """SELECT [group columns,] columns over these rows WHERE their conditions and `where` [GROUP BY]."""
        conds = self.conds + list(where)
        group_sel = "".join(f"{e} AS {k}, " for k, e in self.groups)
        group_by = f" GROUP BY {', '.join(e for _, e in self.groups)}" if self.groups else ""
        return (f"SELECT {group_sel}{columns} FROM {self.relation}"
                + (f" WHERE {' AND '.join(conds)}" if conds else "") + group_by)


def _pair_aggregates(num: Measure, den: Measure, scan: _Scan) -> tuple[str, str, list[str]]:
    """A one-scan ratio's two sides over the same rows: the conditions both filters share are applied once (in
    WHERE), each side keeps the rest of its filter as FILTER (nothing left: every row). Returns (numerator SQL,
    denominator SQL, the shared conditions)."""
    parts = {id(m): conjuncts(m.filter) if m.filter else [] for m in (num, den)}
    shared = [c for c in parts[id(den)] if c in parts[id(num)]]

    def side(m: Measure) -> str:
        value, _ = _aggregate(m, f"({scan.sql(m.expr)})" if m.expr else None)
        rest = [f"({scan.sql(c)})" for c in parts[id(m)] if c not in shared]
        return f"CAST({value}{' FILTER (WHERE ' + ' AND '.join(rest) + ')' if rest else ''} AS DOUBLE)"
    return side(num), side(den), [f"({scan.sql(c)})" for c in shared]


def _simple_columns(agg: str, v: str, n: str) -> str:
    """numerator, denominator, value of a simple metric from its aggregate v and count n (see the module docstring)."""
    if agg in ("count", "count_distinct", "sum"):
        return f"{v} AS numerator, CAST(NULL AS DOUBLE) AS denominator, {v} AS value"
    if agg == "avg":
        return f"{v} AS numerator, {n} AS denominator, {v} / NULLIF({n}, 0) AS value"
    return f"CAST(NULL AS DOUBLE) AS numerator, {n} AS denominator, {v} AS value"


def _aggregate(m: Measure, x: str | None) -> tuple[str, str]:
    """(value, count) SQL of a measure's aggregation over the row expression x."""
    count = f"count({x})" if x else "count(*)"
    if m.agg == "count":
        return count, count
    if m.agg == "count_distinct":
        return f"count(DISTINCT {x})", count
    if m.agg in ("sum", "avg"):
        return f"sum({x})", count
    if m.agg == "median":
        return f"quantile_cont({x}, 0.5)", count
    if m.agg == "quantile":
        return f"quantile_cont({x}, {float(m.quantile)!r})", count
    return f"{m.agg}({x})", count      # min, max
