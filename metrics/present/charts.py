"""Plotly figures from tidy DataFrames: pure functions, tested for their data, not their pixels.

Status is never colour alone: cells carry an icon and a word. Colours are the Okabe–Ito palette.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from metrics.compute import target_status
from metrics.catalogue.definitions import Metric
from metrics.formatting import format_figure, format_percent, format_value, is_missing, percent
from metrics.features import chain, demand, spc

BLUE, GREY = "#0072B2", "#999999"
_CONCERN_MARK = spc.VARIATION_ICONS[spc.CONCERN]


def _y(metric: Metric | None, values) -> list:
    """Values as a chart's axis shows them: percentages for shares, gaps as None (no point drawn)."""
    if metric is not None and metric.format == "percent":
        return [percent(v) for v in values]
    return [None if is_missing(v) else v for v in values]


def trend_figure(df: pd.DataFrame, metric: Metric) -> go.Figure:
    """A metric over time with its target line and the same buckets a year earlier (dashed)."""
    unit = "%" if metric.format == "percent" else (metric.unit or "")
    fig = go.Figure()
    labels = [format_value(metric, v) for v in df["value"]]
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
    return annotate(fig, df)


def annotate(fig: go.Figure, df: pd.DataFrame) -> go.Figure:
    """Mark the annotations a series carries (df.attrs["annotations"], metrics.features.events.on_chart) on its chart:
    a dotted line at a day or a shaded band over a range, numbered as the list under the chart numbers them; a change
    point's line is solid (the SPC limits start again there). The number's hover text says what happened."""
    marks = df.attrs.get("annotations")
    if marks is None or marks.empty:
        return fig
    for n, row in enumerate(marks.itertuples(), start=1):
        start = pd.Timestamp(row.starts)
        if row.ends is not None and not pd.isna(row.ends):
            fig.add_vrect(x0=start, x1=pd.Timestamp(row.ends) + pd.Timedelta(days=1), fillcolor="#777777",
                          opacity=0.15, line_width=0, layer="below")
        fig.add_shape(type="line", x0=start, x1=start, y0=0, y1=1, yref="paper",
                      line={"color": "#333333", "width": 1.5 if row.change_point else 1,
                            "dash": "solid" if row.change_point else "dot"})
        fig.add_annotation(x=start, y=1, yref="paper", yanchor="top", text=f"<b>{n}</b>", showarrow=False,
                           bgcolor="#ffffff", bordercolor="#333333", borderwidth=1, borderpad=2, font={"size": 11},
                           hovertext=f"{row.kind_words}: {_escape(row.title)}")
    return fig


