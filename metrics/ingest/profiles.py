"""Mapping profiles (data/mappings/*.yaml): how one export's columns become one table's columns.

A profile says the file's dialect, how each target column is made (taken `from` a source column,
possibly through a value `map`, parsed with date `formats`; a `constant`; or an `expr` over source
columns), which rows to `drop` with a counted reason, and the natural `key` for upserts. Validated
like config.yaml: unknown keys are errors, every error reported with its key path. An `expr` or a
`drop.when` is one SQL expression, checked here by metrics.catalogue.sqlexpr (what it may contain) and again at
load time against the file's header (which columns it may use).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from metrics.catalogue import sqlexpr
from metrics.store.database import LOADABLE
from metrics.errors import ConfigError

TYPES = ("varchar", "integer", "double", "boolean", "timestamp", "date")
FORMATS = ("csv", "excel", "parquet")
KEYS = LOADABLE                      # each loadable table's natural key (metrics/store/database.py)
MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "data" / "mappings"


def mappings_dir() -> Path:
    """Where profiles are found by name and the builder saves them: data/mappings/, or the folder CX_MAPPINGS names
    (an organisation keeping its profiles apart from the shipped ones; the tests)."""
    return Path(os.environ.get("CX_MAPPINGS") or MAPPINGS_DIR)


def names() -> list[str]:
    """The profiles there, by name."""
    return sorted(p.stem for p in mappings_dir().glob("*.yaml"))


@dataclass(frozen=True)
class Column:
    target: str
    source: str | None = None          # `from`
    type: str = "varchar"
    formats: tuple[str, ...] = ()
    map: Mapping[str, Any] | None = None
    default: Any = None                 # for values the map does not list (explicit, never silent)
    null_if: tuple[str, ...] = ()
    constant: Any = None
    expr: str | None = None


@dataclass(frozen=True)
class Drop:
    when: str
    reason: str


@dataclass(frozen=True)
class Profile:
    name: str
    table: str
    description: str
    format: str
    delimiter: str
    encoding: str
    header: bool
    quote: str
    skip_rows: int
    sheet: str | int | None
    columns: tuple[Column, ...]
    drops: tuple[Drop, ...]
    key: tuple[str, ...]


def where(name: str, key: str) -> str:
    """How a sentence about a profile's key begins: 'profile boston_311: columns.comment.expr'."""
    return f"profile {name}: {key}"


def load_profile(name_or_path: str) -> Profile:
    """A profile by name (data/mappings/NAME.yaml) or path; ConfigError listing every problem."""
    path = Path(name_or_path)
    if not path.suffix:
        path = mappings_dir() / f"{name_or_path}.yaml"
    if not path.exists():
        raise ConfigError(f"no mapping profile {name_or_path!r} (profiles in {mappings_dir()}: {', '.join(names())})")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    return parse_profile(raw, path.stem, str(path))


def parse_profile(raw: Any, name: str, source: str = "profile") -> Profile:
    """Validate a profile's YAML data (see module docstring); `source` is the file it came from."""
    errors: list[str] = []

    def err(path: str, msg: str) -> None:
        errors.append(f"{path}: {msg}")

    def expression(text, path):
        try:
            sqlexpr.check(text, where(name, path))
        except sqlexpr.ExpressionError as exc:
            err(path, exc.reason)

    def mapping(value, path, allowed, required=()):
        if not isinstance(value, dict):
            err(path, f"expected a mapping with keys {', '.join(allowed)}")
            return {}
        for k in value:
            if k not in allowed:
                err(f"{path}.{k}", f"unknown key (allowed: {', '.join(allowed)})")
        for k in required:
            if k not in value:
                err(f"{path}.{k}", "required key is missing")
        return value

    top = mapping(raw, "(top level)", ("table", "description", "file", "columns", "drop", "key"), ("table", "columns"))
    table = top.get("table")
    if table not in KEYS:
        err("table", f"{table!r} is not a loadable table (one of {', '.join(KEYS)})")
    f = mapping(top.get("file") or {}, "file", ("format", "delimiter", "encoding", "header", "quote", "skip_rows", "sheet"))
    fmt = f.get("format", "csv")
    if fmt not in FORMATS:
        err("file.format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    columns = []
    for target, spec in (top.get("columns") or {}).items():
        p = f"columns.{target}"
        c = mapping(spec, p, ("from", "type", "formats", "map", "default", "null_if", "constant", "expr"))
        ways = [k for k in ("from", "constant", "expr") if k in c]
        if len(ways) != 1:
            err(p, "give exactly one of from, constant or expr")
        ctype = c.get("type", "varchar")
        if ctype not in TYPES:
            err(f"{p}.type", f"{ctype!r} is not one of {', '.join(TYPES)}")
        if "formats" in c and ctype not in ("timestamp", "date"):
            err(f"{p}.formats", "formats are for timestamp and date columns")
        if "expr" in c:
            expression(c["expr"], f"{p}.expr")
        if "map" in c and not isinstance(c["map"], dict):
            err(f"{p}.map", "expected a mapping of source values to target values")
        columns.append(Column(target, c.get("from"), ctype, tuple(c.get("formats") or ()),
                              {str(k): v for k, v in c["map"].items()} if isinstance(c.get("map"), dict) else None,
                              c.get("default"), tuple(str(v) for v in c.get("null_if") or ()), c.get("constant"),
                              c.get("expr")))
    drops = []
    for i, d in enumerate(top.get("drop") or []):
        m = mapping(d, f"drop[{i}]", ("when", "reason"), ("when", "reason"))
        if m:
            if "when" in m:
                expression(m["when"], f"drop[{i}].when")
            drops.append(Drop(str(m.get("when")), str(m.get("reason"))))
    key = tuple(top.get("key") or KEYS.get(table, ()))
    if table in KEYS:
        missing = [k for k in key if k not in {c.target for c in columns}]
        if missing:
            err("key", f"the key column(s) {', '.join(missing)} are not made by the profile's columns")
    if len(errors) == 1:      # one problem: one sentence, on one line
        one = ConfigError(f"profile {name}: {errors[0]}" + (f" (in {source})" if source != "profile" else ""))
        one.errors = errors
        raise one
    if errors:
        raise ConfigError(f"{source}: {len(errors)} errors", errors)
    return Profile(name, table, str(top.get("description") or ""), fmt, str(f.get("delimiter", ",")),
                   str(f.get("encoding", "utf-8")), bool(f.get("header", True)), str(f.get("quote", '"')),
                   int(f.get("skip_rows", 0)), f.get("sheet"), tuple(columns), tuple(drops), key)
