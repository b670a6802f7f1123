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

CONFIG_PATH = os.environ.get("CX_CONFIG", "config.yaml")


@st.cache_resource
def engine() -> Engine:
    """The process's engine: config validated at start-up, database opened once."""
    config = load_config(CONFIG_PATH)
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
