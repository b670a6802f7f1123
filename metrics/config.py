"""config.yaml → a validated, frozen, typed catalogue.

Every problem is collected with its key path and a hint, then raised at once as ConfigError, so a
person fixing the file sees all of them in one go. Unknown keys are errors (a typo never silently
falls back to a default). Every expression (a metric's `expr` and `filter`, a source's `filter` and
`derived` columns) is parsed and checked by metrics.sqlexpr here, at start-up; SQL-level checks (do the
columns exist?) live in metrics.sqlcheck.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from metrics import sqlexpr
from metrics.definitions import (Config, Department, Goal, Measure, Metric, Organisation, Source, SparkSettings,
                                 SpreadsheetLimits, Target, Theme, Voice)
from metrics.errors import ConfigError
from metrics.sql import PLACEHOLDER, is_identifier

AGGS = ("count", "count_distinct", "sum", "avg", "min", "max", "median", "quantile")
DIRECTIONS = ("higher_is_better", "lower_is_better", "neutral")
FORMATS = ("percent", "number", "duration", "currency", "score")
LEVELS = ("directorate", "department", "team")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RESERVED_PARAMS = ("period_end",)
AUTH_MODES = ("demo", "password", "oidc")
ENGINES = ("duckdb", "spark")


class _Reader:
    """Walks the raw YAML, collecting errors with their key paths."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping with keys {', '.join(allowed)}")
            return {}
        for key in value:
            if key not in allowed:
                self.error(f"{path}.{key}", f"unknown key (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                self.error(f"{path}.{key}", "required key is missing")
        return value

    def text(self, value: Any, path: str, default: str | None = None, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.error(path, "required text is missing")
            return default
        if not isinstance(value, str) or not value.strip():
            self.error(path, f"expected non-empty text, got {value!r}")
            return default
        return value.strip()

    def number(self, value: Any, path: str, default: float | None = None) -> float | None:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(path, f"expected a number, got {value!r}")
            return default
        return float(value)

    def choice(self, value: Any, path: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        if value is None:
            if default is None:
                self.error(path, f"required; one of {', '.join(choices)}")
            return default
        if value not in choices:
            self.error(path, f"{value!r} is not one of {', '.join(choices)}")
            return default
        return value

    def expression(self, value: Any, path: str) -> str | None:
        """Text that must be one SQL expression over a row (see metrics.sqlexpr); {name} is a parameter."""
        text = self.text(value, path)
        if text is not None:
            try:
                sqlexpr.check(text, path, windows=True, placeholders=True)
            except sqlexpr.ExpressionError as exc:
                self.error(path, exc.reason)
                return None
        return text

    def whole(self, value: Any, path: str, default: int, least: int = 1) -> int:
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            self.error(path, f"expected a whole number, {least} or more, got {value!r}")
            return default
        return value

    def identifier(self, value: Any, path: str) -> str | None:
        text = self.text(value, path)
        if text is not None and not is_identifier(text):
            self.error(path, f"{text!r} is not a plain column or table name (letters, digits, _)")
            return None
        return text


def load_config(path: str | Path = "config.yaml") -> Config:
    """Read and validate a config file.

    Args:
        path: the YAML file.
    Returns:
        The frozen Config. Raises ConfigError listing every problem found.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return parse_config(raw, str(path))


def parse_config(raw: Any, path: str = "config.yaml") -> Config:
    """Validate raw YAML data (see load_config)."""
    r = _Reader()
    top = r.mapping(raw, "(top level)", ("organisation", "database", "departments", "sources", "metrics", "goals",
                                         "privacy", "auth", "voice", "engine", "spark", "loader"),
                    ("organisation", "departments", "sources", "metrics"))
    org = _organisation(r, top.get("organisation"))
    db = r.mapping(top.get("database") or {}, "database", ("path",))
    departments = _departments(r, top.get("departments"))
    sources = _sources(r, top.get("sources"))
    metrics = _metrics(r, top.get("metrics"), sources, departments)
    goals = _goals(r, top.get("goals") or {}, metrics, departments)
    privacy = r.mapping(top.get("privacy") or {}, "privacy", ("min_group_size",))
    min_group = privacy.get("min_group_size", 5)
    if not isinstance(min_group, int) or isinstance(min_group, bool) or min_group < 1:
        r.error("privacy.min_group_size", "expected a whole number, 1 or more (e.g. 5)")
        min_group = 5
    auth = r.mapping(top.get("auth") or {}, "auth", ("mode", "session_idle_minutes"))
    mode = r.choice(auth.get("mode"), "auth.mode", AUTH_MODES, "demo")
    idle = auth.get("session_idle_minutes", 60)
    if not isinstance(idle, int) or isinstance(idle, bool) or idle < 1:
        r.error("auth.session_idle_minutes", "expected a whole number of minutes, 1 or more")
        idle = 60
    voice = _voice(r, top.get("voice") or {}, departments, sources)
    engine = r.choice(top.get("engine"), "engine", ENGINES, "duckdb")
    spark = _spark(r, top.get("spark") or {})
    spreadsheets, allowed, ranges = _loader(r, top.get("loader") or {})
    if r.errors:
        raise ConfigError(f"{path}: {len(r.errors)} error{'s' if len(r.errors) > 1 else ''}", r.errors)
    return Config(path, org, r.text(db.get("path"), "database.path", "data/cx.duckdb"),
                  MappingProxyType(departments), MappingProxyType(sources), MappingProxyType(metrics),
                  MappingProxyType(goals), min_group, mode, idle, voice, engine, spark, spreadsheets,
                  MappingProxyType(allowed), MappingProxyType(ranges))


def _loader(r: _Reader, raw: Any) -> tuple[SpreadsheetLimits, dict, dict]:
    """The loader's limits, the values coded columns accept and the ranges scores must lie in.
    (Whether each table.column exists is checked against the schema in metrics.sqlcheck.)"""
    m = r.mapping(raw, "loader", ("spreadsheets", "allowed_values", "ranges"))
    s = r.mapping(m.get("spreadsheets") or {}, "loader.spreadsheets", ("max_rows", "max_columns", "max_bytes"))
    d = SpreadsheetLimits()
    limits = SpreadsheetLimits(*(r.whole(s.get(k), f"loader.spreadsheets.{k}", getattr(d, k))
                                 for k in ("max_rows", "max_columns", "max_bytes")))
    allowed, ranges = {}, {}
    for name, values in _table_columns(r, m.get("allowed_values"), "loader.allowed_values").items():
        p = f"loader.allowed_values.{name[0]}.{name[1]}"
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
            r.error(p, "expected a non-empty list of the values the column accepts, e.g. [phone, email, web]")
        else:
            allowed[name] = tuple(v.strip() for v in values)
    for name, bounds in _table_columns(r, m.get("ranges"), "loader.ranges").items():
        p = f"loader.ranges.{name[0]}.{name[1]}"
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds) or bounds[0] > bounds[1]):
            r.error(p, "expected [lowest, highest] accepted, e.g. [1, 5]")
        else:
            ranges[name] = (bounds[0], bounds[1])
    return limits, allowed, ranges


def _table_columns(r: _Reader, raw: Any, path: str) -> dict:
    """A `table: {column: value}` mapping flattened to {(table, column): value}, names checked."""
    out = {}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        r.error(path, "expected a mapping of table → {column: ...}")
        return out
    for table, columns in raw.items():
        if not is_identifier(str(table)) or not isinstance(columns, dict):
            r.error(f"{path}.{table}", "expected a table name with a mapping of its columns")
            continue
        for column, value in columns.items():
            if not is_identifier(str(column)):
                r.error(f"{path}.{table}.{column}", "is not a plain column name (letters, digits, _)")
                continue
            out[(str(table), str(column))] = value
    return out


def _spark(r: _Reader, raw: Any) -> SparkSettings:
    m = r.mapping(raw, "spark", ("master", "remote", "source", "tables", "conf", "cache"))
    cache = m.get("cache", False)
    if not isinstance(cache, bool):
        r.error("spark.cache", f"expected true or false, got {cache!r}")
        cache = False
    tables, raw_tables = {}, m.get("tables") or {}
    if not isinstance(raw_tables, dict):
        r.error("spark.tables", "expected a mapping of table name → Spark table name")
        raw_tables = {}
    for name, target in raw_tables.items():
        if not is_identifier(str(name)):
            r.error(f"spark.tables.{name}", "is not a table name of the database (letters, digits, _)")
        elif not isinstance(target, str) or not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*){0,2}", target):
            r.error(f"spark.tables.{name}", f"{target!r} is not a Spark table name (table, db.table or catalog.db.table)")
        else:
            tables[str(name)] = target
    conf = {}
    raw_conf = m.get("conf") or {}
    if not isinstance(raw_conf, dict):
        r.error("spark.conf", "expected a mapping of Spark setting → value (e.g. spark.executor.memory: 4g)")
        raw_conf = {}
    for key, value in raw_conf.items():
        if not (isinstance(key, str) and key.startswith("spark.")) or isinstance(value, (dict, list)) or value is None:
            r.error(f"spark.conf.{key}", "expected a Spark setting (spark.…) with a text, number or true/false value")
        else:
            conf[key] = str(value).lower() if isinstance(value, bool) else str(value)
    remote = r.text(m.get("remote"), "spark.remote")
    if remote is not None and not remote.startswith("sc://"):
        r.error("spark.remote", f"{remote!r} is not a Spark Connect URL (sc://host:15002)")
    return SparkSettings(r.text(m.get("master"), "spark.master", "local[2]"), remote,
                         r.text(m.get("source"), "spark.source", "data/parquet"),
                         MappingProxyType(tables), MappingProxyType(conf), cache)


_KEYWORD = re.compile(r"^[a-z0-9][a-z0-9 '&/-]*\*?$")


FEEDBACK_RULES = ("negative", "positive")    # derived columns of voice.feedback_source the product reads


def _voice(r: _Reader, raw: Any, departments: dict[str, Department], sources: dict) -> Voice:
    v = r.mapping(raw, "voice", ("unrouted_department", "values", "themes", "feedback_source"))
    source = r.text(v.get("feedback_source"), "voice.feedback_source", "feedback")
    rules = {}
    if source not in sources:
        r.error("voice.feedback_source", f"{source!r} is not a key of `sources` (sources: {', '.join(sources)})")
    else:
        for name in FEEDBACK_RULES:
            key = f"sources.{source}.derived.{name}"
            if name not in sources[source].derived:
                if any(e.startswith(key + ":") for e in r.errors):
                    continue                     # written but refused: that sentence already says why
                r.error(key, f"required by voice.feedback_source: the rule for "
                        f"{name} feedback, e.g. \"kind = 'complaint' OR coalesce(csat <= 2, false)\"")
            else:
                rules[name] = sources[source].derived[name]
    unrouted = r.text(v.get("unrouted_department"), "voice.unrouted_department")
    if unrouted is not None and unrouted not in departments:
        r.error("voice.unrouted_department", f"{unrouted!r} is not a department key in `departments`")
    values = v.get("values") or []
    if not isinstance(values, list) or not all(isinstance(x, str) and x.strip() for x in values):
        r.error("voice.values", "expected a list of the organisation's values as text, e.g. [Commitment, Creativity]")
        values = []
    themes: dict[str, Theme] = {}
    raw_themes = v.get("themes") or {}
    if not isinstance(raw_themes, dict):
        r.error("voice.themes", "expected a mapping of theme key → {label, keywords}")
        raw_themes = {}
    for key, t in raw_themes.items():
        p = f"voice.themes.{key}"
        if not is_identifier(str(key)):
            r.error(p, "a theme key is a plain name (letters, digits, _)")
            continue
        t = r.mapping(t, p, ("label", "keywords"), ("label", "keywords"))
        words = t.get("keywords") or []
        if not isinstance(words, list) or not words:
            r.error(f"{p}.keywords", "expected a non-empty list of words, e.g. [wait*, queue, hold]")
            words = []
        clean = []
        for i, w in enumerate(words):
            w = str(w).strip().lower()
            if not _KEYWORD.match(w):
                r.error(f"{p}.keywords[{i}]", f"{w!r} is not a keyword: letters, digits, spaces, ' & / - and an "
                        "optional * at the end")
            else:
                clean.append(w)
        themes[key] = Theme(key, r.text(t.get("label"), f"{p}.label", key) or key, tuple(clean))
    return Voice(unrouted, tuple(x.strip() for x in values), MappingProxyType(themes), source,
                 rules.get("negative", "FALSE"), rules.get("positive", "FALSE"))


def _organisation(r: _Reader, raw: Any) -> Organisation:
    m = r.mapping(raw, "organisation", ("name", "time_zone", "country", "subdivision", "business_days", "holidays"),
                  ("name", "time_zone"))
    tz = r.text(m.get("time_zone"), "organisation.time_zone", "UTC")
    try:
        import zoneinfo
        zoneinfo.ZoneInfo(tz)
    except Exception:
        r.error("organisation.time_zone", f"{tz!r} is not a time zone name (e.g. Europe/London)")
    days = m.get("business_days", list(WEEKDAYS[:5]))
    if not isinstance(days, list) or not all(d in WEEKDAYS for d in days) or not days:
        r.error("organisation.business_days", f"expected a list of {', '.join(WEEKDAYS)}")
        days = list(WEEKDAYS[:5])
    holidays = []
    for i, h in enumerate(m.get("holidays") or []):
        if isinstance(h, dt.date) and not isinstance(h, dt.datetime):
            holidays.append(h)
        else:
            r.error(f"organisation.holidays[{i}]", f"{h!r} is not a date (write YYYY-MM-DD)")
    country = r.text(m.get("country"), "organisation.country")
    subdivision = r.text(m.get("subdivision"), "organisation.subdivision")
    if country:
        import holidays as holidays_lib
        try:
            holidays_lib.country_holidays(country, subdiv=subdivision, years=2024)
        except (NotImplementedError, KeyError):
            r.error("organisation.country", f"{country!r}/{subdivision!r} is not a country (and region) the holidays package knows (e.g. GB/ENG)")
    return Organisation(r.text(m.get("name"), "organisation.name", "Organisation"), tz, country, subdivision,
                        tuple(sorted(WEEKDAYS.index(d) for d in days)), tuple(sorted(holidays)))


def _departments(r: _Reader, raw: Any) -> dict[str, Department]:
    out: dict[str, Department] = {}
    if not isinstance(raw, list) or not raw:
        r.error("departments", "expected a list of directorates, each with children departments")
        return out

    def walk(items: Any, parent: str | None, depth: int, path: str) -> None:
        if not isinstance(items, list):
            r.error(path, "expected a list")
            return
        for i, item in enumerate(items):
            p = f"{path}[{i}]"
            m = r.mapping(item, p, ("key", "name", "front_line", "children"), ("key", "name"))
            key = r.identifier(m.get("key"), f"{p}.key")
            if key is None:
                continue
            if key in out:
                r.error(f"{p}.key", f"duplicate department key {key!r}")
                continue
            front = m.get("front_line", False)
            if not isinstance(front, bool):
                r.error(f"{p}.front_line", "expected true or false")
            out[key] = Department(key, r.text(m.get("name"), f"{p}.name", key), parent, LEVELS[depth], front is True)
            if "children" in m:
                if depth == len(LEVELS) - 1:
                    r.error(f"{p}.children", "teams cannot have children (directorate > department > team)")
                else:
                    walk(m["children"], key, depth + 1, f"{p}.children")

    walk(raw, None, 0, "departments")
    return out


def _sources(r: _Reader, raw: Any) -> dict[str, Source]:
    out = {}
    if not isinstance(raw, dict) or not raw:
        r.error("sources", "expected a mapping of source keys to {table, time, ...}")
        return out
    for key, item in raw.items():
        p = f"sources.{key}"
        m = r.mapping(item, p, ("table", "time", "department", "staff", "filter", "dimensions", "derived",
                                "business_days", "requester"), ("table", "time"))
        derived = {}
        for name, expr in (m.get("derived") or {}).items():
            if r.identifier(name, f"{p}.derived.{name}") and r.expression(expr, f"{p}.derived.{name}"):
                derived[name] = expr.strip()
        bdays = {}
        for name, pair in (m.get("business_days") or {}).items():
            if not r.identifier(name, f"{p}.business_days.{name}"):
                continue
            if not (isinstance(pair, list) and len(pair) == 2 and all(is_identifier(str(c)) for c in pair)):
                r.error(f"{p}.business_days.{name}", "expected [start_column, end_column]")
                continue
            bdays[name] = (pair[0], pair[1])
        dims = m.get("dimensions") or []
        if not isinstance(dims, list):
            r.error(f"{p}.dimensions", "expected a list of column names")
            dims = []
        out[key] = Source(key, r.identifier(m.get("table"), f"{p}.table") or "", r.identifier(m.get("time"), f"{p}.time") or "",
                          r.identifier(m["department"], f"{p}.department") if "department" in m else None,
                          r.identifier(m["staff"], f"{p}.staff") if "staff" in m else None,
                          r.expression(m.get("filter"), f"{p}.filter"),
                          tuple(d for d in dims if r.identifier(d, f"{p}.dimensions")),
                          MappingProxyType(derived), MappingProxyType(bdays),
                          r.identifier(m["requester"], f"{p}.requester") if "requester" in m else None)
    return out


_METRIC_KEYS = ("label", "description", "owner", "type", "source", "agg", "expr", "filter", "time", "quantile",
                "at_period_end", "numerator", "denominator", "multiplier", "observations", "params", "direction",
                "format", "unit", "decimals", "min_denominator", "targets", "anonymous")
_MEASURE_KEYS = ("source", "agg", "expr", "filter", "time", "quantile", "at_period_end")


def _measure(r: _Reader, m: dict, p: str, sources: dict[str, Source], params: dict) -> Measure | None:
    source = m.get("source")
    if source not in sources:
        r.error(f"{p}.source", f"unknown source {source!r} (known: {', '.join(sources)})")
        return None
    agg = r.choice(m.get("agg"), f"{p}.agg", AGGS)
    expr = r.expression(m.get("expr"), f"{p}.expr")
    if agg not in (None, "count") and m.get("expr") is None:
        r.error(f"{p}.expr", f"agg {agg} needs an expr (the row-level value to aggregate)")
    quantile = r.number(m.get("quantile"), f"{p}.quantile")
    if agg == "quantile" and not (quantile is not None and 0 < quantile < 1):
        r.error(f"{p}.quantile", "agg quantile needs quantile: a number between 0 and 1 (e.g. 0.9)")
    snap = None
    if "at_period_end" in m:
        s = r.mapping(m["at_period_end"], f"{p}.at_period_end", ("opened", "closed"), ("opened", "closed"))
        snap = (r.identifier(s.get("opened"), f"{p}.at_period_end.opened"),
                r.identifier(s.get("closed"), f"{p}.at_period_end.closed"))
    allowed = set(params) | (set(RESERVED_PARAMS) if snap else set())
    for part in ("expr", "filter"):
        for name in PLACEHOLDER.findall(m.get(part) or ""):
            if name not in allowed:
                hint = "only at_period_end metrics have {period_end}" if name == "period_end" else \
                    f"declare it under params (declared: {', '.join(params) or 'none'})"
                r.error(f"{p}.{part}", f"unknown placeholder {{{name}}}; {hint}")
    time = r.identifier(m["time"], f"{p}.time") if "time" in m else None
    return Measure(source, agg or "count", expr, r.expression(m.get("filter"), f"{p}.filter"), time, quantile, snap)


def _target(r: _Reader, raw: Any, p: str, direction: str) -> Target | None:
    m = r.mapping(raw, p, ("target", "warning"), ("target",))
    target, warning = r.number(m.get("target"), f"{p}.target"), r.number(m.get("warning"), f"{p}.warning")
    if target is None:
        return None
    if warning is not None and direction == "higher_is_better" and warning > target:
        r.error(f"{p}.warning", f"{warning:g} is above the target {target:g}; for higher_is_better the warning threshold is lower")
    if warning is not None and direction == "lower_is_better" and warning < target:
        r.error(f"{p}.warning", f"{warning:g} is below the target {target:g}; for lower_is_better the warning threshold is higher")
    return Target(target, warning)


def _metrics(r: _Reader, raw: Any, sources: dict[str, Source], departments: dict[str, Department]) -> dict[str, Metric]:
    out = {}
    if not isinstance(raw, dict) or not raw:
        r.error("metrics", "expected a mapping of metric keys to definitions")
        return out
    for key, item in raw.items():
        p = f"metrics.{key}"
        if not is_identifier(str(key)):
            r.error(p, "metric keys are lower-case names of letters, digits and _")
            continue
        m = r.mapping(item, p, _METRIC_KEYS, ("label", "description", "owner", "type", "direction", "format"))
        if not m:
            continue
        mtype = r.choice(m.get("type"), f"{p}.type", ("simple", "ratio"), "simple")
        direction = r.choice(m.get("direction"), f"{p}.direction", DIRECTIONS, "neutral")
        params = m.get("params") or {}
        if not isinstance(params, dict) or not all(is_identifier(str(k)) for k in params):
            r.error(f"{p}.params", "expected a mapping of names to values")
            params = {}
        for name in params:
            if name in RESERVED_PARAMS:
                r.error(f"{p}.params.{name}", f"{name} is reserved (it is set by the engine)")
        owner = m.get("owner")
        if owner not in departments:
            r.error(f"{p}.owner", f"unknown department {owner!r} (known: {', '.join(list(departments)[:8])}, ...)")
        observations = m.get("observations", False) is True
        measure = numerator = denominator = None
        if observations:
            for k in _MEASURE_KEYS + ("numerator", "denominator"):
                if k in m:
                    r.error(f"{p}.{k}", "not used when observations: true (figures come from kpi_observations)")
        elif mtype == "simple":
            if "numerator" in m or "denominator" in m:
                r.error(p, "a simple metric has source/agg/expr; numerator and denominator belong to type: ratio")
            measure = _measure(r, m, p, sources, params)
        else:
            for k in _MEASURE_KEYS:
                if k in m:
                    r.error(f"{p}.{k}", "a ratio metric puts this inside numerator: and denominator:")
            numerator = _measure(r, r.mapping(m.get("numerator"), f"{p}.numerator", _MEASURE_KEYS, ("source", "agg")),
                                 f"{p}.numerator", sources, params)
            denominator = _measure(r, r.mapping(m.get("denominator"), f"{p}.denominator", _MEASURE_KEYS, ("source", "agg")),
                                   f"{p}.denominator", sources, params)
            for side, meas in (("numerator", numerator), ("denominator", denominator)):
                if meas is not None and meas.agg not in ("count", "count_distinct", "sum"):
                    r.error(f"{p}.{side}.agg", "a ratio's sides must be count, count_distinct or sum so they add up over departments")
        targets = r.mapping(m.get("targets") or {}, f"{p}.targets", ("default", "by_department"))
        default = _target(r, targets["default"], f"{p}.targets.default", direction) if "default" in targets else None
        by_dept = {}
        for dkey, t in (targets.get("by_department") or {}).items():
            if dkey not in departments:
                r.error(f"{p}.targets.by_department.{dkey}",
                        f"unknown department (known: {', '.join(sorted(departments)[:6])}, ...)")
                continue
            by_dept[dkey] = _target(r, t, f"{p}.targets.by_department.{dkey}", direction)
        if (default or by_dept) and direction == "neutral":
            r.error(f"{p}.direction", "a metric with targets needs a direction (higher_is_better or lower_is_better)")
        decimals = m.get("decimals", 0)
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
            r.error(f"{p}.decimals", "expected a whole number from 0 to 6")
            decimals = 0
        min_den = m.get("min_denominator", 1)
        if not isinstance(min_den, int) or isinstance(min_den, bool) or min_den < 0:
            r.error(f"{p}.min_denominator", "expected a whole number, 0 or more")
            min_den = 1
        out[key] = Metric(
            key=key, label=r.text(m.get("label"), f"{p}.label", key), description=r.text(m.get("description"), f"{p}.description", ""),
            owner=owner, type=mtype, direction=direction, format=r.choice(m.get("format"), f"{p}.format", FORMATS, "number"),
            unit=r.text(m.get("unit"), f"{p}.unit"), decimals=decimals, min_denominator=min_den,
            params=MappingProxyType(dict(params)), measure=measure, numerator=numerator, denominator=denominator,
            multiplier=r.number(m.get("multiplier"), f"{p}.multiplier", 1.0), observations=observations,
            default_target=default, department_targets=MappingProxyType(by_dept),
            anonymous=m.get("anonymous", False) is True)
    return out


def _goals(r: _Reader, raw: Any, metrics: dict[str, Metric], departments: dict[str, Department]) -> dict[str, Goal]:
    out = {}
    if not isinstance(raw, dict):
        r.error("goals", "expected a mapping of goal keys to definitions")
        return out
    for key, item in raw.items():
        p = f"goals.{key}"
        m = r.mapping(item, p, ("label", "description", "target", "warning", "metrics", "misses", "departments"),
                      ("label", "metrics"))
        weights = []
        for mk, w in (m.get("metrics") or {}).items() if isinstance(m.get("metrics"), dict) else ():
            if mk not in metrics:
                r.error(f"{p}.metrics.{mk}", f"unknown metric (known: {', '.join(list(metrics)[:6])}, ...)")
            elif metrics[mk].direction == "neutral":
                r.error(f"{p}.metrics.{mk}", "a goal measure needs a direction and a target")
            weight = r.number(w, f"{p}.metrics.{mk}")
            if weight is not None and weight <= 0:
                r.error(f"{p}.metrics.{mk}", "weights must be positive")
            weights.append((mk, weight or 0.0))
        if not weights:
            r.error(f"{p}.metrics", "expected a mapping of metric keys to weights")
        for i, mk in enumerate(m.get("misses") or []):
            if mk not in metrics:
                r.error(f"{p}.misses[{i}]", f"unknown metric {mk!r}")
        for i, dk in enumerate(m.get("departments") or []):
            if dk not in departments:
                r.error(f"{p}.departments[{i}]", f"unknown department {dk!r}")
        target, warning = r.number(m.get("target"), f"{p}.target", 0.75), r.number(m.get("warning"), f"{p}.warning", 0.5)
        if not (0 <= (warning or 0) <= (target or 0) <= 1):
            r.error(f"{p}.target", "goal scores run from 0 to 1: need 0 ≤ warning ≤ target ≤ 1")
        out[key] = Goal(key, r.text(m.get("label"), f"{p}.label", key), r.text(m.get("description"), f"{p}.description", ""),
                        target, warning, tuple(weights), tuple(m.get("misses") or ()), tuple(m.get("departments") or ()))
    return out
