"""The metric catalogue and the shared goals of config.yaml: measures, metrics, targets, goals."""
from __future__ import annotations

from types import MappingProxyType
from typing import Any

from metrics.catalogue.definitions import Department, Goal, Measure, Metric, Source, Target
from metrics.catalogue.reader import AGGS, DIRECTIONS, FORMATS, RESERVED_PARAMS, Reader
from metrics.sql import PLACEHOLDER, is_identifier


_METRIC_KEYS = ("label", "description", "owner", "type", "source", "agg", "expr", "filter", "time", "quantile",
                "at_period_end", "numerator", "denominator", "multiplier", "observations", "params", "direction",
                "format", "unit", "decimals", "min_denominator", "targets", "anonymous")
_MEASURE_KEYS = ("source", "agg", "expr", "filter", "time", "quantile", "at_period_end")


def _measure(r: Reader, m: dict, p: str, sources: dict[str, Source], params: dict) -> Measure | None:
    source = m.get("source")
    if source not in sources:
        r.error(f"{p}.source", f"unknown source {source!r} (known: {', '.join(sources)})")
        return None
    agg = r.choice(m.get("agg"), f"{p}.agg", AGGS)
    expr = r.expression(m.get("expr"), f"{p}.expr")
    if agg not in (None, "count") and m.get("expr") is None:
        r.error(f"{p}.expr", f"agg {agg} needs an expr (the row-level value to aggregate)")
    quantile = r.number(m.get("quantile"), f"{p}.quantile")
    if agg == "quantile" and not (quantile is not None and 0 < quantile < 1):
        r.error(f"{p}.quantile", "agg quantile needs quantile: a number between 0 and 1 (e.g. 0.9)")
    snap = None
    if "at_period_end" in m:
        s = r.mapping(m["at_period_end"], f"{p}.at_period_end", ("opened", "closed"), ("opened", "closed"))
        snap = (r.identifier(s.get("opened"), f"{p}.at_period_end.opened"),
                r.identifier(s.get("closed"), f"{p}.at_period_end.closed"))
    allowed = set(params) | (set(RESERVED_PARAMS) if snap else set())
    for part in ("expr", "filter"):
        for name in PLACEHOLDER.findall(m.get(part) or ""):
            if name not in allowed:
                hint = "only at_period_end metrics have {period_end}" if name == "period_end" else \
                    f"declare it under params (declared: {', '.join(params) or 'none'})"
                r.error(f"{p}.{part}", f"unknown placeholder {{{name}}}; {hint}")
    time = r.identifier(m["time"], f"{p}.time") if "time" in m else None
    return Measure(source, agg or "count", expr, r.expression(m.get("filter"), f"{p}.filter"), time, quantile, snap)


def _target(r: Reader, raw: Any, p: str, direction: str) -> Target | None:
    m = r.mapping(raw, p, ("target", "warning"), ("target",))
    target, warning = r.number(m.get("target"), f"{p}.target"), r.number(m.get("warning"), f"{p}.warning")
    if target is None:
        return None
    if warning is not None and direction == "higher_is_better" and warning > target:
        r.error(f"{p}.warning", f"{warning:g} is above the target {target:g}; for higher_is_better the warning threshold is lower")
    if warning is not None and direction == "lower_is_better" and warning < target:
        r.error(f"{p}.warning", f"{warning:g} is below the target {target:g}; for lower_is_better the warning threshold is higher")
    return Target(target, warning)


