"""Benchmarks: our figures beside a peer cohort — the cohort's median and middle half, our percentile rank."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.present import charts, views
from metrics.features import peers

viewer = session.require_viewer()
eng = session.engine()
st.title("Benchmarks")
st.caption("Our figure beside a cohort of peer organisations, per year. Ranks respect each measure's direction: "
           "the best quarter of a lower-is-better measure holds the lowest values.")
session.banner(eng)
cohorts = app_cache.view(peers.cohorts, viewer)
if cohorts.empty:
    st.info("No peer figures loaded yet: load a benchmarking export into `benchmarks` (see the README).")
    st.stop()
sources = list(dict.fromkeys(cohorts["source"]))
source = st.sidebar.selectbox("Publication", sources, key="bm-source")
groups = [None] + [c for c in cohorts[cohorts["source"] == source]["cohort"] if c is not None]
cohort = st.sidebar.selectbox("Cohort", groups, format_func=lambda c: "All peers" if c is None else c, key="bm-cohort")
keys = eng.read_store("SELECT DISTINCT metric_key FROM benchmarks WHERE source = $s ORDER BY 1", {"s": source})["metric_key"]
label = lambda k: eng.config.metrics[k].label if k in eng.config.metrics else k  # noqa: E731
metric_key = st.selectbox("Measure", list(keys), format_func=label, key="bm-metric")
df = app_cache.view(peers.benchmark, viewer, metric_key, source, cohort)
metric = eng.config.metrics.get(metric_key)
if df.empty:
    st.caption("No peer figures for this measure and cohort.")
    st.stop()
shown = app_cache.view(views.benchmark_table, viewer, metric_key, source, cohort)
last = shown.iloc[-1]
c1, c2, c3, c4 = st.columns(4)
c1.metric(f"Us, {last['Period']}", last["Us"], help=f"From {last['Our figure from'] or 'nowhere'}.")
c2.metric("Peer median", last["Median"])
c3.metric("Best quarter from", last["Best quarter from"])
c4.metric("Our percentile rank", last["Percentile rank"], help="The share of peers we do better than (a tie counts half).")
st.plotly_chart(app_cache.chart(charts.benchmark_figure, (peers.benchmark, viewer, metric_key, source, cohort), metric,
                                label(metric_key)), width="stretch")
widgets.table(shown, f"benchmark-{metric_key}")
