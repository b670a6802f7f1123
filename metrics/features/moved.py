"""What moved this figure: a change against the previous period split by the groups below the scope — its units or
people, or the values of a dimension its sources declare (config `dimensions:`, e.g. a contact's channel or a
request's category: "Sorted at first contact rose 57.1 pts: phone +46.4 pts from its own rate, ...").

- A **ratio** (numerator ÷ denominator, e.g. calls answered within 20 s of the calls offered) is the
  denominator-weighted mean of its groups' rates: R = Σ w·r, with w = the group's share of the denominator. Its
  change splits exactly into, per group, a **rate effect** (its own rate changing: Δr × the mean of its two shares)
  and a **mix effect** (its share changing: Δw × the mean of its two rates). The two sum, over the groups, to the
  change exactly. A group present in one period only keeps the rate it has in the other (so all of its effect is mix).
  The effects are in the figure's own units (a ratio's `multiplier`: "per 1,000 contacts"). A ratio whose sides read
  different sources can have a group with a numerator but no denominator in a period (a complaint of a unit that
  took no contacts): it has no rate, so what its numerator moved stays in "not shown".
- A **count or a sum** changes by the sum of its groups' changes.
- Groups the viewer may not see, or too small to show (suppressed), and rows that belong to no group are not named:
  what they moved together is one line, "not shown", the change less every shown contribution, so the parts still
  add up to the change and nothing is revealed that the shown figures do not already give away. By a dimension,
  rows with no value are a group of their own, named "(none)" (Engine.breakdown), so they are named, not hidden.
- `splits` lists the ways a metric's change can be split for a scope (the level below, people, each dimension common
  to its sources): what the page offers as a choice.
- Other aggregations (a median, a distinct count) do not add up over groups: they get a sentence saying so.
"""
from __future__ import annotations

from dataclasses import dataclass

from metrics.access import Viewer
from metrics.catalogue.scope import Scope
from metrics.compute import target_status
from metrics.compute.engine import DEFAULT_BY, LEVELS
from metrics.compute.periods import Period
from metrics.errors import MetricsError
from metrics.formatting import change_word, format_delta, is_missing

NOT_SHOWN = "not shown"


@dataclass(frozen=True)
class Part:
    group: str
    name: str
    rate: float            # the rate effect (a count's whole change)
    mix: float             # the mix effect (0 for a count)
    share_grew: bool = False   # whether its share of the denominator grew (the mix effect's words)

    @property
    def total(self) -> float:
        return self.rate + self.mix


@dataclass(frozen=True)
class Explanation:
    metric: str
    scope: Scope
    period: Period
    before: float | None
    after: float | None
    change: float | None
    kind: str              # ratio, count
    parts: tuple           # Part per shown group, largest effect first
    not_shown: float       # what the groups not shown moved together
    words: str


def ratio_effects(groups: dict) -> dict:
    """group → (rate effect, mix effect) for groups {g: (n0, d0, n1, d1)} (see the module docstring); the shares are
    of the denominators' totals over the groups given."""
    d0 = sum(g[1] for g in groups.values())
    d1 = sum(g[3] for g in groups.values())
    out = {}
    for key, (n0, den0, n1, den1) in groups.items():
        w0 = den0 / d0 if d0 else 0.0
        w1 = den1 / d1 if d1 else 0.0
        r0 = n0 / den0 if den0 else None
        r1 = n1 / den1 if den1 else None
        r0 = r1 if r0 is None else r0
        r1 = r0 if r1 is None else r1
        if r0 is None:                                  # no rows in either period
            out[key] = (0.0, 0.0)
            continue
        out[key] = ((r1 - r0) * (w0 + w1) / 2, (w1 - w0) * (r0 + r1) / 2)
    return out


def _additive(metric) -> bool | None:
    """True for a ratio or a mean (a sum over a count: rate and mix), False for a count or a sum (each group's own
    change), None for what does not add up over groups (a median, a distinct count, ...)."""
    if metric.type == "ratio" or metric.observations or metric.measure.agg == "avg":
        return True
    return False if metric.measure.agg in ("count", "sum") else None


def splits(engine, metric_key: str, scope: Scope) -> list[tuple[str, str]]:
    """The ways a metric's change can be split for a scope, as (`by` value, label): the unit level below it (what
    Engine.breakdown defaults to), people ("staff", when its sources record who and the scope is not one person),
    and each dimension common to its sources (Engine.dimensions), labelled from the column's name ("Channel").
    Nothing for a metric whose change does not split (a median)."""
    metric = engine.metric(metric_key)
    if _additive(metric) is None:
        return []
    sources = [engine.config.sources[m.source] for m in metric.measures()]
    out = []
    below = DEFAULT_BY.get(scope.kind)                  # a team's: its people, below
    if below in LEVELS and (metric.observations or all(s.department for s in sources)):
        out.append((below, below.capitalize()))
    if scope.kind != "staff" and not metric.observations and all(s.staff for s in sources):
        out.append(("staff", "Person"))
    return out + [(d, d.replace("_", " ").capitalize()) for d in engine.dimensions(metric_key)]


