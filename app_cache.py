"""Streamlit caching for the pages, in one small module (style.md, pitfall 3).

One DuckDB connection per process (cache_resource); every query runs on its own cursor inside the
engine. Cached figures are keyed by the database's data version and by the viewer passed in as an
argument — never read from st.session_state inside a cached function.
"""
from __future__ import annotations

import contextlib
import gc
import os
import threading
import time

import streamlit as st

from metrics import access
from metrics.access import EVERYONE
from metrics.catalogue.definitions import Metric
from metrics.catalogue.parse import load_config
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.engine import Engine
from metrics.compute.periods import Period, add_months
from metrics.compute.sqlcheck import check_sql
from metrics.features import chain
from metrics.present import views

CONFIG_PATH = "config.yaml"           # CX_CONFIG names another (read when the engine is first made)


@st.cache_resource
def engine() -> Engine:
    """The process's engine: config validated at start-up, database opened once, standard figures read from the
    figure store — built in the background after each change while pages keep the previous complete store
    (CX_FIGURE_STORE: background, the default; wait; off)."""
    config = load_config(os.environ.get("CX_CONFIG") or CONFIG_PATH)
    check_sql(config)
    return Engine.open(os.environ.get("CX_DB", config.database_path), config,
                       figure_store=os.environ.get("CX_FIGURE_STORE", "background"))


@st.cache_data(show_spinner=False, max_entries=5000, ttl=3600)
def _view(name: str, data_version: str, viewer, args: tuple, _func):
    """One cached page-data call; the key is (function name, data version, viewer, arguments)."""
    return _func(engine(), viewer, *args)


def view(func, viewer, *args):
    """func(engine, viewer, *args) — a metrics function — cached until the data changes. One copy serves
    every viewer when access.shared_viewer says the result is the same for all of them."""
    return _view(f"{func.__module__}.{func.__qualname__}", engine().served_version(),
                 access.shared_viewer(func, viewer, args), args, func)


def chart(build, call: tuple, *using):
    """build(view(*call), *using): a plotly figure drawn from one page-data call (call = (func, viewer, *args), as
    view takes them), drawn once per served version, viewer and arguments like the data it shows — drawing costs
    10-30 ms of a page's CPU, far more than the rest of a warm page. The figure is shared as is: st.plotly_chart
    copies it (to_dict) and never changes it. `using` are the builder's other arguments (a metric, names)."""
    func, viewer, *args = call
    shared = access.shared_viewer(func, viewer, tuple(args))
    return _chart(f"{build.__module__}.{build.__qualname__}", f"{func.__module__}.{func.__qualname__}",
                  engine().served_version(), shared, tuple(args), tuple(_hashable(u) for u in using),
                  build, func, using)


def _hashable(x):
    """What a builder argument is keyed by: a metric by its key (the config does not change under a process)."""
    return x.key if isinstance(x, Metric) else x


@st.cache_resource(show_spinner=False, max_entries=2000, ttl=3600)
def _chart(build_name: str, func_name: str, served_version: str, viewer, args: tuple, using_key: tuple,
           _build, _func, _using):
    return _build(view(_func, viewer, *args), *_using)


def warm_up() -> None:
    """Compute the shared figures of every role's first page for the default period in a background thread,
    so the first people after a start or a load find them cached (called at start-up and after each load).
    Only shared entries are warmed, so nothing about a person is computed for nobody."""
    def work():
        try:
            eng = engine()
            if eng.figure_store != "off":
                eng.refresh_figures()          # every standard figure in bulk first; the views below read it
            period = eng.default_period()
            trend_period = Period(add_months(period.end.replace(day=1), -11), period.end)
            view(views.cards, EVERYONE, ORGANISATION, period, eng.config.page("overview", "headline"))
            view(views.goal_table, EVERYONE, ORGANISATION, period)
            view(views.holds_back, EVERYONE, period)
            view(chain.attribution, EVERYONE, period)
            view(views.heatmap, EVERYONE, period)
            view(views.trend, EVERYONE, eng.config.page("overview", "headline")[0], ORGANISATION, trend_period, "month")
            for key, d in eng.config.departments.items():
                if d.level == "department":
                    view(views.cards, EVERYONE, Scope("department", key), period, eng.config.page("department", "headline"))
                    view(views.department_contribution, EVERYONE, key, period)
        except Exception:            # a warm-up is only a head start: a page computes what it needs anyway
            pass
    threading.Thread(target=work, name="cache-warm-up", daemon=True).start()


_warmed: set = set()


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
def timed_run():
    """With CX_RUN_LOG set (the load test sets it), append each script run's wall and CPU seconds (this thread's)
    and its page to that file: the server-side time per page run, apart from how fast the browsers are."""
    path = os.environ.get("CX_RUN_LOG")
    if not path:
        yield
        return
    wall, cpu = time.perf_counter(), time.thread_time()
    try:
        yield
    finally:
        page = str(getattr(st.context, "url", "") or "").rsplit("/", 1)[-1].split("?")[0]
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{time.time():.3f}\t{time.perf_counter() - wall:.4f}\t{time.thread_time() - cpu:.4f}\t{page}\n")


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
