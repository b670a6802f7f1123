"""People who sign in: users, argon2-hashed passwords, slowed-down failures, server-side sessions.

A session is an opaque random token held by the signed-in browser tab; the database keeps only its
sha256, so a copy of the database cannot be used to sign in. Sessions expire (absolute and idle
limits) and are revoked at sign-out, on a password change, on a change of role and when a user is
disabled.

Failed sign-ins are counted per typed name, whether or not it is an account (sign_in_failures, keyed
by a salted hash of the name), so a real account and an unknown name get the same messages at the
same moments: "do not match" five times, then "Too many failed attempts" with the same waits.

Managing accounts (add, disable or enable, reset a password, change a role, list) takes the acting
Viewer: an active administrator account (checked in the database at each change, so a demoted or
disabled administrator loses the right at once) or the command line acting as the system. Each change
is one transaction with its audit_log row, and no change may leave the organisation without an
active administrator.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

import duckdb
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from metrics.store import writes
from metrics.access import SYSTEM, Role, Viewer
from metrics.catalogue.definitions import Config
from metrics.errors import AccessDenied, MetricsError

ROLES = tuple(r for r in Role if r != Role.SYSTEM)    # what an account may be (the system is not an account)
MANAGERS = (Role.ADMIN, Role.SYSTEM)     # who may manage accounts: administrators, and the command line
MIN_PASSWORD = 12
FREE_FAILURES = 5                       # then wait 30 s, doubling with each further failure
MAX_WAIT = dt.timedelta(minutes=15)
FORGET_FAILURES = dt.timedelta(hours=24)    # a name's failures are forgotten this long after its last one
DISPLAY_NAME_MAX = 100
NO_MATCH = "That user name and password do not match an account."
DISABLED = "This account is disabled; ask an administrator to re-enable it."
SIGNED_OUT = "You have been signed out; please sign in again."
EXPIRED = "Your session expired; please sign in again."
_NAME = re.compile(r"^[a-z0-9._%+-]+(@[a-z0-9.-]+\.[a-z]{2,})?$")
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a real password, only for timing")


class AuthError(MetricsError):
    """Signing in did not work; the message is safe to show."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now()).replace(microsecond=0)


