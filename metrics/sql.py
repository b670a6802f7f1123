"""The one place where identifiers and config expressions become SQL text.

Values never become SQL text: they travel as bound parameters ($name). Identifiers (table and
column names) come only from validated config and are checked against a strict pattern and
quoted here. Config expressions (a metric's `expr` and `filter`) are written by the people who
own config.yaml, validated at start-up by compiling them (metrics.compute.sqlcheck), and may only refer to
declared parameters as {name}, which become bound parameters.
"""
from __future__ import annotations

import re

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_FORBIDDEN = re.compile(r";|--|/\*|\$")


def is_identifier(text: str) -> bool:
    """True for a plain lower-case SQL name (letters, digits, underscore)."""
    return bool(_IDENT.match(text))


def ident(name: str) -> str:
    """Quote a validated identifier; raises ValueError for anything else."""
    if not is_identifier(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return f'"{name}"'


def literal(text: str) -> str:
    """A SQL string literal (quotes doubled), for the few places DuckDB takes no parameter: COPY's file name."""
    return "'" + str(text).replace("'", "''") + "'"


def expression(text: str, params: dict[str, str]) -> str:
    """Turn a config expression into SQL, replacing {name} with the bound parameter params[name].

    Args:
        text: the expression from config.yaml.
        params: placeholder name → SQL parameter reference (e.g. '$m0_business_days').
    Returns:
        SQL text. Raises ValueError for statement separators, comments or raw parameters.
    """
    if _FORBIDDEN.search(text):
        raise ValueError(f"config expressions may not contain ';', comments or '$': {text!r}")
    return PLACEHOLDER.sub(lambda m: params[m.group(1)], text)


def mentions(text: str | None, name: str) -> bool:
    """True when an expression refers to the column or derived column `name`."""
    return bool(text) and re.search(rf"\b{re.escape(name)}\b", text) is not None
