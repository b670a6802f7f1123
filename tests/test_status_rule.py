"""The status rule (metrics/compute/target_status.py; style.md): every boundary worked by hand.

The rule as the module docstring and the spec state it:
  higher_is_better: on target if value >= target, warning if value >= warning, else off target;
  lower_is_better:  on target if value <= target, warning if value <= warning, else off target;
  thresholds inclusive; no value, or a denominator below min_denominator -> insufficient data;
  a metric with no target -> no target.
Expected statuses below are read off that rule; the figures on the fixture (tests/fixture.sql) are worked
out in the comments.
"""
import dataclasses
import datetime as dt
from types import MappingProxyType

import pytest

from metrics.access import SYSTEM
from metrics.catalogue.definitions import Target
from metrics.catalogue.scope import ORGANISATION
from metrics.compute import target_status
from metrics.compute.engine import Engine
from metrics.compute.periods import Period, month

MAY, APRIL = month(2024, 5), month(2024, 4)
ON, WARN, OFF = "on_target", "warning", "off_target"


def with_metric(config, key, **changes):
    """config with one metric's definition changed (the file on disk is not touched)."""
    metrics = dict(config.metrics)
    metrics[key] = dataclasses.replace(metrics[key], **changes)
    return dataclasses.replace(config, metrics=MappingProxyType(metrics))


# --- the bare threshold rule ----------------------------------------------------------------------
# (value, target, warning, higher_is_better, expected)
THRESHOLDS = [
    # Higher is better, target 0.80, warning 0.70 (grade_of_service in config.yaml).
    (0.81, 0.80, 0.70, True, ON),
    (0.80, 0.80, 0.70, True, ON),          # exactly at the target: on target (inclusive)
    (0.75, 0.80, 0.70, True, WARN),
    (0.70, 0.80, 0.70, True, WARN),        # exactly at the warning value: warning (inclusive)
    (0.6999, 0.80, 0.70, True, OFF),
    (0.0, 0.80, 0.70, True, OFF),
    # Lower is better, target 0.05, warning 0.08 (abandonment_rate): mirrored.
    (0.04, 0.05, 0.08, False, ON),
    (0.05, 0.05, 0.08, False, ON),         # exactly at the target: on target
    (0.06, 0.05, 0.08, False, WARN),
    (0.08, 0.05, 0.08, False, WARN),       # exactly at the warning value: warning
    (0.0801, 0.05, 0.08, False, OFF),
    (1.0, 0.05, 0.08, False, OFF),
    # Lower is better with whole numbers, target 30 s, warning 60 s (avg_speed_of_answer).
    (30, 30, 60, False, ON),
    (60, 30, 60, False, WARN),
    (61, 30, 60, False, OFF),
    # Negative scores (nps: target 20, warning 0): 0 is a warning, -1 is off.
    (0, 20, 0, True, WARN),
    (-1, 20, 0, True, OFF),
    # No warning threshold: anything short of the target is off target.
    (0.79, 0.80, None, True, OFF),
    (0.80, 0.80, None, True, ON),
    (0.06, 0.05, None, False, OFF),
]


@pytest.mark.parametrize("value, target, warning, higher, expected", THRESHOLDS)
def test_threshold_rule(value, target, warning, higher, expected):
    assert target_status.threshold_status(value, target, warning, higher_is_better=higher) == expected


# --- status(): direction from the metric, no target, too little data -----------------------------
def test_lower_is_better_metric_uses_the_mirrored_rule(config):
    m = config.metrics["abandonment_rate"]              # lower_is_better, 0.05 / 0.08, min_denominator 30
    assert m.direction == "lower_is_better"
    t = m.default_target
    assert target_status.status(m, 0.05, 30, t) == ON
    assert target_status.status(m, 0.08, 30, t) == WARN
    assert target_status.status(m, 0.081, 30, t) == OFF
    # The same numbers on a higher-is-better metric with the same thresholds are the other way round.
    flipped = dataclasses.replace(m, direction="higher_is_better")
    assert target_status.status(flipped, 0.04, 30, Target(0.05, 0.03)) == WARN
    assert target_status.status(flipped, 0.02, 30, Target(0.05, 0.03)) == OFF


def test_no_target_gives_no_target(config):
    # followed_up_rate has a direction but no targets in config.yaml.
    m = config.metrics["followed_up_rate"]
    assert m.default_target is None and not m.department_targets
    assert target_status.target_for(m, "housing", config) is None
    assert target_status.status(m, 0.9, 100, None) == "no_target"
    # A neutral metric has no target even when one is handed in.
    neutral = config.metrics["calls_offered"]
    assert neutral.direction == "neutral"
    assert target_status.status(neutral, 6, None, Target(1, 0)) == "no_target"


def test_min_denominator_boundary(config):
    m = config.metrics["grade_of_service"]              # min_denominator 30
    assert m.min_denominator == 30
    t = m.default_target
    assert target_status.status(m, 0.9, 29, t) == "insufficient_data"      # 29 < 30
    assert target_status.status(m, 0.9, 30, t) == ON                       # 30 is enough ("below" is < 30)
    assert target_status.status(m, None, 100, t) == "insufficient_data"    # no value
    # A simple metric with no denominator (a count) is never short of data.
    assert target_status.status(config.metrics["abandoned_calls"], 0.0, None, None) == "no_target"


