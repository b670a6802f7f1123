"""Streamlit caching for the pages, in one small module (style.md, pitfall 3).

One DuckDB connection per process (cache_resource); every query runs on its own cursor inside the
engine. Cached results are keyed by the viewer passed in as an argument — never read from st.session_state inside
a cached function — and reused while what they read is unchanged (metrics/compute/reads.py).
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import threading
import time

import cachetools
import pandas as pd
import pyarrow as pa
import streamlit as st

from metrics import access
from metrics.access import EVERYONE
from metrics.catalogue.definitions import Metric
from metrics.catalogue.parse import load_config
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.engine import Engine
from metrics.compute.sqlcheck import check_sql
from metrics.features import chain, outbox
from metrics.present import documents, views

CONFIG_PATH = "config.yaml"           # CX_CONFIG names another (read when the engine is first made)


def config_path() -> str:
    """The config file this server runs on: CX_CONFIG, else the shipped demo's."""
    return os.environ.get("CX_CONFIG") or CONFIG_PATH


def needs_setup() -> bool:
    """Whether this server was started on an organisation's config file that does not exist yet: the dashboard then
    shows only its set-up page (pages/setup.py), which writes it."""
    return not os.path.exists(config_path())


def database_override() -> str | None:
    """CX_DB: a database other than the config's (tests, the benchmark)."""
    return os.environ.get("CX_DB")


_logged_codes: set = set()


def log_setup_code(config: str, code: str) -> None:
    """Print the set-up code in the server's log, once per process."""
    if config not in _logged_codes:
        _logged_codes.add(config)
        print(f"No organisation configured at {config}: open the dashboard and set it up with the code {code}",
              flush=True)


@st.cache_resource
def engine() -> Engine:
    """The process's engine: config validated at start-up, database opened once, standard figures read from the
    figure store — built in the background after each change while pages keep the previous complete store
    (CX_FIGURE_STORE: background, the default; wait; off)."""
    config = load_config(config_path())
    check_sql(config)
    return Engine.open(database_override() or config.database_path, config,
                       figure_store=os.environ.get("CX_FIGURE_STORE", "background"))


# The page-data, chart and shown-table caches. Each result is kept with what it read (metrics/compute/reads.py: the
# tables its queries named, the stored figures it took, each with its version) and reused while all of those are
# unchanged in the state served now: a load of invoices leaves every cached list of comments, every chart of
# contacts, in place, and a figure-store swap only what the store's new entries change. Keys are plain tuples
# (function, viewer, arguments), hashed by Python: st.cache_data hashed each argument through its own recursive
# hasher and unpickled a copy of the value on every hit, 2 ms per call, a quarter of a warm Department page.
VIEW_ENTRIES, CHART_ENTRIES, TABLE_ENTRIES, TTL_SECONDS = 5000, 2000, 2000, 3600


class _Memo:
    """A single-flight cache of results checked against what they read: when several sessions miss the same key at
    once, one computes and the others wait for its result."""

    def __init__(self, maxsize: int):
        self._entries = cachetools.TTLCache(maxsize=maxsize, ttl=TTL_SECONDS)
        self._ready = threading.Condition()
        self._computing: set = set()
        self.computed = 0                      # results computed (not reused) since the start: tests, the bench

    def get(self, key, compute, eng: Engine | None):
        """compute()'s result for key: reused while what it read is unchanged (eng.versions_of), else computed now
        in one snapshot with what it reads recorded. eng None: the result depends on the key alone."""
        with eng.snapshot() if eng is not None else contextlib.nullcontext():
            while True:
                with self._ready:
                    while key in self._computing:
                        self._ready.wait()
                    entry = self._entries.get(key)
                if entry is not None and (eng is None or entry[1] == eng.versions_of(entry[0])):
                    if eng is not None:
                        eng.reads.note(entry[0])            # a computation using this result read what it read
                    return entry[2]
                with self._ready:                           # checked outside the lock: still nobody at it?
                    if key in self._computing or self._entries.get(key) is not entry:
                        continue
                    self._computing.add(key)
                    break
            try:
                if eng is None:
                    value, read = compute(), frozenset()
                else:
                    with eng.reads.collect() as got:
                        value = compute()
                    read = frozenset(got)
                with self._ready:
                    self._entries[key] = (read, eng.versions_of(read) if eng is not None else (), value)
                    self.computed += 1
            finally:
                with self._ready:
                    self._computing.discard(key)
                    self._ready.notify_all()
            if eng is not None:
                eng.reads.note(read)
            return value

    def clear(self) -> None:
        with self._ready:
            self._entries.clear()


