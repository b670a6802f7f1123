"""The metrics layer: the catalogue in config.yaml, computed for any scope and period, with access enforced.

Public API — what the dashboard, the command line and other programs use (everything else is internal):

    from metrics import load_config, check_sql, Engine, Viewer, Role, SYSTEM, Scope, ORGANISATION, Period, month

    config = load_config("config.yaml")           # ConfigError lists every mistake with its key path
    check_sql(config)                             # every metric compiled against the schema
    engine = Engine.open("data/cx.duckdb", config)
    viewer = Viewer("ann", Role.HEAD, "housing")  # who asks: every read is checked against metrics.access
    r = engine.value(viewer, "csat", Scope("department", "housing"), month(2025, 12))
    r.value, r.status, r.previous, r.target       # the figure beside its previous period and target
    engine.series(...), engine.breakdown(...), engine.matrix(...)

Errors a caller shows as they are (one sentence each): MetricsError and its kinds ConfigError, AccessDenied,
UnknownError, SchemaError. The package layout (catalogue → access → store → compute → ingest → voice → features →
present → demo, cli) is described in README.md's "Layout" section. Names are loaded on first use, so importing
one module of the package does not import them all.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "load_config": "metrics.catalogue.parse", "parse_config": "metrics.catalogue.parse",
    "Config": "metrics.catalogue.definitions", "Metric": "metrics.catalogue.definitions",
    "Scope": "metrics.catalogue.scope", "ORGANISATION": "metrics.catalogue.scope",
    "Viewer": "metrics.access", "Role": "metrics.access", "SYSTEM": "metrics.access",
    "Engine": "metrics.compute.engine", "MetricResult": "metrics.compute.engine",
    "Period": "metrics.compute.periods", "month": "metrics.compute.periods",
    "check_sql": "metrics.compute.sqlcheck",
    "MetricsError": "metrics.errors", "ConfigError": "metrics.errors", "AccessDenied": "metrics.errors",
    "UnknownError": "metrics.errors", "SchemaError": "metrics.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'metrics' has no attribute {name!r}")
