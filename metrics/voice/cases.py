"""Closing the loop: every piece of negative feedback is a case for the department it is about.

A case is a feedback row that is negative by the feedback source's `negative` rule (CSAT 1–2, NPS 0–6,
or any complaint); its work is recorded on that row, so the metrics move as soon as people act:
assign → acknowledge → follow up (what was said to the customer) → resolve (root-cause theme and the
action taken) → perhaps reopen. Feedback naming no department goes to `voice.unrouted_department`.

Due: the follow-up is due by the end of the business day that makes the follow-up `business_days`
(the parameter of the metric voice.follow_up_metric names, 2) business days after receipt, counted exactly as the metric
counts them (metrics/catalogue/calendar.py): received on a Friday, due by the end of Tuesday; on a Saturday, by
the end of Wednesday; a holiday in between moves it one business day later.

Who may act (`may_act`): executives on any case; a head on their department's (with its teams);
staff on cases assigned to them or routed to their own team. Administrators manage data, not cases.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from metrics import access

from metrics.store import writes
from metrics.access import Viewer
from metrics.compute.engine import Engine
from metrics.errors import AccessDenied, MetricsError, UnknownError
from metrics.voice.rules import negative
from metrics.catalogue.scope import Scope
from metrics.voice.themes import label, theme_sql

NOTE_MAX = 1000
STATUSES = ("open", "overdue", "resolved", "all")


def business_days(engine: Engine) -> int:
    """The follow-up window: the business_days parameter of the metric voice.follow_up_metric names (one rule)."""
    return engine.config.voice.follow_up_days


def cases_sql(engine: Engine, params: dict, where: str = "TRUE") -> str:
    """SELECT of the cases (negative feedback rows matching `where`) with routing, due instant (exclusive), theme."""
    expr, tp = theme_sql(engine.config, "f.comment", "f.theme")
    params.update(tp, bd=business_days(engine), unrouted=engine.config.voice.unrouted_department)
    return f"""
        WITH last_day AS (SELECT bd_before, max(day) AS day FROM calendar GROUP BY bd_before)
        SELECT f.feedback_id AS case_id, f.kind, f.received_at, coalesce(f.department_id, $unrouted) AS department_id,
               f.staff_id, f.csat, f.nps, f.comment, {expr} AS theme, f.assigned_to, f.assigned_at,
               f.acknowledged_at, f.followed_up_at, f.follow_up_by, f.follow_up_note, f.action_taken, f.resolved_at,
               f.reopened_at, f.reopen_count, f.version,
               CAST(l.day + INTERVAL 1 DAY AS TIMESTAMP) AS due_before
        FROM (SELECT * FROM feedback WHERE {negative(engine)} AND ({where})) f
        JOIN calendar c ON c.day = CAST(f.received_at AS DATE)
        LEFT JOIN last_day l ON l.bd_before = c.bd_before + $bd"""


def judged_at(now: dt.datetime) -> dt.datetime:
    """The instant "overdue now" is judged at for lists read during a day: the start of that day. Every case falls
    due at a midnight (due_before, above), so a case overdue at any moment of a day was already overdue when the day
    began, and one not yet overdue then is not overdue all day: the same lists — cached — all day long."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _finish(engine: Engine, df: pd.DataFrame, at: dt.datetime) -> pd.DataFrame:
    df["due"] = (df["due_before"] - pd.Timedelta(days=1)).dt.date
    df["overdue"] = df["followed_up_at"].isna() & (df["due_before"] <= pd.Timestamp(at))
    df["late"] = df["followed_up_at"].notna() & (df["followed_up_at"] >= df["due_before"])
    df["status"] = np.select([df["resolved_at"].notna(), df["reopened_at"].notna(), df["followed_up_at"].notna(),
                              df["acknowledged_at"].notna(), df["assigned_to"].notna()],
                             ["resolved", "reopened", "followed up", "acknowledged", "assigned"], "new")
    df["theme_label"] = [label(engine.config, k) for k in df["theme"]]
    return df


def inbox(engine: Engine, viewer: Viewer, unit: str, status: str = "open", at: dt.datetime | None = None,
          limit: int = 500) -> pd.DataFrame:
    """A department's cases as the viewer may work them, overdue first then oldest first.

    Args:
        engine, viewer: who asks; they must be allowed the unit's records (its own people and executives).
        unit: a department or team key; its teams are included.
        status: open (not resolved), overdue (not followed up and past due), resolved, or all.
        at: the time "overdue" is judged at (default: now, local time).
        limit: at most this many cases.
    Returns:
        One row per case: case_id, kind, received_at, due, overdue, late, status, theme, theme_label,
        comment, assigned_to, assignee, department_id, version, … (staff see only cases assigned to them
        or routed to their own team).
    """
    writes.choice(status, "status", STATUSES)
    at = at or writes.now(engine.config)
    params, where = _unit_cases(engine, viewer, unit, at)
    params.update(n=limit, st=status)
    df = engine.read_store(f"""
        WITH cases AS ({cases_sql(engine, params, where)})
        SELECT * FROM (SELECT c.*, s.name AS assignee FROM cases c LEFT JOIN staff s ON s.staff_id = c.assigned_to)
        WHERE CASE $st WHEN 'open' THEN resolved_at IS NULL
                       WHEN 'resolved' THEN resolved_at IS NOT NULL
                       WHEN 'overdue' THEN followed_up_at IS NULL AND due_before <= $at
                       ELSE TRUE END
        ORDER BY (followed_up_at IS NULL AND due_before <= $at) DESC, received_at
        LIMIT $n""", params)
    return _finish(engine, _about_whom(engine, viewer, df), at)