def metrics(r: Reader, raw: Any, sources: dict[str, Source], departments: dict[str, Department]) -> dict[str, Metric]:
    out = {}
    if not isinstance(raw, dict) or not raw:
        r.error("metrics", "expected a mapping of metric keys to definitions")
        return out
    for key, item in raw.items():
        p = f"metrics.{key}"
        if not is_identifier(str(key)):
            r.error(p, "metric keys are lower-case names of letters, digits and _")
            continue
        m = r.mapping(item, p, _METRIC_KEYS, ("label", "description", "owner", "type", "direction", "format"))
        if not m:
            continue
        mtype = r.choice(m.get("type"), f"{p}.type", ("simple", "ratio"), "simple")
        direction = r.choice(m.get("direction"), f"{p}.direction", DIRECTIONS, "neutral")
        params = m.get("params") or {}
        if not isinstance(params, dict) or not all(is_identifier(str(k)) for k in params):
            r.error(f"{p}.params", "expected a mapping of names to values")
            params = {}
        for name in params:
            if name in RESERVED_PARAMS:
                r.error(f"{p}.params.{name}", f"{name} is reserved (it is set by the engine)")
        owner = m.get("owner")
        if owner not in departments:
            r.error(f"{p}.owner", f"unknown department {owner!r} (known: {', '.join(list(departments)[:8])}, ...)")
        observations = m.get("observations", False) is True
        measure = numerator = denominator = None
        if observations:
            for k in _MEASURE_KEYS + ("numerator", "denominator"):
                if k in m:
                    r.error(f"{p}.{k}", "not used when observations: true (figures come from kpi_observations)")
        elif mtype == "simple":
            if "numerator" in m or "denominator" in m:
                r.error(p, "a simple metric has source/agg/expr; numerator and denominator belong to type: ratio")
            measure = _measure(r, m, p, sources, params)
        else:
            for k in _MEASURE_KEYS:
                if k in m:
                    r.error(f"{p}.{k}", "a ratio metric puts this inside numerator: and denominator:")
            numerator = _measure(r, r.mapping(m.get("numerator"), f"{p}.numerator", _MEASURE_KEYS, ("source", "agg")),
                                 f"{p}.numerator", sources, params)
            denominator = _measure(r, r.mapping(m.get("denominator"), f"{p}.denominator", _MEASURE_KEYS, ("source", "agg")),
                                   f"{p}.denominator", sources, params)
            for side, meas in (("numerator", numerator), ("denominator", denominator)):
                if meas is not None and meas.agg not in ("count", "count_distinct", "sum"):
                    r.error(f"{p}.{side}.agg", "a ratio's sides must be count, count_distinct or sum so they add up over departments")
        targets = r.mapping(m.get("targets") or {}, f"{p}.targets", ("default", "by_department"))
        default = _target(r, targets["default"], f"{p}.targets.default", direction) if "default" in targets else None
        by_dept = {}
        for dkey, t in (targets.get("by_department") or {}).items():
            if dkey not in departments:
                r.error(f"{p}.targets.by_department.{dkey}",
                        f"unknown department (known: {', '.join(sorted(departments)[:6])}, ...)")
                continue
            by_dept[dkey] = _target(r, t, f"{p}.targets.by_department.{dkey}", direction)
        if (default or by_dept) and direction == "neutral":
            r.error(f"{p}.direction", "a metric with targets needs a direction (higher_is_better or lower_is_better)")
        decimals = m.get("decimals", 0)
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
            r.error(f"{p}.decimals", "expected a whole number from 0 to 6")
            decimals = 0
        min_den = m.get("min_denominator", 1)
        if not isinstance(min_den, int) or isinstance(min_den, bool) or min_den < 0:
            r.error(f"{p}.min_denominator", "expected a whole number, 0 or more")
            min_den = 1
        out[key] = Metric(
            key=key, label=r.text(m.get("label"), f"{p}.label", key), description=r.text(m.get("description"), f"{p}.description", ""),
            owner=owner, type=mtype, direction=direction, format=r.choice(m.get("format"), f"{p}.format", FORMATS, "number"),
            unit=r.text(m.get("unit"), f"{p}.unit"), decimals=decimals, min_denominator=min_den,
            params=MappingProxyType(dict(params)), measure=measure, numerator=numerator, denominator=denominator,
            multiplier=r.number(m.get("multiplier"), f"{p}.multiplier", 1.0), observations=observations,
            default_target=default, department_targets=MappingProxyType(by_dept),
            anonymous=m.get("anonymous", False) is True)
    return out


def goals(r: Reader, raw: Any, metrics: dict[str, Metric], departments: dict[str, Department]) -> dict[str, Goal]:
    out = {}
    if not isinstance(raw, dict):
        r.error("goals", "expected a mapping of goal keys to definitions")
        return out
    for key, item in raw.items():
        p = f"goals.{key}"
        m = r.mapping(item, p, ("label", "description", "target", "warning", "metrics", "misses", "departments"),
                      ("label", "metrics"))
        weights = []
        for mk, w in (m.get("metrics") or {}).items() if isinstance(m.get("metrics"), dict) else ():
            if mk not in metrics:
                r.error(f"{p}.metrics.{mk}", f"unknown metric (known: {', '.join(list(metrics)[:6])}, ...)")
            elif metrics[mk].direction == "neutral":
                r.error(f"{p}.metrics.{mk}", "a goal measure needs a direction and a target")
            weight = r.number(w, f"{p}.metrics.{mk}")
            if weight is not None and weight <= 0:
                r.error(f"{p}.metrics.{mk}", "weights must be positive")
            weights.append((mk, weight or 0.0))
        if not weights:
            r.error(f"{p}.metrics", "expected a mapping of metric keys to weights")
        for i, mk in enumerate(m.get("misses") or []):
            if mk not in metrics:
                r.error(f"{p}.misses[{i}]", f"unknown metric {mk!r}")
        for i, dk in enumerate(m.get("departments") or []):
            if dk not in departments:
                r.error(f"{p}.departments[{i}]", f"unknown department {dk!r}")
        target, warning = r.number(m.get("target"), f"{p}.target", 0.75), r.number(m.get("warning"), f"{p}.warning", 0.5)
        if not (0 <= (warning or 0) <= (target or 0) <= 1):
            r.error(f"{p}.target", "goal scores run from 0 to 1: need 0 ≤ warning ≤ target ≤ 1")
        out[key] = Goal(key, r.text(m.get("label"), f"{p}.label", key), r.text(m.get("description"), f"{p}.description", ""),
                        target, warning, tuple(weights), tuple(m.get("misses") or ()), tuple(m.get("departments") or ()))
    return out
