"""Every CSV the product writes goes through here, so no cell reaches a spreadsheet as a live formula.

Customer comments, names and loaded values are text that other people will open in Excel, LibreOffice
or Google Sheets, which run a cell as a formula when it begins with `=`, `+`, `-` or `@` (and some when
it begins with a tab, a carriage return or a NUL). Following OWASP's CSV-injection guidance, such a text
cell is written with a single quote `'` in front, so the spreadsheet shows it as text. The rule:
- only text is changed: numeric, boolean and date columns are written as they are, so -5 stays -5;
- a text cell that is just a signed number ("-5", "+12", "-3.2 %", "1,204") is left alone: a spreadsheet
  reads it as a number, not a formula, and a quote would spoil a figure the page shows as text;
- leading spaces do not hide a trigger (" =1+1" is quoted too), and the full-width forms (＝ ＋ － ＠)
  count as triggers;
- fields holding a line break (CR or LF), a comma or a double quote are enclosed in double quotes with
  inner quotes doubled (RFC 4180), so a bare carriage return cannot start a new row whose first cell
  would be a formula.

The same two patterns serve pandas frames (`csv_bytes`, for download buttons) and SQL (`copy_query`,
for files written by DuckDB's COPY, e.g. a load's problem report); DuckDB's RE2 and Python's `re` read
them alike.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pandas as pd

from metrics.sql import ident, literal

QUOTE = "'"
FORMULA_START = r"^ *[=+\-@\t\r\n\x00＝＋－＠]"        # what makes a spreadsheet read a cell as a formula
PLAIN_NUMBER = r"^[+-]?[0-9][0-9,]*([.][0-9]+)?( ?%)?$"   # ...unless the whole cell is a signed number
_FORMULA, _NUMBER = re.compile(FORMULA_START), re.compile(PLAIN_NUMBER)


def cell(value):
    """One value as it must be written: a formula-looking text gets a leading quote; anything else is kept."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.match(value):
        return QUOTE + value
    return value


def frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` with its text cells (and column names) neutralised; other columns untouched."""
    out = df.copy()
    for i, (name, col) in enumerate(df.items()):
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col) \
                or pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
            continue
        out.isetitem(i, col.astype(object).map(cell))
    out.columns = [cell(c) for c in df.columns]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The CSV of a frame (no index, UTF-8, CRLF rows as RFC 4180) with every text cell neutralised: what a
    download button serves. (A CRLF line end also makes the writer quote any field holding a lone CR.)"""
    return frame(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def copy_query(cur: duckdb.DuckDBPyConnection, query: str, path: str | Path, params: dict | None = None) -> str:
    """Write a query's rows to a CSV file (with a header) through DuckDB's COPY, text columns neutralised.

    Args:
        cur: a cursor.
        query: a SELECT written by the product (its values as $parameters).
        path: the CSV file; it is written under a temporary name and moved into place, so it is whole or absent.
        params: the query's bound parameters.
    Returns:
        The path written.
    """
    params = dict(params or {})
    columns = cur.execute(f"DESCRIBE {query}", params).fetchall()
    params.update(_csv_formula=FORMULA_START, _csv_number=PLAIN_NUMBER, _csv_quote=QUOTE)
    select = []
    for name, kind, *_ in columns:
        c = ident(name)
        if kind == "VARCHAR":
            select.append(f"CASE WHEN regexp_matches({c}, $_csv_formula) AND NOT regexp_matches({c}, $_csv_number) "
                          f"THEN $_csv_quote || {c} ELSE {c} END AS {c}")
        else:
            select.append(c)
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        cur.execute(f"COPY (SELECT {', '.join(select)} FROM ({query})) TO {literal(partial)} (HEADER)", params)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return str(target)