def _about_whom(engine: Engine, viewer: Viewer, df: pd.DataFrame) -> pd.DataFrame:
    """Blank the person a case is about where the viewer may not see that person's figures (who works the case
    stays: that is the team's work list, not a figure)."""
    with engine.cursor() as cur:
        return access.hide_people(cur, viewer, df, ("staff_id",))


def _unit_cases(engine: Engine, viewer: Viewer, unit: str, at: dt.datetime) -> tuple[dict, str]:
    """Check the viewer may read the unit's cases; the parameters and row filter of the cases they work."""
    if unit not in engine.config.departments:
        raise UnknownError(f"unknown department {unit!r}; `python -m metrics list --departments` shows them")
    engine.authorize(viewer, Scope("department", unit), records=True)
    params: dict = {"units": list(engine.config.descendants(unit)), "at": at,
                    "unrouted_to": engine.config.voice.unrouted_department}
    where = "coalesce(department_id, $unrouted_to) IN (SELECT unnest($units))"
    if viewer.is_staff:
        params.update(me=viewer.staff_id, team=viewer.department_id)
        where += " AND (assigned_to = $me OR coalesce(department_id, $unrouted_to) = $team)"
    return params, where


def summary(engine: Engine, viewer: Viewer, unit: str, at: dt.datetime | None = None) -> dict:
    """Counts for the inbox header: open, awaiting follow-up, overdue (as the viewer may see them)."""
    at = at or writes.now(engine.config)
    params, where = _unit_cases(engine, viewer, unit, at)
    row = engine.read_store(f"""
        WITH cases AS ({cases_sql(engine, params, where)})
        SELECT count(*) AS open, count(*) FILTER (WHERE followed_up_at IS NULL) AS awaiting,
               count(*) FILTER (WHERE followed_up_at IS NULL AND due_before <= $at) AS overdue
        FROM cases WHERE resolved_at IS NULL""", params).iloc[0]
    return {"open": int(row["open"]), "awaiting_follow_up": int(row["awaiting"]), "overdue": int(row["overdue"])}


def get(engine: Engine, viewer: Viewer, case_id: str, at: dt.datetime | None = None) -> dict:
    """One case (a dict) with its history; the viewer must be allowed the records of its department."""
    params: dict = {"id": case_id}
    df = engine.read_store(f"WITH cases AS ({cases_sql(engine, params, 'feedback_id = $id')}) SELECT * FROM cases", params)
    if df.empty:
        raise UnknownError(f"there is no case {case_id!r} (only negative feedback is a case)")
    engine.authorize(viewer, Scope("department", df["department_id"].iloc[0]), records=True)
    case = _finish(engine, _about_whom(engine, viewer, df), at or writes.now(engine.config)).iloc[0].to_dict()
    case["history"] = engine.read_store("SELECT acted_at, user_name, action, changes FROM audit_log WHERE entity = "
                                   "'feedback' AND entity_id = $id ORDER BY audit_id", {"id": case_id})
    return case


def may_act(engine: Engine, viewer: Viewer, case: dict) -> bool:
    """True when the viewer may work the case (see the module docstring)."""
    unit = case["department_id"]
    if viewer.sees_everyone or viewer.is_head:
        return access.may_decide_for(engine.config, viewer, unit)
    if viewer.is_staff:
        return viewer.staff_id is not None and (case["assigned_to"] == viewer.staff_id
                                                or unit == viewer.department_id)
    return False


def _act(engine: Engine, viewer: Viewer, case_id: str, version: int, action: str, at, change) -> None:
    """Shared frame of every case action: load in a transaction, check the right to act, apply `change`."""
    at = at or writes.now(engine.config)
    with writes.transaction(engine.con, viewer) as cur:
        params: dict = {"id": case_id}
        rel = cur.execute(f"WITH cases AS ({cases_sql(engine, params, 'feedback_id = $id')}) SELECT * FROM cases",
                          params)
        row = rel.fetchone()
        if row is None:
            raise UnknownError(f"there is no case {case_id!r} (only negative feedback is a case)")
        case = dict(zip([d[0] for d in rel.description], row))
        if not may_act(engine, viewer, case):
            raise AccessDenied(f"{viewer.user} may not act on case {case_id}: it belongs to "
                               f"{engine.config.departments[case['department_id']].name}; staff act on cases assigned "
                               "to them or their team, heads on their department's")
        changes = change(cur, case, at)
        raw = writes.fetch(cur, "feedback", "feedback_id", case_id, "case")
        writes.update_row(cur, viewer, at, action, "feedback", "feedback_id", raw, version, changes,
                          f"case {case_id}")


