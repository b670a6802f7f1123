"""Who is asking, and what they may see. Every public function of the metrics layer takes a Viewer.

Rules (product principles 3 and 4):
- figures for teams, departments, directorates and the organisation are shared: any signed-in
  viewer may see them;
- a person's own figures are visible to that person and to the managers above them in the line
  (the staff.manager_id chain); executives and the all-seeing system viewer see everyone's;
- administrators manage data and users, and see no individual figures unless they manage people;
  they read no department's records or comments (their own department included) — only the
  records of the people they manage;
- verbatim customer comments and the records behind a figure are visible to the department
  concerned (the viewer's own department, with its teams) and to executives; inside them, a person
  column (who handled a contact, whom a callback waits on) keeps its value only where the viewer
  may see that person's figures (records.metric_records, lists.waiting);
- "view as": an administrator may look at the dashboard as a persona of another role, to check what
  that role is shown. The persona's Viewer carries the administrator in `real`; it sees what BOTH
  may see (so no individual figures or records the administrator could not see themselves), and it
  may write nothing (metrics.store.writes refuses every change; the audit trail only ever names the
  signed-in user).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import duckdb

from metrics.catalogue.definitions import Config
from metrics.errors import AccessDenied, UnknownError
from metrics.catalogue.scope import Scope



class Role(StrEnum):
    """What a viewer is to the organisation (stored as its text in users.role)."""
    SYSTEM = "system"            # the command line and scheduled jobs
    EXECUTIVE = "executive"
    HEAD = "head"                # head of a department
    STAFF = "staff"
    ADMIN = "admin"              # manages data and users


ROLES = tuple(Role)
# Columns of the schema that name a person (a staff id, or the user who acted): in records and lists they keep
# their value only where the viewer may see that person's figures (visible_staff).
PERSON_COLUMNS = ("staff_id", "to_staff_id", "from_staff_id", "manager_id", "assigned_to", "follow_up_by",
                  "shared_by", "submitted_by", "decided_by")


@dataclass(frozen=True)
class Viewer:
    user: str
    role: str                          # one of ROLES
    department_id: str | None = None
    staff_id: str | None = None
    real: "Viewer | None" = None       # the signed-in administrator, when this is a persona viewed as

    @property
    def sees_everyone(self) -> bool:
        """The system and executives: every person's figures and every department's records."""
        return self.role in (Role.SYSTEM, Role.EXECUTIVE)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_head(self) -> bool:
        return self.role == Role.HEAD

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def picks_any_department(self) -> bool:
        """Executives and administrators choose which department a page shows; others see their own."""
        return self.role in (Role.EXECUTIVE, Role.ADMIN)

    @property
    def read_only(self) -> bool:
        """True for a persona viewed as by an administrator: it may look, never change anything."""
        return self.real is not None

    @property
    def actor(self) -> "Viewer":
        """The person really signed in (the administrator behind a persona)."""
        return self.real or self


def viewing_as(persona: Viewer, real: Viewer) -> Viewer:
    """A persona as seen by the signed-in administrator `real` (read-only, limited to what both may see)."""
    if not real.is_admin:
        raise AccessDenied(f"{real.user} may not view the dashboard as someone else: only administrators may")
    if persona.is_admin or persona.real is not None:
        raise AccessDenied(f"{real.user} may view as a persona of another role only, not as {persona.user}")
    return Viewer(persona.user, persona.role, persona.department_id, persona.staff_id, real=real.actor)


VIEW_AS_LIMIT = ("{real} is viewing as {who}: view-as shows that role's pages and shared figures, but not individual "
                 "figures, records or comments the administrator may not see themselves")


# The command line and scheduled jobs act as this viewer until sign-in exists for them.
SYSTEM = Viewer(user="system", role=Role.SYSTEM)


# --- Results the same for every viewer ----------------------------------------------------------------
# Figures for the organisation or a unit are shared (any signed-in role may see them), so a page-data
# function that returns only such figures gives every viewer the same result, and a cache may compute it
# once for everybody: the first person after a load pays, not each of them. A function declares this with
# @same_for_every_viewer (tests/security/test_shared_results.py calls each one as every kind of viewer and
# checks the results are equal). Anything about a person (a staff Scope among the arguments) and every
# record list stays computed for, and cached per, the viewer who asked.
EVERYONE = Viewer("any signed-in viewer", Role.EXECUTIVE)
_SAME_FOR_EVERY_VIEWER: set = set()


def same_for_every_viewer(func):
    """Declare that func(engine, viewer, *args) returns the same for every signed-in viewer (unit-level
    figures only, nothing that depends on who asks)."""
    _SAME_FOR_EVERY_VIEWER.add(func)
    return func


def declared_same_for_every_viewer() -> frozenset:
    """Every function declared with @same_for_every_viewer (for the test that proves the declarations)."""
    return frozenset(_SAME_FOR_EVERY_VIEWER)


def shared_viewer(func, viewer: "Viewer | None", args: tuple) -> "Viewer | None":
    """The viewer to compute func(engine, viewer, *args) as: EVERYONE when the result may be shared across
    viewers (declared so, about no person, asked by a signed-in role), else the viewer who asked."""
    about_a_person = any(isinstance(a, Scope) and a.kind == "staff" for a in args)
    if func in _SAME_FOR_EVERY_VIEWER and not about_a_person and (viewer is None or viewer.role in ROLES):
        return EVERYONE
    return viewer


def managers_of(con: duckdb.DuckDBPyConnection, staff_id: str) -> list[str]:
    """The staff ids above a person in the line, nearest first; UnknownError if there is no such person."""
    rows = con.execute("""
        WITH RECURSIVE chain(staff_id, manager_id, depth) AS (
            SELECT staff_id, manager_id, 0 FROM staff WHERE staff_id = $id
            UNION ALL
            SELECT s.staff_id, s.manager_id, c.depth + 1
            FROM staff s JOIN chain c ON s.staff_id = c.manager_id
            WHERE c.depth < 50)
        SELECT staff_id, depth FROM chain ORDER BY depth""", {"id": staff_id}).fetchall()
    if not rows:
        raise UnknownError(f"unknown staff member {staff_id!r}; `python -m metrics staff` lists them")
    return [r[0] for r in rows[1:]]


def authorize(con: duckdb.DuckDBPyConnection, viewer: Viewer, scope: Scope) -> None:
    """Raise AccessDenied unless the viewer may see figures for the scope.

    Args:
        con: a cursor on the database (for the line-management chain).
        viewer: who is asking.
        scope: whose figures.
    """
    if viewer.role not in ROLES:
        raise AccessDenied(f"role {viewer.role!r} is not one of {', '.join(ROLES)}")
    if viewer.real is not None and not may(authorize, con, viewer.real, scope):
        raise AccessDenied(VIEW_AS_LIMIT.format(real=viewer.real.user, who=viewer.user))
    if scope.kind != "staff":
        return
    chain = managers_of(con, scope.key)
    if viewer.sees_everyone:
        return
    if viewer.staff_id is not None and (viewer.staff_id == scope.key or viewer.staff_id in chain):
        return
    raise AccessDenied(f"{viewer.user} may not see the individual figures of {scope.key}: a person's figures "
                       "are visible to them and to the managers above them only")


def home_unit(config: Config, viewer: Viewer) -> str | None:
    """The unit whose records the viewer may read: their department (a team member's parent department);
    None for administrators (they manage data and users, not a department's service)."""
    key = viewer.department_id
    if viewer.is_admin or key is None or key not in config.departments:
        return None
    return department_of(config, key)


def department_of(config: Config, key: str) -> str:
    """The department a unit belongs to: a team's parent, else the unit itself."""
    if config.departments[key].level == "team":
        return config.departments[key].parent
    return key


def may_decide_for(config: Config, viewer: Viewer, department_id: str | None) -> bool:
    """Who decides for a department (shares its praise, decides its suggestions, works its cases as a head): its
    head (for the department with its teams) and executives (for any)."""
    if viewer.sees_everyone:
        return True
    home = home_unit(config, viewer)
    return viewer.is_head and home is not None and department_id in config.descendants(home)


# --- Targets (metrics/features/targets.py) ----------------------------------------------------------------------
def may_set_targets(viewer: Viewer) -> bool:
    """Administrators, executives and the command line set targets directly."""
    return viewer.role in (Role.SYSTEM, Role.EXECUTIVE, Role.ADMIN)


def may_approve_targets(viewer: Viewer) -> bool:
    """Executives (and the command line) approve or reject the targets heads propose."""
    return viewer.role in (Role.SYSTEM, Role.EXECUTIVE)


def may_propose_target(config: Config, viewer: Viewer, unit: str | None) -> bool:
    """A head proposes targets for their own department and its teams (those who set targets may propose any)."""
    if may_set_targets(viewer):
        return True
    home = home_unit(config, viewer)
    return viewer.is_head and home is not None and unit is not None and unit in config.descendants(home)


def authorize_records(con: duckdb.DuckDBPyConnection, config: Config, viewer: Viewer, scope: Scope) -> None:
    """Raise AccessDenied unless the viewer may read the records and verbatim comments of the scope.

    Args:
        con: a cursor (for a person's department and line managers).
        config: the department hierarchy.
        viewer: who is asking.
        scope: whose records; for a person, also the rule of `authorize`.
    """
    authorize(con, viewer, scope)
    if viewer.real is not None and not may(authorize_records, con, config, viewer.real, scope):
        raise AccessDenied(VIEW_AS_LIMIT.format(real=viewer.real.user, who=viewer.user))
    if viewer.sees_everyone:
        return
    if viewer.is_admin and scope.kind == "staff":
        return                      # a person they manage (authorize let it through)
    home = home_unit(config, viewer)
    if scope.kind == "organisation" or home is None:
        raise AccessDenied(f"{viewer.user} may not read the organisation's records and comments: they are "
                           "visible to the department concerned and to executives")
    unit = scope.key
    if scope.kind == "staff":
        row = con.execute("SELECT department_id FROM staff WHERE staff_id = $id", {"id": scope.key}).fetchone()
        unit = row[0]
    if unit not in config.descendants(home):
        raise AccessDenied(f"{viewer.user} may not read the records and comments of {unit}: they are visible "
                           "to the department concerned and to executives")


def line_below(con: duckdb.DuckDBPyConnection, staff_id: str) -> frozenset[str]:
    """Everyone below a person in the line (their reports, their reports' reports, ...), not the person."""
    rows = con.execute("""
        WITH RECURSIVE below(staff_id, depth) AS (
            SELECT staff_id, 0 FROM staff WHERE staff_id = $id
            UNION ALL
            SELECT s.staff_id, b.depth + 1 FROM staff s JOIN below b ON s.manager_id = b.staff_id
            WHERE b.depth < 50)
        SELECT DISTINCT staff_id FROM below WHERE depth > 0""", {"id": staff_id}).fetchall()
    return frozenset(r[0] for r in rows)


def visible_staff(con: duckdb.DuckDBPyConnection, viewer: Viewer) -> frozenset[str] | None:
    """The people whose individual figures the viewer may see: None for everyone (executives, the system),
    else the viewer and everyone below them in the line (for a persona viewed as, what both may see)."""
    if viewer.role not in ROLES:
        return frozenset()
    mine = None
    if not viewer.sees_everyone:
        mine = frozenset()
        if viewer.staff_id is not None:
            mine = line_below(con, viewer.staff_id) | {viewer.staff_id}
    if viewer.real is None:
        return mine
    theirs = visible_staff(con, viewer.real)
    if mine is None:
        return theirs
    return mine if theirs is None else mine & theirs


def hide_people(con: duckdb.DuckDBPyConnection, viewer: Viewer, df, columns=PERSON_COLUMNS):
    """The frame with every person column blanked on the rows naming someone the viewer may not see."""
    present = [c for c in columns if c in df.columns]
    if not present:
        return df
    seen = visible_staff(con, viewer)
    if seen is None:
        return df
    df = df.copy()
    for c in present:
        df[c] = df[c].where(df[c].isin(seen), None)
    return df


def may(check, *args, **kwargs) -> bool:
    """True when an authorize function lets the request through."""
    try:
        check(*args, **kwargs)
        return True
    except AccessDenied:
        return False
