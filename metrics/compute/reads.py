"""What a computation read, so that a result cached in the server is reused exactly while nothing it read changed.

A page-data call (app_cache.view) runs inside `Reads.collect()`; every query it runs on the engine's cursors or on
Spark is scanned for the tables it names, and every standard figure it takes from the figure store is noted by its
metric. What it read is then a set of names, each with a version the engine can read again for the state it
serves now (ServedState.versions_of):

- `t:<table>` — a table whose every change is a load (load_batches) or an audited dashboard write (audit_log): the
  loadable tables. Its version is the table's own (ServedState.table_versions).
- `m:<metric>` — a metric's figures taken from the figure store: the version of the store's entries for that metric
  (its tables' versions when they were computed; carried over unchanged from store to store while they hold).
- `served` — the served state itself (its "last loaded", its range): the served version.
- `all` — a table without a version of its own (load_batches, users, sessions...): every change of the data.
- `*` — what changes every figure (a demo build, the calendar, the departments, Spark's export): always read.

So a list of comments stays cached through an invoices load and a figure-store swap, and a card reading the store
is recomputed when that store's entries for its metric change — not when some other table does.
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import cachetools

from metrics.store.database import DERIVED, LOADABLE

# Tables whose changes always move their own version: every one of them is loaded through load_batches, and every
# dashboard write to one is audited under its name (metrics/store/writes.py); the targets are only ever written so.
VERSIONED = frozenset(LOADABLE) | {"targets"} | frozenset(DERIVED)     # DERIVED: views versioned as their table
# Copies of config.yaml (departments, calendar): rewritten only with a change of "*" (their fingerprints in meta).
FROM_CONFIG = frozenset({"departments", "calendar", "demand_classes", "demand_reasons", "demand_settings"})
ALWAYS = "*"


class Reads:
    """One engine's record of what each thread's computations read (a stack: a computation inside another — a chart
    drawing cached page data — adds what it read to both)."""

    def __init__(self, tables: frozenset[str]):
        self._local = threading.local()
        names = sorted(tables, key=len, reverse=True)
        self._pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None
        self._of_sql = cachetools.LRUCache(maxsize=4096)      # SQL text → what it reads (the texts are few and fixed)
        self._of_sql_lock = threading.Lock()

    def _stack(self) -> list:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    @contextmanager
    def collect(self):
        """Note everything read in this thread inside the block into the set yielded (which always holds "*")."""
        got = {ALWAYS}
        stack = self._stack()
        stack.append(got)
        try:
            yield got
        finally:
            stack.pop()

    @contextmanager
    def quiet(self):
        """Reads that serve the engine itself (the data version, the figure store's build and file), noted nowhere."""
        self._local.quiet = getattr(self._local, "quiet", 0) + 1
        try:
            yield
        finally:
            self._local.quiet -= 1

    def active(self) -> bool:
        return bool(getattr(self._local, "stack", None)) and not getattr(self._local, "quiet", 0)

    def note(self, names) -> None:
        """Add names read to every computation open in this thread."""
        if self.active():
            for got in self._local.stack:
                got.update(names)

    def note_sql(self, sql: str) -> None:
        """Add what a query reads: each table it names (a name that only looks like a table is read too: safe)."""
        if not self.active():
            return
        with self._of_sql_lock:
            names = self._of_sql.get(sql)
        if names is None:
            names = frozenset(_name(t) for t in (self._pattern.findall(sql) if self._pattern else ()))
            with self._of_sql_lock:
                self._of_sql[sql] = names
        self.note(names)


def _name(table: str) -> str:
    if table in VERSIONED:
        return f"t:{table}"
    return ALWAYS if table in FROM_CONFIG else "all"


class Tracked:
    """A DuckDB cursor whose queries are noted (Reads.note_sql) before they run; everything else is the cursor's."""
    __slots__ = ("_cur", "_reads")

    def __init__(self, cur, reads: Reads):
        self._cur, self._reads = cur, reads

    def execute(self, sql, *args, **kwargs):
        self._reads.note_sql(sql)
        return self._cur.execute(sql, *args, **kwargs)

    def sql(self, sql, *args, **kwargs):
        self._reads.note_sql(sql)
        return self._cur.sql(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._cur, name)
