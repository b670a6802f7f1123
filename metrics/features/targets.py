"""Targets as data, by period of effect: set, proposed, approved, listed and imported.

config.yaml's targets are the defaults. A target here is for one metric and one unit (a directorate, department or
team; none: the organisation) from the day it takes effect until the next approved target for the same metric and
unit takes effect — so a 2024 figure keeps its 2024 target after the 2025 target changes (Engine.target: the target
in force on a period's first day).

Who may (access.may_set_targets, access.may_propose_target):
- administrators, executives and the command line set a target directly (approved at once);
- a head proposes targets for their own department and its teams; an executive (or the command line) approves or
  rejects each proposal, with a note;
- everyone signed in sees the targets and their history.

Every change is one audited transaction (entity `targets`); nothing is deleted. A target approved for the same
metric, unit and day as an earlier one replaces it (the earlier one is kept, marked `replaced`).
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.catalogue.definitions import Metric, band_problem
from metrics.catalogue.reader import csv_file
from metrics.catalogue.scope import ORGANISATION
from metrics.compute.engine import Engine
from metrics.errors import AccessDenied, MetricsError, UnknownError
from metrics.store import writes

STATUSES = ("proposed", "approved", "rejected", "replaced")
REASON_MAX = 500
ORGANISATION_WORDS = ("", "organisation")        # how a file or form names the organisation as a whole
IMPORT_COLUMNS = ("metric", "department", "effective_from", "target", "warning", "reason")


class TargetError(MetricsError):
    """A target that cannot be accepted, in one sentence (a file's row names its line)."""


def checked(engine: Engine, metric_key: str, department_id: str | None, effective_from, target, warning,
            where: str = "") -> tuple[Metric, str | None, dt.date, float, float | None]:
    """A target's fields as stored, or TargetError saying what is wrong, where (`where`: 'row 3: '), and what is
    accepted."""
    try:
        metric = engine.metric(str(metric_key).strip())
    except UnknownError as e:
        raise TargetError(f"{where}{e}") from None
    if metric.direction == "neutral":
        raise TargetError(f"{where}metric {metric.key} is neutral (neither higher nor lower is better), so a target for "
                          "it would never judge a figure; choose a metric with a direction")
    if metric.observations:
        raise TargetError(f"{where}metric {metric.key} is reported pre-aggregated (type observed); its target stays in "
                          "config.yaml")
    unit = None if department_id is None or str(department_id).strip().lower() in ORGANISATION_WORDS \
        else str(department_id).strip()
    if unit is not None and unit not in engine.config.departments:
        raise TargetError(f"{where}unknown department {unit!r}; give a key of config.yaml's departments "
                          "(`python -m metrics departments` lists them) or leave it empty for the organisation")
    on = _date(effective_from, where)
    value = _number(target, "target", where, required=True)
    band = _number(warning, "warning", where, required=False)
    problem = band_problem(metric.direction, value, band)
    if problem:
        raise TargetError(f"{where}warning {problem}")
    return metric, unit, on, value, band


def _date(value, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise TargetError(f"{where}effective_from {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-04-01") \
            from None


def _number(value, name: str, where: str, required: bool) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, float) and math.isnan(value)):
        if required:
            raise TargetError(f"{where}{name} is empty; give a number as config.yaml writes targets (0.85 for 85 %)")
        return None
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        raise TargetError(f"{where}{name} {value!r} is not a number; give a number as config.yaml writes targets "
                          "(0.85 for 85 %)") from None
    if not math.isfinite(number):
        raise TargetError(f"{where}{name} {value!r} is not a finite number")
    return number


def set_target(engine: Engine, viewer: Viewer, metric_key: str, department_id: str | None, effective_from, target,
               warning=None, reason: str | None = None, at: dt.datetime | None = None) -> str:
    """Set a target directly (administrators, executives, the command line): approved at once. Returns its id."""
    if not access.may_set_targets(viewer):
        raise AccessDenied(f"{viewer.user} may not set targets: administrators and executives set them; a head "
                           "proposes targets for their own department")
    fields = checked(engine, metric_key, department_id, effective_from, target, warning)
    reason = writes.text(reason, "Reason", REASON_MAX, required=False)
    at = at or writes.now(engine.config)
    with writes.transaction(engine.con, viewer) as cur:
        return _insert(cur, viewer, at, fields, reason, approved=True)


def propose(engine: Engine, viewer: Viewer, metric_key: str, department_id: str | None, effective_from, target,
            warning=None, reason: str | None = None, at: dt.datetime | None = None) -> str:
    """Propose a target for a unit: a head for their own department and its teams, waiting for an executive's
    decision. Returns its id."""
    fields = checked(engine, metric_key, department_id, effective_from, target, warning)
    if not access.may_propose_target(engine.config, viewer, fields[1]):
        raise AccessDenied(f"{viewer.user} may not propose a target for "
                           f"{_unit_words(engine, fields[1])}: a head proposes for their own department and its "
                           "teams")
    reason = writes.text(reason, "Reason", REASON_MAX, required=True)
    at = at or writes.now(engine.config)
    with writes.transaction(engine.con, viewer) as cur:
        return _insert(cur, viewer, at, fields, reason, approved=False)


