"""config.yaml → a validated, frozen, typed catalogue.

Every problem is collected with its key path and a hint, then raised at once as ConfigError, so a
person fixing the file sees all of them in one go. Unknown keys are errors (a typo never silently
falls back to a default). Every expression (a metric's `expr` and `filter`, a source's `filter` and
`derived` columns) is parsed and checked by metrics.catalogue.sqlexpr here, at start-up; SQL-level checks (do the
columns exist?) live in metrics.compute.sqlcheck.
"""
from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from metrics.catalogue.chain_section import chain as _chain
from metrics.catalogue.definitions import AnnotationSettings, SpcSettings, Config, MailSettings
from metrics.catalogue.metric_defs import goals as _goals, measures as _measures, metrics as _metrics
from metrics.catalogue.pages import pages as _pages
from metrics.catalogue.reader import AUTH_MODES, ENGINES, Reader
from metrics.catalogue.sections import (demand as _demand, departments as _departments, loader as _loader,
                                        organisation as _organisation, sources as _sources, spark as _spark,
                                        voice as _voice)
from metrics.errors import ConfigError


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


def _mail(r: Reader, raw: Any) -> MailSettings | None:
    """config `mail`: the SMTP server (absent: nothing is e-mailed)."""
    if raw is None:
        return None
    keys = ("host", "port", "security", "user", "password_env", "from", "retry_minutes", "max_retry_minutes",
            "dashboard_url")
    m = r.mapping(raw, "mail", keys, ("host",))
    numbers = {}
    for key, default, low in (("port", 587, 1), ("retry_minutes", 5, 1), ("max_retry_minutes", 360, 1)):
        value = m.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            r.error(f"mail.{key}", f"expected a whole number, {low} or more")
            value = default
        numbers[key] = value
    security = r.choice(m.get("security"), "mail.security", ("starttls", "ssl", "none"), "starttls")
    return MailSettings(r.text(m.get("host"), "mail.host", "localhost"), numbers["port"], security,
                        r.text(m.get("user"), "mail.user"), r.text(m.get("password_env"), "mail.password_env",
                                                                     "CX_SMTP_PASSWORD"),
                        r.text(m.get("from"), "mail.from", "cx-dashboard@localhost"), numbers["retry_minutes"],
                        numbers["max_retry_minutes"], _dashboard_url(r, m.get("dashboard_url")))


def _spc(r: Reader, raw: Any) -> SpcSettings:
    """config `spc`: statistical process control's constants and rule lengths (metrics/features/spc.py)."""
    m = r.mapping(raw, "spc", ("limit_factor", "trend_points", "shift_points", "min_points", "history_months"))
    out = {}
    for key, default, low in (("trend_points", 7, 3), ("shift_points", 7, 3), ("min_points", 12, 3),
                              ("history_months", 24, 3)):
        value = m.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            r.error(f"spc.{key}", f"expected a whole number of points, {low} or more (Making Data Count: {default})")
            value = default
        out[key] = value
    factor = m.get("limit_factor", 2.66)
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor <= 0:
        r.error("spc.limit_factor", "expected a positive number: the mean moving range's multiple (2.66 = 3 sigma)")
        factor = 2.66
    return SpcSettings(float(factor), out["trend_points"], out["shift_points"], out["min_points"],
                       out["history_months"])


def _annotations(r: Reader, raw: Any) -> AnnotationSettings:
    """config `annotations`: the kinds of event marked on trends, and the kind implemented suggestions appear as."""
    m = r.mapping(raw, "annotations", ("kinds", "suggestions_as"))
    kinds = {}
    if "kinds" in m:
        given = r.entries(m["kinds"], "annotations.kinds", "a mapping of kind → the words shown, e.g. "
                          "{change: A change we made, external: Something outside our control}")
        for key, words in given.items():
            if r.identifier(key, f"annotations.kinds.{key}") and r.text(words, f"annotations.kinds.{key}"):
                kinds[key] = words.strip()
    as_kind = m.get("suggestions_as")
    if as_kind is not None and as_kind not in kinds:
        r.error("annotations.suggestions_as", f"{as_kind!r} is not one of the annotation kinds "
                f"({', '.join(kinds)}); or write null so implemented suggestions are not shown as annotations")
        as_kind = None
    return AnnotationSettings(MappingProxyType(kinds), as_kind)


def _dashboard_url(r: Reader, raw: Any) -> str:
    """mail.dashboard_url: where the dashboard is reached from people's mail (digest links, unsubscribe)."""
    url = r.text(raw, "mail.dashboard_url", "http://localhost:8501")
    if not url.startswith(("http://", "https://")):
        r.error("mail.dashboard_url", f"expected the dashboard's address, e.g. https://cx.example.org, not {url!r}")
        return "http://localhost:8501"
    return url.rstrip("/")


def parse_config(raw: Any, path: str = "config.yaml") -> Config:
    """Validate raw YAML data (see load_config)."""
    r = Reader()
    top = r.mapping(raw, "(top level)", ("organisation", "database", "departments", "sources", "measures", "metrics", "goals",
                                         "privacy", "auth", "voice", "engine", "spark", "loader", "pages", "chain",
                                         "alerts", "mail", "spc", "annotations", "demand"),
                    ("organisation", "departments", "sources", "metrics", "pages"))
    org = _organisation(r, top.get("organisation"))
    db = r.mapping(top.get("database") or {}, "database", ("path",))
    departments = _departments(r, top.get("departments"))
    sources = _sources(r, top.get("sources"))
    for key in org.periods_from:
        if key not in sources:
            r.error("organisation.periods_from", f"{key!r} is not a source (one of {', '.join(sources)})")
    metrics = _metrics(r, top.get("metrics"), sources, departments, _measures(r, top.get("measures"), sources))
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
    alerts = r.mapping(top.get("alerts") or {}, "alerts", ("quiet_hours",))
    quiet = alerts.get("quiet_hours", 72)
    if not isinstance(quiet, int) or isinstance(quiet, bool) or quiet < 0:
        r.error("alerts.quiet_hours", "expected a whole number of hours, 0 or more (e.g. 72)")
        quiet = 72
    mail = _mail(r, top.get("mail"))
    spc = _spc(r, top.get("spc") or {})
    annotations = _annotations(r, top.get("annotations") or {})
    voice = _voice(r, top.get("voice") or {}, departments, sources, metrics)
    engine = r.choice(top.get("engine"), "engine", ENGINES, "duckdb")
    spark = _spark(r, top.get("spark") or {})
    spreadsheets, allowed, ranges = _loader(r, top.get("loader") or {})
    demand = _demand(r, top.get("demand") or {}, allowed)
    page_parts = _pages(r, top.get("pages") or {}, metrics)
    chain = _chain(r, top.get("chain"), metrics, departments, sources, allowed)
    if r.errors:
        raise ConfigError(f"{path}: {len(r.errors)} error{'s' if len(r.errors) > 1 else ''}", r.errors)
    return Config(path=path, organisation=org,
                  database_path=r.text(db.get("path"), "database.path", "data/cx.duckdb"),
                  departments=MappingProxyType(departments), sources=MappingProxyType(sources),
                  metrics=MappingProxyType(metrics), goals=MappingProxyType(goals), min_group_size=min_group,
                  auth_mode=mode, session_idle_minutes=idle, voice=voice, engine=engine, spark=spark,
                  spreadsheets=spreadsheets, allowed_values=MappingProxyType(allowed),
                  ranges=MappingProxyType(ranges), pages=page_parts, chain=chain, alert_quiet_hours=quiet,
                  mail=mail, spc=spc, annotations=annotations, demand=demand)


