"""Suggestions from staff and customers: submit, review, decide, and show the public what changed.

Life of a suggestion: new → reviewing → implemented (with what we did, shown publicly) or declined
(with the reason, told to the person). Each links to the metric it should move; `you_said_we_did`
lists implemented changes with that metric's figure for the 90 days before and after, for the
department concerned — no names, no submitter, nothing personal (public text is checked for e-mail
addresses and phone numbers when it is written).

Who may: anyone with a staff record submits (a customer's idea is recorded by a colleague with source
"customer"); heads review and decide for their department, executives for any.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics import access

from metrics.store import writes
from metrics.access import SYSTEM, Viewer
from metrics.compute.engine import Engine
from metrics.errors import AccessDenied, MetricsError, UnknownError
from metrics.formatting import format_change
from metrics.compute.periods import Period
from metrics.catalogue.scope import ORGANISATION, Scope

TITLE_MAX, DETAIL_MAX, PUBLIC_MAX = 120, 2000, 500
WINDOW_DAYS = 90
MIN_AFTER_DAYS = 28          # an "after" figure needs at least four weeks of data after the change


def submit(engine: Engine, viewer: Viewer, title: str, detail: str | None, department_id: str,
           source: str = "staff", linked_metric: str | None = None, at: dt.datetime | None = None) -> str:
    """Record a new suggestion for a department; returns its id."""
    if viewer.staff_id is None:
        raise AccessDenied(f"{viewer.user} has no staff record; suggestions are recorded by colleagues")
    source = writes.choice(source, "From", ("staff", "customer"))
    title = writes.text(title, "Title", TITLE_MAX, public=True)
    detail = writes.text(detail, "The idea", DETAIL_MAX, required=False)
    if department_id not in engine.config.departments:
        raise UnknownError(f"unknown department {department_id!r}; choose from the list")
    if linked_metric:
        engine.metric(linked_metric)
    at = at or writes.now(engine.config)
    sid = writes.new_id("G")
    fields = {"suggestion_id": sid, "source": source, "submitted_by": viewer.staff_id if source == "staff" else None,
              "department_id": department_id, "submitted_at": at, "status": "new", "title": title, "detail": detail,
              "linked_metric": linked_metric or None}
    with writes.transaction(engine.con, viewer) as cur:
        writes.insert_row(cur, viewer, at, "suggestion.submit", "suggestions", fields)
    return sid


def _change(engine: Engine, viewer: Viewer, suggestion_id: str, version: int, action: str, at, make) -> None:
    at = at or writes.now(engine.config)
    with writes.transaction(engine.con, viewer) as cur:
        row = writes.fetch(cur, "suggestions", "suggestion_id", suggestion_id, "suggestion")
        if not access.may_decide_for(engine.config, viewer, row["department_id"]):
            raise AccessDenied(f"{viewer.user} may not decide suggestion {suggestion_id}: the head of "
                               f"{row['department_id']} or an executive decides")
        writes.update_row(cur, viewer, at, action, "suggestions", "suggestion_id", row, version, make(row, at),
                          f"suggestion {suggestion_id}")


def review(engine: Engine, viewer: Viewer, suggestion_id: str, version: int, at: dt.datetime | None = None) -> None:
    """Mark a new suggestion as under review."""
    def make(row, at):
        if row["status"] != "new":
            raise MetricsError(f"suggestion {suggestion_id} is {row['status']}, not new")
        return {"status": "reviewing", "reviewed_at": at}
    _change(engine, viewer, suggestion_id, version, "suggestion.review", at, make)


def decide(engine: Engine, viewer: Viewer, suggestion_id: str, version: int, decision: str, text: str,
           linked_metric: str | None = None, at: dt.datetime | None = None) -> None:
    """Implement (text = what we did, shown publicly) or decline (text = the reason) a suggestion."""
    decision = writes.choice(decision, "Decision", ("implemented", "declined"))
    if decision == "implemented":
        text = writes.text(text, "What we did (shown to the public)", PUBLIC_MAX, public=True)
    else:
        text = writes.text(text, "Reason for declining", PUBLIC_MAX)
    if linked_metric:
        engine.metric(linked_metric)

    def make(row, at):
        if row["status"] in ("implemented", "declined"):
            raise MetricsError(f"suggestion {suggestion_id} was already {row['status']} on {row['decided_at']:%d %b %Y}")
        out = {"status": decision, "decided_at": at, "decided_by": viewer.staff_id or viewer.user}
        if row["reviewed_at"] is None:
            out["reviewed_at"] = at
        if decision == "implemented":
            out.update(implemented_at=at, what_we_did=text)
        else:
            out["decline_reason"] = text
        if linked_metric:
            out["linked_metric"] = linked_metric
        return out
    _change(engine, viewer, suggestion_id, version, "suggestion.decide", at, make)


def listing(engine: Engine, viewer: Viewer, unit: str | None, status: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Suggestions for a unit (with its teams; None = all, executives only), newest first.

    Staff see their department's suggestions; the submitter's name is shown only to those who decide.
    """
    engine.authorize(viewer, Scope("department", unit) if unit else ORGANISATION, records=True)
    params = {"n": limit, "st": status, "units": list(engine.config.descendants(unit)) if unit else None}
    df = engine.read_store("""
        SELECT g.suggestion_id, g.submitted_at, g.source, g.title, g.detail, g.department_id, g.status,
               g.linked_metric, g.what_we_did, g.decline_reason, g.decided_at, g.version, s.name AS submitted_by
        FROM suggestions g LEFT JOIN staff s ON s.staff_id = g.submitted_by
        WHERE ($units IS NULL OR g.department_id IN (SELECT unnest($units))) AND ($st IS NULL OR g.status = $st)
        ORDER BY g.submitted_at DESC LIMIT $n""", params)
    if not access.may_decide_for(engine.config, viewer, unit):
        df["submitted_by"] = None
    return df


