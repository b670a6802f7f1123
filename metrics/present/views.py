"""What each page shows, as tidy DataFrames from the one engine: pages only choose, call and draw.

Every function takes the viewer first and goes through Engine (which checks access), so a figure on
a page equals `python -m metrics value` for the same scope and period.
"""
from __future__ import annotations

import pandas as pd

from metrics import access
from metrics.compute import target_status
from metrics.access import Viewer
from metrics.compute.engine import Engine, MetricResult
from metrics.errors import UnknownError
from metrics.present.formatting import format_value
from metrics.features.goals import contributions, goal_results
from metrics.compute.periods import Period
from metrics.catalogue.scope import ORGANISATION, Scope

@access.same_for_every_viewer
def cards(engine: Engine, viewer: Viewer, scope: Scope, period: Period, keys: tuple[str, ...]) -> list[MetricResult]:
    """The figures of `keys` (a part of a page, config `pages:`) with previous period and target; metrics with no figure for the scope are left out."""
    out = []
    for key in keys:
        try:
            out.append(engine.value(viewer, key, scope, period))
        except UnknownError:
            continue
    return out


@access.same_for_every_viewer
def heatmap(engine: Engine, viewer: Viewer, period: Period) -> pd.DataFrame:
    """Department × metric: department, name, metric, label, value, formatted, status, icon."""
    frames = []
    for key in engine.config.page("overview", "heatmap"):
        metric = engine.metric(key)
        b = engine.breakdown(viewer, key, ORGANISATION, period, by="department")
        b = b[[engine.config.departments[g].level == "department" for g in b["grp"]]]
        frames.append(pd.DataFrame({"department": b["grp"], "name": b["name"], "metric": key, "label": metric.label,
                                    "value": b["value"], "formatted": [format_value(metric, v if v == v else None)
                                                                       for v in b["value"]],
                                    "status": b["status"]}))
    df = pd.concat(frames, ignore_index=True)
    df["icon"] = [target_status.LABELS[s][0] for s in df["status"]]
    df["word"] = [target_status.LABELS[s][1] for s in df["status"]]
    return df


@access.same_for_every_viewer
def trend(engine: Engine, viewer: Viewer, metric_key: str, scope: Scope, period: Period, grain: str = "month") -> pd.DataFrame:
    """The series with the same buckets a year earlier beside it (`previous`)."""
    now = engine.series(viewer, metric_key, scope, period, grain)
    before = engine.series(viewer, metric_key, scope, period.last_year(), grain)
    now["previous"] = list(before["value"])[: len(now)] + [None] * max(0, len(now) - len(before))
    return now


@access.same_for_every_viewer
def holds_back(engine: Engine, viewer: Viewer, period: Period) -> pd.DataFrame:
    """For each shared goal, the department where most of the misses customers felt sat."""
    rows = []
    for key, goal in engine.config.goals.items():
        c = contributions(engine, viewer, key, period).sort_values("misses", ascending=False)
        top = c.iloc[0] if len(c) and c.iloc[0]["misses"] > 0 else None
        rows.append({"goal": key, "label": goal.label,
                     "department": None if top is None else top["name"],
                     "misses": 0 if top is None else int(top["misses"]),
                     "share": None if top is None else top["miss_share"],
                     "what": " + ".join(engine.metric(m).label.lower() for m in goal.misses)})
    return pd.DataFrame(rows)


@access.same_for_every_viewer
def goal_table(engine: Engine, viewer: Viewer, scope: Scope, period: Period) -> pd.DataFrame:
    """Each shared goal's score, status and previous score for a scope."""
    rows = []
    for g in goal_results(engine, viewer, scope, period):
        icon, word, _ = target_status.LABELS[g.status]
        rows.append({"goal": g.goal, "Goal": g.label, "Score": None if g.score is None else round(g.score * 100),
                     "Previous": None if g.previous_score is None else round(g.previous_score * 100),
                     "Status": f"{icon} {word}",
                     "Measures": "; ".join(f"{m.label} {m.formatted} ({target_status.LABELS[m.status][1].lower()})"
                                           for m in g.measures)})
    return pd.DataFrame(rows)


@access.same_for_every_viewer
def department_contribution(engine: Engine, viewer: Viewer, department: str, period: Period) -> pd.DataFrame:
    """A department's part in each shared goal it contributes to: score, status, misses and share."""
    rows = []
    for key, goal in engine.config.goals.items():
        if goal.departments and department not in goal.departments:
            continue
        c = contributions(engine, viewer, key, period)
        c = c[c["department"] == department]
        if c.empty:
            continue
        r = c.iloc[0]
        share = r["miss_share"]
        rows.append({"Goal": goal.label, "Our score": None if r["score"] != r["score"] or r["score"] is None else round(r["score"] * 100),
                     "Status": " ".join(target_status.LABELS[r["status"]][:2]),
                     "Misses with us": int(r["misses"]),
                     "Share of all misses": None if share is None or share != share else f"{share * 100:.0f} %"})
    return pd.DataFrame(rows)


def personal(engine: Engine, viewer: Viewer, staff_id: str, period: Period, keys: tuple[str, ...] | None = None) -> pd.DataFrame:
    """A person's figures beside their team's and the target (never beside other people's); by default the
    metrics of the My contribution page (config `pages.my_contribution.headline`)."""
    keys = engine.config.page("my_contribution", "headline") if keys is None else keys
    team = engine.staff_department(staff_id)
    rows = []
    for key in keys:
        metric = engine.metric(key)
        try:
            mine = engine.value(viewer, key, Scope("staff", staff_id), period, compare=False)
        except UnknownError:
            continue
        if not mine.denominator and not mine.value:
            continue                        # nothing of this kind in my work
        ours = engine.value(viewer, key, Scope(engine.config.departments[team].level, team), period, compare=False)
        icon, word, _ = target_status.LABELS[mine.status]
        rows.append({"metric": key, "Measure": metric.label, "Me": mine.formatted, "My team": ours.formatted,
                     "Target": format_value(metric, mine.target), "Status": f"{icon} {word}", "value": mine.value,
                     "status": mine.status})
    return pd.DataFrame(rows)


def goals_in_words(engine: Engine, viewer: Viewer, staff_id: str, period: Period) -> list[str]:
    """How a person's work feeds the shared goals, one plain sentence per goal they touch."""
    table = personal(engine, viewer, staff_id, period, keys=tuple(dict.fromkeys(
        k for g in engine.config.goals.values() for k, _ in g.metrics)))
    out = []
    for goal in engine.config.goals.values():
        mine = table[table["metric"].isin([k for k, _ in goal.metrics])] if len(table) else table
        if mine.empty:
            continue
        parts = [f"{r['Measure'].lower()} {r['Me']}" for _, r in mine.iterrows()]
        out.append(f"**{goal.label}** — {goal.description} Your part: {', '.join(parts)}.")
    return out

