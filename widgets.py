"""Small drawing helpers the pages share (Streamlit only; no figures are computed here)."""
from __future__ import annotations

import streamlit as st

from metrics import status as stt
from metrics.formatting import format_delta, format_value

DELTA_COLOUR = {"higher_is_better": "normal", "lower_is_better": "inverse", "neutral": "off"}


def status_text(code: str) -> str:
    icon, word, _ = stt.LABELS[code]
    return f"{icon} {word}"


def cards(eng, results, per_row: int = 4) -> None:
    """KPI cards: figure, change since the previous period, target, and status as icon + word."""
    cols = st.columns(per_row)
    for i, r in enumerate(results):
        metric = eng.metric(r.metric)
        change = None if r.value is None or r.previous is None or r.previous.value is None else r.value - r.previous.value
        target = f"target {format_value(metric, r.target)}" if r.target is not None else "no target"
        with cols[i % per_row]:
            with st.container(border=True):
                st.metric(metric.label, r.formatted, format_delta(metric, change) if change is not None else None,
                          delta_color=DELTA_COLOUR[metric.direction], help=metric.description)
                st.caption(f"{status_text(r.status)} · {target}")


# Data column names → words people use (the CSV keeps the same words as the screen).
WORDS = {"what": "What", "since": "Since", "due": "Due", "department_id": "Team", "staff_id": "Person",
         "overdue": "Overdue", "received_at": "Received", "kind": "Kind", "theme": "Theme", "csat": "Satisfaction (1–5)",
         "nps": "Recommend (0–10)", "comment": "In their words", "positive": "Positive", "given": "When",
         "message": "Message", "value": "Value", "row": "Row", "column": "Column", "reason": "Reason"}


def table(df, name: str, **kwargs) -> None:
    """A table and a CSV download of exactly what it shows."""
    df = df.rename(columns={k: v for k, v in WORDS.items() if k in df.columns})
    st.dataframe(df, hide_index=True, width="stretch", **kwargs)
    st.download_button("Download CSV", df.to_csv(index=False).encode("utf-8"), file_name=f"{name}.csv",
                       mime="text/csv", key=f"dl-{name}")
