"""Who is asking, and what they may see. Every public function of the metrics layer takes a Viewer.

Rules (product principles 3 and 4):
- figures for teams, departments, directorates and the organisation are shared: any signed-in
  viewer may see them;
- a person's own figures are visible to that person and to the managers above them in the line
  (the staff.manager_id chain); executives and the all-seeing system viewer see everyone's;
- administrators manage data and users, and see no individual figures unless they manage people;
- verbatim customer comments and the records behind a figure are visible to the department
  concerned (the viewer's own department, with its teams) and to executives.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from metrics.definitions import Config
from metrics.errors import AccessDenied, UnknownError
from metrics.scope import Scope

ROLES = ("system", "executive", "head", "staff", "admin")


@dataclass(frozen=True)
class Viewer:
    user: str
    role: str                          # one of ROLES
    department_id: str | None = None
    staff_id: str | None = None


# The command line and scheduled jobs act as this viewer until sign-in exists for them.
SYSTEM = Viewer(user="system", role="system")


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
    if scope.kind != "staff":
        return
    chain = managers_of(con, scope.key)
    if viewer.role in ("system", "executive"):
        return
    if viewer.staff_id is not None and (viewer.staff_id == scope.key or viewer.staff_id in chain):
        return
    raise AccessDenied(f"{viewer.user} may not see the individual figures of {scope.key}: a person's figures "
                       "are visible to them and to the managers above them only")


def home_unit(config: Config, viewer: Viewer) -> str | None:
    """The unit whose records the viewer may read: their department (a team member's parent department)."""
    key = viewer.department_id
    if key is None or key not in config.departments:
        return None
    return department_of(config, key)


def department_of(config: Config, key: str) -> str:
    """The department a unit belongs to: a team's parent, else the unit itself."""
    if config.departments[key].level == "team":
        return config.departments[key].parent
    return key


def authorize_records(con: duckdb.DuckDBPyConnection, config: Config, viewer: Viewer, scope: Scope) -> None:
    """Raise AccessDenied unless the viewer may read the records and verbatim comments of the scope.

    Args:
        con: a cursor (for a person's department and line managers).
        config: the department hierarchy.
        viewer: who is asking.
        scope: whose records; for a person, also the rule of `authorize`.
    """
    authorize(con, viewer, scope)
    if viewer.role in ("system", "executive"):
        return
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


def may(check, *args) -> bool:
    """True when an authorize function lets the request through."""
    try:
        check(*args)
        return True
    except AccessDenied:
        return False
