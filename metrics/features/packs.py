"""The committee pack: one PDF for a department or the organisation over a period — headline figures with targets,
shared goals and contributions, the chain (what waited with us), the voice of the customer (praise first, themes,
cases closed), You said we did — each section with the commentary its head or an executive wrote, kept here per
scope, period and section (pack_commentary, audited)."""
from __future__ import annotations

import datetime as dt

from metrics import access
from metrics.access import Viewer
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.periods import Period
from metrics.errors import AccessDenied, MetricsError
from metrics.store import writes

# The pack's sections, in order: key → heading.
SECTIONS = {"headline": "Headline figures", "goals": "Shared goals and our part in them",
            "chain": "The chain: what waited with us", "voice": "What customers told us",
            "you_said": "You said, we did"}
COMMENTARY_MAX = 3000


def _key(scope: Scope) -> tuple[str, str]:
    return scope.kind, scope.key or ""


def may_write(config, viewer: Viewer, scope: Scope) -> bool:
    """Executives for any pack; a head for their own department's."""
    if viewer.read_only:
        return False
    if viewer.role in ("executive", "system"):
        return True
    return scope.is_unit and viewer.role == "head" and access.may_decide_for(config, viewer, scope.key)


def commentary(eng, viewer: Viewer, scope: Scope, period: Period) -> dict[str, str]:
    """Section → the commentary kept for this pack (the viewer must be able to see the scope's figures)."""
    eng.authorize(viewer, scope, records=False)
    kind, key = _key(scope)
    df = eng.read_store("SELECT section, body FROM pack_commentary WHERE scope_kind = $k AND scope_key = $s AND "
                        "period_start = $a AND period_end = $b", {"k": kind, "s": key, "a": period.start, "b": period.end})
    return dict(zip(df["section"], df["body"]))


def save(eng, viewer: Viewer, scope: Scope, period: Period, section: str, body: str,
         at: dt.datetime | None = None) -> None:
    """Keep (or clear, with empty text) one section's commentary, audited; one sentence for who may not, an unknown
    section or text too long."""
    if section not in SECTIONS:
        raise MetricsError(f"unknown pack section {section!r}: one of {', '.join(SECTIONS)}")
    if scope.kind not in ("organisation", "department"):
        raise MetricsError("a committee pack is for the organisation or a department")
    if not may_write(eng.config, viewer, scope):
        raise AccessDenied("the commentary of a department's pack is written by its head or an executive, and the "
                           "organisation's by an executive")
    body = (body or "").strip()
    if len(body) > COMMENTARY_MAX:
        raise MetricsError(f"the commentary is {len(body):,} characters: at most {COMMENTARY_MAX:,}")
    at = at or writes.now(eng.config)
    kind, key = _key(scope)
    where = {"k": kind, "s": key, "a": period.start, "b": period.end, "sec": section}
    with writes.transaction(eng.con, viewer) as cur:
        old = cur.execute("SELECT body FROM pack_commentary WHERE scope_kind = $k AND scope_key = $s AND "
                          "period_start = $a AND period_end = $b AND section = $sec", where).fetchone()
        cur.execute("DELETE FROM pack_commentary WHERE scope_kind = $k AND scope_key = $s AND period_start = $a AND "
                    "period_end = $b AND section = $sec", where)
        if body:
            cur.execute("INSERT INTO pack_commentary (scope_kind, scope_key, period_start, period_end, section, body, "
                        "written_by, written_at) VALUES ($k, $s, $a, $b, $sec, $t, $u, $at)",
                        {**where, "t": body, "u": viewer.user, "at": at})
        writes.audit(cur, viewer, at, "pack.commentary", "pack_commentary",
                     f"{kind}:{key}:{period.start}:{period.end}:{section}", {"body": [old[0] if old else None, body or None]})


def scope_for(config, viewer: Viewer, scope: Scope | None) -> Scope:
    """The pack's scope: as asked, else a head's own department, else the organisation."""
    if scope is not None:
        return scope
    home = access.home_unit(config, viewer)
    return Scope("department", home) if viewer.role == "head" and home else ORGANISATION
