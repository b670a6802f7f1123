"""The records behind figures, and the lists pages show: comments, thanks, items waiting on someone.

Every function checks the viewer first: records and verbatim comments are visible to the department
concerned and to executives (access.authorize_records); a person's own lists to them and their
managers (access.authorize).
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.catalogue.scope import Scope



def negative(engine: Engine) -> str:
    """SQL over a feedback row: negative feedback, a case to follow up (config: the feedback source's `negative`)."""
    return f"({engine.config.voice.negative})"


def positive(engine: Engine) -> str:
    """SQL over a feedback row: praise (config: the feedback source's `positive`)."""
    return f"({engine.config.voice.positive})"


def check_access(engine: Engine, viewer: Viewer, scope: Scope, records: bool = True) -> None:
    """Raise AccessDenied unless the viewer may read the scope's records (records=True) or its figures."""
    cur = engine.con.cursor()
    try:
        if records:
            access.authorize_records(cur, engine.config, viewer, scope)
        else:
            access.authorize(cur, viewer, scope)
    finally:
        cur.close()


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
    check_access(engine, viewer, scope)
    metric = engine.metric(metric_key)
    if metric.observations:
        return engine.facts("SELECT * FROM kpi_observations WHERE metric_key = $k AND period_start >= $a AND "
                            "period_end <= $b ORDER BY period_start DESC",
                            {"k": metric.key, "a": period.start, "b": period.end})
    src = engine.config.source_of(metric)
    groups = tuple(c for c in (src.staff, src.department) if c) if metric.anonymous else ()
    sql, params = engine.builder.records(metric, engine.rows_for(metric, scope), period, limit, groups)
    df = engine.facts(sql, params)
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
            f"the answers behind {metric.label} for {_name(engine, scope)} in {period} are not shown: there are {n}, fewer than "
            f"{least} (privacy.min_group_size), so they could identify the people who gave them")
    df = df.copy()
    for c in groups:
        df[c] = df[c].where(df[f"_n_{c}"] >= least, None)
    return df.drop(columns=["_n"] + [f"_n_{c}" for c in groups])


def feedback_comments(engine: Engine, viewer: Viewer, scope: Scope, period: Period, limit: int = 200,
                      theme: str | None = None) -> pd.DataFrame:
    """Customers' own words about the scope, positive first, then the rest newest first.

    Args:
        theme: only comments of this theme key (stored, or grouped by the config's keywords).
    """
    from metrics.voice.themes import label, theme_sql
    check_access(engine, viewer, scope)
    expr, params = theme_sql(engine.config)
    params.update(a=period.start_instant, b=period.end_exclusive, n=limit, t=theme)
    where = unit_filter(engine, scope, "department_id", "staff_id", params)
    params.update(least=engine.config.min_group_size)
    df = engine.query(f"""
        SELECT * FROM (
            SELECT received_at, kind, {expr} AS theme, csat, nps, comment, department_id, {positive(engine)} AS positive,
                   count(*) FILTER (WHERE kind = 'survey') OVER () < $least AS _few_in_scope,
                   count(*) FILTER (WHERE kind = 'survey') OVER (PARTITION BY department_id) < $least AS _few_in_team
            FROM feedback
            WHERE source = 'customer' AND received_at >= $a AND received_at < $b AND {where})
        WHERE comment IS NOT NULL AND ($t IS NULL OR theme = $t)
        ORDER BY positive DESC, received_at DESC LIMIT $n""", params)
    df["theme"] = [label(engine.config, k) for k in df["theme"]]
    # The figures' privacy rule: no single survey answer of a group smaller than privacy.min_group_size (the
    # organisation as a whole is never too small, as for its figures); the comment itself stays.
    few = df.pop("_few_in_team").astype(bool) | (df.pop("_few_in_scope").astype(bool) & (scope.kind != "organisation"))
    df.loc[few, ["csat", "nps"]] = None
    return df


def thanks(engine: Engine, viewer: Viewer, scope: Scope, period: Period, limit: int = 100) -> pd.DataFrame:
    """Compliments and recognition received by a person or unit, newest first."""
    check_access(engine, viewer, scope, records=scope.kind != "staff")
    params = {"a": period.start_instant, "b": period.end_exclusive, "n": limit}
    fw = unit_filter(engine, scope, "department_id", "staff_id", params)
    rw = unit_filter(engine, scope, "to_department_id", "to_staff_id", params)
    return engine.query(f"""
        SELECT * FROM (
            SELECT received_at AS given, 'Compliment from a customer' AS what, comment AS message, NULL AS value
            FROM feedback WHERE kind = 'compliment' AND received_at >= $a AND received_at < $b AND {fw}
            UNION ALL
            SELECT given_at, CASE WHEN from_kind = 'staff' THEN 'Thanks from a colleague' ELSE 'Thanks from a customer' END,
                   message, value
            FROM recognitions WHERE given_at >= $a AND given_at < $b AND {rw})
        ORDER BY given DESC LIMIT $n""", params)


def waiting(engine: Engine, viewer: Viewer, scope: Scope, as_of: dt.date, limit: int = 1000) -> pd.DataFrame:
    """Callbacks not yet returned and unhappy customers not yet followed up (from the last 90 days), as of
    the end of a day; overdue first. A follow-up's due time is the case rule of metrics.cases.

    Returns:
        what, since, due, department_id, staff_id, overdue — oldest first.
    """
    from metrics.voice.cases import cases_sql
    check_access(engine, viewer, scope, records=scope.kind != "staff")
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    params = {"e": end, "n": limit}
    hw = unit_filter(engine, scope, "to_department_id", "to_staff_id", params)
    fw = unit_filter(engine, scope, "department_id", "coalesce(assigned_to, follow_up_by, staff_id)", params)
    df = engine.query(f"""
        WITH cases AS ({cases_sql(engine, params, "received_at < $e AND received_at >= $e - INTERVAL 90 DAY")})
        SELECT * FROM (
            SELECT 'Callback to return' AS what, handed_at AS since, due_at AS due, to_department_id AS department_id,
                   to_staff_id AS staff_id, due_at < $e AS overdue
            FROM handoffs
            WHERE case_type = 'referral' AND handed_at < $e AND (responded_at IS NULL OR responded_at >= $e)
              AND handed_at >= $e - INTERVAL 90 DAY AND {hw}
            UNION ALL
            SELECT 'Unhappy customer to follow up', received_at, due_before - INTERVAL 1 SECOND, department_id,
                   coalesce(assigned_to, follow_up_by, staff_id), due_before <= $e
            FROM cases
            WHERE received_at < $e AND (followed_up_at IS NULL OR followed_up_at >= $e)
              AND received_at >= $e - INTERVAL 90 DAY AND {fw})
        ORDER BY overdue DESC, since LIMIT $n""", params)
    with engine.cursor() as cur:
        return access.hide_people(cur, viewer, df)