def test_target_for_takes_the_nearest_override_up_the_hierarchy(config):
    m = config.metrics["sla_attainment"]                 # default 0.85/0.75, housing 0.80/0.70
    assert target_status.target_for(m, "housing_repairs", config) == Target(0.80, 0.70)   # team → its department
    assert target_status.target_for(m, "housing", config) == Target(0.80, 0.70)
    assert target_status.target_for(m, "place", config) == Target(0.85, 0.75)            # directorate: above it
    assert target_status.target_for(m, "cc_phones", config) == Target(0.85, 0.75)
    assert target_status.target_for(m, None, config) == Target(0.85, 0.75)


# --- the same rule through the engine on the fixture ----------------------------------------------
def test_exactly_at_warning_higher_is_better_on_the_fixture(engine):
    # survey_response_rate, May: customer survey answers F1..F5 = 5 / surveys sent 20 + 30 = 50 → 0.10;
    # target 0.15, warning 0.10; denominator 50 ≥ min_denominator 30 → exactly at the warning: "warning".
    r = engine.value(SYSTEM, "survey_response_rate", ORGANISATION, MAY, compare=False)
    assert (r.numerator, r.denominator, r.value, r.target, r.warning) == (5, 50, 0.1, 0.15, 0.10)
    assert r.status == WARN


def test_exactly_at_target_lower_is_better_on_the_fixture(engine):
    # avg_handle_time, April: the organisation-wide telephony row 9000 / 30 = 300 s; target 300, warning 360,
    # lower is better → exactly at the target: "on_target".
    r = engine.value(SYSTEM, "avg_handle_time", ORGANISATION, APRIL, compare=False)
    assert (r.value, r.target, r.warning) == (300.0, 300, 360)
    assert r.status == ON


def test_lower_is_better_warning_and_at_target_through_the_engine(config, engine):
    # complaint_resolution_days, May: resolved in May F7 22 d, F10 5 d, F6 10 d → median 10 (3 complaints).
    # With min_denominator 3 (config says 5) and target 10 / warning 20: exactly at the target → on target.
    cfg = with_metric(config, "complaint_resolution_days", min_denominator=3)
    r = Engine(engine.con, cfg).value(SYSTEM, "complaint_resolution_days", ORGANISATION, MAY, compare=False)
    assert (r.denominator, r.value, r.target, r.warning, r.status) == (3, 10.0, 10, 20, ON)
    # The same 10 days against target 8 / warning 10: exactly at the warning → warning; against 5 / 9: off.
    for target, expected in ((Target(8, 10), WARN), (Target(5, 9), OFF)):
        e = Engine(engine.con, dataclasses.replace(cfg, metrics=MappingProxyType(
            {**cfg.metrics, "complaint_resolution_days": dataclasses.replace(
                cfg.metrics["complaint_resolution_days"], default_target=target)})))
        assert e.value(SYSTEM, "complaint_resolution_days", ORGANISATION, MAY, compare=False).status == expected
    # With the config's min_denominator 5, the 3 complaints are not enough.
    assert engine.value(SYSTEM, "complaint_resolution_days", ORGANISATION, MAY, compare=False).status == \
        "insufficient_data"


def test_no_target_through_the_engine(config, engine):
    # calls_offered, May: c1..c6 = 6 phone calls; neutral, no target.
    r = engine.value(SYSTEM, "calls_offered", ORGANISATION, MAY, compare=False)
    assert (r.value, r.target, r.status) == (6, None, "no_target")
    # followed_up_rate, May: 5 of 7 negatives followed up (see test_metrics_fixture); no target. With
    # min_denominator 1 it has enough data and says "no_target"; with the config's 10 it has too little.
    assert engine.value(SYSTEM, "followed_up_rate", ORGANISATION, MAY, compare=False).status == "insufficient_data"
    e = Engine(engine.con, with_metric(config, "followed_up_rate", min_denominator=1))
    r = e.value(SYSTEM, "followed_up_rate", ORGANISATION, MAY, compare=False)
    assert (r.numerator, r.denominator, r.target, r.status) == (5, 7, None, "no_target")


def test_min_denominator_boundary_through_the_engine(config, engine):
    # grade_of_service, May, organisation: denominator c1 c2 c4 c5 c6 = 5, numerator c1 c5 = 2 → 0.4.
    for min_den, expected in ((5, OFF), (6, "insufficient_data")):          # 5 is enough for 5; 6 is not
        e = Engine(engine.con, with_metric(config, "grade_of_service", min_denominator=min_den))
        r = e.value(SYSTEM, "grade_of_service", ORGANISATION, MAY, compare=False)
        assert (r.denominator, r.value, r.status) == (5, 0.4, expected)


def test_no_rows_at_all_is_insufficient_data(engine):
    # June 2024 has no callbacks: 0 / 0 → no value → insufficient data (never 0 %, never off target).
    r = engine.value(SYSTEM, "callback_within_1_day", ORGANISATION, Period(dt.date(2024, 6, 1), dt.date(2024, 6, 30)),
                     compare=False)
    assert (r.numerator, r.denominator, r.value, r.status) == (0, 0, None, "insufficient_data")
