"""Entry point: page config and the organisation's headline figures.

A placeholder until the role-based pages arrive: it shows the headline KPIs and the shared goals
for the last full month in the data, as the all-seeing system viewer.
"""
import streamlit as st

import app_cache
from metrics import status as stt
from metrics.access import SYSTEM
from metrics.errors import MetricsError
from metrics.formatting import format_delta
from metrics.goals import goal_results

HEADLINE = ("grade_of_service", "first_contact_resolution", "sla_attainment", "callback_within_1_day",
            "csat", "closed_loop_rate", "internal_sla_attainment", "paid_within_terms_local")
DELTA_COLOUR = {"higher_is_better": "normal", "lower_is_better": "inverse", "neutral": "off"}

st.set_page_config(page_title="Customer experience", page_icon=":material/monitoring:", layout="wide")
try:
    engine = app_cache.engine()
except MetricsError as exc:
    st.error(str(exc))
    st.stop()

period = engine.default_period()
st.title(f"{engine.config.organisation.name} — customer experience")
st.caption(f"{period.start:%B %Y} · compared with {period.previous().start:%B %Y} · the whole organisation")
if engine.synthetic():
    st.info("Demo data: this database holds a generated, synthetic organisation.", icon=":material/science:")

st.subheader("Headline figures")
cols = st.columns(4)
for i, key in enumerate(HEADLINE):
    metric = engine.metric(key)
    r = engine.value(SYSTEM, key, period=period)
    icon, word, _ = stt.LABELS[r.status]
    change = None if r.value is None or r.previous.value is None else r.value - r.previous.value
    with cols[i % 4]:
        st.metric(metric.label, r.formatted, format_delta(metric, change) if change is not None else None,
                  delta_color=DELTA_COLOUR[metric.direction], border=True,
                  help=f"{metric.description} Target {r.target if r.target is not None else '–'}.")
        st.caption(f"{icon} {word}")

st.subheader("Shared goals")
for g in goal_results(engine, SYSTEM, period=period):
    icon, word, _ = stt.LABELS[g.status]
    score = "–" if g.score is None else f"{g.score * 100:.0f}/100"
    with st.expander(f"{icon} **{g.label}** — score {score} · {word}"):
        st.caption(g.description)
        st.dataframe(
            [{"Measure": m.label, "Figure": m.formatted, "Status": " ".join(stt.LABELS[m.status][:2])}
             for m in g.measures], hide_index=True, width="stretch")
