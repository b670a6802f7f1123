"""How the dashboard writes: checked input, one transaction, an audit row, and no silent overwrites.

Every function that changes data (cases, sharing thanks, recognition, suggestions) goes through here:
- `text` and `choice` turn what a person typed into a clean value or one clear sentence (MetricsError)
  saying what is wrong with which field and what would be accepted; nothing is written then;
- `transaction` runs the change on its own cursor and commits it whole, or rolls it back;
- `update_row` changes a row only if it is still at the version the person opened (optimistic
  concurrency): otherwise `Conflict` says who changed it and when, and nothing is written;
- every change is recorded in `audit_log` (who, when, what, each column's before and after) and moves
  the database's data version, so every page shows it on its next run.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
import uuid
import zoneinfo
from contextlib import contextmanager
from typing import Any, Iterator

import duckdb

from metrics.access import Viewer
from metrics.catalogue.definitions import Config
from metrics.errors import AccessDenied, MetricsError, UnknownError
from metrics.sql import ident

# Markup a browser, a mail client or a Markdown renderer would act on. A lone "<" is text ("a<b", "x < y"):
# refused are comments and declarations, complete tags, unclosed tags with an attribute, elements that run or
# load something even unclosed, and script or data URLs (matched with tabs and line breaks removed, as URL
# parsers drop them: "java\tscript:").
_MARKUP = re.compile(
    r"<[!?]"
    r"|</?[a-z][a-z0-9:-]*(?:\s[^<>]*)?/?>"
    r"|</?[a-z][a-z0-9:-]*\s+[a-z][a-z0-9:-]*\s*="
    r"|</?(?:script|style|iframe|frame|frameset|object|embed|applet|svg|math|img|image|link|meta|base|form|input|"
    r"button|textarea|select|video|audio|source|body|html|xml)\b"
    r"|(?<![a-z0-9+.-])(?:javascript|vbscript|livescript)\s*:"
    r"|(?<![a-z0-9+.-])data\s*:\s*(?:[a-z]+/[a-z0-9.+-]+|[;,])",
    re.IGNORECASE)
_URL_IGNORED = re.compile(r"[\t\n\r]")
# Characters refused in free text, by Unicode category (unicodedata), and how the message names them. Tabs and
# line breaks (\t \n \r) stay allowed in every field, as before. Cf covers bidirectional overrides and isolates
# (U+202A–U+202E, U+2066–U+2069), zero-width characters (U+200B–U+200D, U+2060) and the byte-order mark
# (U+FEFF); Cc covers NEL (U+0085); Zl and Zp are U+2028 and U+2029.
_LAYOUT = "\t\n\r"
_REFUSED = {"Cc": "a control character", "Cf": "an invisible formatting character", "Zl": "a line separator",
            "Zp": "a paragraph separator", "Co": "a private-use character", "Cs": "a lone surrogate",
            "Cn": "an unassigned character"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"(?<![\d-])\+?(?:\d ?){10,13}(?![\d-])")     # 10+ digits, perhaps spaced


class Conflict(MetricsError):
    """The row changed since the person opened it; they must reload and decide again."""


def now(config: Config) -> dt.datetime:
    """The organisation's local time now, to the second (timestamps are stored as local time)."""
    tz = zoneinfo.ZoneInfo(config.organisation.time_zone)
    return dt.datetime.now(tz).replace(tzinfo=None, microsecond=0)


def text(value: Any, field: str, max_len: int, required: bool = True, public: bool = False) -> str | None:
    """Clean free text from a form.

    Args:
        value: what was typed.
        field: the field's name as the form shows it (for the message).
        max_len: the longest accepted text, in characters.
        required: whether it may be empty.
        public: the text will be shown to the public, so e-mail addresses and phone numbers are refused.
    Returns:
        The stripped text, or None when empty and not required. Raises MetricsError otherwise.
    """
    s = "" if value is None else str(value).strip()
    if not s:
        if required:
            raise MetricsError(f"{field} is empty: write a few words (at most {max_len} characters)")
        return None
    if len(s) > max_len:
        raise MetricsError(f"{field} is {len(s)} characters long; at most {max_len} are accepted")
    for i, ch in enumerate(s):
        kind = _REFUSED.get(unicodedata.category(ch))
        if kind and ch not in _LAYOUT:
            name = unicodedata.name(ch, "")
            raise MetricsError(f"{field} contains {kind} (U+{ord(ch):04X}{' ' + name if name else ''}) at character "
                               f"{i + 1}; remove it and write plain text (letters, digits, punctuation, spaces, "
                               "tabs and new lines are accepted)")
    flat = _URL_IGNORED.sub("", s)
    if m := _MARKUP.search(flat):
        raise MetricsError(f"{field} contains markup ({flat[m.start():m.start() + 12]!r}); write plain text: a lone "
                           "< as in a < b is fine, but not tags such as <b>, comments, or script or data links")
    if public and (_EMAIL.search(s) or _PHONE.search(s)):
        raise MetricsError(f"{field} is shown to the public and contains an e-mail address or phone number; "
                           "remove personal details")
    return s


