"""The organisation's sections of config.yaml: organisation, departments, sources, voice, loader, spark, demand."""
from __future__ import annotations

import datetime as dt
import re
from types import MappingProxyType
from typing import Any

from metrics.catalogue.definitions import (Case, DemandClass, DemandSettings, Department, Organisation, Source,
                                           SparkSettings, SpreadsheetLimits, Theme, Voice)
from metrics.catalogue.reader import LEVELS, WEEKDAYS, Reader
from metrics.sql import is_identifier


def loader(r: Reader, raw: Any) -> tuple[SpreadsheetLimits, dict, dict]:
    """The loader's limits, the values coded columns accept and the ranges scores must lie in.
    (Whether each table.column exists is checked against the schema in metrics.compute.sqlcheck.)"""
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


def _table_columns(r: Reader, raw: Any, path: str) -> dict:
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


def spark(r: Reader, raw: Any) -> SparkSettings:
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


def voice(r: Reader, raw: Any, departments: dict[str, Department], sources: dict, metrics: dict) -> Voice:
    v = r.mapping(raw, "voice", ("unrouted_department", "values", "themes", "feedback_source", "follow_up_metric"))
    follow_up_days = 2
    follow_up = r.text(v.get("follow_up_metric"), "voice.follow_up_metric", required=True)
    if follow_up is not None:
        days = metrics[follow_up].params.get("business_days") if follow_up in metrics else None
        if follow_up not in metrics:
            r.error("voice.follow_up_metric", f"{follow_up!r} is not a key of `metrics`")
        elif not isinstance(days, int) or isinstance(days, bool) or days < 0:
            r.error("voice.follow_up_metric", f"metric {follow_up} needs params: {{business_days: N}} (the days a case "
                    "has to be followed up, e.g. 2)")
        else:
            follow_up_days = days
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
                 rules.get("negative", "FALSE"), rules.get("positive", "FALSE"), follow_up_days)


def organisation(r: Reader, raw: Any) -> Organisation:
    m = r.mapping(raw, "organisation", ("name", "time_zone", "country", "subdivision", "business_days", "holidays",
                                        "periods_from"), ("name", "time_zone"))
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
    periods_from = m.get("periods_from", ["contacts"])
    if not isinstance(periods_from, list) or not periods_from or not all(isinstance(k, str) for k in periods_from):
        r.error("organisation.periods_from", "expected a list of source keys (e.g. [contacts, requests])")
        periods_from = ["contacts"]
    return Organisation(r.text(m.get("name"), "organisation.name", "Organisation"), tz, country, subdivision,
                        tuple(sorted(WEEKDAYS.index(d) for d in days)), tuple(sorted(holidays)), tuple(periods_from))


def departments(r: Reader, raw: Any) -> dict[str, Department]:
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


def sources(r: Reader, raw: Any) -> dict[str, Source]:
    out = {}
    if not isinstance(raw, dict) or not raw:
        r.error("sources", "expected a mapping of source keys to {table, time, ...}")
        return out
    for key, item in raw.items():
        p = f"sources.{key}"
        m = r.mapping(item, p, ("table", "time", "department", "staff", "filter", "dimensions", "derived",
                                "business_days", "requester", "case"), ("table", "time"))
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
        case, case_keys = None, ("type", "id", "opened", "closed")
        if "case" in m:             # how rows are followed through the hand-offs (Case: type, id, opened, closed)
            c = r.mapping(m["case"], f"{p}.case", case_keys, case_keys)
            if c and all(k in c for k in case_keys):
                parts = [r.text(c["type"], f"{p}.case.type")] + [r.identifier(c[k], f"{p}.case.{k}") for k in case_keys[1:]]
                case = Case(*parts) if all(parts) else None
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
                          r.identifier(m["requester"], f"{p}.requester") if "requester" in m else None, case)
    return out




def demand(r: Reader, raw: Any, allowed: dict) -> DemandSettings:
    """config `demand`: the classes of demand (value or failure), the contact reasons each belongs to, the class of a
    contact with no reason, the window a call may chase a closed item within, and the handling seconds costed when
    a channel has none. Its reasons become the values a load accepts in contacts.reason (unless
    loader.allowed_values names them itself), so an export's code no profile maps is reported, row by row."""
    m = r.mapping(raw, "demand", ("classes", "reasons", "no_reason", "window_days", "stale_after_days",
                                  "default_handle_seconds"))
    if not m:
        return DemandSettings()
    classes = {}
    for key, spec in r.entries(m.get("classes"), "demand.classes", "a mapping of class → {label, failure}, e.g. "
                               "{value: {label: Value demand, failure: false}, chasing: {label: Chasing progress, "
                               "failure: true}}").items():
        p = f"demand.classes.{key}"
        c = r.mapping(spec, p, ("label", "failure"), ("label", "failure"))
        if not r.identifier(key, p) or not c:
            continue
        if not isinstance(c.get("failure"), bool):
            r.error(f"{p}.failure", "expected true (failure demand) or false (value demand)")
            continue
        classes[key] = DemandClass(r.text(c.get("label"), f"{p}.label", key), c["failure"])

    def a_class(value, path):
        if value not in classes:
            r.error(path, f"{value!r} is not one of the demand classes ({', '.join(classes)})")
            return None
        return value

    reasons = {}
    for reason, cls in r.entries(m.get("reasons"), "demand.reasons", "a mapping of reason → class, e.g. "
                                 "{progress_chase: chasing, new_request: value}").items():
        if r.identifier(reason, f"demand.reasons.{reason}") and a_class(cls, f"demand.reasons.{reason}"):
            reasons[reason] = cls
    none = r.mapping(m.get("no_reason") or {}, "demand.no_reason", ("waiting", "otherwise"))
    waiting = a_class(none["waiting"], "demand.no_reason.waiting") if none.get("waiting") is not None else None
    otherwise = a_class(none["otherwise"], "demand.no_reason.otherwise") if none.get("otherwise") is not None else None
    window = r.whole(m.get("window_days"), "demand.window_days", 28)
    stale = r.whole(m.get("stale_after_days"), "demand.stale_after_days", 90)
    handle = r.number(m.get("default_handle_seconds"), "demand.default_handle_seconds")
    if handle is not None and handle <= 0:
        r.error("demand.default_handle_seconds", "expected a positive number of seconds, e.g. 300")
        handle = None
    if reasons:
        allowed.setdefault(("contacts", "reason"), tuple(reasons))
    return DemandSettings(MappingProxyType(classes), MappingProxyType(reasons), waiting, otherwise, window, handle,
                          stale)