_views, _charts, _shown = _Memo(VIEW_ENTRIES), _Memo(CHART_ENTRIES), _Memo(TABLE_ENTRIES)


def view(func, viewer, *args):
    """func(engine, viewer, *args) — a metrics function — cached while nothing it read changes. One copy serves
    every viewer when access.shared_viewer says the result is the same for all of them. Each caller gets its own
    copy of the containers (frames copy-on-write, pandas 3), so a page that changes what it got changes nobody
    else's."""
    eng = engine()
    shared = access.shared_viewer(func, viewer, args)
    key = (f"{func.__module__}.{func.__qualname__}", shared, tuple(_hashable(a) for a in args))
    return _own_copy(_views.get(key, lambda: func(eng, shared, *args), eng))


def chart(build, call: tuple, *using):
    """build(view(*call), *using): a plotly figure drawn from one page-data call (call = (func, viewer, *args), as
    view takes them), drawn once while the data it shows holds, per viewer and arguments like that data — drawing
    costs 10-30 ms of a page's CPU, far more than the rest of a warm page. The figure is shared as is:
    st.plotly_chart copies it (to_dict) and never changes it. `using` are the builder's other arguments (a metric,
    names)."""
    func, viewer, *args = call
    shared = access.shared_viewer(func, viewer, tuple(args))
    key = (f"{build.__module__}.{build.__qualname__}", f"{func.__module__}.{func.__qualname__}", shared,
           tuple(_hashable(a) for a in args), tuple(_hashable(u) for u in using))
    return _charts.get(key, lambda: build(view(func, viewer, *args), *using), engine())


class _Args:
    """A call's arguments as a cache key: compared and hashed by their hashable form (_hashable), carrying the
    values themselves to the call."""
    __slots__ = ("key", "values")

    def __init__(self, key: tuple, values):
        self.key, self.values = key, tuple(values)

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, _Args) and self.key == other.key


def _hashable(x):
    """What an argument is keyed by: a metric by its key (the config does not change under a process), a list as
    a tuple, a dict by its sorted items."""
    if isinstance(x, Metric):
        return ("metric", x.key)
    if isinstance(x, (list, tuple)):
        return tuple(_hashable(v) for v in x)
    if isinstance(x, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in x.items()))
    return x


def _own_copy(value):
    """A cached value as a caller may change it without changing the cache: frames and series are copied
    shallowly (copy-on-write: writing to one copies it), lists, dicts and tuples rebuilt around their items."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy(deep=False)
    if isinstance(value, list):
        return [_own_copy(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_own_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _own_copy(v) for k, v in value.items()}
    return value


def shown(build, df: pd.DataFrame, *using, names_from_data: bool = True) -> pa.Table:
    """build(df, *using) — a table as people read it (names for keys, dates in words) — as an Arrow table, made
    once per content of `df` (and, when `names_from_data`, while the names it read for keys are unchanged):
    formatting 500 records for people costs 10 ms a run, hashing their content 1 ms. Keyed by the content, so a
    table is shared only with someone shown exactly the same rows. A frame Arrow cannot take as it is (mixed types
    in a column) is built every time."""
    try:
        digest = _digest(df)
    except (pa.ArrowException, TypeError, ValueError):
        return pa.Table.from_pandas(build(df, *using), preserve_index=False)
    key = (f"{build.__module__}.{build.__qualname__}", digest, tuple(_hashable(u) for u in using))
    return _shown.get(key, lambda: pa.Table.from_pandas(build(df, *using), preserve_index=False),
                      engine() if names_from_data else None)


def _digest(df: pd.DataFrame) -> bytes:
    """A frame's content — column names, types, index and every value — as a 32-byte hash of its Arrow form."""
    table = pa.Table.from_pandas(df, preserve_index=True)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as out:
        out.write_table(table)
    return hashlib.blake2b(sink.getvalue(), digest_size=32).digest()


def clear() -> None:
    """Forget every cached page-data call, chart and shown table (tests, and the cold-page measurements)."""
    for memo in (_views, _charts, _shown):
        memo.clear()


