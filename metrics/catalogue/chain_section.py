"""The `chain:` section of config.yaml: which catalogue metrics the chain page is built from, named once.

metrics.features.chain reads these and never names a metric itself: the internal-service matrix's columns,
the decline and callback metrics, the late outcomes customers feel (each counting a source whose `case:`
says how its rows are followed through the `handoffs` table), the supplier-payment figures and (optional) the
failure-demand figures. Every
reference is checked here, at start-up, with its key path.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any

from metrics.catalogue.definitions import ChainSettings, Department, Metric, Source, source_of as _source
from metrics.catalogue.reader import Reader
from metrics.sql import is_identifier

KEYS = ("front_door", "internal_service", "requests", "declines", "callbacks", "late_outcomes", "supplier_payments")
# Optional: the failure-demand figures (chain.failure_demand: part → metric), what each must be, in words.
FAILURE_DEMAND = {
    "share": "the share of contacts that were failure demand (a ratio: its numerator the failure-demand contacts)",
    "caused": "the failure-demand contacts counted for the department (and person) whose work was waited on (a count "
              "whose rows are the lists of calls)",
    "cost": "what handling those contacts cost",
}
# The supplier-payment figures (chain.supplier_payments: column → metric), what each must be, in words. The two
# shares are ratios: their denominators are the invoices paid (all, and local small businesses').
SUPPLIER_COLUMNS = {
    "within_terms": "the share of invoices paid within terms (a ratio: its denominator is the invoices paid)",
    "local_small_within_terms": "the same for local small businesses (a ratio, with its stricter target)",
    "days_to_approve": "the typical days to approve (its own `time` column is when an invoice was approved)",
    "paid_late": "the invoices paid late",
}
# The internal-service matrix's own columns besides those chain.internal_service names.
MATRIX_COLUMNS = ("provider", "requester", "requests", "declined")
# The table hand-offs are recorded in, and its column naming what kind of case a hand-off belongs to.
HANDOFFS = ("handoffs", "case_type")


def _metric(r: Reader, key: Any, path: str, metrics: dict[str, Metric]) -> str | None:
    if not isinstance(key, str) or key not in metrics:
        close = [k for k in metrics if isinstance(key, str) and key[:4] in k][:5] or list(metrics)[:5]
        r.error(path, f"unknown metric {key!r} (did you mean: {', '.join(close)}?)")
        return None
    return key


def _parts(r: Reader, m: dict, name: str, columns: dict[str, str], metrics: dict[str, Metric], unfit) -> dict[str, str]:
    """A `chain.<name>` mapping of fixed parts (all required when it is given) → metric keys: each known, and fit
    for its part (`unfit(part, metric, what)` says why not, or None)."""
    raw = r.mapping(m.get(name), f"chain.{name}", tuple(columns), tuple(columns)) if name in m else {}
    out = {}
    for part, what in columns.items():
        p = f"chain.{name}.{part}"
        if part not in raw or not _metric(r, raw[part], p, metrics):
            continue
        why = unfit(part, metrics[raw[part]], what)
        if why:
            r.error(p, why)
        else:
            out[part] = raw[part]
    return out


def _followed(r: Reader, key: str, path: str, metrics: dict[str, Metric], sources: dict[str, Source], why: str) -> None:
    """A metric whose rows the chain follows through the hand-offs: its source needs `case` and `department`."""
    src = _source(metrics[key], sources)
    if src is None:
        r.error(path, f"{key} is computed from kpi_observations: it has no rows to follow through the hand-offs")
    elif src.case is None:
        if any(e.startswith(f"sources.{src.key}.case") for e in r.errors):
            return                       # written but refused: that sentence already says why
        r.error(path, f"{key} counts source {src.key!r}, which has no `case` ({why}): add sources.{src.key}.case: "
                      "{type, id, opened, closed}")
    elif src.department is None:
        r.error(path, f"{key} counts source {src.key!r}, which names no `department` (the case's owner)")


def chain(r: Reader, raw: Any, metrics: dict[str, Metric], departments: dict[str, Department],
          sources: dict[str, Source], allowed: dict) -> ChainSettings:
    """Every key of `chain:` (all required), each metric known and fit for its part of the page."""
    m = r.mapping(raw, "chain", KEYS + ("failure_demand",), KEYS)
    front = r.text(m.get("front_door"), "chain.front_door")
    if front is not None and front not in departments:
        close = [k for k in departments if front[:4] in k][:5] or list(departments)[:5]
        r.error("chain.front_door", f"{front!r} is not a department key in `departments` (did you mean: "
                                    f"{', '.join(close)}?)")
        front = None

    internal = {}
    raw_internal = r.entries(m["internal_service"], "chain.internal_service", "a mapping of matrix column → metric, "
                             "e.g. {sla: internal_sla_attainment}") if "internal_service" in m else {}
    for column, key in (raw_internal or {}).items():
        p = f"chain.internal_service.{column}"
        if not is_identifier(str(column)):
            r.error(p, "a column name is a plain name (letters, digits, _)")
        elif column in MATRIX_COLUMNS:
            r.error(p, f"the matrix already has a column {column!r} ({', '.join(MATRIX_COLUMNS)}): name it otherwise")
        elif _metric(r, key, p, metrics):
            src = _source(metrics[key], sources)
            if src is None or src.requester is None:
                r.error(p, f"{key} counts no source with a `requester` column (the asking side of the matrix)")
            else:
                internal[str(column)] = key
    picked = {}
    for name, what in (("requests", "denominator counts the internal requests"),
                       ("declines", "numerator counts the declined requests (listed by reason)")):
        column = m.get(name)
        if name not in m:
            continue
        if column not in (raw_internal or {}):
            r.error(f"chain.{name}", f"{column!r} is not a column of chain.internal_service "
                                     f"({', '.join(map(str, raw_internal or {}))}): name the ratio whose {what}")
        elif column in internal and metrics[internal[column]].type != "ratio":
            r.error(f"chain.{name}", f"{column!r} is {internal[column]}, not a ratio: name the ratio whose {what}")
        else:
            picked[name] = column

    callbacks = None
    if "callbacks" in m and _metric(r, m.get("callbacks"), "chain.callbacks", metrics):
        callbacks = m["callbacks"]
        if metrics[callbacks].type != "ratio":
            r.error("chain.callbacks", f"{callbacks} is not a ratio: the referrals are its denominator's rows and "
                                       "those called back in time its numerator's")
        _followed(r, callbacks, "chain.callbacks", metrics, sources, "the referral flow follows referrals by it")

    late = {}
    raw_late = r.entries(m["late_outcomes"], "chain.late_outcomes", "a mapping of metric → the customers' words "
                         "for it, e.g. {late_requests: requests closed late}") if "late_outcomes" in m else {}
    for key, words in (raw_late or {}).items():
        p = f"chain.late_outcomes.{key}"
        text = r.text(words, p, required=True)
        if _metric(r, key, p, metrics) and text:
            _followed(r, key, p, metrics, sources, "how its rows are followed through the hand-offs")
            late[key] = text

    def supplier_unfit(column, metric, what):
        if column in ("within_terms", "local_small_within_terms") and metric.type != "ratio":
            return f"{metric.key} is not a ratio: expected {what}"
        if column == "days_to_approve" and (metric.measure is None or metric.measure.time is None):
            return f"{metric.key} has no `time` column of its own: expected {what}"
        return None

    suppliers = _parts(r, m, "supplier_payments", SUPPLIER_COLUMNS, metrics, supplier_unfit)
    if "within_terms" in suppliers:
        _followed(r, suppliers["within_terms"], "chain.supplier_payments.within_terms", metrics, sources,
                  "the payment stages follow each invoice's first hand-off")

    def demand_unfit(part, metric, what):
        src = _source(metric, sources)
        if part == "share" and metric.type != "ratio":
            return f"{metric.key} is not a ratio: expected {what}"
        if part == "caused" and (metric.type != "simple" or src is None or src.department is None):
            return f"{metric.key} is not a count of a source naming a `department`: expected {what}"
        return None

    demand = _parts(r, m, "failure_demand", FAILURE_DEMAND, metrics, demand_unfit)

    accepted = allowed.get(HANDOFFS)
    for key, src in sources.items():
        if src.case is not None and accepted is not None and src.case.type not in accepted:
            r.error(f"sources.{key}.case.type", f"{src.case.type!r} is not a case type the hand-offs accept "
                                                f"(loader.allowed_values.{'.'.join(HANDOFFS)}: {', '.join(accepted)})")
    return ChainSettings(front, MappingProxyType(internal), picked.get("requests"), picked.get("declines"),
                         callbacks, MappingProxyType(late), MappingProxyType(suppliers), MappingProxyType(demand))
