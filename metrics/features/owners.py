"""Who a stored rule or subscription belongs to, as a Viewer, and where to e-mail them (alerts and digests).

A row keeps its owner's user id and, for demo sign-in (where people have no accounts), the persona's role,
department and staff record as they were. With accounts, the account as it is now is used — and only while it is
active — so a person who changed role or left gets what their account may see now, or nothing.
"""
from __future__ import annotations

from metrics.access import Viewer

# SQL fragments for a table aliased {t} with columns user_id, role, department_id, staff_id: the owner's role,
# department and staff record; the join to their account; and the rows whose owner is current ($demo: demo sign-in).
COLUMNS = ("CASE WHEN u.user_id IS NULL THEN {t}.role ELSE u.role END, "
           "CASE WHEN u.user_id IS NULL THEN {t}.department_id ELSE u.department_id END, "
           "CASE WHEN u.user_id IS NULL THEN {t}.staff_id ELSE u.staff_id END")
JOIN = "LEFT JOIN users u ON u.user_id = {t}.user_id"
CURRENT = "(u.user_id IS NULL AND $demo OR u.active)"


def address(cur, owner: Viewer) -> str | None:
    """Where the owner's mail goes: their user name when it is an e-mail address, else their staff record's."""
    if "@" in owner.user:
        return owner.user
    row = cur.execute("SELECT email FROM staff WHERE staff_id = $s", {"s": owner.staff_id}).fetchone() \
        if owner.staff_id else None
    return row[0] if row and row[0] and "@" in row[0] else None
