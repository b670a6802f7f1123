"""The metric catalogue and the shared goals of config.yaml: measures, metrics, targets, goals."""
from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from metrics.catalogue.definitions import Department, Goal, Measure, Metric, Source, Target, band_problem
from metrics.catalogue.reader import AGGS, DIRECTIONS, FORMATS, RESERVED_PARAMS, TYPES, Reader
from metrics.sql import PLACEHOLDER, is_identifier


_METRIC_KEYS = ("label", "description", "owner", "type", "source", "agg", "expr", "filter", "time", "quantile",
                "at_period_end", "measure", "numerator", "denominator", "of", "multiplier", "params", "direction",
                "format", "unit", "decimals", "min_denominator", "targets", "anonymous")
_MEASURE_KEYS = ("source", "agg", "expr", "filter", "time", "quantile", "at_period_end")


def _and(a: str | None, b: str | None) -> str | None:
    """Two row filters, both to hold (either may be absent)."""
    return f"({a}) AND ({b})" if a and b else a or b


def _params(r: Reader, raw: Any, p: str) -> dict:
    params = raw or {}
    if not isinstance(params, dict) or not all(is_identifier(str(k)) for k in params):
        r.error(p, "expected a mapping of names to values")
        return {}
    for name in params:
        if name in RESERVED_PARAMS:
            r.error(f"{p}.{name}", f"{name} is reserved (it is set by the engine)")
    return dict(params)


def _placeholders(r: Reader, m: dict, p: str, params: dict, snapshot: bool) -> None:
    allowed = set(params) | (set(RESERVED_PARAMS) if snapshot else set())
    for part in ("expr", "filter"):
        for name in PLACEHOLDER.findall(m.get(part) or ""):
            if name not in allowed:
                hint = "only at_period_end metrics have {period_end}" if name == "period_end" else \
                    f"declare it under params (declared: {', '.join(params) or 'none'})"
                r.error(f"{p}.{part}", f"unknown placeholder {{{name}}}; {hint}")


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
    _placeholders(r, m, p, params, snap is not None)
    time = r.identifier(m["time"], f"{p}.time") if "time" in m else None
    return Measure(source, agg or "count", expr, r.expression(m.get("filter"), f"{p}.filter"), time, quantile, snap)


def _narrowed(r: Reader, m: dict, p: str, named: dict[str, Measure | None], params: dict,
              name_at: str | None = None) -> Measure | None:
    """`measure: NAME` with an optional `filter:` that narrows it to fewer rows (both must hold)."""
    for k in _MEASURE_KEYS:
        if k in m and k != "filter":
            r.error(f"{p}.{k}", f"comes from measure {m['measure']!r}; only a filter narrowing it may be added")
    name = m["measure"]
    if not isinstance(name, str) or name not in named:
        r.error(name_at or f"{p}.measure", f"unknown measure {name!r} (measures: {', '.join(named) or 'none'})")
        return None
    base = named[name]
    if base is None:                         # its own definition is wrong, and said so under measures:
        return None
    _placeholders(r, m, p, {**params, **base.params}, base.at_period_end is not None)
    return replace(base, filter=_and(base.filter, r.expression(m.get("filter"), f"{p}.filter")))


def _side(r: Reader, raw: Any, p: str, sources: dict[str, Source], named: dict, params: dict) -> Measure | None:
    """A ratio's numerator or denominator: a measure name, `{measure: NAME, filter: ...}`, or a measure written out."""
    if raw is None:
        r.error(p, "required: a measure name (from measures:) or a measure written out (source, agg, ...)")
        return None
    if isinstance(raw, str):                 # just a name: an error names the side itself
        return _narrowed(r, {"measure": raw}, p, named, params, name_at=p)
    named_side = isinstance(raw, dict) and "measure" in raw
    m = r.mapping(raw, p, _MEASURE_KEYS + ("measure",), () if named_side else ("source", "agg"))
    if not m:
        return None
    return _narrowed(r, m, p, named, params) if named_side else _measure(r, m, p, sources, params)