def _escape(text: str) -> str:
    """Plain text for a plotly label (which reads a few HTML tags)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    order = {s: i for i, s in enumerate((target_status.OFF_TARGET, target_status.WARNING, target_status.ON_TARGET, target_status.INSUFFICIENT, target_status.NO_TARGET,
                                         target_status.SUPPRESSED))}
    df = df.assign(label=[wrap(x) for x in df["label"]])
    if "concerns" in df:     # ordered by special causes of concern: each row says how many it has
        df = df.assign(name=[f"{n} ({c} {_CONCERN_MARK})" if c else n for n, c in zip(df["name"], df["concerns"])])
    signal = df["signal"] if "signal" in df else [""] * len(df)
    names = list(dict.fromkeys(df["name"]))
    labels = list(dict.fromkeys(df["label"]))
    grid = df.pivot(index="name", columns="label", values="status").reindex(index=names, columns=labels)
    # A cell with no figure shows its status icon alone ('…', not '… –'); the hover says the status in words.
    cells = df.assign(t=[i if is_missing(v) else f"{i} {f}" + (f" {m}" if m else "")
                         for i, v, f, m in zip(df["icon"], df["value"], df["formatted"], signal)],
                      h=[f"{f} ({target_status.status_word(s).lower()})" for f, s in zip(df["formatted"], df["status"])])
    text = cells.pivot(index="name", columns="label", values="t").reindex(index=names, columns=labels)
    hover = cells.pivot(index="name", columns="label", values="h").reindex(index=names, columns=labels)
    z = grid.apply(lambda col: col.map(order)).to_numpy(dtype=float)
    colours = [target_status.LABELS[s][2] for s in order]
    n = len(colours)
    scale = [[i / n, c] for i, c in enumerate(colours) for i in (i, i + 1)]
    scale = [[min(p, 1.0), c] for p, c in scale]
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=names, text=text.to_numpy(), texttemplate="%{text}",
                               customdata=hover.to_numpy(), zmin=-0.5, zmax=n - 0.5, colorscale=scale, showscale=False,
                               xgap=2, ygap=2, hovertemplate="%{y} · %{x}: %{customdata}<extra></extra>"))
    fig.update_layout(height=110 + 34 * len(names), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"side": "top", "tickangle": 0}, yaxis={"autorange": "reversed"})
    return fig


def goal_bars(df: pd.DataFrame) -> go.Figure:
    """Shared-goal scores as bars (a percentage), with the previous score marked (views.goal_table's frame)."""
    fig = go.Figure()
    fig.add_bar(x=[percent(s) for s in df["score"]], y=df["Goal"], orientation="h", marker_color=BLUE, name="Score",
                text=[w if is_missing(s) else f"{t} · {w}" for s, t, w in zip(df["score"], df["Score"], df["Status"])],
                textposition="auto")
    fig.add_scatter(x=[percent(s) for s in df["previous"]], y=df["Goal"], mode="markers", name="Previous period",
                    marker={"symbol": "line-ns-open", "size": 18, "color": "#333333"})
    fig.update_layout(height=80 + 40 * len(df), xaxis={"range": [0, 100], "title": "score (% of measures on target)"},
                      yaxis={"autorange": "reversed"}, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": -0.25})
    return annotate(fig, df)


OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000", "#999999"]


def theme_figure(df: pd.DataFrame) -> go.Figure:
    """Customer comments per theme over time (stacked bars), hover with the share that were unhappy."""
    fig = go.Figure()
    for i, (theme, part) in enumerate(df.groupby("theme", sort=True)):
        fig.add_bar(x=part["bucket"], y=part["comments"], name=theme, marker_color=OKABE_ITO[i % len(OKABE_ITO)],
                    customdata=[format_percent(s) for s in part["negative_share"]],
                    hovertemplate=f"{theme}<br>%{{x}}: %{{y}} comments, %{{customdata}} unhappy<extra></extra>")
    fig.update_layout(barmode="stack", height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      yaxis_title="comments", legend={"orientation": "h", "y": -0.15})
    return annotate(fig, df)


def matrix_figure(df: pd.DataFrame, column: str, metric: Metric, names: dict) -> go.Figure:
    """Providers (rows) × requesters (columns) as a heatmap of one internal-service measure, values written in."""
    piv = df.pivot(index="provider", columns="requester", values=column)
    z = piv.to_numpy(dtype=float)
    text = [[format_value(metric, v, missing="") for v in row] for row in z]
    reverse = metric.direction == "lower_is_better"
    fig = go.Figure(go.Heatmap(z=[_y(metric, row) for row in z], x=[names.get(c, c) for c in piv.columns], y=[names.get(i, i) for i in piv.index],
                               text=text, texttemplate="%{text}", colorscale="Blues_r" if reverse else "Blues",
                               hovertemplate="%{y} for %{x}: %{text}<extra></extra>", showscale=False))
    fig.update_layout(height=120 + 42 * len(piv.index), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis={"title": "asked by (internal customer)", "side": "top", "tickangle": -30},
                      yaxis={"title": "provided by", "autorange": "reversed"})
    return fig


def sankey_figure(flow: dict) -> go.Figure:
    """The referral flow (chain.referral_flow): contacts → contact centre → officers' departments → callback outcome;
    with demand.chain_flow also each department → the customers who called again because of it (failure demand)."""
    links = flow["links"]
    nodes = list(dict.fromkeys(list(links["source"]) + list(links["target"])))
    idx = {n: i for i, n in enumerate(nodes)}
    outcome_colour = {"within_1_day": "#009E73", "later": "#E69F00", "not_returned": "#D55E00"}
    colour = {chain.OUTCOMES[k]: c for k, c in outcome_colour.items()} | {demand.AGAIN: "#CC79A7", demand.UNKNOWN: GREY}
    fig = go.Figure(go.Sankey(
        node={"label": nodes, "pad": 14, "thickness": 16, "color": [colour.get(n, BLUE) for n in nodes]},
        link={"source": [idx[s] for s in links["source"]], "target": [idx[t] for t in links["target"]],
              "value": links["count"].tolist(),
              "color": ["rgba(204,121,167,0.35)" if t == demand.AGAIN else "rgba(0,114,178,0.18)" for t in links["target"]],
              "hovertemplate": "%{source.label} → %{target.label}: %{value:,}<extra></extra>"}))
    fig.update_layout(height=520, margin={"l": 10, "r": 10, "t": 20, "b": 10})
    return fig


def failure_demand_figure(summary: dict, names: dict) -> go.Figure:
    """Failure demand by the department whose delays caused it (demand.summary), most first, unattributed last."""
    by = summary["by_department"]
    y = [names.get(k, k) for k in by["department"]] + ([demand.UNKNOWN] if summary["unattributed"] else [])
    x = by["contacts"].tolist() + ([summary["unattributed"]] if summary["unattributed"] else [])
    fig = go.Figure(go.Bar(y=y, x=x, orientation="h", marker_color=[BLUE] * len(by) + [GREY] * (len(y) - len(by)),
                           text=[f"{v:,}" for v in x], textposition="outside",
                           hovertemplate="%{y}: %{x:,} contacts<extra></extra>"))
    fig.update_layout(height=max(160, 34 * len(y) + 70), margin={"l": 10, "r": 40, "t": 10, "b": 40},
                      yaxis={"autorange": "reversed"}, xaxis_title="customers' contacts caused (failure demand)")
    return fig


def attribution_figure(df: pd.DataFrame, names: dict) -> go.Figure:
    """Late outcomes by kind, split by the department each waited longest with (horizontal stacked bars)."""
    fig = go.Figure()
    for i, (dept, part) in enumerate(df.groupby("department", sort=True)):
        fig.add_bar(y=part["kind"], x=part["waited_longest"], name=names.get(dept, dept), orientation="h",
                    marker_color=OKABE_ITO[i % len(OKABE_ITO)],
                    hovertemplate=f"{names.get(dept, dept)}: %{{x:,}} of %{{y}}<extra></extra>")
    fig.update_layout(barmode="stack", height=300, margin={"l": 10, "r": 10, "t": 20, "b": 10},
                      xaxis_title="late outcomes that waited longest there", legend={"orientation": "h", "y": -0.3})
    return fig


def benchmark_figure(df: pd.DataFrame, metric: Metric | None, label: str) -> go.Figure:
    """The cohort's middle half (Q1–Q3) as a band, its median, and our figure, per period."""
    x = df["period"].astype(str).tolist()
    fig = go.Figure()
    fig.add_scatter(x=x, y=_y(metric, df["q3"]), mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
    fig.add_scatter(x=x, y=_y(metric, df["q1"]), mode="lines", line={"width": 0}, fill="tonexty",
                    fillcolor="rgba(153,153,153,0.3)", name="Peers' middle half (Q1–Q3)", hoverinfo="skip")
    fig.add_scatter(x=x, y=_y(metric, df["median"]), mode="lines+markers", name="Peer median",
                    line={"color": GREY, "dash": "dash"}, text=[format_figure(metric, v) for v in df["median"]],
                    hovertemplate="%{x}: median %{text}<extra></extra>")
    fig.add_scatter(x=x, y=_y(metric, df["ours"]), mode="lines+markers", name="Us", line={"color": BLUE, "width": 3},
                    text=[format_figure(metric, v) + ("" if is_missing(r) else f" · {r:.0f}th percentile")
                          for v, r in zip(df["ours"], df["percentile_rank"])],
                    hovertemplate="%{x}: %{text}<extra></extra>")
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, yaxis_title=label,
                      legend={"orientation": "h", "y": -0.2}, xaxis={"type": "category"})
    return fig


# Special causes as Making Data Count marks them, colour-blind safe (Okabe–Ito) and never by colour alone: each kind
# has its own marker symbol and name in the legend.
_SPC_MARKS = {"improvement": ("#0072B2", "triangle-up", "Special cause: improvement"),
              "concern": ("#E69F00", "triangle-down", "Special cause: concern"),
              "change_high": ("#CC79A7", "diamond", "Special cause: higher"),
              "change_low": ("#CC79A7", "diamond-open", "Special cause: lower")}


def spc_figure(df: pd.DataFrame, metric: Metric) -> go.Figure:
    """An XmR chart (views.spc_trend): the points, the centre line, the process limits (dashed), the target, and
    each special-cause point marked by its kind; the chart's words (variation · assurance) in the title."""
    unit = "%" if metric.format == "percent" else (metric.unit or "")
    fig = go.Figure()
    labels = [format_value(metric, v) for v in df["value"]]
    fig.add_scatter(x=df["bucket"], y=_y(metric, df["value"]), mode="lines+markers", name="Monthly figure",
                    line={"color": GREY, "width": 2}, marker={"color": GREY, "size": 6}, text=labels,
                    hovertemplate="%{x}: %{text}<extra></extra>")
    for col, name, dash in (("mean", "Centre line (mean)", "solid"), ("upper", "Upper process limit", "dash"),
                            ("lower", "Lower process limit", "dash")):
        fig.add_scatter(x=df["bucket"], y=_y(metric, df[col]), mode="lines", name=name,
                        line={"color": "#000000" if col == "mean" else "#555555", "dash": dash, "width": 1.5,
                              "shape": "hv"})
    for kind, (colour, symbol, name) in _SPC_MARKS.items():
        hit = df[df["rule"].notna() & (df["kind"] == kind)]
        if len(hit):
            fig.add_scatter(x=hit["bucket"], y=_y(metric, hit["value"]), mode="markers", name=name,
                            marker={"color": colour, "symbol": symbol, "size": 12, "line": {"width": 1, "color": "#000"}})
    fig.update_layout(title=f"{metric.label}<br><sup>{df.attrs.get('words', '')}</sup>", height=350,
                      margin={"l": 10, "r": 10, "t": 64, "b": 10}, yaxis_title=unit,
                      legend={"orientation": "h", "y": -0.25})
    return annotate(fig, df)
