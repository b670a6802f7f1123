"""Streamlit caching for the pages, in one small module (style.md, pitfall 3).

One DuckDB connection per process (cache_resource); every query runs on its own cursor inside the
engine. Cached figures are keyed by the database's data version and by the viewer passed in as an
argument — never read from st.session_state inside a cached function.
"""
from __future__ import annotations

import os

import streamlit as st

from metrics.access import ROLES, Viewer
from metrics.config import load_config
from metrics.engine import Engine
from metrics.scope import Scope
from metrics.sqlcheck import check_sql

CONFIG_PATH = "config.yaml"           # CX_CONFIG names another (read when the engine is first made)


@st.cache_resource
def engine() -> Engine:
    """The process's engine: config validated at start-up, database opened once."""
    config = load_config(os.environ.get("CX_CONFIG") or CONFIG_PATH)
    check_sql(config)
    return Engine.open(os.environ.get("CX_DB", config.database_path), config)


@st.cache_data(show_spinner=False, max_entries=5000, ttl=3600)
def _view(name: str, data_version: str, viewer, args: tuple):
    """One cached page-data call; the key is (function, data version, viewer, arguments)."""
    import importlib
    module, _, func = name.rpartition(".")
    return getattr(importlib.import_module(f"metrics.{module or 'views'}"), func)(engine(), viewer, *args)


# Figures for the organisation or a unit are the same for every signed-in viewer (access.authorize lets any
# role see them), so one cached copy serves everybody: the first person after a load pays, not each of them.
# Anything about a person (a staff Scope or id) and every record list stays keyed by the viewer.
SHARED = {"cards", "goal_table", "holds_back", "heatmap", "trend", "department_contribution",
          "chain.internal_matrix", "chain.decline_reasons", "chain.referral_flow", "chain.attribution",
          "chain.supplier_payments", "benchmarks.cohorts", "benchmarks.benchmark", "themes.theme_trend",
          "kudos.feed", "ideas.you_said_we_did", "personas.demo_personas"}
EVERYONE = Viewer("any signed-in viewer", "executive")


def view(name: str, viewer, *args):
    """metrics.views.<name>(engine, viewer, *args) — or metrics.<module>.<func> for "module.func" — cached
    until the data changes."""
    about_a_person = any(isinstance(a, Scope) and a.kind == "staff" for a in args)
    if name in SHARED and not about_a_person and (viewer is None or viewer.role in ROLES):
        viewer = EVERYONE
    return _view(name, engine().data_version(), viewer, args)


def warm_up() -> None:
    """Compute the shared figures of every role's first page for the default period in a background thread,
    so the first people after a start or a load find them cached (called at start-up and after each load).
    Only shared entries are warmed, so nothing about a person is computed for nobody."""
    import threading

    def work():
        from metrics import views
        try:
            eng = engine()
            period = eng.default_period()
            from metrics.periods import Period, add_months
            from metrics.scope import ORGANISATION, Scope
            trend_period = Period(add_months(period.end.replace(day=1), -11), period.end)
            view("cards", EVERYONE, ORGANISATION, period)
            view("goal_table", EVERYONE, ORGANISATION, period)
            view("holds_back", EVERYONE, period)
            view("chain.attribution", EVERYONE, period)
            view("heatmap", EVERYONE, period)
            view("trend", EVERYONE, views.HEADLINE[0], ORGANISATION, trend_period, "month")
            for key, d in eng.config.departments.items():
                if d.level == "department":
                    view("cards", EVERYONE, Scope("department", key), period)
                    view("department_contribution", EVERYONE, key, period)
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
