"""People who sign in: users, argon2-hashed passwords, slowed-down failures, server-side sessions.

A session is an opaque random token held by the signed-in browser tab; the database keeps only its
sha256, so a copy of the database cannot be used to sign in. Sessions expire (absolute and idle
limits) and are revoked at sign-out, on a password change and when a user is disabled.
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

from metrics.access import Viewer
from metrics.definitions import Config
from metrics.errors import MetricsError

ROLES = ("executive", "head", "staff", "admin")
MIN_PASSWORD = 12
FREE_FAILURES = 5                       # then wait 30 s, doubling with each further failure
MAX_WAIT = dt.timedelta(minutes=15)
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
    return con.execute("SELECT user_id, role, department_id, staff_id, password_hash, active, failed_attempts, "
                       "last_failed_at FROM users WHERE user_id = $u", {"u": user_id}).fetchone()


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise MetricsError(f"passwords need at least {MIN_PASSWORD} characters")


def add_user(con, user_id: str, role: str, display_name: str | None = None, department_id: str | None = None,
             staff_id: str | None = None, password: str | None = None, config: Config | None = None) -> None:
    """Create a user; every problem is one sentence (MetricsError)."""
    user_id = user_id.strip().lower()
    if not _NAME.match(user_id):
        raise MetricsError(f"user name {user_id!r} should be an e-mail address (letters, digits, . _ - @)")
    if role not in ROLES:
        raise MetricsError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if staff_id is not None:
        row = con.execute("SELECT department_id FROM staff WHERE staff_id = $s", {"s": staff_id}).fetchone()
        if row is None:
            raise MetricsError(f"no staff member {staff_id!r}; `python -m metrics staff` lists them")
        department_id = department_id or row[0]
    if config is not None and department_id is not None and department_id not in config.departments:
        raise MetricsError(f"unknown department {department_id!r}")
    if _user(con, user_id) is not None:
        raise MetricsError(f"user {user_id!r} already exists")
    if password is not None:
        _check_password(password)
    _tx(con, "INSERT INTO users (user_id, display_name, role, department_id, staff_id, password_hash, created_at) "
             "VALUES ($u, $n, $r, $d, $s, $h, $t)",
        {"u": user_id, "n": display_name or user_id, "r": role, "d": department_id, "s": staff_id,
         "h": _hasher.hash(password) if password is not None else None, "t": _now(None)})


def _existing(con, user_id: str):
    row = _user(con, user_id)
    if row is None:
        raise MetricsError(f"no user {user_id!r}; `python -m metrics users list` shows them")
    return row


def set_password(con, user_id: str, password: str) -> None:
    """Set a new password and end the user's sessions."""
    _existing(con, user_id)
    _check_password(password)
    _tx(con, "UPDATE users SET password_hash = $h, failed_attempts = 0 WHERE user_id = $u",
        {"h": _hasher.hash(password), "u": user_id})
    revoke_user_sessions(con, user_id)


def set_active(con, user_id: str, active: bool) -> None:
    """Enable or disable a user; disabling ends their sessions."""
    _existing(con, user_id)
    _tx(con, "UPDATE users SET active = $a WHERE user_id = $u", {"a": active, "u": user_id})
    if not active:
        revoke_user_sessions(con, user_id)


def list_users(con) -> pd.DataFrame:
    """Users without their password hashes."""
    return con.execute("SELECT user_id, display_name, role, department_id, staff_id, active, "
                       "password_hash IS NOT NULL AS has_password, created_at FROM users ORDER BY user_id").df()


def _viewer(row) -> Viewer:
    user_id, role, department_id, staff_id = row[:4]
    return Viewer(user=user_id, role=role, department_id=department_id, staff_id=staff_id)


def authenticate(con, user_id: str, password: str, now: dt.datetime | None = None) -> Viewer:
    """Check a user name and password; AuthError with a message safe to show if they do not match."""
    now = _now(now)
    row = _user(con, (user_id or "").strip().lower())
    if row is None or row[4] is None:
        try:
            _hasher.verify(_DUMMY, password or "")    # spend the same time as a real check
        except (VerificationError, InvalidHashError):
            pass
        raise AuthError(NO_MATCH)
    uid, failures, last_failed = row[0], row[6], row[7]
    if failures >= FREE_FAILURES and last_failed is not None:
        wait = min(dt.timedelta(seconds=30 * 2 ** (failures - FREE_FAILURES)), MAX_WAIT)
        left = (last_failed + wait) - now
        if left > dt.timedelta(0):
            raise AuthError(f"Too many failed attempts; try again in {int(left.total_seconds()) + 1} seconds.")
    try:
        _hasher.verify(row[4], password or "")
    except (VerificationError, InvalidHashError):
        _tx(con, "UPDATE users SET failed_attempts = failed_attempts + 1, last_failed_at = $t WHERE user_id = $u",
            {"t": now, "u": uid})
        raise AuthError(NO_MATCH) from None
    if not row[5]:
        raise AuthError(DISABLED)
    updates = {"u": uid, "h": _hasher.hash(password) if _hasher.check_needs_rehash(row[4]) else row[4]}
    _tx(con, "UPDATE users SET failed_attempts = 0, last_failed_at = NULL, password_hash = $h WHERE user_id = $u",
        updates)
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


def revoke_user_sessions(con, user_id: str, now: dt.datetime | None = None) -> None:
    """End every session of a user."""
    _tx(con, "UPDATE sessions SET revoked_at = $t WHERE user_id = $u AND revoked_at IS NULL",
        {"t": _now(now), "u": user_id})