def measures(r: Reader, raw: Any, sources: dict[str, Source]) -> dict[str, Measure | None]:
    """The named measures of config `measures:`: each defined once, with its own params, and used by name in
    metrics. A measure may narrow another (`measure: NAME` plus a `filter:`). A wrong one maps to None."""
    out: dict[str, Measure | None] = {}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        r.error("measures", "expected a mapping of measure names to definitions")
        return out

    def resolve(key: str, chain: tuple[str, ...]) -> Measure | None:
        if key in out:
            return out[key]
        p = f"measures.{key}"
        if key in chain:
            r.error(f"measures.{chain[-1]}.measure", f"{' → '.join(chain[chain.index(key):] + (key,))} is a cycle; "
                                                      "a measure can only narrow a measure that does not lead back to it")
            return None
        m = r.mapping(raw[key], p, _MEASURE_KEYS + ("measure", "params"),
                      () if isinstance(raw[key], dict) and "measure" in raw[key] else ("source", "agg"))
        params = _params(r, m.get("params"), f"{p}.params")
        if not m:
            found = None
        elif "measure" in m:
            target = m["measure"]
            names = {**dict.fromkeys(map(str, raw)), **out}      # every name; those resolved so far
            if isinstance(target, str) and target in raw:
                names[target] = resolve(target, chain + (key,))
            base = names.get(target) if isinstance(target, str) else None
            for name in list(params):
                if base is not None and name in base.params:
                    r.error(f"{p}.params.{name}", f"already set by measure {target!r}; a parameter is set once")
                    del params[name]
            found = _narrowed(r, m, p, names, params)
        else:
            found = _measure(r, m, p, sources, params)
        if found is not None:
            found = replace(found, name=key, params=MappingProxyType({**found.params, **params}))
        out[key] = found
        return found

    for key in raw:
        if not is_identifier(str(key)):
            r.error(f"measures.{key}", "measure names are lower-case names of letters, digits and _")
            out[key] = None
        else:
            resolve(key, ())
    return out


def _misses(r: Reader, p: str, of: Any, metrics: dict[str, Metric | None], sources: dict[str, Source],
            misses: set[str]) -> Metric | None:
    """The ratio `of` names, if its misses are well defined: the rows of its denominator its numerator leaves out."""
    if not isinstance(of, str) or of not in metrics:
        r.error(f"{p}.of", f"unknown metric {of!r}; misses are counted from a ratio metric of this catalogue")
        return None
    base = metrics[of]
    num, den = (base.numerator, base.denominator) if base else (None, None)
    if of in misses:
        why = f"{of} is a misses metric, not a ratio"
    elif base is None or base.kind == "?" or (base.kind == "ratio" and (num is None or den is None)):
        return None                          # wrong itself, and said so
    elif base.kind != "ratio":
        why = f"{of} is {'an' if base.kind[0] in 'aeiou' else 'a'} {base.kind} metric, not a ratio"
    elif num.agg != "count" or den.agg != "count":
        why = f"{of}'s numerator and denominator must both be agg: count (misses are rows)"
    elif num.source != den.source or num.at_period_end or den.at_period_end or \
            (num.time or sources[num.source].time) != (den.time or sources[den.source].time):
        why = f"{of}'s numerator and denominator read different rows (source, time or at_period_end)"
    elif not num.filter:
        why = f"{of}'s numerator has no filter, so it leaves out no rows"
    else:
        return base
    r.error(f"{p}.of", f"{why}; misses are the rows of a ratio's denominator that its numerator leaves out")
    return None


def _target(r: Reader, raw: Any, p: str, direction: str) -> Target | None:
    m = r.mapping(raw, p, ("target", "warning"), ("target",))
    target, warning = r.number(m.get("target"), f"{p}.target"), r.number(m.get("warning"), f"{p}.warning")
    if target is None:
        return None
    problem = band_problem(direction, target, warning)
    if problem:
        r.error(f"{p}.warning", problem)
    return Target(target, warning)


