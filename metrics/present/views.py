"""What each page shows, as tidy DataFrames from the one engine: pages only choose, call and draw.

Every function takes the viewer first and goes through Engine (which checks access), so a figure on
a page equals `python -m metrics value` for the same scope and period.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from metrics import access, formatting
from metrics.compute import target_status
from metrics.compute.target_status import status_text, status_word
from metrics.access import Viewer
from metrics.compute.engine import Engine, MetricResult
from metrics.errors import UnknownError
from metrics.formatting import (HIDDEN_PERSON, MISSING, change_word, direction_words, format_delta, format_date, format_figure,
                                        format_number, format_percent, format_value, is_missing)
from metrics.features import events, peers, spc
from metrics.features.goals import contributions, goal_results
from metrics.compute.periods import Period
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.voice import lists, themes

# How the Overview's department grid may be ordered (views.heatmap).
GRID_ORDERS = {"structure": "As the organisation is arranged", "concern": "Most special causes of concern first"}
# A cell's special cause beside its figure (spc.VARIATION_WORDS' icons); common cause says nothing.
VARIATION_MARKS = {k: icon for k, icon in spc.VARIATION_ICONS.items() if k != spc.COMMON}

# Data column names → words people use, on screen, on paper and in the CSV beside a table.
WORDS = {"what": "What", "since": "Since", "due": "Due", "department_id": "Team", "staff_id": "Person",
         "overdue": "Overdue", "received_at": "Received", "kind": "Kind", "theme": "Theme", "csat": "Satisfaction (1–5)",
         "nps": "Recommend (0–10)", "comment": "In their words", "positive": "Positive", "given": "When",
         "message": "Message", "value": "Value", "row": "Row", "column": "Column", "reason": "Reason"}


def keyed(df: pd.DataFrame) -> bool:
    """Whether the frame has key columns that readable shows as names (departments, people, metrics)."""
    return any(c in df.columns for c in formatting.DEPARTMENT_COLUMNS + access.PERSON_COLUMNS + formatting.METRIC_COLUMNS)


def lookups(engine: Engine, df: pd.DataFrame, people=None) -> dict:
    """The names formatting.readable needs for this frame's key columns; `people` gives staff names (default: read now)."""
    if not keyed(df):
        return {}
    names = (people or (lambda: staff_names(engine, None)))() if any(c in df.columns for c in access.PERSON_COLUMNS) \
        else {}
    return {"departments": {k: d.name for k, d in engine.config.departments.items()}, "people": names,
            "metrics": {k: m.label for k, m in engine.config.metrics.items()}}


def as_shown(df: pd.DataFrame, words: dict, names: dict, for_download: bool = False) -> pd.DataFrame:
    """A table's frame as shown (or downloaded): readable, with its headings (`words`, else formatting.heading)."""
    frame = formatting.readable(df, **names, for_download=for_download)
    return frame.rename(columns={c: words.get(c) or formatting.heading(c) for c in frame.columns})


@dataclass(frozen=True)
class CardText:
    """A KPI card in words, the same on screen and on paper: label, figure, change ('+2.5 pts · better'), the
    status line ('✔ On target · target 80 %'), the metric's description, and the raw change and direction."""
    label: str
    value: str
    delta: str | None
    status: str
    help: str
    change: float | None
    direction: str
    signal: str = ""          # the SPC icons in words (spc.words): is the change real, will the target be met


def card_text(engine: Engine, r: MetricResult, signal: str = "") -> CardText:
    """A result as its card says it; the change in words too (better / worse by the metric's direction), never by
    its colour alone."""
    metric = engine.metric(r.metric)
    change = None if r.previous is None or is_missing(r.value) or is_missing(r.previous.value) \
        else r.value - r.previous.value
    target = f"target {format_value(metric, r.target)}" if r.target is not None else "no target"
    delta = None if change is None else " · ".join(w for w in (format_delta(metric, change),
                                                                change_word(metric, change)) if w)
    return CardText(metric.label, r.formatted, delta, f"{status_text(r.status)} · {target}", metric.description,
                    change, metric.direction, signal)


@access.same_for_every_viewer
def card_signals(engine: Engine, viewer: Viewer, scope: Scope, period: Period, keys: tuple[str, ...]) -> dict:
    """Metric key → its SPC icons in words (spc.words) over the monthly series of config's spc.history_months
    ending with the period, as the viewer sees it; metrics with no series for the scope are left out."""
    out = {}
    span = spc.history(period, engine.config.spc)
    for key in keys:
        try:
            _, c = spc.for_series(engine, viewer, key, scope, span, "month")
        except UnknownError:
            continue
        out[key] = spc.words(c)
    return out


