"""Streamlit caching for the pages, in one small module (style.md, pitfall 3).

One DuckDB connection per process (cache_resource); every query runs on its own cursor inside the
engine. Cached figures are keyed by the database's data version and by the viewer passed in as an
argument — never read from st.session_state inside a cached function.
"""
from __future__ import annotations

import os

import streamlit as st

from metrics.config import load_config
from metrics.engine import Engine
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


def view(name: str, viewer, *args):
    """metrics.views.<name>(engine, viewer, *args) — or metrics.<module>.<func> for "module.func" — cached
    until the data changes."""
    return _view(name, engine().data_version(), viewer, args)
