"""The metric SQL, written once for DuckDB, carried to Spark SQL (SQLGlot plus the few rewrites below).

`QueryBuilder` writes each metric's SQL once, in DuckDB's dialect. `to_spark` parses it with SQLGlot and
rewrites the constructs whose *meaning* differs between the engines, so both compute the same numbers:

- `date_diff(unit, a, b)` counts unit *boundaries* crossed in DuckDB; Spark's `datediff(UNIT, a, b)`
  counts whole units elapsed. Rewritten as the difference of the truncated values (days between the dates,
  seconds between the epoch seconds, months between year*12+month, …).
- `SELECT unnest($a) AS x, unnest($b) AS y` zips lists in DuckDB; two generators in one Spark SELECT give
  their cross product. Rewritten as `inline(arrays_zip(:a, :b)) AS (x, y)`.
- `quantile_cont(x, q)` → Spark's exact `percentile(x, q)` (the same linear interpolation).
- `x IN (SELECT unnest($list))` → `array_contains(:list, x)`: the same result without a join (a Spark job less).
- Decimal literals (`3600.0`) are DECIMAL in Spark, so `seconds / 3600.0` would round to 6 places; they
  become DOUBLE, as DuckDB's division already is.

Parameters stay parameters (`$name` → `:name`, bound by `SparkSession.sql(args=…)`); nothing is inlined.
"""
from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

from metrics.errors import MetricsError

_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600}


@lru_cache(maxsize=4096)
def to_spark(sql: str) -> str:
    """DuckDB SQL (as QueryBuilder writes it) → Spark SQL with the same meaning and the same parameters."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise MetricsError(f"this query cannot be carried to Spark SQL ({str(exc).splitlines()[0]})") from None
    tree = tree.transform(_rewrite)
    return tree.sql(dialect="spark")


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.In) and _list_subquery(node) is not None:
        # x IN (SELECT unnest(list)) → array_contains(list, x): the same (NULL stays NULL), without a join
        return exp.Anonymous(this="array_contains", expressions=[_list_subquery(node).copy(),
                                                                 node.this.transform(_rewrite)])
    if isinstance(node, exp.Select):
        return _zip_unnests(node)
    if isinstance(node, exp.DateDiff):
        return _date_diff(node)
    if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup):
        return exp.Anonymous(this="percentile", expressions=[node.this.transform(_rewrite), node.expression])
    if isinstance(node, exp.Literal) and not node.is_string and any(c in node.this for c in ".eE"):
        return exp.cast(node.copy(), exp.DataType.build("DOUBLE"))
    return node


def _list_subquery(node: exp.In) -> exp.Expression | None:
    """The list of `x IN (SELECT unnest(list))`, else None."""
    sub = node.args.get("query")
    select = sub.this if isinstance(sub, exp.Subquery) else sub
    if (isinstance(select, exp.Select) and len(select.expressions) == 1 and isinstance(select.expressions[0], exp.Explode)
            and not select.args.get("from_") and not select.args.get("where")):
        return select.expressions[0].this
    return None


def _zip_unnests(select: exp.Select) -> exp.Select:
    cols = select.expressions
    if len(cols) < 2 or not all(isinstance(c, exp.Alias) and isinstance(c.this, exp.Explode) for c in cols):
        return select
    zipped = exp.Anonymous(this="inline", expressions=[
        exp.Anonymous(this="arrays_zip", expressions=[c.this.this.copy() for c in cols])])
    names = [exp.to_identifier(c.alias) for c in cols]
    select.set("expressions", [exp.Aliases(this=zipped, expressions=names)])
    return select


def _date_diff(node: exp.DateDiff) -> exp.Expression:
    unit = (node.unit.name if node.unit is not None else "DAY").upper().rstrip("S")
    end, start = node.this.transform(_rewrite), node.expression.transform(_rewrite)   # replaced nodes' children
                                                                                      # are not visited again
    if unit == "DAY":
        return exp.Anonymous(this="datediff", expressions=[exp.cast(end, "DATE"), exp.cast(start, "DATE")])
    if unit in _SECONDS:
        def epoch(x):
            secs = exp.Anonymous(this="unix_seconds", expressions=[exp.cast(x, "TIMESTAMP")])
            return secs if unit == "SECOND" else exp.Floor(this=exp.Div(this=secs, expression=exp.Literal.number(_SECONDS[unit])))
        return exp.Paren(this=exp.Sub(this=epoch(end), expression=epoch(start)))
    if unit in ("MONTH", "YEAR", "QUARTER"):
        def months(x):
            y = exp.Anonymous(this="year", expressions=[x.copy()])
            if unit == "YEAR":
                return y
            m = exp.Anonymous(this="month", expressions=[x.copy()])
            if unit == "QUARTER":
                return exp.Paren(this=exp.Add(this=exp.Mul(this=y, expression=exp.Literal.number(4)),
                                              expression=exp.Anonymous(this="quarter", expressions=[x.copy()])))
            return exp.Paren(this=exp.Add(this=exp.Mul(this=y, expression=exp.Literal.number(12)), expression=m))
        return exp.Paren(this=exp.Sub(this=months(end), expression=months(start)))
    raise MetricsError(f"date_diff by {unit.lower()!r} has no Spark translation yet; use second, minute, hour, "
                       "day, month, quarter or year")