def explain(engine, viewer: Viewer, metric_key: str, scope: Scope, period: Period, by: str | None = None,
            top: int = 3) -> Explanation:
    """The change of a metric for a scope between the period before and `period`, by the groups below the scope
    (`by`: directorate, department, team, staff, or a dimension of the metric's sources such as channel — see
    `splits`; default one level below), as the viewer may see them."""
    metric = engine.metric(metric_key)
    additive = _additive(metric)
    if additive is None:
        raise MetricsError(f"{metric.label} is not a count, a sum or a ratio, so its change does not split into "
                           "parts by group")
    engine.check_by(metric, by)                # an unknown `by` is an error even with nothing to compare
    now = engine.value(viewer, metric_key, scope, period)
    before = period.previous()
    was = now.previous
    if was is None or is_missing(now.value) or is_missing(was.value):
        return Explanation(metric_key, scope, period, None if was is None else was.value, now.value, None, "", (), 0.0,
                           f"{metric.label} has no figure to compare with for {before}: nothing to explain.")
    change = now.value - was.value
    b0 = engine.breakdown(viewer, metric_key, scope, before, by=by)
    b1 = engine.breakdown(viewer, metric_key, scope, period, by=by)
    shown = lambda b: b[b["status"] != target_status.SUPPRESSED]  # noqa: E731  (a mask: an empty one keeps columns)
    b0, b1 = shown(b0), shown(b1)
    names = {**dict(zip(b0["grp"], b0["name"])), **dict(zip(b1["grp"], b1["name"]))}
    cells = {}
    for frame, i in ((b0, 0), (b1, 1)):
        for r in frame.itertuples():
            cell = cells.setdefault(r.grp, [0.0, 0.0, 0.0, 0.0])
            cell[2 * i] = 0.0 if is_missing(r.numerator) else float(r.numerator)
            cell[2 * i + 1] = 0.0 if is_missing(r.denominator) else float(r.denominator)
    cells = {k: c for k, c in cells.items() if any(c)}      # groups with no rows in either period say nothing
    if additive and not (is_missing(now.denominator) or is_missing(was.denominator)) and now.denominator and \
            was.denominator:
        # Shares of the scope's whole denominator, so rows in no group (or not shown) stay in "not shown".
        totals = {"__rest__": (float(was.numerator) - sum(c[0] for c in cells.values()),
                               float(was.denominator) - sum(c[1] for c in cells.values()),
                               float(now.numerator) - sum(c[2] for c in cells.values()),
                               float(now.denominator) - sum(c[3] for c in cells.values()))}
        effects = ratio_effects({**{k: tuple(v) for k, v in cells.items()}, **totals})
        effects.pop("__rest__")
        grew = {k: c[3] / float(now.denominator) > c[1] / float(was.denominator) for k, c in cells.items()}
        scale = 1.0 if metric.type == "simple" else float(metric.multiplier)    # "per 1,000": the figure's units
        parts = [Part(k, names[k], effects[k][0] * scale, effects[k][1] * scale, grew[k]) for k in cells]
        kind = "ratio"
    else:
        parts = [Part(k, names[k], cells[k][2] - cells[k][0], 0.0) for k in cells]
        kind = "count"
    parts.sort(key=lambda p: (-abs(p.total), p.name))
    rest = change - sum(p.total for p in parts)
    return Explanation(metric_key, scope, period, was.value, now.value, change, kind, tuple(parts), rest,
                       _words(metric, change, kind, parts[:top]))


def _words(metric, change: float, kind: str, parts: list) -> str:
    """'Calls answered within 20 seconds fell 4.1 pts: Phones team -3.2 pts from its own rate, -0.6 pts from a larger
    share of the volume; ...' (by a dimension, the group is its value: 'phone -3.2 pts from its own rate')."""
    moved = "did not change" if change == 0 else f"{'rose' if change > 0 else 'fell'} {format_delta(metric, abs(change)).lstrip('+')}"
    word = change_word(metric, change)
    head = f"{metric.label} {moved}" + (f" ({word})" if word and change else "")
    bits = []
    for p in parts:
        if kind == "count":
            bits.append(f"{p.name} {format_delta(metric, p.total)}")
            continue
        said = [f"{format_delta(metric, p.rate)} from its own rate"] if _shows(metric, p.rate) else []
        if _shows(metric, p.mix):
            said.append(f"{format_delta(metric, p.mix)} from a {'larger' if p.share_grew else 'smaller'} share of "
                        "the volume")
        if said:
            bits.append(f"{p.name} {', '.join(said)}")
    return head + (": " + "; ".join(bits) if bits else "") + "."


def _shows(metric, effect: float) -> bool:
    """Whether an effect is visible at the figure's precision (not '+0.0 pts')."""
    return any(ch in "123456789" for ch in format_delta(metric, effect))
