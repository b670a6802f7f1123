"""Targets and the status rule (style.md), in one place.

higher_is_better: on target if value ≥ target, warning if value ≥ warning, else off target;
lower_is_better: mirrored; thresholds inclusive. No value, or a denominator below the metric's
min_denominator → insufficient data. A metric with no target → no target. A figure is judged against the target
in force on its period's first day (target_for).
"""
from __future__ import annotations

import bisect
import datetime as dt
from typing import Mapping

from metrics.catalogue.definitions import Config, Metric, Target

ON_TARGET, WARNING, OFF_TARGET = "on_target", "warning", "off_target"
INSUFFICIENT, NO_TARGET = "insufficient_data", "no_target"
SUPPRESSED = "suppressed"          # too few anonymous answers to show (privacy.min_group_size)
STATUSES = (ON_TARGET, WARNING, OFF_TARGET, INSUFFICIENT, NO_TARGET, SUPPRESSED)

# Never colour alone: every status has an icon and a word (colours are the Okabe–Ito palette).
LABELS = {ON_TARGET: ("✔", "On target", "#009E73"), WARNING: ("▲", "Warning", "#E69F00"),
          OFF_TARGET: ("✖", "Off target", "#D55E00"), INSUFFICIENT: ("…", "Not enough data", "#999999"),
          NO_TARGET: ("–", "No target", "#999999"), SUPPRESSED: ("◌", "Too few answers to show", "#999999")}


def status_word(code: str) -> str:
    """A status's word: 'On target', 'Not enough data'."""
    return LABELS[code][1]


def status_text(code: str) -> str:
    """A status as every page and the command line show it, icon and word: '✔ On target'."""
    icon, word, _ = LABELS[code]
    return f"{icon} {word}"


# Targets held in the database (metrics/features/targets.py): (metric key, department key or None for the
# organisation) → each approved target with the day it takes effect, oldest first.
Held = Mapping[tuple[str, str | None], tuple[tuple[dt.date, Target], ...]]


def target_for(metric: Metric, department: str | None, config: Config, held: Held | None = None,
               on: dt.date | None = None) -> Target | None:
    """The target that applies to a department's (or the organisation's) figure for a period starting `on`: the
    nearest unit up the hierarchy that has one, then the organisation. At each, a target set in the database and in
    force on that day (the latest taking effect on or before it) comes before config.yaml's, the default."""
    for key in (config.ancestors(department) if department is not None else ()) + (None,):
        if held and on is not None:
            found = in_force(held.get((metric.key, key), ()), on)
            if found is not None:
                return found
        default = metric.department_targets.get(key) if key is not None else metric.default_target
        if default is not None:
            return default
    return None


def in_force(dated: tuple[tuple[dt.date, Target], ...], on: dt.date) -> Target | None:
    """Of targets with the days they take effect (oldest first), the one in force on `on`."""
    at = bisect.bisect_right([d for d, _ in dated], on)
    return dated[at - 1][1] if at else None


def has_enough_data(metric: Metric, value: float | None, denominator: float | None) -> bool:
    """False when there is no value, or fewer cases than the metric's min_denominator."""
    if value is None:
        return False
    return denominator is None or denominator >= metric.min_denominator


def status(metric: Metric, value: float | None, denominator: float | None, target: Target | None) -> str:
    """The status of a figure against its target (see module docstring)."""
    if not has_enough_data(metric, value, denominator):
        return INSUFFICIENT
    if target is None or metric.direction == "neutral":
        return NO_TARGET
    return threshold_status(value, target.target, target.warning, metric.direction == "higher_is_better")


def threshold_status(value: float, target: float, warning: float | None, higher_is_better: bool) -> str:
    """The inclusive threshold rule on a bare number."""
    sign = 1 if higher_is_better else -1
    if sign * value >= sign * target:
        return ON_TARGET
    if warning is not None and sign * value >= sign * warning:
        return WARNING
    return OFF_TARGET