@access.same_for_every_viewer
def spc_trend(engine: Engine, viewer: Viewer, metric_key: str, scope: Scope, period: Period) -> pd.DataFrame:
    """A metric's monthly SPC chart over spc.history_months ending with the period: bucket, value, mean, lower,
    upper (None in a stretch too short for limits), rule, kind; in `attrs` the chart's words (spc.words), notes and
    the annotations it shows (events.on_chart; change points among them start a new stretch of limits)."""
    span = spc.history(period, engine.config.spc)
    df, c = spc.for_series(engine, viewer, metric_key, scope, span, "month")
    out = pd.DataFrame({"bucket": df["bucket"], "value": df["value"],
                        "mean": [c.stretch_of(i).mean for i in range(len(df))],
                        "lower": [c.stretch_of(i).lower for i in range(len(df))],
                        "upper": [c.stretch_of(i).upper for i in range(len(df))],
                        "rule": list(c.rules), "kind": list(c.kinds)})
    out.attrs["words"] = spc.words(c) if len(df) else ""
    out.attrs["notes"] = list(c.notes)
    out.attrs["annotations"] = events.on_chart(engine, viewer, scope, span, metric_key)
    return out


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
def heatmap(engine: Engine, viewer: Viewer, period: Period, order: str = "structure") -> pd.DataFrame:
    """Department × metric: department, name, metric, label, value, formatted, status, icon, word; departments in
    config's order, or (order "concern", GRID_ORDERS) each cell with its SPC variation (`variation`: spc.VARIATION_WORDS'
    key, None when too short or no figure) and the departments with most special causes of concern first."""
    if order not in GRID_ORDERS:
        raise UnknownError(f"unknown order {order!r} for the departments: one of {', '.join(GRID_ORDERS)}")
    frames = []
    for key in engine.config.page("overview", "heatmap"):
        metric = engine.metric(key)
        b = engine.breakdown(viewer, key, ORGANISATION, period, by="department")
        b = b[[engine.config.departments[g].level == "department" for g in b["grp"]]]
        frames.append(pd.DataFrame({"department": b["grp"], "name": b["name"], "metric": key, "label": metric.label,
                                    "value": b["value"], "formatted": [format_value(metric, v) for v in b["value"]],
                                    "status": b["status"]}))
    df = pd.concat(frames, ignore_index=True)
    df["icon"] = [target_status.LABELS[s][0] for s in df["status"]]
    df["word"] = [status_text(s) for s in df["status"]]
    if order == "concern":
        span = spc.history(period, engine.config.spc)
        drawn = [None if is_missing(v) else spc.for_series(engine, viewer, m, Scope("department", d), span)[1]
                 for d, m, v in zip(df["department"], df["metric"], df["value"])]
        df["variation"] = [None if c is None or c.too_short else c.variation for c in drawn]
        df["signal"] = [VARIATION_MARKS.get(v, "") if not is_missing(v) else "" for v in df["variation"]]
        concerns = df[[v == spc.CONCERN for v in df["variation"]]].groupby("department").size()
        rank = {d: (-int(concerns.get(d, 0)), i) for i, d in enumerate(dict.fromkeys(df["department"]))}
        df = df.iloc[sorted(range(len(df)), key=lambda i: (rank[df["department"].iat[i]], i))].reset_index(drop=True)
        df["concerns"] = [int(concerns.get(d, 0)) for d in df["department"]]
    return df


@access.same_for_every_viewer
def trend(engine: Engine, viewer: Viewer, metric_key: str, scope: Scope, period: Period, grain: str = "month") -> pd.DataFrame:
    """The series with the same buckets a year earlier beside it (`previous`), and the annotations the chart shows
    (metrics.features.events.on_chart) in `attrs["annotations"]`."""
    now = engine.series(viewer, metric_key, scope, period, grain)
    before = engine.series(viewer, metric_key, scope, period.last_year(), grain)
    now["previous"] = list(before["value"])[: len(now)] + [None] * max(0, len(now) - len(before))
    now.attrs["annotations"] = events.on_chart(engine, viewer, scope, period, metric_key)
    return now


@access.same_for_every_viewer
def theme_trend(engine: Engine, viewer: Viewer, scope: Scope, period: Period, grain: str = "month") -> pd.DataFrame:
    """Customer comments per theme and bucket (metrics.voice.themes.theme_trend) with the annotations of the scope
    about every figure (events.on_chart) in `attrs["annotations"]`."""
    df = themes.theme_trend(engine, viewer, scope, period, grain)
    df.attrs["annotations"] = events.on_chart(engine, viewer, scope, period)
    return df


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
def holds_back_table(engine: Engine, viewer: Viewer, period: Period) -> pd.DataFrame:
    """holds_back as the Overview shows it: Goal, Department ('–' when no misses), Misses there, Share of all
    misses ('100 %'), Misses counted."""
    hb = holds_back(engine, viewer, period)
    return pd.DataFrame({"Goal": hb["label"], "Department": [MISSING if is_missing(d) else d for d in hb["department"]],
                         "Misses there": hb["misses"], "Share of all misses": [format_percent(s) for s in hb["share"]],
                         "Misses counted": hb["what"]})


