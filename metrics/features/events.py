"""Annotations: events marked on the trends — what happened, when, and to whom — so a change in a figure can be read
beside its cause.

An annotation has a day (or a range of days), a scope (the organisation or a unit — never a person: carrot, not
stick), a kind (config `annotations.kinds`: a change we made, something outside our control, a data issue, …), a
title, perhaps some detail, and perhaps one figure it is about (else it is about every figure of the scope).

- **Where it shows**: on every chart of its scope and of the units under it — a department's on its own trends and
  its teams', the organisation's on every chart — and nowhere else (not on a sibling's, not on the level above).
  A person's charts show their unit's and its parents'.
- **Who sees it**: whoever may see the chart's figures (metrics.access: unit figures are shared), so it is visible
  by the same rules as the figures it marks.
- **Who writes it**: executives for the organisation and any unit; a head for their department and its teams
  (access.may_decide_for). Each add and removal goes through metrics.store.writes: plain text only (markup
  refused), one transaction, an audit row. Removing keeps the row (removed_at), so the trail stays whole.
- **Change points**: an annotation marked as one starts a new stretch of the SPC chart of the figures it is about,
  on the charts where it shows: limits are re-calculated from its first day (metrics.features.spc).
- **Implemented suggestions** appear automatically, as config's `annotations.suggestions_as` kind, from the day they
  were put into practice (metrics.voice.suggestions.implemented), on the charts of their department — a team's
  suggestion too, as its department's head decides it — and of its teams.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.periods import Period
from metrics.errors import AccessDenied, MetricsError, UnknownError
from metrics.formatting import format_date, is_missing
from metrics.store import writes
from metrics.voice import suggestions

TITLE_MAX, DETAIL_MAX = 120, 1000
COLUMNS = ["annotation_id", "starts", "ends", "kind", "kind_words", "title", "detail", "scope_kind", "scope_key",
           "scope_name", "metric_key", "change_point", "source", "version"]
FROM_SUGGESTION = "suggestion"           # `source` of an implemented suggestion's annotation (else "annotation")


def may_write(config, viewer: Viewer, scope: Scope) -> bool:
    """Executives for the organisation and any unit; a head for their own department and its teams."""
    if viewer.read_only or scope.kind == "staff":
        return False
    if viewer.role in ("executive", "system"):
        return True
    return scope.is_unit and viewer.role == "head" and access.may_decide_for(config, viewer, scope.key)


def _key(scope: Scope) -> tuple[str, str]:
    return scope.kind, scope.key or ""


def _scope_words(config, kind: str, key: str) -> str:
    return "The organisation" if kind == "organisation" else config.departments[key].name


def add(eng, viewer: Viewer, scope: Scope, starts: dt.date, kind: str, title: str, detail: str | None = None,
        ends: dt.date | None = None, metric_key: str | None = None, change_point: bool = False,
        at: dt.datetime | None = None) -> str:
    """Mark an event on the trends of a scope; returns its id. One sentence for who may not, a person's scope, an
    unknown kind or figure, a range that ends before it starts, or text that is not plain."""
    config = eng.config
    if scope.kind == "staff":
        raise MetricsError("an annotation marks the organisation's or a unit's figures, never one person's: "
                           "choose their team or department")
    if scope.is_unit and scope.key not in config.departments:
        raise UnknownError(f"unknown unit {scope.key!r}; choose one of {', '.join(config.departments)}")
    if not may_write(config, viewer, scope):
        raise AccessDenied(f"{viewer.user} may not mark events on {_scope_words(config, *_key(scope))}'s trends: a "
                           "head marks them for their department and its teams, an executive for any unit or the "
                           "organisation")
    if not config.annotations.kinds:
        raise MetricsError("no kinds of annotation are configured: add annotations.kinds to the config file")
    kind = writes.choice(kind, "Kind", config.annotations.kinds)
    title = writes.text(title, "What happened", TITLE_MAX)
    detail = writes.text(detail, "Detail", DETAIL_MAX, required=False)
    if not isinstance(starts, dt.date):
        raise MetricsError("the day it happened is not a date: write it as YYYY-MM-DD")
    if ends is not None and (not isinstance(ends, dt.date) or ends < starts):
        raise MetricsError(f"the last day ({ends}) is before the first ({starts}): leave it empty for one day")
    if metric_key:
        eng.metric(metric_key)
    at = at or writes.now(config)
    kind_s, key = _key(scope)
    fields = {"annotation_id": writes.new_id("N"), "scope_kind": kind_s, "scope_key": key, "starts": starts,
              "ends": None if ends == starts else ends, "kind": kind, "title": title, "detail": detail,
              "metric_key": metric_key or None, "change_point": bool(change_point), "created_by": viewer.actor.user,
              "created_at": at}
    with writes.transaction(eng.con, viewer) as cur:
        writes.insert_row(cur, viewer, at, "annotation.add", "annotations", fields)
    return fields["annotation_id"]


def remove(eng, viewer: Viewer, annotation_id: str, version: int, at: dt.datetime | None = None) -> None:
    """Take an annotation off the charts (the row stays, marked removed, and the removal is audited)."""
    at = at or writes.now(eng.config)
    with writes.transaction(eng.con, viewer) as cur:
        row = writes.fetch(cur, "annotations", "annotation_id", annotation_id, "annotation")
        scope = ORGANISATION if row["scope_kind"] == "organisation" else Scope(row["scope_kind"], row["scope_key"])
        if not may_write(eng.config, viewer, scope):
            raise AccessDenied(f"{viewer.user} may not remove an annotation of "
                               f"{_scope_words(eng.config, row['scope_kind'], row['scope_key'])}: its head or an "
                               "executive may")
        if row["removed_at"] is not None:
            raise writes.Conflict(f"annotation {annotation_id} was already removed{writes.last_change(cur, 'annotations', annotation_id)}")
        writes.update_row(cur, viewer, at, "annotation.remove", "annotations", "annotation_id", row, version,
                          {"removed_by": viewer.actor.user, "removed_at": at}, f"annotation {annotation_id}")


def marked_units(eng, scope: Scope) -> tuple[str, ...]:
    """The units whose annotations show on a chart of the scope: the unit and every unit above it (a person's: their
    unit's); none for the organisation (whose own annotations show everywhere)."""
    if scope.kind == "organisation":
        return ()
    unit = eng.staff_department(scope.key) if scope.kind == "staff" else scope.key
    return eng.config.ancestors(unit)


def _every(eng) -> pd.DataFrame:
    """Every annotation on the charts (COLUMNS): those kept and not removed, and the implemented suggestions (about
    every figure of their unit) — read once per data version; on_chart picks a chart's from it."""
    def compute() -> pd.DataFrame:
        config = eng.config
        df = eng.read_store("SELECT annotation_id, starts, ends, kind, title, detail, scope_kind, scope_key, metric_key, "
                            "change_point, version FROM annotations WHERE removed_at IS NULL")
        df["source"] = "annotation"
        frames = [df]
        as_kind = config.annotations.suggestions_as
        if as_kind:
            done = suggestions.implemented(eng)
            done = done[[d in config.departments for d in done["department_id"]]]
            # The department's change, as its head decided it: on its trends and its teams' (a team's suggestion too).
            done = done.assign(department_id=[access.department_of(config, d) for d in done["department_id"]])
            frames.append(pd.DataFrame({
                "annotation_id": done["suggestion_id"], "starts": done["implemented_at"], "ends": None, "kind": as_kind,
                "title": [f"You said: {t} — we did: {w}" for t, w in zip(done["title"], done["what_we_did"])],
                "detail": None, "scope_kind": [config.departments[d].level for d in done["department_id"]],
                "scope_key": done["department_id"],
                "metric_key": [m if m in config.metrics else None for m in done["linked_metric"]],
                "change_point": False, "version": 0,
                "source": FROM_SUGGESTION}))
        frames = [f for f in frames if len(f)]
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=df.columns)
        out["starts"] = [pd.Timestamp(d).date() for d in out["starts"]]
        out["ends"] = [None if d is None or pd.isna(d) else pd.Timestamp(d).date() for d in out["ends"]]
        out["last"] = [e or s for s, e in zip(out["starts"], out["ends"])]
        out["kind_words"] = [config.annotations.kinds.get(k, k) for k in out["kind"]]
        out["scope_name"] = [_scope_words(config, k, s) for k, s in zip(out["scope_kind"], out["scope_key"])]
        out["change_point"] = out["change_point"].astype(bool)
        return out.sort_values(["starts", "annotation_id"], kind="stable").reset_index(drop=True)
    return eng.per_version("annotations", compute)