def _tx(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(sql, params)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _user(con, user_id: str):
    return con.execute("SELECT user_id, role, department_id, staff_id, password_hash, active FROM users "
                       "WHERE user_id = $u", {"u": user_id}).fetchone()


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        have = f"has {len(password)} characters" if isinstance(password, str) else "is missing"
        raise MetricsError(f"the password {have}; passwords need at least {MIN_PASSWORD} characters (a few "
                           "words with spaces are fine)")


def _may_manage(cur, actor: Viewer) -> None:
    """AccessDenied unless the actor may manage accounts: the system (command line), or an administrator whose
    account is, right now, active and still an administrator (the signed-in Viewer may be older than a change)."""
    if actor.role not in MANAGERS:
        raise AccessDenied(f"{actor.user} may not manage users: only administrators may")
    if actor.is_admin:
        row = cur.execute("SELECT role, active FROM users WHERE user_id = $u", {"u": actor.user}).fetchone()
        if row is None or row[0] != Role.ADMIN or not row[1]:
            raise AccessDenied(f"{actor.user} is not an active administrator account, so may not manage users")


def _keeps_an_administrator(cur, actor: Viewer, row, role: str, active: bool, verb: str) -> None:
    """Refuse a change that would leave no active administrator (nobody could manage users from the dashboard).

    Every account change also rewrites one meta row, so two changes committing at the same moment conflict
    (writes.Conflict for the second) instead of each removing one of the last two administrators."""
    cur.execute("INSERT OR REPLACE INTO meta VALUES ('accounts_changed', $t)", {"t": str(_now(None))})
    user_id, was_role, was_active = row[0], row[1], row[5]
    if was_role != Role.ADMIN or not was_active or (role == Role.ADMIN and active):
        return
    others = cur.execute("SELECT count(*) FROM users WHERE role = $admin AND active AND user_id <> $u",
                         {"u": user_id, "admin": str(Role.ADMIN)}).fetchone()[0]
    if others == 0:
        who = "you are" if user_id == actor.user else f"{user_id} is"
        raise MetricsError(f"{who} the last active administrator, so {user_id} cannot be {verb}; make another user an "
                           "administrator first, so that someone can still manage users")


def _end_sessions(cur, user_id: str, at: dt.datetime) -> int:
    return cur.execute("UPDATE sessions SET revoked_at = $t WHERE user_id = $u AND revoked_at IS NULL",
                       {"t": at, "u": user_id}).fetchone()[0]


def add_user(con, user_id: str, role: str, display_name: str | None = None, department_id: str | None = None,
             staff_id: str | None = None, password: str | None = None, config: Config | None = None, *,
             actor: Viewer = SYSTEM, at: dt.datetime | None = None) -> None:
    """Create a user (audited); every problem is one sentence (MetricsError), and then nothing is written.

    Args:
        actor: who acts: an administrator (the Users page) or SYSTEM (the command line).
        password: the initial password, or None for an account that signs in through OIDC only.
    """
    at = _now(at)
    with writes.transaction(con) as cur:
        _may_manage(cur, actor)
        user_id = (user_id or "").strip().lower()
        if not _NAME.match(user_id):
            raise MetricsError(f"user name {user_id!r} should be an e-mail address (letters, digits, . _ - @)")
        if role not in ROLES:
            raise MetricsError(f"role {role!r} is not one of {', '.join(ROLES)}")
        display_name = writes.text(display_name, "Display name", DISPLAY_NAME_MAX, required=False)
        staff_id = (staff_id or "").strip() or None
        department_id = (department_id or "").strip() or None
        if staff_id is not None:
            row = cur.execute("SELECT department_id FROM staff WHERE staff_id = $s", {"s": staff_id}).fetchone()
            if row is None:
                raise MetricsError(f"no staff member {staff_id!r}; `python -m metrics staff` lists them")
            department_id = department_id or row[0]
        if config is not None and department_id is not None and department_id not in config.departments:
            raise MetricsError(f"unknown department {department_id!r}")
        if _user(cur, user_id) is not None:
            raise MetricsError(f"user {user_id!r} already exists")
        if password is not None:
            _check_password(password)
        fields = {"display_name": display_name or user_id, "role": role, "department_id": department_id,
                  "staff_id": staff_id}
        cur.execute("INSERT INTO users (user_id, display_name, role, department_id, staff_id, password_hash, created_at) "
                    "VALUES ($u, $n, $r, $d, $s, $h, $t)",
                    {"u": user_id, "n": fields["display_name"], "r": role, "d": department_id, "s": staff_id,
                     "h": _hasher.hash(password) if password is not None else None, "t": at})
        writes.audit(cur, actor, at, "user.add", "users", user_id,
                     {**{k: [None, v] for k, v in fields.items()}, "password": [None, password is not None]})


def _existing(con, user_id: str):
    row = _user(con, (user_id or "").strip().lower())
    if row is None:
        raise MetricsError(f"no user {user_id!r}; `python -m metrics users list` shows them")
    return row


def set_password(con, user_id: str, password: str, *, actor: Viewer = SYSTEM, at: dt.datetime | None = None) -> None:
    """Set a new password (audited, the hash never) and end the user's sessions."""
    at = _now(at)
    with writes.transaction(con) as cur:
        _may_manage(cur, actor)
        row = _existing(cur, user_id)
        _check_password(password)
        cur.execute("UPDATE users SET password_hash = $h WHERE user_id = $u", {"h": _hasher.hash(password), "u": row[0]})
        cur.execute("DELETE FROM sign_in_failures WHERE name_key = $k", {"k": _name_key(cur, row[0])})
        ended = _end_sessions(cur, row[0], at)
        writes.audit(cur, actor, at, "user.password", "users", row[0],
                     {"password": ["(earlier)", "(new)"], "sessions_ended": [None, ended]})


def set_active(con, user_id: str, active: bool, *, actor: Viewer = SYSTEM, at: dt.datetime | None = None) -> None:
    """Enable or disable a user (audited); disabling ends every session of theirs in the same transaction, so
    their open pages stop on their next run (session.viewer resumes the session each run)."""
    at = _now(at)
    with writes.transaction(con) as cur:
        _may_manage(cur, actor)
        row = _existing(cur, user_id)
        if bool(row[5]) == bool(active):
            raise MetricsError(f"{row[0]} is already {'enabled' if active else 'disabled'}; nothing was changed")
        _keeps_an_administrator(cur, actor, row, row[1], bool(active), "disabled")
        cur.execute("UPDATE users SET active = $a WHERE user_id = $u", {"a": bool(active), "u": row[0]})
        changes = {"active": [bool(row[5]), bool(active)]}
        if not active:
            changes["sessions_ended"] = [None, _end_sessions(cur, row[0], at)]
        writes.audit(cur, actor, at, "user.enable" if active else "user.disable", "users", row[0], changes)


def set_role(con, user_id: str, role: str, *, actor: Viewer = SYSTEM, at: dt.datetime | None = None) -> None:
    """Give a user another role (audited); their sessions end, so the new role applies from their next sign-in."""
    at = _now(at)
    with writes.transaction(con) as cur:
        _may_manage(cur, actor)
        row = _existing(cur, user_id)
        if role not in ROLES:
            raise MetricsError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if role == row[1]:
            raise MetricsError(f"{row[0]} already has the role {role}; nothing was changed")
        _keeps_an_administrator(cur, actor, row, role, bool(row[5]), "given another role")
        cur.execute("UPDATE users SET role = $r WHERE user_id = $u", {"r": role, "u": row[0]})
        ended = _end_sessions(cur, row[0], at)
        writes.audit(cur, actor, at, "user.role", "users", row[0], {"role": [row[1], role], "sessions_ended": [None, ended]})


def list_users(con, actor: Viewer = SYSTEM) -> pd.DataFrame:
    """Users without their password hashes, with how many live sessions each has (administrators only)."""
    cur = con.cursor()
    try:
        _may_manage(cur, actor)
        return cur.execute("""
            SELECT u.user_id, u.display_name, u.role, u.department_id, u.staff_id, u.active,
                   u.password_hash IS NOT NULL AS has_password, u.created_at,
                   (SELECT count(*) FROM sessions s WHERE s.user_id = u.user_id AND s.revoked_at IS NULL
                      AND s.expires_at > $now) AS live_sessions
            FROM users u ORDER BY u.user_id""", {"now": _now(None)}).df()
    finally:
        cur.close()


def _viewer(row) -> Viewer:
    user_id, role, department_id, staff_id = row[:4]
    return Viewer(user=user_id, role=role, department_id=department_id, staff_id=staff_id)


def _name_key(con, name: str) -> str:
    """The key a typed name's failures are counted under: a salted sha256, so the name itself is not stored."""
    salt = con.execute("SELECT salt FROM sign_in_salt").fetchone()[0]
    return hashlib.sha256(f"{salt}\n{name}".encode()).hexdigest()


def _wait_left(con, key: str, now: dt.datetime) -> dt.timedelta | None:
    """How long the name must still wait after FREE_FAILURES failures in a row (30 s, doubling, at most MAX_WAIT)."""
    row = con.execute("SELECT failures, last_failed_at FROM sign_in_failures WHERE name_key = $k", {"k": key}).fetchone()
    if row is None or row[0] < FREE_FAILURES:
        return None
    doublings = min(row[0] - FREE_FAILURES, 16)          # 30 s × 2^16 is far past MAX_WAIT; no overflow
    left = row[1] + min(dt.timedelta(seconds=30 * 2 ** doublings), MAX_WAIT) - now
    return left if left > dt.timedelta(0) else None


def _count_failure(con, key: str, now: dt.datetime) -> None:
    """One more failure for the name; names whose last failure is older than FORGET_FAILURES are forgotten."""
    for _ in range(3):                                    # a simultaneous failure for the same name: count again
        try:
            with writes.transaction(con) as cur:
                cur.execute("INSERT INTO sign_in_failures VALUES ($k, 1, $t) ON CONFLICT (name_key) DO UPDATE "
                            "SET failures = sign_in_failures.failures + 1, last_failed_at = excluded.last_failed_at",
                            {"k": key, "t": now})
                cur.execute("DELETE FROM sign_in_failures WHERE last_failed_at < $old", {"old": now - FORGET_FAILURES})
            return
        except writes.Conflict:
            continue


def authenticate(con, user_id: str, password: str, now: dt.datetime | None = None) -> Viewer:
    """Check a user name and password; AuthError with a message safe to show if they do not match.

    Every name takes the same path — the wait check, one argon2 verification (of a dummy hash when there is no
    such account or it has no password), one counted failure — so neither the messages nor their timing tell
    a real account from an unknown name.
    """
    now = _now(now)
    name = (user_id or "").strip().lower()
    key = _name_key(con, name)
    if left := _wait_left(con, key, now):
        raise AuthError(f"Too many failed attempts; try again in {int(left.total_seconds()) + 1} seconds.")
    row = _user(con, name)
    stored = row[4] if row is not None else None
    try:
        _hasher.verify(stored or _DUMMY, password or "")
        matched = stored is not None
    except (VerificationError, InvalidHashError):
        matched = False
    if not matched:
        _count_failure(con, key, now)
        raise AuthError(NO_MATCH)
    if not row[5]:
        raise AuthError(DISABLED)
    with writes.transaction(con) as cur:
        cur.execute("DELETE FROM sign_in_failures WHERE name_key = $k", {"k": key})
        if _hasher.check_needs_rehash(stored):
            cur.execute("UPDATE users SET password_hash = $h WHERE user_id = $u",
                        {"h": _hasher.hash(password), "u": row[0]})
    return _viewer(row)


def viewer_for_login(con, email: str) -> Viewer:
    """The Viewer of someone signed in by the identity provider (OIDC), matched by e-mail."""
    row = _user(con, (email or "").strip().lower())
    if row is None:
        raise AuthError(f"{email} signed in, but has no account here; ask an administrator to add it.")
    if not row[5]:
        raise AuthError(DISABLED)
    return _viewer(row)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(con, user_id: str, ttl_minutes: int = 480, now: dt.datetime | None = None) -> str:
    """A new opaque session token (only its hash is stored)."""
    now = _now(now)
    token = secrets.token_urlsafe(32)
    _tx(con, "INSERT INTO sessions VALUES ($h, $u, $t, $e, $t, NULL)",
        {"h": _digest(token), "u": user_id, "t": now, "e": now + dt.timedelta(minutes=ttl_minutes)})
    return token


def resume_session(con, token: str, idle_minutes: int = 60, now: dt.datetime | None = None) -> Viewer:
    """The Viewer of a live session; AuthError if it was ended, expired or its user disabled."""
    now = _now(now)
    row = con.execute("SELECT user_id, expires_at, last_seen_at, revoked_at FROM sessions WHERE token_hash = $h",
                      {"h": _digest(token or "")}).fetchone()
    if row is None or row[3] is not None:
        raise AuthError(SIGNED_OUT)
    if now >= row[1] or now - row[2] > dt.timedelta(minutes=idle_minutes):
        end_session(con, token, now)
        raise AuthError(EXPIRED)
    user = _user(con, row[0])
    if user is None or not user[5]:
        end_session(con, token, now)
        raise AuthError(DISABLED)
    _tx(con, "UPDATE sessions SET last_seen_at = $t WHERE token_hash = $h", {"t": now, "h": _digest(token)})
    return _viewer(user)


def end_session(con, token: str, now: dt.datetime | None = None) -> None:
    """Sign out: the token stops working."""
    _tx(con, "UPDATE sessions SET revoked_at = $t WHERE token_hash = $h AND revoked_at IS NULL",
        {"t": _now(now), "h": _digest(token or "")})


def revoke_user_sessions(con, user_id: str, now: dt.datetime | None = None) -> int:
    """End every session of a user; returns how many were live."""
    with writes.transaction(con) as cur:
        return _end_sessions(cur, user_id, _now(now))