@access.same_for_every_viewer
def goal_table(engine: Engine, viewer: Viewer, scope: Scope, period: Period) -> pd.DataFrame:
    """Each shared goal's score, status and previous score for a scope.

    Returns:
        goal, score, previous (0–1 or None, for charts), and as shown: Goal, Score and Previous ('83 %', '–' with
        no score), Status (icon and word), Measures.
    """
    rows = []
    for g in goal_results(engine, viewer, scope, period):
        rows.append({"goal": g.goal, "score": g.score, "previous": g.previous_score, "Goal": g.label,
                     "Score": format_percent(g.score), "Previous": format_percent(g.previous_score),
                     "Status": status_text(g.status),
                     "Measures": "; ".join(f"{m.label} {m.formatted} ({status_word(m.status).lower()})"
                                           for m in g.measures)})
    return pd.DataFrame(rows)


GOAL_COLUMNS = ("Goal", "Score", "Previous", "Status", "Measures")      # goal_table's columns as shown


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
        rows.append({"Goal": goal.label, "Our score": format_percent(r["score"]), "Status": status_text(r["status"]),
                     "Misses with us": int(r["misses"]), "Share of all misses": format_percent(r["miss_share"])})
    return pd.DataFrame(rows, columns=["Goal", "Our score", "Status", "Misses with us", "Share of all misses"])


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
        rows.append({"metric": key, "Measure": metric.label, "Me": mine.formatted, "My team": ours.formatted,
                     "Target": format_value(metric, mine.target), "Status": status_text(mine.status),
                     "value": mine.value, "status": mine.status})
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



@access.same_for_every_viewer
def benchmark_table(engine: Engine, viewer: Viewer, metric_key: str, source: str | None = None,
                    cohort: str | None = None) -> pd.DataFrame:
    """peers.benchmark as the Benchmarks page shows it, one row per period: Period, Peers, Q1, Median, Q3, Us,
    Our figure from, Percentile rank, Quartile (1 = best), Best quarter from, Direction — figures in the
    metric's format ('–' where there is none)."""
    df = peers.benchmark(engine, viewer, metric_key, source, cohort)
    metric = engine.config.metrics.get(metric_key)

    def figures(col):
        return [format_figure(metric, v) for v in df[col]]
    return pd.DataFrame({"Period": df["period"].astype(str), "Peers": df["peers"], "Q1": figures("q1"),
                         "Median": figures("median"), "Q3": figures("q3"), "Us": figures("ours"),
                         "Our figure from": df["ours_from"], "Percentile rank": [format_number(v) for v in df["percentile_rank"]],
                         "Quartile (1 = best)": [format_number(v) for v in df["quartile"]],
                         "Best quarter from": figures("best_quartile_from"),
                         "Direction": [direction_words(d) for d in df["direction"]]})


@access.same_for_every_viewer
def staff_names(engine: Engine, viewer: Viewer | None = None) -> dict[str, str]:
    """Staff id → name, to show a person by name where a list names them (the lists have already blanked the
    people the viewer may not see; every colleague may pick any other by name on the thanks form)."""
    df = engine.read_store("SELECT staff_id, name FROM staff")
    return dict(zip(df["staff_id"], df["name"]))


def waiting_list(engine: Engine, viewer: Viewer, scope: Scope, as_of: dt.date) -> tuple[pd.DataFrame, str]:
    """What waits on a unit or a person (lists.waiting) as the page shows it, and the sentence above it.

    Returns:
        The table (no rows when nothing waits) — What, Team and Person (a unit's list only: the team's name; the person's name, "a colleague"
        where the viewer may not see who, "–" when it waits on nobody in particular), Since, Due ('9 Oct 2025'),
        Overdue ('⚠ Overdue' or blank) — and e.g. '2 overdue of 15 at the end of 31 Oct 2025.' (or 'Nothing was
        waiting at the end of 31 Oct 2025.').
    """
    df = lists.waiting(engine, viewer, scope, as_of)
    names = staff_names(engine, viewer) if scope.kind != "staff" else {}
    units = {k: d.name for k, d in engine.config.departments.items()}
    table = pd.DataFrame({"What": df["what"]})
    if scope.kind != "staff":               # a person's own list: every row is their own team and themselves
        table["Team"] = [MISSING if is_missing(k) else units.get(k, k) for k in df["department_id"]]
        table["Person"] = [HIDDEN_PERSON if hidden else MISSING if is_missing(p) else names.get(p, MISSING)
                           for p, hidden in zip(df["staff_id"], df["hidden"])]
    table["Since"] = [format_date(v) for v in df["since"]]
    table["Due"] = [format_date(v) for v in df["due"]]
    table["Overdue"] = ["⚠ Overdue" if o else "" for o in df["overdue"]]
    if df.empty:
        return table, f"Nothing was waiting at the end of {format_date(as_of)}."
    late = int(df["overdue"].sum())
    return table, f"{late:,} overdue of {len(df):,} at the end of {format_date(as_of)}."
