"""Statistical process control for a metric's series: an XmR (individuals) chart, its special causes and the
assurance it gives about the target — the method of NHS England's "Making Data Count" (MDC).

Sources, read to understand and not copied: NHS England / NHS Improvement, "Making Data Count: Getting started"
(2019) and "Strengthening your decisions" (2021); the NHS-R community's reference implementation of the rules,
NHSRplotthedots (R/ptd_spc_standard.R, R/ptd_calculate_point_type.R, R/ptd_calculate_assurance_type.R).

- **Limits** (natural process limits) from the baseline points: the mean, and mean ± 2.66 × the mean moving range
  (2.66 = 3 / 1.128, three sigma estimated from the moving range). A point is "close to a limit" beyond two thirds of
  that distance (two sigma) but within the limits.
- **Special causes**, in this order when a point meets more than one (each point's rule is the first that holds):
  1. a point beyond a process limit;
  2. a run of `trend_points` (7) points each higher than the last (or each lower) — a trend;
  3. two of three consecutive points close to the same limit, all three on that side of the mean (the close points
     are flagged);
  4. a run of `shift_points` (7) consecutive points on one side of the mean (a point on the mean breaks it) — a shift.
- **Variation**: a special cause is an "improvement" or a "concern" by the metric's direction (higher or lower is
  better); for a neutral metric a "change" (high or low). The chart's variation is its latest point's.
- **Assurance** against the target, from the limits: both limits on the passing side — the process as it runs will
  meet the target ("pass"); both on the failing side — it will not without a change ("fail"); straddling it — it
  will sometimes ("hit and miss"). None without a target or for a neutral metric.
- **Baseline and re-calculation**: limits come from the first `baseline` points of each stretch (all of them when
  not given); a change point — given, or an annotation marked as one (metrics/features/events.py) — starts a
  new stretch whose limits are computed afresh.
- **Too short**: a stretch with fewer points than `min_points` shows no limits and says so (MDC advises at least 15
  points and reading fewer with care; NHSRplotthedots warns below 12).
Rule lengths and constants are config's `spc:` (SpcSettings); these are only their defaults.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from metrics.catalogue.definitions import SpcSettings
from metrics.compute.periods import Period, add_months
from metrics.features import events
from metrics.formatting import is_missing

BEYOND, TREND, TWO_OF_THREE, SHIFT = "beyond_limit", "trend", "two_of_three", "shift"
RULE_WORDS = {BEYOND: "a point beyond a process limit", TREND: "a run of points rising (or falling)",
              TWO_OF_THREE: "two of three points close to a limit", SHIFT: "a run of points on one side of the mean"}
IMPROVEMENT, CONCERN, CHANGE_HIGH, CHANGE_LOW, COMMON = ("improvement", "concern", "change_high", "change_low",
                                                        "common_cause")
PASS, FAIL, HIT_AND_MISS = "pass", "fail", "hit_and_miss"
# The same words and icons on every page (text beside the icon: never colour alone).
# (The status icons ✔ ▲ ✖ … – ◌ are the target's; these differ from every one of them.)
VARIATION_WORDS = {IMPROVEMENT: "⬆ Special cause: improvement", CONCERN: "⬇ Special cause: concern",
                   CHANGE_HIGH: "⇡ Special cause: higher", CHANGE_LOW: "⇣ Special cause: lower",
                   COMMON: "≈ Common cause: no significant change"}
TOO_SHORT_WORDS = "∅ Too few points for SPC limits"
VARIATION_ICONS = {k: w.split(" ")[0] for k, w in VARIATION_WORDS.items()}     # the icon alone (a grid's cell)
ASSURANCE_WORDS = {PASS: "● Will meet the target as it runs", FAIL: "○ Will not meet the target without a change",
                   HIT_AND_MISS: "◐ Will sometimes meet the target"}


@dataclass(frozen=True)
class Stretch:
    """The points from one change point to the next, with the limits computed from its baseline (None if too short)."""
    start: int                   # index of its first point
    end: int                     # index after its last point
    mean: float | None
    lower: float | None
    upper: float | None
    mean_moving_range: float | None
    baseline_points: int


@dataclass(frozen=True)
class Chart:
    values: tuple                # the series' values, in order (no gaps: missing buckets are left out by the caller)
    stretches: tuple             # Stretch per change point
    rules: tuple                 # per point: the special-cause rule it meets (BEYOND, TREND, ...) or None
    kinds: tuple                 # per point: IMPROVEMENT, CONCERN, CHANGE_HIGH, CHANGE_LOW or COMMON
    variation: str | None        # the latest point's kind; None when the latest stretch is too short
    assurance: str | None        # PASS, FAIL, HIT_AND_MISS, or None (no target, neutral, too short)
    too_short: bool              # the latest stretch has fewer points than min_points
    notes: tuple = field(default=())

    def stretch_of(self, i: int) -> Stretch:
        return next(s for s in self.stretches if s.start <= i < s.end)


def limits(values: list[float], factor: float) -> tuple[float, float, float, float]:
    """mean, mean moving range, lower and upper process limits of `values` (at least two)."""
    mean = sum(values) / len(values)
    ranges = [abs(b - a) for a, b in zip(values, values[1:])]
    mr = sum(ranges) / len(ranges)
    return mean, mr, mean - factor * mr, mean + factor * mr


def _side(v: float, mean: float) -> int:
    return (v > mean) - (v < mean)


def _runs(flags: list[int], length: int) -> list[int]:
    """Per point, +1/-1 when it belongs to a run of at least `length` consecutive equal non-zero flags, else 0."""
    out = [0] * len(flags)
    i = 0
    while i < len(flags):
        j = i
        while j + 1 < len(flags) and flags[j + 1] == flags[i]:
            j += 1
        if flags[i] != 0 and j - i + 1 >= length:
            out[i:j + 1] = [flags[i]] * (j - i + 1)
        i = j + 1
    return out


def _trend(values: list[float], length: int) -> list[int]:
    """+1/-1 for the points of a run of `length` or more points each higher (lower) than the one before."""
    out = [0] * len(values)
    steps = [_side(b, a) for a, b in zip(values, values[1:])]      # step k: from point k to k + 1
    for direction in (1, -1):
        for k, s in enumerate(_runs(steps, length - 1)):
            if s == direction:
                out[k] = out[k + 1] = direction
    return out


def _two_of_three(values: list[float], mean: float, near_lo: float, near_hi: float, lower: float, upper: float) -> list[int]:
    """+1/-1 for a point close to a limit (beyond two sigma, within the limits) that is one of two or three such
    points, on the same side, in three consecutive points all on that side of the mean."""
    close = [(1 if near_hi < v <= upper else -1 if lower <= v < near_lo else 0) for v in values]
    sides = [_side(v, mean) for v in values]
    out = [0] * len(values)
    for i in range(len(values) - 2):
        for side in (1, -1):
            window = range(i, i + 3)
            if sum(close[k] == side for k in window) >= 2 and all(sides[k] == side for k in window):
                for k in window:
                    if close[k] == side:
                        out[k] = side
    return out


def _kind(side: int, direction: str) -> str:
    if side == 0:
        return COMMON
    if direction == "neutral":
        return CHANGE_HIGH if side > 0 else CHANGE_LOW
    better = side > 0 if direction == "higher_is_better" else side < 0
    return IMPROVEMENT if better else CONCERN


def assurance(lower: float, upper: float, target: float | None, direction: str) -> str | None:
    """Whether the process limits say the target will be met (see the module docstring)."""
    if target is None or direction == "neutral":
        return None
    if direction == "higher_is_better":
        return PASS if lower > target else FAIL if upper < target else HIT_AND_MISS
    return PASS if upper < target else FAIL if lower > target else HIT_AND_MISS


def chart(values: list[float], direction: str, target: float | None, settings: SpcSettings,
          change_points: tuple[int, ...] = (), baseline: int | None = None) -> Chart:
    """The XmR chart of `values` (see the module docstring).

    Args:
        values: the series, oldest first, without gaps.
        direction: the metric's (higher_is_better, lower_is_better, neutral).
        target: the target in force for the latest point, or None.
        settings: config's spc: rule lengths, the limit factor, the fewest points for limits.
        change_points: indices of points that start a new stretch (limits re-calculated from there).
        baseline: the number of points of each stretch its limits are computed from (default: all of them).
    """
    values = [float(v) for v in values]
    cuts = sorted({0, *(c for c in change_points if 0 < c < len(values))}) + [len(values)]
    stretches, rules, kinds = [], [None] * len(values), [COMMON] * len(values)
    for start, end in zip(cuts, cuts[1:]):
        part = values[start:end]
        base = part[:baseline] if baseline else part
        if len(part) < settings.min_points or len(base) < 2:
            stretches.append(Stretch(start, end, None, None, None, None, len(base)))
            continue
        mean, mr, lower, upper = limits(base, settings.limit_factor)
        near_lo, near_hi = mean - settings.limit_factor * mr * 2 / 3, mean + settings.limit_factor * mr * 2 / 3
        stretches.append(Stretch(start, end, mean, lower, upper, mr, len(base)))
        beyond = [1 if v > upper else -1 if v < lower else 0 for v in part]
        trend = _trend(part, settings.trend_points)
        two = _two_of_three(part, mean, near_lo, near_hi, lower, upper)
        shift = _runs([_side(v, mean) for v in part], settings.shift_points)
        for k in range(len(part)):
            for rule, side in ((BEYOND, beyond[k]), (TREND, trend[k]), (TWO_OF_THREE, two[k]), (SHIFT, shift[k])):
                if side:
                    rules[start + k], kinds[start + k] = rule, _kind(side, direction)
                    break
    last = stretches[-1] if stretches else None
    short = last is None or last.mean is None
    notes = ()
    if short and values:
        notes = (f"Too few points for process limits: {len(values) - (last.start if last else 0)} since "
                 f"{'the last change point' if last and last.start else 'the start'}, and SPC needs at least "
                 f"{settings.min_points}.",)
    return Chart(tuple(values), tuple(stretches), tuple(rules), tuple(kinds),
                 None if short else kinds[-1], None if short else assurance(last.lower, last.upper, target, direction),
                 short, notes)


def history(period: Period, settings: SpcSettings) -> Period:
    """The months an SPC chart looks back over: `history_months` ending with the period's last month."""
    return Period(add_months(period.end.replace(day=1), -(settings.history_months - 1)), period.end)


