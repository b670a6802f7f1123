"""What state of the data an engine serves: the data version (what invalidates every cached figure), the facts
read once per version (the data's range, the last load, whether it is the demo), and the figure store built for
that version — in bulk after each change, swapped in whole, kept in the file (metrics/compute/figures.py).

`ServedState` is a part of `Engine` (metrics/compute/engine.py), kept apart so that the engine's one code path
for figures reads on its own. It uses the engine's connection, config, snapshot, cursors and reads.
"""
from __future__ import annotations

import datetime as dt
import threading

import duckdb
import pandas as pd

from metrics.compute import figures
from metrics.compute.periods import Period, last_full_month
from metrics.errors import MetricsError
from metrics.store.database import DERIVED

_FINGERPRINT = """SELECT (SELECT count(*) || '/' || coalesce(CAST(max(loaded_at) AS VARCHAR), '') || '/'
                          || coalesce(CAST(max(unloaded_at) AS VARCHAR), '') FROM load_batches),
                         (SELECT max(audit_id) FROM audit_log),
                         (SELECT string_agg(key || '=' || value, ';' ORDER BY key) FROM meta)"""
_NOT_FIGURES = ("last_write", "accounts_changed")      # meta keys no figure depends on (each table's writes count)


class ServedState:
    """The data version, the facts of each version and the figure store: a part of Engine."""

    def _per_version(self, name: str, compute):
        """A fact about the state of the data (its range, last load, whether it is the demo), computed once per data
        version — every page run asks, and the data version is read once per snapshot anyway."""
        version = self.data_version()
        known_version, facts = self._state
        if known_version != version:
            facts = {}
            self._state = (version, facts)
        if name not in facts:
            with self.reads.collect() as read:
                value = compute()
            facts[name] = (value, frozenset(read))
        value, read = facts[name]
        self.reads.note(read)                  # what the fact was read from is read by whoever asks for it
        return value

    def per_version(self, name: str, compute):
        """A fact of a layer above computed once per data version, like the engine's own (e.g. the annotations every
        trend filters, metrics.features.events); `name` must not be one of the engine's (range, last_load, …)."""
        return self._per_version(f"x:{name}", compute)

    def data_range(self) -> tuple[dt.date, dt.date] | None:
        """First and last day with a row in the sources `organisation.periods_from` names (config), in the state
        whose figures are served (the figure store's, while the next store is built); None while they are empty."""
        self.reads.note(("served",))
        store = self.served_figures()
        return store.data_range if store is not None else self._live_range()

    def _live_range(self) -> tuple[dt.date, dt.date] | None:
        def compute():
            sources = [self.config.sources[k] for k in self.config.organisation.periods_from]
            spans = " UNION ALL ".join(f"SELECT CAST(min({s.time}) AS TIMESTAMP) AS a, CAST(max({s.time}) AS TIMESTAMP) "
                                       f"AS b FROM {s.table}" for s in sources)
            row = self._facts(f"SELECT CAST(min(a) AS DATE) AS a, CAST(max(b) AS DATE) AS b FROM ({spans}) spans")
            a, b = row.iloc[0]
            return None if pd.isna(a) else (pd.Timestamp(a).date(), pd.Timestamp(b).date())
        return self._per_version("range", compute)

    def default_period(self) -> Period:
        """The last full calendar month in the data."""
        rng = self.data_range()
        if rng is None:
            raise MetricsError("the database has no contacts yet; load data or build the demo, or give --from and --to")
        return last_full_month(rng[1])

    def table_versions(self) -> dict[str, str]:
        """Each table's version — its load batches (count, last load, last unload) and the last dashboard write to
        it — and "*", what changes every figure (a demo build, the calendar, the departments). Read once per
        snapshot (a page run asks many times)."""
        known = getattr(self._local, "versions", None)
        if known is not None and getattr(self._local, "cursor", None) is not None:
            return known
        with self.reads.quiet(), self.cursor() as cur:   # one cheap row that moves whenever any table's version does
            mark = cur.execute(_FINGERPRINT).fetchone()
        cached = self._versions
        if cached is not None and cached[0] == mark:
            versions = cached[1]
            if getattr(self._local, "cursor", None) is not None:
                self._local.versions = versions
            return versions
        with self.reads.quiet():
            df = self._versions_table()
        out: dict[str, list[str]] = {}
        for kind, k, v in sorted(zip(df["kind"], df["k"], df["v"])):
            if kind == "meta":
                if k not in _NOT_FIGURES:
                    out.setdefault("*", []).append(f"{k}={v}")
            else:
                out.setdefault(k, []).append(f"{kind}={v}")
        versions = {k: ";".join(v) for k, v in out.items()}
        versions.update({view: "+".join(versions.get(t, "") for t in tables) for view, tables in DERIVED.items()
                         if any(t in versions for t in tables)})
        versions["@"] = ";".join(f"{k}={v}" for kind, k, v in sorted(zip(df["kind"], df["k"], df["v"])) if kind == "meta"
                                 and k in _NOT_FIGURES)
        if self.spark is not None:
            versions["*"] = versions.get("*", "") + f"|spark={self.spark.version()}"
        if self.spark is None:               # Spark's export can change under an unchanged database: always asked
            self._versions = (mark, versions)
        if getattr(self._local, "cursor", None) is not None:
            self._local.versions = versions
        return versions

    def _versions_table(self) -> pd.DataFrame:
        return self.read_store("""
            SELECT 'load' AS kind, table_name AS k, count(*) || '/' || coalesce(CAST(max(loaded_at) AS VARCHAR), '')
                   || '/' || coalesce(CAST(max(unloaded_at) AS VARCHAR), '') AS v FROM load_batches GROUP BY table_name
            UNION ALL SELECT 'write', entity, CAST(max(audit_id) AS VARCHAR) FROM audit_log GROUP BY entity
            UNION ALL SELECT 'meta', key, value FROM meta""")

    def versions_of(self, names) -> tuple:
        """The version, in the state served now, of each thing a computation read (metrics/compute/reads.py), in
        sorted order: equal to what was recorded when it ran exactly when none of them changed since."""
        tables = self.table_versions()
        store = self.served_figures()
        out = []
        for name in sorted(names):
            if name.startswith("t:"):
                out.append(tables.get(name[2:], ""))
            elif name.startswith("m:"):
                out.append(store.metric_versions.get(name[2:]) if store is not None else None)
            elif name == "served":
                out.append(self.served_version())
            elif name == "*":
                out.append(tables.get("*", ""))
            else:                                # "all": anything at all
                out.append(self.data_version())
        return tuple(out)

    def data_version(self) -> str:
        """Changes whenever data is written (loads, unloads, demo builds, dashboard writes): the key that
        invalidates cached figures."""
        return "|".join(f"{k}:{v}" for k, v in sorted(self.table_versions().items()))

    def served_version(self) -> str:
        """What a page's cached results are keyed by: the data version and the version of the figure store serving
        it (the previous one while the next is built), so nothing cached outlives either."""
        store = self.served_figures()
        return self.data_version() + (f"#store:{store.version}" if store is not None else "")

    def last_load(self) -> str | None:
        """When data last arrived: the newest load batch, else when the demo was built — of the state whose
        figures are served (the figure store's, while the next store is built)."""
        self.reads.note(("served",))
        store = self.served_figures()
        return store.last_load if store is not None else self._last_load()

    def _last_load(self) -> str | None:
        return self._per_version("last_load", lambda: self.read_store(
            """SELECT coalesce((SELECT CAST(max(loaded_at) AS VARCHAR) FROM load_batches),
                              (SELECT value FROM meta WHERE key = 'built_at')) AS t""").iloc[0, 0])

    # --- the figure store ----------------------------------------------------------------------
    def served_figures(self) -> figures.FigureStore | None:
        """The complete figure store to read standard figures from, or None (mode off, or none built yet in the
        background). When the data changed: mode wait builds the new store now; mode background starts one build
        and serves the previous store until it is complete. Inside a snapshot, the same store all through it."""
        pinned = getattr(self._local, "store", None) if getattr(self._local, "cursor", None) is not None else False
        if pinned:
            return pinned[0]
        store = self._choose_store()
        if pinned is None:
            self._local.store = (store,)
        return store

    def _choose_store(self) -> figures.FigureStore | None:
        if self.figure_store == "off":
            return None
        if not self._kept_read:
            self._read_kept()
        store = self._store
        if store is not None and store.version == self.data_version():
            return store
        if self.figure_store == "saved":
            return None
        if self.figure_store == "wait":
            return self.refresh_figures()
        version = self.data_version()
        if self._store_failed != version and (self._store_thread is None or not self._store_thread.is_alive()):
            self._store_thread = threading.Thread(target=self._build_quietly, args=(version,), name="figure-store",
                                                  daemon=True)
            self._store_thread.start()
        return store

    def _read_kept(self) -> None:
        """Start from the store kept in the file (a restart, the command line, a store Spark built): served at
        once when it is of the data as it is now, else — in background mode — served until the next is built,
        and the next build carries over every metric whose tables did not change since."""
        with self._store_lock:
            if self._kept_read:
                return
            try:
                with self.reads.quiet(), self.cursor() as cur:
                    kept = figures.load(cur)
            except duckdb.Error:             # a file from before the store was kept (read-only: not upgraded)
                kept = None
            if kept is not None and self._store is None:
                self._store = kept
            self._kept_read = True

    def _build_quietly(self, version: str) -> None:
        try:
            self.refresh_figures()
        except Exception:        # the pages compute live meanwhile; the next change of the data tries again
            self._store_failed = version

    def refresh_figures(self) -> figures.FigureStore:
        """Build the figure store for the data as it is now (one build at a time: a second caller waits for the
        first and gets its store), recomputing only the metrics whose tables changed, and swap it in whole; then
        keep it in the file (a writable engine), after it is served."""
        if not self._kept_read:
            self._read_kept()
        with self._store_lock, self.reads.quiet():
            with self.snapshot():
                version = self.data_version()
                old = self._store
                if old is not None and old.version == version:
                    return old
                new = figures.build(self._facts, self.config, self._live_range(), version, self.table_versions(),
                                    self._last_load(), old)
            self._store = new
            if getattr(self._local, "cursor", None) is not None:
                self._local.store = (new,)       # this snapshot reads the store it built from now on
            if self.keep:
                try:
                    self.last_save_seconds = figures.save(self.con, new)
                except duckdb.Error:         # served all the same; the next build tries again
                    self.last_save_seconds = None
            return new

    def synthetic(self) -> bool:
        """True when the database holds generated demo data."""
        def compute():
            df = self.read_store("SELECT value FROM meta WHERE key = 'synthetic'")
            return not df.empty and df.iloc[0, 0] == "true"
        return self._per_version("synthetic", compute)
