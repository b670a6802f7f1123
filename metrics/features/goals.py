"""Shared goals: scores for any scope, and each department's contribution.

A goal's score is the weighted share of its measures that are on target, a warning counting half
(on target 1, warning ½, off target 0); measures without enough data or without a target are left
out and the weights of the rest renormalised. The score gets a status by the same inclusive rule as
a metric (higher is better) against the goal's own target and warning threshold.

A department's contribution is its own figure for each of the goal's measures against its target,
and its share of the goal's misses — the failures customers felt (late requests, unreturned
callbacks, late payments...) — counted in the department where they sat.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from metrics.compute import target_status
from metrics.access import Viewer
from metrics.compute.engine import Engine
from metrics.errors import UnknownError
from metrics.compute.periods import Period
from metrics.catalogue.scope import ORGANISATION, Scope

POINTS = {target_status.ON_TARGET: 1.0, target_status.WARNING: 0.5, target_status.OFF_TARGET: 0.0}


@dataclass(frozen=True)
class GoalMeasure:
    metric: str
    label: str
    weight: float
    value: float | None
    formatted: str
    target: float | None
    status: str


@dataclass(frozen=True)
class GoalResult:
    goal: str
    label: str
    description: str
    scope: str
    start: dt.date
    end: dt.date
    score: float | None           # 0..1, None when no measure has enough data
    status: str
    previous_score: float | None
    measures: tuple[GoalMeasure, ...]
    misses: dict                  # miss metric key → count in the scope and period

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {"goal": self.goal, "label": self.label, "scope": self.scope, "from": self.start.isoformat(),
                "to": self.end.isoformat(), "score": self.score, "status": self.status,
                "previous_score": self.previous_score,
                "measures": [m.__dict__ for m in self.measures], "misses": self.misses}


def score(statuses_and_weights: list[tuple[str, float]]) -> float | None:
    """Weighted share of measures on target (warning = ½), over measures with a status that scores."""
    scored = [(POINTS[s], w) for s, w in statuses_and_weights if s in POINTS]
    total = sum(w for _, w in scored)
    return sum(p * w for p, w in scored) / total if total else None


def goal_status(goal, value: float | None) -> str:
    """The goal's status from its score (none — None or NaN from a table — is not enough data)."""
    if value is None or pd.isna(value):
        return target_status.INSUFFICIENT
    return target_status.threshold_status(value, goal.target, goal.warning, higher_is_better=True)


def _goal(engine: Engine, key: str):
    goal = engine.config.goals.get(key)
    if goal is None:
        raise UnknownError(f"unknown goal {key!r} (known: {', '.join(engine.config.goals)})")
    return goal


def goal_result(engine: Engine, viewer: Viewer, goal_key: str, scope: Scope = ORGANISATION,
                period: Period | None = None) -> GoalResult:
    """One shared goal's score, status and measures for a scope and period.

    Args:
        engine: the metrics engine.
        viewer: who is asking (checked by the engine for every measure).
        goal_key: a key under `goals` in config.
        scope: whose figures.
        period: default the last full month in the data.
    Returns:
        A GoalResult.
    """
    goal = _goal(engine, goal_key)
    period = period or engine.default_period()
    measures, previous = [], []
    for key, weight in goal.metrics:
        metric = engine.metric(key)
        try:
            res = engine.value(viewer, key, scope, period, compare=False)
            prev = engine.figure(viewer, key, scope, period.previous())
        except UnknownError:       # e.g. a measure with no figure per person
            continue
        measures.append(GoalMeasure(key, metric.label, weight, res.value, res.formatted, res.target, res.status))
        previous.append((prev.status, weight))
    misses = {}
    for key in goal.misses:
        try:
            misses[key] = engine.figure(viewer, key, scope, period).value
        except UnknownError:
            pass
    value = score([(m.status, m.weight) for m in measures])
    return GoalResult(goal.key, goal.label, goal.description, str(scope), period.start, period.end, value,
                      goal_status(goal, value), score(previous), tuple(measures), misses)


def goal_results(engine: Engine, viewer: Viewer, scope: Scope = ORGANISATION,
                 period: Period | None = None) -> list[GoalResult]:
    """Every shared goal for a scope and period, in config order."""
    period = period or engine.default_period()
    return [goal_result(engine, viewer, key, scope, period) for key in engine.config.goals]


def contributions(engine: Engine, viewer: Viewer, goal_key: str, period: Period | None = None) -> pd.DataFrame:
    """Each contributing department's part in a goal.

    Args:
        engine: the metrics engine.
        viewer: who is asking.
        goal_key: the goal.
        period: default the last full month in the data.
    Returns:
        One row per contributing department: department, name, score, status, misses, miss_share,
        then for each measure `<metric>` (value) and `<metric>_status`. Misses are counted over every
        department, so the shares of the contributing ones may add up to less than 1.
    """
    goal = _goal(engine, goal_key)
    period = period or engine.default_period()
    departments = list(goal.departments) or [k for k, d in engine.config.departments.items() if d.level == "department"]
    out = pd.DataFrame({"department": departments,
                        "name": [engine.config.departments[k].name for k in departments]})
    statuses = {k: [] for k in departments}
    for key, weight in goal.metrics:
        b = engine.breakdown(viewer, key, ORGANISATION, period, by="department").set_index("grp")
        out[key] = [b.at[k, "value"] if k in b.index else None for k in departments]
        out[f"{key}_status"] = [b.at[k, "status"] if k in b.index else target_status.INSUFFICIENT for k in departments]
        for k, s in zip(departments, out[f"{key}_status"]):
            statuses[k].append((s, weight))
    out["score"] = [score(statuses[k]) for k in departments]
    out["status"] = [goal_status(goal, s) for s in out["score"]]
    missed = pd.Series(0.0, index=departments)
    total = 0.0
    for key in goal.misses:
        b = engine.breakdown(viewer, key, ORGANISATION, period, by="department").set_index("grp")
        missed = missed.add(b["value"].reindex(departments).fillna(0.0))
        total += engine.figure(viewer, key, ORGANISATION, period).value or 0.0
    out["misses"] = missed.values
    out["miss_share"] = [m / total if total else None for m in missed.values]
    return out


def miss_label(engine: Engine, goal_key: str) -> str:
    """How to name a goal's misses in words, e.g. 'Customer requests closed late + Callbacks not returned'."""
    goal = _goal(engine, goal_key)
    return " + ".join(engine.metric(k).label for k in goal.misses)

