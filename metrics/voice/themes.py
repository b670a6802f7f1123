"""Comment themes: the config's keyword lists, turned into one SQL expression used everywhere.

A comment keeps the theme it was given (by the source system, or as a case's root cause); one without
takes the first theme in config order any of whose keywords it contains as a whole word, ignoring
case; a keyword ending in `*` matches any ending ("wait*" matches wait, waited, waiting).
"""
from __future__ import annotations

import re

import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.catalogue.definitions import Config
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.compute.records import unit_filter
from metrics.voice.rules import negative
from metrics.catalogue.scope import Scope
from metrics.formatting import is_missing


def pattern(keywords: tuple[str, ...]) -> str:
    """The RE2 pattern for a theme's keywords (also valid for Python's re)."""
    parts = [re.escape(k[:-1]) + r"\w*" if k.endswith("*") else re.escape(k) for k in keywords]
    return r"(?i)\b(?:" + "|".join(parts) + r")\b"


def theme_sql(config: Config, comment: str = "comment", stored: str = "theme") -> tuple[str, dict]:
    """SQL for a row's theme (stored, else grouped by keywords) and its bound parameters."""
    params: dict = {}
    whens = []
    for i, t in enumerate(config.voice.themes.values()):
        params[f"th_p{i}"], params[f"th_k{i}"] = pattern(t.keywords), t.key
        whens.append(f"WHEN regexp_matches({comment}, $th_p{i}) THEN $th_k{i}")
    if not whens:
        return stored, params
    return f"coalesce({stored}, CASE {' '.join(whens)} END)", params


def label(config: Config, key: str | None) -> str:
    """A theme's label ('Not grouped' for none)."""
    if is_missing(key):
        return "Not grouped"
    t = config.voice.themes.get(key)
    return t.label if t else str(key)


@access.same_for_every_viewer
def theme_trend(engine: Engine, viewer: Viewer, scope: Scope, period: Period, grain: str = "month") -> pd.DataFrame:
    """Customer comments per theme and period bucket, with how many were negative.

    Args:
        engine, viewer: who asks (the scope's figures must be visible to them).
        scope: the organisation, a unit or a person.
        period: the whole span; grain: day, week, month, quarter or year buckets.
    Returns:
        bucket, theme (label), comments, negative, negative_share.
    """
    engine.authorize(viewer, scope, records=False)
    expr, params = theme_sql(engine.config)
    params.update(a=period.start_instant, b=period.end_exclusive, g=grain)
    where = unit_filter(engine, scope, "department_id", "staff_id", params)
    df = engine.read_store(f"""
        SELECT CAST(date_trunc($g, received_at) AS DATE) AS bucket, {expr} AS theme, count(*) AS comments,
               count(*) FILTER (WHERE {negative(engine)}) AS negative
        FROM feedback
        WHERE comment IS NOT NULL AND source = 'customer' AND received_at >= $a AND received_at < $b AND {where}
        GROUP BY ALL ORDER BY bucket, theme""", params)
    df["negative_share"] = df["negative"] / df["comments"]
    df["theme"] = [label(engine.config, k) for k in df["theme"]]
    return df