def choice(value: Any, field: str, allowed) -> str:
    """One of the allowed values, or a sentence listing them."""
    allowed = list(allowed)
    if value is None or value == "":
        raise MetricsError(f"{field} is not chosen; choose one of: {', '.join(map(str, allowed))}")
    if value not in allowed:
        raise MetricsError(f"{field} {value!r} is not accepted; choose one of: {', '.join(map(str, allowed))}")
    return value


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, viewer: Viewer | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor in one transaction: committed if the block finishes, rolled back if it raises.

    A write-write conflict with another session's open transaction becomes `Conflict`. Given the viewer, a
    view-as persona is refused before anything starts (audit() refuses it in any case).
    """
    if viewer is not None:
        may_write(viewer)
    cur = con.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
        cur.execute("COMMIT")
    except duckdb.TransactionException:
        cur.execute("ROLLBACK")
        raise Conflict("someone else saved a change to the same record at the same moment; nothing was saved — "
                       "reload and try again") from None
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    finally:
        cur.close()


def may_write(viewer: Viewer) -> None:
    """Raise AccessDenied for a persona an administrator is viewing as: view-as only looks."""
    if viewer.read_only:
        raise AccessDenied(read_only_reason(viewer))


def read_only_reason(viewer: Viewer) -> str:
    """The sentence a page shows beside disabled controls, and a refused write raises, while viewing as."""
    return (f"{viewer.actor.user} is viewing as {viewer.user}, which is read-only: nothing can be changed from this view; "
            "choose (myself) under View as to act as yourself")


def audit(cur: duckdb.DuckDBPyConnection, viewer: Viewer, at: dt.datetime, action: str, entity: str,
          entity_id: str, changes: dict) -> None:
    """Record a change (inside the caller's transaction) and move the data version. Every dashboard write comes
    through here, so this is where a view-as persona is refused (the transaction then rolls back) and why the
    trail always names the person really signed in."""
    may_write(viewer)
    viewer = viewer.actor
    cur.execute("""INSERT INTO audit_log (acted_at, user_name, role, staff_id, action, entity, entity_id, changes)
                   VALUES ($at, $u, $r, $s, $a, $e, $i, $c)""",
                {"at": at, "u": viewer.user, "r": viewer.role, "s": viewer.staff_id, "a": action, "e": entity,
                 "i": entity_id, "c": json.dumps(changes, default=str, ensure_ascii=False)})
    cur.execute("INSERT OR REPLACE INTO meta VALUES ('last_write', (SELECT CAST(max(audit_id) AS VARCHAR) FROM audit_log))")


def insert_row(cur: duckdb.DuckDBPyConnection, viewer: Viewer, at: dt.datetime, action: str, table: str,
               fields: dict) -> None:
    """Insert one new row (inside the caller's transaction) and audit it; the first field is its key."""
    cols = list(fields)
    cur.execute(f"INSERT INTO {ident(table)} ({', '.join(ident(c) for c in cols)}) "
                f"VALUES ({', '.join(f'$v{i}' for i in range(len(cols)))})",
                {f"v{i}": fields[c] for i, c in enumerate(cols)})
    audit(cur, viewer, at, action, table, str(fields[cols[0]]), {c: [None, fields[c]] for c in cols[1:]})


def fetch(cur: duckdb.DuckDBPyConnection, table: str, key_col: str, key: str, what: str) -> dict:
    """One row as a dict; UnknownError naming the record if there is none."""
    rel = cur.execute(f"SELECT * FROM {ident(table)} WHERE {ident(key_col)} = $k", {"k": key})
    row = rel.fetchone()
    if row is None:
        raise UnknownError(f"there is no {what} {key!r}; it may have been removed — reload the page")
    return dict(zip([d[0] for d in rel.description], row))


def update_row(cur: duckdb.DuckDBPyConnection, viewer: Viewer, at: dt.datetime, action: str, table: str,
               key_col: str, row: dict, expected_version: int, changes: dict, what: str) -> None:
    """Apply `changes` to a row fetched in this transaction, if it is still at `expected_version`.

    Args:
        cur: the transaction's cursor.
        viewer, at: who acts, and when (for the audit trail).
        action: the audit action name, e.g. "case.follow_up".
        table, key_col: where the row lives.
        row: the row as fetched (fetch) inside this transaction.
        expected_version: the version the person saw when they opened the record.
        changes: column → new value.
        what: how to name the record in messages ("case F0001234").
    """
    if int(row["version"]) != int(expected_version):
        raise Conflict(f"{what} was changed{last_change(cur, table, row[key_col])} since you opened it; nothing was "
                       "saved — reload to see the change, then try again")
    sets = ", ".join(f"{ident(c)} = $v{i}" for i, c in enumerate(changes))
    params = {f"v{i}": v for i, v in enumerate(changes.values())}
    params.update(k=row[key_col], ver=int(expected_version))
    n = cur.execute(f"UPDATE {ident(table)} SET {sets}, version = version + 1 "
                    f"WHERE {ident(key_col)} = $k AND version = $ver", params).fetchone()[0]
    if n != 1:
        raise Conflict(f"{what} was changed since you opened it; nothing was saved — reload and try again")
    audit(cur, viewer, at, action, table, str(row[key_col]), {c: [row.get(c), v] for c, v in changes.items()})


def last_change(cur: duckdb.DuckDBPyConnection, table: str, key: str) -> str:
    """' by NAME at TIME' of the latest audited change to a record ('' if none is recorded)."""
    last = cur.execute("SELECT user_name, acted_at FROM audit_log WHERE entity = $t AND entity_id = $k "
                       "ORDER BY audit_id DESC LIMIT 1", {"t": table, "k": key}).fetchone()
    return f" by {last[0]} at {last[1]:%d %b %Y %H:%M}" if last else ""


def change_notice(con: duckdb.DuckDBPyConnection, table: str, key: str, what: str) -> str:
    """What a page says when a record changed under the person who had it open: nothing they pressed since
    was saved (the write was refused as a conflict, or its control no longer applies)."""
    cur = con.cursor()
    try:
        return (f"{what} was changed{last_change(cur, table, key)} since you opened it; anything you pressed since "
                "was not saved — it is shown below as it is now")
    finally:
        cur.close()


def new_id(prefix: str) -> str:
    """A key for a record made in the dashboard (never collides with loaded ids, which have no 'W')."""
    return f"{prefix}W{uuid.uuid4().hex[:12].upper()}"