def assign(engine: Engine, viewer: Viewer, case_id: str, staff_id: str, version: int,
           at: dt.datetime | None = None) -> None:
    """Give the case to a person in its department (staff may only take it themselves)."""
    def change(cur, case, at):
        if viewer.is_staff and staff_id != viewer.staff_id:
            raise AccessDenied(f"{viewer.user} may take a case themselves but not assign it to someone else; "
                               "ask the head of department")
        home = access.department_of(engine.config, case["department_id"])
        row = cur.execute("SELECT name, department_id, active FROM staff WHERE staff_id = $s", {"s": staff_id}).fetchone()
        if row is None or not row[2] or row[1] not in engine.config.descendants(home):
            raise MetricsError(f"case {case_id} can be assigned to an active person in "
                               f"{engine.config.departments[home].name} only; {staff_id!r} is not one")
        if case["assigned_to"] == staff_id:
            raise MetricsError(f"case {case_id} is already assigned to {row[0]}")
        return {"assigned_to": staff_id, "assigned_at": at}
    _act(engine, viewer, case_id, version, "case.assign", at, change)


def acknowledge(engine: Engine, viewer: Viewer, case_id: str, version: int, at: dt.datetime | None = None) -> None:
    """Record that the case was seen and is being worked."""
    def change(cur, case, at):
        if pd.notna(case["acknowledged_at"]):
            raise MetricsError(f"case {case_id} was already acknowledged on {case['acknowledged_at']:%d %b %Y %H:%M}")
        return {"acknowledged_at": at}
    _act(engine, viewer, case_id, version, "case.acknowledge", at, change)


def follow_up(engine: Engine, viewer: Viewer, case_id: str, version: int, note: str, action_taken: str | None = None,
              at: dt.datetime | None = None) -> None:
    """Record the follow-up with the customer: what was said, and any action taken."""
    note = writes.text(note, "What you told the customer", NOTE_MAX)
    action_taken = writes.text(action_taken, "Action taken", NOTE_MAX, required=False)

    def change(cur, case, at):
        if pd.notna(case["followed_up_at"]):
            raise MetricsError(f"case {case_id} was already followed up on {case['followed_up_at']:%d %b %Y %H:%M}; "
                               "record further actions when you resolve it")
        out = {"followed_up_at": at, "follow_up_by": viewer.staff_id or viewer.user, "follow_up_note": note}
        if pd.isna(case["acknowledged_at"]):
            out["acknowledged_at"] = at
        if case["assigned_to"] is None and viewer.staff_id is not None:
            out.update(assigned_to=viewer.staff_id, assigned_at=at)        # whoever calls the customer has it
        if action_taken:
            out["action_taken"] = action_taken
        return out
    _act(engine, viewer, case_id, version, "case.follow_up", at, change)


def resolve(engine: Engine, viewer: Viewer, case_id: str, version: int, root_cause: str, action_taken: str,
            at: dt.datetime | None = None) -> None:
    """Close the case with its root-cause theme (one of the config's themes) and the action taken."""
    root_cause = writes.choice(root_cause, "Root cause", engine.config.voice.themes)
    action_taken = writes.text(action_taken, "Action taken", NOTE_MAX)

    def change(cur, case, at):
        if pd.notna(case["resolved_at"]):
            raise MetricsError(f"case {case_id} is already resolved (on {case['resolved_at']:%d %b %Y}); reopen it first")
        return {"resolved_at": at, "theme": root_cause, "action_taken": action_taken}
    _act(engine, viewer, case_id, version, "case.resolve", at, change)


def reopen(engine: Engine, viewer: Viewer, case_id: str, version: int, reason: str,
           at: dt.datetime | None = None) -> None:
    """Reopen a resolved case (the customer came back, or the fix did not hold); the reason is audited."""
    reason = writes.text(reason, "Reason for reopening", NOTE_MAX)

    def change(cur, case, at):
        if pd.isna(case["resolved_at"]):
            raise MetricsError(f"case {case_id} is not resolved, so it cannot be reopened")
        return {"resolved_at": None, "reopened_at": at, "reopen_count": int(case["reopen_count"] or 0) + 1,
                "action_taken": f"{case['action_taken'] or ''}\nReopened: {reason}".strip()}
    _act(engine, viewer, case_id, version, "case.reopen", at, change)


def assignable(engine: Engine, viewer: Viewer, unit: str) -> pd.DataFrame:
    """Active people a case of this unit may be given to (staff_id, name); staff get only themselves."""
    home = access.department_of(engine.config, unit)
    if viewer.is_staff:
        return engine.read_store("SELECT staff_id, name FROM staff WHERE staff_id = $s", {"s": viewer.staff_id})
    return engine.read_store("SELECT staff_id, name FROM staff WHERE active AND department_id IN (SELECT unnest($u)) "
                        "ORDER BY name", {"u": list(engine.config.descendants(home))})