def decide(engine: Engine, viewer: Viewer, target_id: str, version: int, approve: bool, note: str | None = None,
           at: dt.datetime | None = None) -> None:
    """Approve or reject a proposed target (executives, the command line). A rejection needs a note."""
    if not access.may_approve_targets(viewer):
        raise AccessDenied(f"{viewer.user} may not decide on proposed targets: an executive approves or rejects them")
    note = writes.text(note, "Note", REASON_MAX, required=not approve)
    at = at or writes.now(engine.config)
    with writes.transaction(engine.con, viewer) as cur:
        row = writes.fetch(cur, "targets", "target_id", target_id, "target")
        if row["status"] != "proposed":
            raise TargetError(f"target {target_id} is {row['status']}, not proposed; only a proposal is approved or "
                              "rejected")
        if approve:
            _replace_same_day(cur, viewer, at, row["metric_key"], row["department_id"], row["effective_from"])
        writes.update_row(cur, viewer, at, "target.approve" if approve else "target.reject", "targets", "target_id",
                          row, version, {"status": "approved" if approve else "rejected", "decided_by": viewer.actor.user,
                                         "decided_at": at, "decision_note": note}, f"target {target_id}")


def _insert(cur, viewer: Viewer, at: dt.datetime, fields, reason: str | None, approved: bool) -> str:
    metric, unit, on, value, band = fields
    if approved:
        _replace_same_day(cur, viewer, at, metric.key, unit, on)
    tid = writes.new_id("T")
    writes.insert_row(cur, viewer, at, "target.set" if approved else "target.propose", "targets", {
        "target_id": tid, "metric_key": metric.key, "department_id": unit, "effective_from": on, "target": value,
        "warning": band, "status": "approved" if approved else "proposed", "reason": reason,
        "proposed_by": viewer.actor.user, "proposed_at": at, "decided_by": viewer.actor.user if approved else None,
        "decided_at": at if approved else None})
    return tid


def _replace_same_day(cur, viewer: Viewer, at: dt.datetime, metric_key: str, unit: str | None, on) -> None:
    """Mark the approved target for the same metric, unit and day replaced (kept as history)."""
    rows = cur.execute("SELECT * FROM targets WHERE metric_key = $m AND department_id IS NOT DISTINCT FROM $d AND "
                       "effective_from = $on AND status = 'approved'", {"m": metric_key, "d": unit, "on": on})
    names = [c[0] for c in rows.description]
    for values in rows.fetchall():
        row = dict(zip(names, values))
        writes.update_row(cur, viewer, at, "target.replace", "targets", "target_id", row, row["version"],
                          {"status": "replaced"}, f"target {row['target_id']}")


def _unit_words(engine: Engine, unit: str | None) -> str:
    return "the organisation" if unit is None else engine.config.departments[unit].name


def listing(engine: Engine, viewer: Viewer, status: str | None = None, metric_key: str | None = None,
            department_id: str | None = None) -> pd.DataFrame:
    """The targets held in the database, newest first, with who proposed and decided each (any signed-in viewer:
    targets are as open as the unit figures they judge). Filters: a status, a metric, a unit (None: all)."""
    engine.authorize(viewer, ORGANISATION, records=False)
    if status is not None:
        writes.choice(status, "Status", STATUSES)
    return engine.read_store("""
        SELECT target_id, metric_key, department_id, effective_from, target, warning, status, reason, proposed_by,
               proposed_at, decided_by, decided_at, decision_note, version
        FROM targets
        WHERE ($s IS NULL OR status = $s) AND ($m IS NULL OR metric_key = $m)
          AND ($d IS NULL OR department_id IS NOT DISTINCT FROM $d)
        ORDER BY effective_from DESC, proposed_at DESC, target_id""",
                             {"s": status, "m": metric_key, "d": department_id})


def history(engine: Engine, viewer: Viewer, target_id: str) -> pd.DataFrame:
    """The audit trail of one target: when, who, what changed."""
    engine.authorize(viewer, ORGANISATION, records=False)
    return engine.read_store("SELECT acted_at, user_name, role, action, changes FROM audit_log WHERE entity = "
                             "'targets' AND entity_id = $t ORDER BY audit_id", {"t": target_id})


def import_file(engine: Engine, viewer: Viewer, path: str | Path, at: dt.datetime | None = None) -> list[str]:
    """Set every target of a CSV file (columns metric, department, effective_from, target, warning, reason; the
    last three may be empty) in one transaction: every row is checked first, and a file with any bad row writes
    nothing (TargetError naming the file, the line and what is accepted). Returns the ids set."""
    if not access.may_set_targets(viewer):
        raise AccessDenied(f"{viewer.user} may not set targets: administrators and executives set them")
    path = Path(path)
    header, reader = csv_file(path, TargetError)
    missing = [c for c in ("metric", "department", "effective_from", "target") if c not in header]
    unknown = [c for c in header if c not in IMPORT_COLUMNS]
    if missing or unknown:
        raise TargetError(f"{path}: the header {', '.join(header) or '(empty)'} "
                          + (f"lacks {', '.join(missing)}" if missing else f"has unknown columns {', '.join(unknown)}")
                          + f"; the columns are {', '.join(IMPORT_COLUMNS)} (warning and reason may be left empty)")
    rows = []
    for n, raw in enumerate(reader, start=2):
        raw = {(k or "").strip(): v for k, v in raw.items()}
        where = f"{path}, line {n}: "
        fields = checked(engine, raw.get("metric") or "", raw.get("department"), raw.get("effective_from"),
                         raw.get("target"), raw.get("warning"), where)
        try:
            reason = writes.text(raw.get("reason"), "reason", REASON_MAX, required=False)
        except MetricsError as e:
            raise TargetError(f"{where}{e}") from None
        rows.append((fields, reason))
    if not rows:
        raise TargetError(f"{path}: has a header but no targets; add one row per target")
    keys = [(f[0].key, f[1], f[2]) for f, _ in rows]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice is not None:
        raise TargetError(f"{path}: sets {twice[0]} for {_unit_words(engine, twice[1])} from {twice[2]} twice; keep "
                          "one row per metric, unit and day")
    at = at or writes.now(engine.config)
    with writes.transaction(engine.con, viewer) as cur:
        return [_insert(cur, viewer, at, fields, reason, approved=True) for fields, reason in rows]
