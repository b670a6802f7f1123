"""Config checks that need SQL: do the tables, columns and expressions in config.yaml compile?

Each metric is built for every shape a page can ask (organisation, a department, a person, a monthly
series, a department breakdown) and bound against an empty database with the current schema, so a
column typo is found at start-up with its key path, never mid-page.
"""
from __future__ import annotations

import re

import duckdb

from metrics.catalogue.definitions import Config
from metrics.errors import ConfigError
from metrics.compute.periods import month
from metrics.compute.query import Grouping, QueryBuilder, Rows
from metrics.store.database import migrate


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0]
    return re.sub(r"^[A-Za-z ]*Error: ", "", text)


def check_sql(config: Config) -> None:
    """Raise ConfigError listing every metric or source whose SQL does not compile."""
    con = duckdb.connect(":memory:")
    try:
        migrate(con, ":memory:")
        errors = []
        tables = {r[0]: {c[0] for c in con.execute(f"DESCRIBE {r[0]}").fetchall()}
                  for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        for section, rules in (("allowed_values", config.allowed_values), ("ranges", config.ranges)):
            for table, column in rules:
                if column not in tables.get(table, ()):
                    known = ", ".join(sorted(tables.get(table, ()))) or f"no table {table!r}"
                    errors.append(f"loader.{section}.{table}.{column}: the schema has no such column ({known})")
        for key, src in config.sources.items():
            if src.table not in tables:
                errors.append(f"sources.{key}.table: no table {src.table!r} (tables: {', '.join(sorted(tables))})")
                continue
            cols = tables[src.table]
            named = [(field, getattr(src, field)) for field in ("time", "department", "staff")]
            if src.case is not None:
                named += [(f"case.{field}", getattr(src.case, field)) for field in ("id", "opened", "closed")]
            for field, col in named:
                if col is not None and col not in cols:
                    errors.append(f"sources.{key}.{field}: table {src.table} has no column {col!r} "
                                  f"(columns: {', '.join(sorted(cols))})")
        if errors:
            raise ConfigError(f"{config.path}: {len(errors)} error(s)", errors)
        builder = QueryBuilder(config)
        period = month(2024, 1)
        dept = next(iter(config.departments))
        for key, metric in config.metrics.items():
            shapes = [(Rows("all"), Grouping()), (Rows("departments", (dept,)), Grouping()),
                      (Rows("all"), Grouping("month", tuple(period.buckets("month")))),
                      (Rows("all"), Grouping(department_map=((dept, dept),)))]
            if all(config.sources[m.source].staff for m in metric.measures()) and not metric.observations:
                shapes.append((Rows("staff", staff="S1"), Grouping()))
            for rows, grouping in shapes:
                sql, params = builder.build(metric, rows, period, grouping)
                try:
                    con.execute(sql, params).fetchall()
                except duckdb.Error as exc:
                    errors.append(f"metrics.{key}: the definition does not compile: {_first_line(exc)}")
                    break
        if errors:
            raise ConfigError(f"{config.path}: {len(errors)} error(s)", errors)
    finally:
        con.close()
