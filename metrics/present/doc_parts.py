"""What the documents of metrics.present.documents share: the `view` that computes directly, the header every
document prints (filters, freshness, who it is for), the viewer's choices, and the blocks several pages use."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from metrics.access import Viewer
from metrics.catalogue.scope import Scope
from metrics.features import events, spc as features_spc
from metrics.compute.periods import Period, add_months
from metrics.formatting import format_date, format_datetime, format_period, is_missing
from metrics.present import charts, views
from metrics.present.document import Cards, Chart, Document, Note, Praise, Table
from metrics.store.writes import now
from metrics.voice import praise


def direct(eng) -> Callable:
    """A `view` that computes every call afresh (the command line, digests): func(eng, viewer, *args)."""
    return lambda func, viewer, *args: func(eng, viewer, *args)


def freshness(eng) -> str:
    """The data's range and last load in words: 'Data from 1 Jan 2023 to 31 Dec 2025 · last loaded 2 Dec 2026 04:10.'"""
    rng = eng.data_range()
    if not rng:
        return ""
    loaded = eng.last_load()
    return (f"Data from {format_date(rng[0])} to {format_date(rng[1])}"
            + (f" · last loaded {format_datetime(pd.Timestamp(loaded))}." if loaded else "."))


def trend_period(period: Period) -> Period:
    """Twelve months ending with the chosen period, for trend charts."""
    return Period(add_months(period.end.replace(day=1), -11), period.end)


def who(eng, viewer: Viewer) -> str:
    """The viewer in words, for the printed header: 'Head of department, Housing (pat@council.example)'."""
    role = viewer.role.replace("_", " ").capitalize()
    unit = eng.config.departments[viewer.department_id].name if viewer.department_id in eng.config.departments else ""
    return f"{role}{', ' + unit if unit else ''} ({viewer.user})"


def new_document(eng, viewer, page: str, title: str, subtitle: str, filters: dict) -> Document:
    return Document(page=page, title=title, subtitle=subtitle, filters=filters, synthetic=eng.synthetic(),
                    freshness=freshness(eng), viewer=who(eng, viewer))


def period_filters(period: Period, grain: str | None = None, **more) -> dict:
    out = {"Period": format_period(period), "Compared with": format_period(period.previous())}
    if grain:
        out["Trend by"] = grain
    return {**out, **{k: v for k, v in more.items() if v}}


@dataclass(frozen=True)
class Choices:
    """What the viewer chose on the page beyond scope and period (each page reads the ones it has)."""
    trend: str | None = None          # the measure of a page's trend chart (default: the page's first headline)
    measure: str | None = None        # the chain's internal-service measure (a column of config chain.internal_service)
    status: str | None = None         # the Voice page's cases shown (metrics.voice.cases.STATUSES; default open)
    theme: str | None = None          # the Voice page's comments: one theme (config voice.themes), or every theme
    spc: bool = False                 # a page's trend drawn as an SPC chart (limits, special causes) instead
    grid: str = "structure"           # the Overview's department grid's order (views.GRID_ORDERS)

    def trend_of(self, measures: tuple[str, ...]) -> str:
        """The measure a page's trend shows: the one chosen, if the page offers it, else the page's first."""
        return self.trend if self.trend in measures else measures[0]


def cards_block(eng, view, viewer, scope: Scope, period: Period, keys, per_row: int = 4) -> Cards:
    """KPI cards with their SPC icons in words (views.card_signals)."""
    signals = view(views.card_signals, viewer, scope, period, keys)
    return Cards(tuple(views.card_text(eng, r, signals.get(r.metric, ""))
                       for r in view(views.cards, viewer, scope, period, keys)), per_row)


def praise_block(view, viewer, scope: Scope, period: Period, name: str, limit: int = 12) -> Praise:
    return Praise(scope, period, name, view(praise.praise, viewer, scope, period, limit), limit)


def today(eng):
    return now(eng.config).date()


def trend_span(eng, period: Period, spc: bool) -> Period:
    """The days a page's trend covers: twelve months, or an SPC chart's spc.history_months."""
    return features_spc.history(period, eng.config.spc) if spc else trend_period(period)


def trend_block(eng, viewer, metric_key: str, scope: Scope, period: Period, grain: str, spc: bool) -> Chart:
    """A page's trend chart: the metric over twelve months with last year and the target, or its SPC chart over
    spc.history_months (views.spc_trend); either with the annotations it shows marked and numbered."""
    metric = eng.metric(metric_key)
    if spc:
        return Chart(charts.spc_figure, (views.spc_trend, viewer, metric_key, scope, period), (metric,))
    return Chart(charts.trend_figure, (views.trend, viewer, metric_key, scope, trend_span(eng, period, spc), grain),
                 (metric,))


def events_block(eng, view, viewer, metric_key: str, scope: Scope, period: Period, spc: bool) -> Table | Note:
    """The annotations a page's trend shows, numbered as on the chart."""
    return events_list(view, viewer, scope, trend_span(eng, period, spc), metric_key)


def events_list(view, viewer, scope: Scope, span: Period, metric_key: str | None = None) -> Table | Note:
    """The annotations a chart of the scope over `span` shows, numbered as on it (metrics.features.events.on_chart)."""
    df = view(events.on_chart, viewer, scope, span, metric_key)
    if df.empty:
        return Note("No events are marked on this chart.", "caption")
    return Table(events_table(df), f"events-{metric_key or 'all'}")


def events_table(df: pd.DataFrame) -> pd.DataFrame:
    """events.on_chart's rows as the list under a chart shows them (which start new SPC limits, if any do)."""
    out = pd.DataFrame({
        "No.": range(1, len(df) + 1),
        "When": [format_date(a) + ("" if is_missing(b) else f" – {format_date(b)}") for a, b in zip(df["starts"], df["ends"])],
        "Kind": df["kind_words"], "What happened": df["title"], "Marked for": df["scope_name"]})
    if df["change_point"].any():
        out["SPC limits"] = ["new from here" if c else "" for c in df["change_point"]]
    return out


def trend_filters(eng, metric_key: str, spc: bool) -> dict:
    """The trend's choices as printed: which measure, and how it is drawn."""
    return {"Trend of": eng.metric(metric_key).label,
            "Trend drawn as": f"SPC chart over {eng.config.spc.history_months} months" if spc else "twelve months"}