def for_series(engine, viewer, metric_key: str, scope, span: Period, grain: str = "month", change_points=(),
               baseline: int | None = None, recorded: bool = True):
    """A metric's series for a scope, as the viewer sees it, and its chart: (the buckets with a value, Chart).
    `change_points` are days: a stretch starts at the first bucket on or after each; with `recorded`, so does one at
    each annotation marked as a change point that the chart shows (metrics.features.events)."""
    metric = engine.metric(metric_key)
    df = engine.series(viewer, metric_key, scope, span, grain)
    df = df[[not is_missing(v) for v in df["value"]]].reset_index(drop=True)
    days = set(change_points) | (set(events.change_points(engine, viewer, scope, span, metric_key))
                                 if recorded else set())
    cuts = tuple(sorted({int((df["bucket"] < day).sum()) for day in days}))
    target = None if df.empty or is_missing(df["target"].iloc[-1]) else float(df["target"].iloc[-1])
    return df, chart(list(df["value"]), metric.direction, target, engine.config.spc, cuts, baseline)


def words(c: Chart) -> str:
    """The chart's two icons in words, the same on every page: variation, then assurance (or why there are none)."""
    if c.too_short:
        return TOO_SHORT_WORDS
    return " · ".join(w for w in (VARIATION_WORDS[c.variation], ASSURANCE_WORDS.get(c.assurance)) if w)
