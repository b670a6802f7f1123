"""The records behind a figure: the rows a metric counted, for a scope and period.

The viewer is checked first (Engine.authorize: records are visible to the department concerned and to
executives); person columns are masked where the viewer may not see that person (access.hide_people), and
answers of small anonymous groups follow the figures' privacy rule.
"""
from __future__ import annotations

import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.formatting import format_period
from metrics.catalogue.scope import Scope


def unit_filter(engine: Engine, scope: Scope, dept_col: str, staff_col: str, params: dict) -> str:
    """SQL limiting rows to a scope: a person (staff_col), a unit and its teams (dept_col), or everything."""
    if scope.kind == "staff":
        params["who"] = scope.key
        return f"{staff_col} = $who"
    if scope.kind == "organisation":
        return "TRUE"
    params["units"] = list(engine.config.descendants(scope.key))
    return f"{dept_col} IN (SELECT unnest($units))"


def metric_records(engine: Engine, viewer: Viewer, metric_key: str, scope: Scope, period: Period,
                   limit: int = 1000) -> pd.DataFrame:
    """The rows a figure was computed from (newest first), with `counted` for a ratio's numerator.

    Args:
        engine: the metrics engine.
        viewer: who is asking (must be allowed the scope's records).
        metric_key: the metric.
        scope: whose rows.
        period: the figure's period.
        limit: at most this many rows.
    """
    engine.authorize(viewer, scope, records=True)
    metric = engine.metric(metric_key)
    if metric.observations:
        return engine.rows_behind(metric, engine.rows_for(metric, scope), period, limit)
    src = engine.config.source_of(metric)
    groups = tuple(c for c in (src.staff, src.department) if c) if metric.anonymous else ()
    df = engine.rows_behind(metric, engine.rows_for(metric, scope), period, limit, groups)
    if metric.anonymous:
        df = _suppress_small_groups(engine, metric, scope, period, df, groups)
    with engine.cursor() as cur:
        return access.hide_people(cur, viewer, df)


def _name(engine: Engine, scope: Scope) -> str:
    return engine.config.departments[scope.key].name if scope.is_unit else str(scope)


def _suppress_small_groups(engine: Engine, metric, scope: Scope, period: Period, df: pd.DataFrame,
                           groups: tuple[str, ...]) -> pd.DataFrame:
    """Records follow the figures' privacy rule: no individual survey answers behind a figure from fewer than
    privacy.min_group_size answers, and no person or team named on answers of a group that small."""
    least = engine.config.min_group_size
    n = int(df["_n"].iloc[0]) if len(df) else 0
    if scope.kind != "organisation" and 0 < n < least:
        raise access.AccessDenied(
            f"the answers behind {metric.label} for {_name(engine, scope)} in {format_period(period)} are not shown: there are {n}, fewer than "
            f"{least} (privacy.min_group_size), so they could identify the people who gave them")
    df = df.copy()
    for c in groups:
        df[c] = df[c].where(df[f"_n_{c}"] >= least, None)
    return df.drop(columns=["_n"] + [f"_n_{c}" for c in groups])
