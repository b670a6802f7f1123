"""Benchmarks: quartiles and percentile ranks on a small cohort worked out by hand, direction respected."""
import datetime as dt

import pytest

from metrics.access import SYSTEM
from metrics.features.peers import benchmark, percentile_rank, period_of
from metrics.compute.engine import Engine
from metrics.compute.periods import Period


def add(eng, metric, values, ours=None, period="2024", cohort="Test"):
    rows = [("Test survey", f"Peer {i}", cohort, period, metric, v) for i, v in enumerate(values)]
    if ours is not None:
        rows.append(("Test survey", eng.config.organisation.name, cohort, period, metric, ours))
    eng.con.executemany("INSERT INTO benchmarks (source, organisation, cohort, period, metric_key, value) "
                        "VALUES (?, ?, ?, ?, ?, ?)", rows)


def test_higher_is_better_cohort(fresh_engine):
    # Peers 0.6 0.7 0.7 0.8 0.9 (sorted); linear quartiles: Q1 at position 1 → 0.7, median 0.7, Q3 at 3 → 0.8.
    # Ours 0.75 (our own published row): better than 0.6 0.7 0.7 → 3 of 5 = 60th percentile, second quarter.
    add(fresh_engine, "grade_of_service", [0.6, 0.7, 0.8, 0.9, 0.7], ours=0.75)
    add(fresh_engine, "grade_of_service", [0.1, 0.2], cohort="Other")          # another cohort, left out
    r = benchmark(fresh_engine, SYSTEM, "grade_of_service", cohort="Test").iloc[0]
    assert (r["peers"], r["q1"], r["median"], r["q3"]) == (5, pytest.approx(0.7), pytest.approx(0.7), pytest.approx(0.8))
    assert (r["ours"], r["ours_from"], r["percentile_rank"], r["quartile"]) == (0.75, "published", 60.0, 2)
    assert r["best_quartile_from"] == pytest.approx(0.8)
    everyone = benchmark(fresh_engine, SYSTEM, "grade_of_service").iloc[0]
    assert everyone["peers"] == 7                                             # both cohorts, never ourselves


def test_lower_is_better_cohort(fresh_engine):
    # Peers 0.02 0.04 0.06 0.08: Q1 at position 0.75 → 0.035, median 0.05, Q3 at 2.25 → 0.065. Ours 0.04:
    # better (lower) than 0.06 and 0.08, tied with 0.04 → (2 + ½) / 4 = 62.5; the best quarter is below 0.035.
    add(fresh_engine, "abandonment_rate", [0.02, 0.04, 0.06, 0.08], ours=0.04)
    r = benchmark(fresh_engine, SYSTEM, "abandonment_rate").iloc[0]
    assert (r["q1"], r["median"], r["q3"]) == (pytest.approx(0.035), pytest.approx(0.05), pytest.approx(0.065))
    assert (r["percentile_rank"], r["quartile"], r["direction"]) == (62.5, 2, "lower_is_better")
    assert r["best_quartile_from"] == pytest.approx(0.035)


@pytest.mark.parametrize("ours, direction, rank", [
    (0.01, "lower_is_better", 100.0), (0.09, "lower_is_better", 0.0), (0.09, "higher_is_better", 100.0),
    (0.05, "neutral", 50.0), (0.04, "higher_is_better", 37.5),
])
def test_percentile_rank_by_hand(ours, direction, rank):
    assert percentile_rank(ours, [0.02, 0.04, 0.06, 0.08], direction) == rank


@pytest.mark.parametrize("text, period", [
    ("2025", Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))),
    ("2022-23", Period(dt.date(2022, 4, 1), dt.date(2023, 3, 31))),
    ("2022/23", Period(dt.date(2022, 4, 1), dt.date(2023, 3, 31))),
    ("2022-24", None), ("Q1 2024", None),
])
def test_benchmark_periods(text, period):
    assert period_of(text) == period


def test_our_figure_comes_from_our_data_when_not_published(demo_db, config):
    eng = Engine.open(demo_db, config, read_only=True)
    df = benchmark(eng, SYSTEM, "grade_of_service").set_index("period")
    year = eng.value(SYSTEM, "grade_of_service", period=Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), compare=False)
    assert df.loc["2025", "ours_from"] == "our data" and df.loc["2025", "ours"] == year.value
    peers = eng.read_store("SELECT value FROM benchmarks WHERE metric_key = 'grade_of_service' AND period = '2025'")["value"]
    below = (peers < year.value).sum()
    assert df.loc["2025", "percentile_rank"] == pytest.approx(100 * below / len(peers))