@access.same_for_every_viewer
def on_chart(eng, viewer: Viewer, scope: Scope, span: Period, metric_key: str | None = None) -> pd.DataFrame:
    """The annotations a chart of `metric_key` (None: of no one figure, e.g. the comments' themes) for the scope over
    `span` shows, oldest first (COLUMNS): those of the organisation and of the scope's unit and the units above it
    (marked_units), about every figure or this one, overlapping the span — implemented suggestions among them.
    Checked like the chart's own figures."""
    eng.authorize(viewer, scope, records=False)
    df = _every(eng)
    units = set(marked_units(eng, scope))
    keep = [(k == "organisation" or u in units) and s <= span.end and last >= span.start
            and (is_missing(m) or m == metric_key)
            for k, u, s, last, m in zip(df["scope_kind"], df["scope_key"], df["starts"], df["last"], df["metric_key"])]
    return df[keep].reset_index(drop=True)[COLUMNS]


def change_points(eng, viewer: Viewer, scope: Scope, span: Period, metric_key: str) -> tuple[dt.date, ...]:
    """The first days of the annotations marked as change points that a chart of the metric for the scope shows."""
    df = on_chart(eng, viewer, scope, span, metric_key)
    return tuple(sorted(set(df.loc[df["change_point"], "starts"])))


def words(row) -> str:
    """One annotation in words: '14 Mar 2025 – 20 Mar 2025 · A change we made · New phone menu (Contact Centre)'."""
    when = format_date(row["starts"]) + ("" if is_missing(row["ends"]) else f" – {format_date(row['ends'])}")
    tail = " · change point: SPC limits re-calculated from here" if row["change_point"] else ""
    return f"{when} · {row['kind_words']} · {row['title']} ({row['scope_name']}){tail}"
