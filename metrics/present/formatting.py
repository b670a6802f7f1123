"""One formatter for every number shown, from the metric's format, unit and decimals."""
from __future__ import annotations

from metrics.catalogue.definitions import Metric


def format_value(metric: Metric, value: float | None) -> str:
    """A figure as people read it: '81.2 %', '34 s', '1,204 calls', '+12'. None → '–'."""
    if value is None:
        return "–"
    d = metric.decimals
    if metric.format == "percent":
        return f"{value * 100:,.{d}f} %"
    if metric.format == "score":
        return f"{value:+,.{d}f}"
    if metric.format == "currency":
        return f"£{value:,.{max(d, 0)}f}"
    if metric.format == "duration" and metric.unit == "seconds":
        if value >= 120:
            return f"{int(value // 60)} min {int(round(value % 60)):02d} s"
        return f"{value:,.{d}f} s"
    text = f"{value:,.{d}f}"
    return f"{text} {metric.unit}" if metric.unit else text


def format_delta(metric: Metric, change: float | None) -> str:
    """A change between two figures: percentage points for shares, else the unit."""
    if change is None:
        return "–"
    if metric.format == "percent":
        return f"{change * 100:+,.{metric.decimals}f} pts"
    return f"{change:+,.{metric.decimals}f}"


def format_hours(hours: float | None) -> str:
    """A duration given in hours, in the unit people would use: '6 s', '12 min', '3.2 h', '5.9 days'."""
    if hours is None or hours != hours:
        return "–"
    if hours < 1 / 60:
        return f"{hours * 3600:.0f} s"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"
