"""The lists pages show besides figures: customers' comments, thanks received, what waits on someone.

Each function checks the viewer first (Engine.authorize): comments are visible to the department concerned
and to executives; a person's own lists (thanks, waiting) to them and their managers.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.catalogue.scope import Scope
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.compute.records import unit_filter
from metrics.voice.cases import cases_sql
from metrics.voice.rules import positive
from metrics.voice.themes import label, theme_sql


def feedback_comments(engine: Engine, viewer: Viewer, scope: Scope, period: Period, limit: int = 200,
                      theme: str | None = None) -> pd.DataFrame:
    """Customers' own words about the scope, positive first, then the rest newest first.

    Args:
        theme: only comments of this theme key (stored, or grouped by the config's keywords).
    """
    engine.authorize(viewer, scope, records=True)
    expr, params = theme_sql(engine.config)
    params.update(a=period.start_instant, b=period.end_exclusive, n=limit, t=theme)
    where = unit_filter(engine, scope, "department_id", "staff_id", params)
    params.update(least=engine.config.min_group_size)
    df = engine.read_store(f"""
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
    engine.authorize(viewer, scope, records=scope.kind != "staff")
    params = {"a": period.start_instant, "b": period.end_exclusive, "n": limit}
    fw = unit_filter(engine, scope, "department_id", "staff_id", params)
    rw = unit_filter(engine, scope, "to_department_id", "to_staff_id", params)
    return engine.read_store(f"""
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
    the end of a day; overdue first. A follow-up's due time is the case rule of metrics.voice.cases.

    Returns:
        what, since, due, department_id, staff_id, overdue, hidden (True where staff_id was blanked because the
        viewer may not see that person, access.hide_people) — overdue first, then oldest first.
    """
    engine.authorize(viewer, scope, records=scope.kind != "staff")
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    params = {"e": end, "n": limit}
    hw = unit_filter(engine, scope, "to_department_id", "to_staff_id", params)
    fw = unit_filter(engine, scope, "department_id", "coalesce(assigned_to, follow_up_by, staff_id)", params)
    df = engine.read_store(f"""
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
        shown = access.hide_people(cur, viewer, df)
    return shown.assign(hidden=df["staff_id"].notna() & shown["staff_id"].isna())