def implemented(engine: Engine, period: Period | None = None, units=None, limit: int | None = None) -> pd.DataFrame:
    """Suggestions put into practice (with what we did), newest first: suggestion_id, implemented_at, department_id,
    department (its name), title, what_we_did, linked_metric; in `period` and for `units` (department keys) if given.
    What is public of them (you_said_we_did) and what marks the trends (metrics.features.events)."""
    return engine.read_store("""
        SELECT g.suggestion_id, g.implemented_at, g.department_id, d.name AS department, g.title, g.what_we_did,
               g.linked_metric
        FROM suggestions g LEFT JOIN departments d ON d.department_id = g.department_id
        WHERE g.status = 'implemented' AND g.implemented_at IS NOT NULL AND g.what_we_did IS NOT NULL
          AND ($a IS NULL OR g.implemented_at >= $a AND g.implemented_at < $b)
          AND ($u IS NULL OR list_contains($u, g.department_id))
        ORDER BY g.implemented_at DESC, g.suggestion_id LIMIT $n""",
        {"n": limit, "a": period.start_instant if period else None, "b": period.end_exclusive if period else None,
         "u": list(units) if units is not None else None})


@access.same_for_every_viewer
def you_said_we_did(engine: Engine, viewer: Viewer | None = None, limit: int = 20, period: Period | None = None,
                    department: str | None = None) -> pd.DataFrame:
    """Implemented suggestions for the public: what changed, where, and the linked figure before and after; with
    `period` only those put into practice in it, with `department` only that department's and its teams' (a
    committee pack's).

    Public by design (any viewer, or none): only the title, what we did, the department's name and department-level
    figures, which every signed-in colleague may see anyway. Before = the 90 days up to the change; after =
    the 90 days from it, or up to the end of the data once there are four weeks of it.
    Returns: implemented_on, department, you_said, we_did, measure, before, after, change (words).
    """
    df = implemented(engine, period, engine.config.descendants(department) if department else None, limit)
    rng = engine.data_range()
    rows = []
    for r in df.itertuples():
        day = pd.Timestamp(r.implemented_at).date()
        before = after = None
        measure = ""
        if r.linked_metric in engine.config.metrics and rng is not None:
            m = engine.metric(r.linked_metric)
            measure = m.label
            unit = r.department_id if r.department_id in engine.config.departments else None
            scope = Scope("department", access.department_of(engine.config, unit)) if unit else ORGANISATION
            lo = max(rng[0], day - dt.timedelta(days=WINDOW_DAYS))
            hi = min(rng[1], day + dt.timedelta(days=WINDOW_DAYS - 1))
            if lo < day:
                before = engine.value(SYSTEM, m.key, scope, Period(lo, day - dt.timedelta(days=1)), compare=False)
            if (hi - day).days + 1 >= MIN_AFTER_DAYS:
                after = engine.value(SYSTEM, m.key, scope, Period(day, hi), compare=False)
        rows.append({"implemented_on": day, "department": r.department or "The organisation", "you_said": r.title,
                     "we_did": r.what_we_did, "measure": measure,
                     "before": before.formatted if before is not None else "—",
                     "after": after.formatted if after is not None else "too early to tell",
                     "change": _change_words(engine, r.linked_metric, before, after)})
    return pd.DataFrame(rows, columns=["implemented_on", "department", "you_said", "we_did", "measure", "before",
                                       "after", "change"])


def _change_words(engine: Engine, key: str | None, before, after) -> str:
    """The change from before to after in words (formatting.format_change); nothing when either is missing."""
    if before is None or after is None or before.value is None or after.value is None:
        return ""
    return format_change(engine.metric(key), after.value - before.value)
