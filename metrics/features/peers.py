"""Peer benchmarks: the cohort's median and quartiles per measure and period, and where we stand among them."""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.formatting import is_missing


def peer_medians(engine: Engine, viewer: Viewer, source: str | None = None, cohort: str | None = None) -> pd.DataFrame:
    """Median of the peers' values per measure and period (organisations without a value left out).

    Args:
        engine: the metrics engine.
        viewer: who is asking (benchmarks are public figures: every signed-in viewer may see them).
        source: only this publication (e.g. 'Oflog adult social care').
        cohort: only this peer group (e.g. 'Unitary Authorities').
    Returns:
        source, metric_key, period, organisations, median.
    """
    return engine.read_store("""
        SELECT source, metric_key, period, count(value) AS organisations, median(value) AS median
        FROM benchmarks
        WHERE ($source IS NULL OR source = $source) AND ($cohort IS NULL OR cohort = $cohort)
        GROUP BY ALL ORDER BY source, metric_key, period""", {"source": source, "cohort": cohort})


@access.same_for_every_viewer
def cohorts(engine: Engine, viewer: Viewer) -> pd.DataFrame:
    """Every publication and peer group in the benchmarks table: source, cohort, organisations, measures."""
    return engine.read_store("""SELECT source, cohort, count(DISTINCT organisation) AS organisations,
                                  count(DISTINCT metric_key) AS measures
                           FROM benchmarks GROUP BY ALL ORDER BY source, cohort NULLS FIRST""")


def period_of(text: str) -> Period | None:
    """A benchmark period as days: '2025' → the calendar year; '2024-25' or '2024/25' → the financial year
    (1 April to 31 March); anything else → None (no figure of ours can be computed for it)."""
    text = str(text).strip()
    if re.fullmatch(r"\d{4}", text):
        y = int(text)
        return Period(dt.date(y, 1, 1), dt.date(y, 12, 31))
    m = re.fullmatch(r"(\d{4})[-/](\d{2}|\d{4})", text)
    if m and (int(m.group(2)) % 100) == (int(m.group(1)) + 1) % 100:
        y = int(m.group(1))
        return Period(dt.date(y, 4, 1), dt.date(y + 1, 3, 31))
    return None


def percentile_rank(ours: float, peers, direction: str) -> float:
    """The share of peers we do better than, 0–100 (a tie counts half).

    Direction decides what "better" means: higher_is_better → peers below us; lower_is_better → peers above
    us; neutral or unknown → peers below us (plain position from the lowest).
    """
    peers = [p for p in peers if not is_missing(p)]
    if not peers:
        return float("nan")
    below = sum(p < ours for p in peers)
    above = sum(p > ours for p in peers)
    ties = len(peers) - below - above
    better = above if direction == "lower_is_better" else below
    return 100.0 * (better + 0.5 * ties) / len(peers)


@access.same_for_every_viewer
def benchmark(engine: Engine, viewer: Viewer, metric_key: str, source: str | None = None,
              cohort: str | None = None) -> pd.DataFrame:
    """Our figure beside the cohort for each period: peers, q1, median, q3, ours, percentile_rank, quartile.

    Our figure is our own row in the publication when it has one (`organisation` = our name), otherwise the
    catalogue metric of the same key computed from our data over the period's days. `quartile` is 1 for the
    best quarter of the cohort and 4 for the worst, in the metric's direction (the best quarter of a
    lower-is-better measure holds the lowest values); `best_quartile_from` is where that quarter starts.
    """
    ours_name = engine.config.organisation.name
    df = engine.read_store("""
        SELECT period, count(value) AS peers, quantile_cont(value, 0.25) AS q1, median(value) AS median,
               quantile_cont(value, 0.75) AS q3, list(value) AS peer_values
        FROM benchmarks
        WHERE metric_key = $k AND organisation <> $me AND value IS NOT NULL
          AND ($s IS NULL OR source = $s) AND ($c IS NULL OR cohort = $c)
        GROUP BY period ORDER BY period""", {"k": metric_key, "me": ours_name, "s": source, "c": cohort})
    published = engine.read_store("""SELECT period, value FROM benchmarks WHERE metric_key = $k AND organisation = $me
                                AND ($s IS NULL OR source = $s)""", {"k": metric_key, "me": ours_name, "s": source})
    published = dict(zip(published["period"], published["value"]))
    metric = engine.config.metrics.get(metric_key)
    direction = metric.direction if metric else "neutral"
    rng = engine.data_range()
    ours, where = [], []
    for period in df["period"]:
        if period in published:
            ours.append(float(published[period]))
            where.append("published")
            continue
        days = period_of(period)
        if metric is not None and days is not None and rng is not None and days.start >= rng[0] and days.end <= rng[1]:
            v = engine.value(viewer, metric_key, period=days, compare=False).value
            ours.append(float("nan") if v is None else v)
            where.append("our data")
        else:
            ours.append(float("nan"))
            where.append("")
    df["ours"], df["ours_from"] = ours, where
    df["percentile_rank"] = [float("nan") if is_missing(o) else percentile_rank(o, pv, direction)
                             for o, pv in zip(df["ours"], df["peer_values"])]
    df["quartile"] = [None if is_missing(r) else 4 - min(3, int(r // 25)) for r in df["percentile_rank"]]
    df["best_quartile_from"] = df["q1"] if direction == "lower_is_better" else df["q3"]
    df["direction"] = direction
    return df.drop(columns=["peer_values"])
