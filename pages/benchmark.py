"""Benchmarks: our figures beside a peer cohort — the cohort's median and middle half, our percentile rank."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.present import documents
from metrics.features import peers

viewer = session.require_viewer()
eng = session.engine()
cohorts = app_cache.view(peers.cohorts, viewer)
if cohorts.empty:
    st.title("Benchmarks")
    st.info("No peer figures loaded yet: load a benchmarking export into `benchmarks` (see the README).")
    st.stop()
sources = list(dict.fromkeys(cohorts["source"]))
source = st.sidebar.selectbox("Publication", sources, key="bm-source")
groups = [None] + [c for c in cohorts[cohorts["source"] == source]["cohort"] if c is not None]
cohort = st.sidebar.selectbox("Cohort", groups, format_func=lambda c: "All peers" if c is None else c, key="bm-cohort")
keys = list(eng.read_store("SELECT DISTINCT metric_key FROM benchmarks WHERE source = $s ORDER BY 1", {"s": source})["metric_key"])
label = lambda k: eng.config.metrics[k].label if k in eng.config.metrics else k  # noqa: E731
chosen = st.session_state.get("bm-metric")
doc = documents.benchmarks(eng, viewer, chosen if chosen in keys else keys[0], source, cohort, view=app_cache.view)
widgets.render(eng, viewer, doc, {"measure": lambda: st.selectbox("Measure", keys, format_func=label, key="bm-metric")})