def warm_up() -> None:
    """Compute the shared figures of every role's first page, the chain page's and each department's theme trend
    for the default period in a background thread, so the first people after a start or a load find them cached
    (called at start-up and after each load).
    Only shared entries are warmed, so nothing about a person is computed for nobody."""
    def work():
        try:
            eng = engine()
            if eng.figure_store != "off":
                eng.refresh_figures()          # every standard figure in bulk first; the views below read it
            period = eng.default_period()
            trend_period = documents.trend_period(period)
            view(views.cards, EVERYONE, ORGANISATION, period, eng.config.page("overview", "headline"))
            view(views.card_signals, EVERYONE, ORGANISATION, period, eng.config.page("overview", "headline"))
            view(views.goal_table, EVERYONE, ORGANISATION, period)
            view(views.holds_back, EVERYONE, period)
            view(chain.attribution, EVERYONE, period)
            view(views.heatmap, EVERYONE, period, "structure")
            view(views.trend, EVERYONE, eng.config.page("overview", "headline")[0], ORGANISATION, trend_period, "month")
            for func in (chain.referral_flow, chain.supplier_payments, chain.internal_matrix, chain.decline_reasons):
                view(func, EVERYONE, period)         # the chain page's organisation-wide parts (0.2 s each at 10 M)
            for key, d in eng.config.departments.items():
                if d.level == "department":
                    unit = Scope("department", key)
                    view(views.cards, EVERYONE, unit, period, eng.config.page("department", "headline"))
                    view(views.card_signals, EVERYONE, unit, period, eng.config.page("department", "headline"))
                    view(views.department_contribution, EVERYONE, key, period)
                    view(views.theme_trend, EVERYONE, unit, trend_period, "month")
            view(views.heatmap, EVERYONE, period, "concern")     # the grid by special causes: an SPC chart a cell
        except Exception:            # a warm-up is only a head start: a page computes what it needs anyway
            pass
    threading.Thread(target=work, name="cache-warm-up", daemon=True).start()


_warmed: set = set()
_postman: dict = {}
POST_SECONDS = 60


def start_postman(eng: Engine) -> threading.Event | None:
    """With config's `mail`, once per process: a background thread sending the outbox's due messages every
    POST_SECONDS (metrics.features.outbox: failures stay queued and back off), so alerts are e-mailed while the
    dashboard holds the database and `python -m metrics alerts run` cannot. Returns the event that stops it."""
    if eng.config.mail is None or "stop" in _postman:
        return _postman.get("stop")
    stop = _postman["stop"] = threading.Event()

    def run():
        log = logging.getLogger("cx.outbox")
        while True:
            try:
                done = outbox.deliver(eng.con, eng.config)
                if done.sent or done.failed:
                    log.info("e-mail: %s", done.summary())
            except Exception:                    # never let the thread die: the next round tries again
                log.exception("e-mail delivery failed")
            if stop.wait(POST_SECONDS):
                return
    threading.Thread(target=run, name="cx-outbox", daemon=True).start()
    return stop


def maybe_warm_up() -> None:
    """Start a warm-up once per state of the loaded data (server start, each load), not after every edit.
    CX_WARM_UP=0 turns it off (the page tests measure cold pages)."""
    if os.environ.get("CX_WARM_UP", "1") != "1":
        return
    mark = engine().last_load()
    if mark not in _warmed:
        _warmed.add(mark)
        warm_up()


@contextlib.contextmanager
def page_run(eng: Engine):
    """One script run — sign-in check, sidebar and page — on one consistent state of the data, with one read of the
    data version for all of it (every cached figure is keyed by it): engine.snapshot.

    With CX_RUN_LOG set (the load test sets it), each run appends its wall and CPU seconds (this thread's), its
    page and the "last loaded" of the state it served to that file: the server-side time per page run, apart from
    how fast the browsers are, and when a load's figures became visible."""
    path = os.environ.get("CX_RUN_LOG")
    wall, cpu, mark = time.perf_counter(), time.thread_time(), None
    try:
        with eng.snapshot():
            try:
                yield
            finally:
                mark = eng.last_load() if path else None      # read once per snapshot already: free here
    finally:
        if path:
            page = str(getattr(st.context, "url", "") or "").rsplit("/", 1)[-1].split("?")[0]
            with open(path, "a", encoding="utf-8") as f:
                f.write(f"{time.time():.3f}\t{time.perf_counter() - wall:.4f}\t{time.thread_time() - cpu:.4f}\t"
                        f"{page}\t{mark}\n")


_frozen = threading.Event()


def freeze_heap() -> None:
    """Once per process, after the first page run: collect, then move every object alive now (modules, pandas,
    plotly, the engine, the config) into the permanent generation (gc.freeze), so Python's generational
    collections never traverse them again. Stands in for Streamlit's gc.collect(2) after every run, which
    .streamlit/config.toml turns off (runner.postScriptGC): that full collection cost 40 % of a page view."""
    if not _frozen.is_set():
        _frozen.set()
        gc.collect()
        gc.freeze()
