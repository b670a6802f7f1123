"""Plotly figures from tidy DataFrames: pure functions, tested for their data, not their pixels.

Status is never colour alone: cells carry an icon and a word. Colours are the Okabe–Ito palette.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from metrics import status as st
from metrics.definitions import Metric
from metrics.formatting import format_value

BLUE, GREY = "#0072B2", "#999999"
_SCALE = {"percent": 100.0}


def _y(metric: Metric, values) -> list:
    k = _SCALE.get(metric.format, 1.0)
    return [None if v is None or v != v else v * k for v in values]


def trend_figure(metric: Metric, df: pd.DataFrame) -> go.Figure:
    """A metric over time with its target line and the same buckets a year earlier (dashed)."""
    unit = "%" if metric.format == "percent" else (metric.unit or "")
    fig = go.Figure()
    labels = [format_value(metric, v if v == v else None) for v in df["value"]]
    fig.add_scatter(x=df["bucket"], y=_y(metric, df["value"]), mode="lines+markers", name="This period",
                    line={"color": BLUE, "width": 3}, text=labels, hovertemplate="%{x}: %{text}<extra></extra>")
    if "previous" in df:
        fig.add_scatter(x=df["bucket"], y=_y(metric, df["previous"]), mode="lines", name="A year earlier",
                        line={"color": GREY, "dash": "dash"})
    if df["target"].notna().any():
        fig.add_scatter(x=df["bucket"], y=_y(metric, df["target"]), mode="lines", name="Target",
                        line={"color": "#009E73", "dash": "dot"})
    fig.update_layout(title=metric.label, height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      yaxis_title=unit, legend={"orientation": "h", "y": -0.2})
    return fig


def wrap(text: str, width: int = 14) -> str:
    """Break a label into lines of about `width` characters for narrow chart columns."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def heatmap_figure(df: pd.DataFrame) -> go.Figure:
    """Department × metric status grid: colour by status, with the figure, icon and word in each cell."""
    order = {s: i for i, s in enumerate((st.OFF_TARGET, st.WARNING, st.ON_TARGET, st.INSUFFICIENT, st.NO_TARGET,
                                         st.SUPPRESSED))}
    df = df.assign(label=[wrap(x) for x in df["label"]])
    names = list(dict.fromkeys(df["name"]))
    labels = list(dict.fromkeys(df["label"]))
    grid = df.pivot(index="name", columns="label", values="status").reindex(index=names, columns=labels)
    text = df.assign(t=df["icon"] + " " + df["formatted"]).pivot(index="name", columns="label", values="t") \
        .reindex(index=names, columns=labels)
    z = grid.apply(lambda col: col.map(order)).to_numpy(dtype=float)
    colours = [st.LABELS[s][2] for s in order]
    n = len(colours)
    scale = [[i / n, c] for i, c in enumerate(colours) for i in (i, i + 1)]
    scale = [[min(p, 1.0), c] for p, c in scale]
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=names, text=text.to_numpy(), texttemplate="%{text}",
                               zmin=-0.5, zmax=n - 0.5, colorscale=scale, showscale=False, xgap=2, ygap=2,
                               hovertemplate="%{y} · %{x}: %{text}<extra></extra>"))
    fig.update_layout(height=110 + 34 * len(names), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"side": "top", "tickangle": 0}, yaxis={"autorange": "reversed"})
    return fig


def goal_bars(df: pd.DataFrame) -> go.Figure:
    """Shared-goal scores (0–100) as bars, with the previous score marked."""
    fig = go.Figure()
    fig.add_bar(x=df["Score"], y=df["Goal"], orientation="h", marker_color=BLUE, name="Score",
                text=[f"{s} · {w}" if s is not None else w for s, w in zip(df["Score"], df["Status"])],
                textposition="auto")
    fig.add_scatter(x=df["Previous"], y=df["Goal"], mode="markers", name="Previous period",
                    marker={"symbol": "line-ns-open", "size": 18, "color": "#333333"})
    fig.update_layout(height=80 + 40 * len(df), xaxis={"range": [0, 100], "title": "score out of 100"},
                      yaxis={"autorange": "reversed"}, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": -0.25})
    return fig


OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000", "#999999"]


def theme_figure(df: pd.DataFrame) -> go.Figure:
    """Customer comments per theme over time (stacked bars), hover with the share that were unhappy."""
    fig = go.Figure()
    for i, (theme, part) in enumerate(df.groupby("theme", sort=True)):
        fig.add_bar(x=part["bucket"], y=part["comments"], name=theme, marker_color=OKABE_ITO[i % len(OKABE_ITO)],
                    customdata=(part["negative_share"] * 100).round(0),
                    hovertemplate=f"{theme}<br>%{{x}}: %{{y}} comments, %{{customdata}} % unhappy<extra></extra>")
    fig.update_layout(barmode="stack", height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      yaxis_title="comments", legend={"orientation": "h", "y": -0.15})
    return fig
