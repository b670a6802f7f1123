"""Positive first: praise reaches the people it was about, and colleagues thank each other.

- `praise`: compliments and high scores (CSAT 4–5, NPS 9–10) with the customer's words that name a
  person or a unit, newest first — shown at the top of My contribution and Department pages;
- `share`: a head (or an executive) shares a piece of praise with the team in one click; shared
  compliments count toward `positive_feedback_shared`;
- `give`: any staff member thanks a colleague or a team against one of the organisation's values
  (`voice.values`); `feed` lists the thanks a department's people and teams received.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics import access

from metrics.store import writes
from metrics.access import Viewer
from metrics.compute.engine import Engine
from metrics.errors import AccessDenied, MetricsError, UnknownError
from metrics.compute.periods import Period
from metrics.compute.records import unit_filter
from metrics.voice.rules import positive as praise_rule
from metrics.catalogue.scope import Scope

MESSAGE_MAX = 500


def praise(engine: Engine, viewer: Viewer, scope: Scope, period: Period, limit: int = 50) -> pd.DataFrame:
    """Positive feedback naming the scope (a person, or a unit with its teams) with the customer's words.

    A person sees their own; the department concerned and executives see a unit's (records rule).
    Returns: feedback_id, received_at, kind, comment, person, staff_id, department_id, shared_with_staff, version.
    """
    engine.authorize(viewer, scope, records=scope.kind != "staff")
    params = {"a": period.start_instant, "b": period.end_exclusive, "n": limit}
    where = unit_filter(engine, scope, "f.department_id", "f.staff_id", params)
    return engine.read_store(f"""
        SELECT f.feedback_id, f.received_at, f.kind, f.comment, s.name AS person, f.staff_id, f.department_id,
               f.shared_with_staff, f.version
        FROM (SELECT * FROM feedback WHERE {praise_rule(engine)}) f LEFT JOIN staff s ON s.staff_id = f.staff_id
        WHERE f.comment IS NOT NULL AND f.source = 'customer'
          AND f.received_at >= $a AND f.received_at < $b AND {where}
        ORDER BY f.received_at DESC, f.feedback_id LIMIT $n""", params)


def share(engine: Engine, viewer: Viewer, feedback_id: str, version: int, at: dt.datetime | None = None) -> None:
    """Share a compliment or high score with the person and their team (one click on the page)."""
    at = at or writes.now(engine.config)
    with writes.transaction(engine.con, viewer) as cur:
        row = writes.fetch(cur, "feedback", "feedback_id", feedback_id, "feedback")
        positive = cur.execute(f"SELECT {praise_rule(engine)} FROM feedback WHERE feedback_id = $i", {"i": feedback_id}).fetchone()[0]
        if not positive:
            raise MetricsError(f"feedback {feedback_id} is not praise (a compliment or a high score); only praise is shared")
        if not access.may_decide_for(engine.config, viewer, row["department_id"]):
            raise AccessDenied(f"{viewer.user} may not share feedback about {row['department_id']}: heads share "
                               "praise for their own department")
        if row["shared_with_staff"]:
            raise MetricsError(f"feedback {feedback_id} was already shared with the team")
        writes.update_row(cur, viewer, at, "feedback.share", "feedback", "feedback_id", row, version,
                          {"shared_with_staff": True, "shared_at": at, "shared_by": viewer.staff_id or viewer.user},
                          f"feedback {feedback_id}")


def colleagues(engine: Engine, viewer: Viewer) -> pd.DataFrame:
    """The colleagues a person may thank: every active member of staff but themselves (staff_id, name,
    department_id), by name. Empty for a viewer who is not a member of staff."""
    if viewer.staff_id is None:
        return pd.DataFrame({"staff_id": [], "name": [], "department_id": []})
    return engine.read_store("SELECT staff_id, name, department_id FROM staff WHERE active AND staff_id <> $me "
                             "ORDER BY name", {"me": viewer.staff_id})


def give(engine: Engine, viewer: Viewer, value: str, message: str, to_staff_id: str | None = None,
         to_department_id: str | None = None, at: dt.datetime | None = None) -> str:
    """Thank a colleague (to_staff_id) or a team (to_department_id) against one of the organisation's values.

    Returns: the new recognition_id.
    """
    if viewer.staff_id is None:
        raise AccessDenied(f"{viewer.user} has no staff record, so cannot give thanks as a colleague")
    if (to_staff_id is None) == (to_department_id is None):
        raise MetricsError("choose who to thank: one colleague or one team")
    value = writes.choice(value, "Value", engine.config.voice.values)
    message = writes.text(message, "Message", MESSAGE_MAX)
    at = at or writes.now(engine.config)
    with writes.transaction(engine.con, viewer) as cur:
        if to_staff_id is not None:
            if to_staff_id == viewer.staff_id:
                raise MetricsError("thanks go to someone else: choose a colleague, not yourself")
            row = cur.execute("SELECT department_id, active FROM staff WHERE staff_id = $s", {"s": to_staff_id}).fetchone()
            if row is None or not row[1]:
                raise UnknownError(f"{to_staff_id!r} is not a current colleague; choose from the list")
            to_department_id = row[0]
        elif to_department_id not in engine.config.departments:
            raise UnknownError(f"unknown team {to_department_id!r}; choose from the list")
        rid = writes.new_id("K")
        fields = {"recognition_id": rid, "given_at": at, "from_kind": "staff", "from_staff_id": viewer.staff_id,
                  "to_staff_id": to_staff_id, "to_department_id": to_department_id, "value": value, "message": message}
        writes.insert_row(cur, viewer, at, "recognition.give", "recognitions", fields)
    return rid


@access.same_for_every_viewer
def feed(engine: Engine, viewer: Viewer, unit: str, period: Period, limit: int = 50) -> pd.DataFrame:
    """Thanks received by a unit's people and teams, newest first (any signed-in colleague may read it).

    Returns: given_at, from_name (or 'A customer'), to_name (a person or a team), value, message.
    """
    engine.authorize(viewer, Scope("department", unit), records=False)
    params = {"a": period.start_instant, "b": period.end_exclusive, "n": limit}
    where = unit_filter(engine, Scope("department", unit), "r.to_department_id", "r.to_staff_id", params)
    return engine.read_store(f"""
        SELECT r.given_at, CASE WHEN r.from_kind = 'customer' THEN 'A customer' ELSE coalesce(g.name, 'A colleague') END
                   AS from_name,
               coalesce(t.name, d.name) AS to_name, r.value, r.message
        FROM recognitions r
        LEFT JOIN staff g ON g.staff_id = r.from_staff_id
        LEFT JOIN staff t ON t.staff_id = r.to_staff_id
        LEFT JOIN departments d ON d.department_id = r.to_department_id
        WHERE r.given_at >= $a AND r.given_at < $b AND {where}
        ORDER BY r.given_at DESC LIMIT $n""", params)