def metrics(r: Reader, raw: Any, sources: dict[str, Source], departments: dict[str, Department],
            named: dict[str, Measure | None] | None = None) -> dict[str, Metric]:
    named = named or {}
    out: dict[str, Metric | None] = {}
    if not isinstance(raw, dict) or not raw:
        r.error("metrics", "expected a mapping of metric keys to definitions")
        return {}
    misses = []
    for key, item in raw.items():
        p = f"metrics.{key}"
        if not is_identifier(str(key)):
            r.error(p, "metric keys are lower-case names of letters, digits and _")
            continue
        if isinstance(item, dict) and "observations" in item:
            r.error(f"{p}.observations", "replaced by type: observed (figures from kpi_observations, no sides)")
            item = {**{k: v for k, v in item.items() if k != "observations"}, "type": "observed"}
        m = r.mapping(item, p, _METRIC_KEYS, ("label", "description", "owner", "type", "direction", "format"))
        if not m:
            out[key] = None
            continue
        kind = r.choice(m["type"], f"{p}.type", TYPES, "?") if "type" in m else "?"
        if kind == "?":                      # missing or unknown, and said so: its measures would only be guessed
            out[key] = _metric(r, key, m, kind, "simple", {}, departments)
            continue
        if kind == "misses":                 # after the others: its base may come later in the file
            misses.append((key, m))
            out[key] = None
            continue
        params = _params(r, m.get("params"), f"{p}.params")
        measure = numerator = denominator = None
        if "of" in m:
            r.error(f"{p}.of", "only a type: misses metric names the ratio it is derived from")
        if kind == "observed":
            for k in _MEASURE_KEYS + ("measure", "numerator", "denominator"):
                if k in m:
                    r.error(f"{p}.{k}", "not used by type: observed (figures come from kpi_observations)")
        elif kind == "simple":
            if "numerator" in m or "denominator" in m:
                r.error(p, "a simple metric has source/agg/expr; numerator and denominator belong to type: ratio")
            measure = _narrowed(r, m, p, named, params) if "measure" in m else _measure(r, m, p, sources, params)
        else:
            for k in _MEASURE_KEYS + ("measure",):
                if k in m:
                    r.error(f"{p}.{k}", "a ratio metric puts this inside numerator: and denominator:")
            numerator = _side(r, m.get("numerator"), f"{p}.numerator", sources, named, params)
            denominator = _side(r, m.get("denominator"), f"{p}.denominator", sources, named, params)
            for side, meas in (("numerator", numerator), ("denominator", denominator)):
                if meas is not None and meas.agg not in ("count", "count_distinct", "sum"):
                    r.error(f"{p}.{side}.agg", "a ratio's sides must be count, count_distinct or sum so they add up over departments")
        params = _with_measure_params(r, p, params, (measure, numerator, denominator))
        out[key] = _metric(r, key, m, kind, "simple" if kind == "simple" else "ratio", params, departments,
                           measure=measure, numerator=numerator, denominator=denominator,
                           multiplier=r.number(m.get("multiplier"), f"{p}.multiplier", 1.0),
                           anonymous=m.get("anonymous", False) is True)
    for key, m in misses:
        p = f"metrics.{key}"
        for k in _MEASURE_KEYS + ("measure", "numerator", "denominator", "multiplier", "params"):
            if k in m:
                r.error(f"{p}.{k}", f"a misses metric counts rows of the ratio it is `of`; it takes no {k}")
        if "of" not in m:
            r.error(f"{p}.of", "required key is missing: the ratio metric whose misses this counts")
        base = _misses(r, p, m["of"], out, sources, {k for k, _ in misses}) if "of" in m else None
        if base is None:                     # said so; kept, so goals and pages naming it add no errors
            out[key] = _metric(r, key, m, "misses", "simple", {}, departments)
            continue
        num, den = base.numerator, base.denominator
        left_out = Measure(den.source, "count", filter=_and(den.filter, f"NOT coalesce(({num.filter}), false)"),
                           time=den.time)
        out[key] = _metric(r, key, m, "misses", "simple", dict(base.params), departments, measure=left_out,
                           base=base.key, anonymous=base.anonymous or m.get("anonymous", False) is True)
    return {k: v for k, v in out.items() if v is not None}


def _with_measure_params(r: Reader, p: str, params: dict, used: tuple[Measure | None, ...]) -> dict:
    """The metric's params and those of the named measures it uses; a name is set in one place only."""
    out, by = dict(params), {}
    for meas in used:
        for name, value in (meas.params if meas is not None else {}).items():
            if name in params:
                if name not in by:
                    r.error(f"{p}.params.{name}", f"comes from measure {meas.name!r} (see measures:); a parameter is "
                                                  "set once, where it is defined")
                by[name] = meas.name
            elif name in by and out[name] != value:
                r.error(p, f"measures {by[name]!r} and {meas.name!r} set {name} to different values "
                           f"({out[name]!r}, {value!r}); one metric binds one value")
            else:
                out[name], by[name] = value, meas.name
    return out


def _metric(r: Reader, key: str, m: dict, kind: str, shape: str, params: dict, departments: dict[str, Department],
            **parts) -> Metric:
    """The fields every metric type shares: words, owner, direction, format, targets."""
    p = f"metrics.{key}"
    direction = r.choice(m.get("direction"), f"{p}.direction", DIRECTIONS, "neutral")
    owner = m.get("owner")
    if owner not in departments:
        r.error(f"{p}.owner", f"unknown department {owner!r} (known: {', '.join(list(departments)[:8])}, ...)")
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
    return Metric(
        key=key, label=r.text(m.get("label"), f"{p}.label", key), description=r.text(m.get("description"), f"{p}.description", ""),
        owner=owner, type=shape, kind=kind, direction=direction, format=r.choice(m.get("format"), f"{p}.format", FORMATS, "number"),
        unit=r.text(m.get("unit"), f"{p}.unit"), decimals=decimals, min_denominator=min_den,
        params=MappingProxyType(params), default_target=default, department_targets=MappingProxyType(by_dept), **parts)


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
