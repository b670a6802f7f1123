"""The chain: the service departments give each other, the customer's path to a callback, where late outcomes
waited longest, and how local suppliers are paid."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.present import documents

viewer = session.require_viewer()
eng = session.engine()
period, grain = session.period_controls(eng, "The chain")
key = session.department_picker(eng, viewer)
measures = eng.config.chain.internal_service          # matrix column → metric
doc = documents.the_chain(eng, viewer, key, period, grain, documents.Choices(measure=st.session_state.get("chain-measure")),
                          view=app_cache.view)
widgets.render(eng, viewer, doc, {"measure": lambda: st.radio(
    "Measure", list(measures), horizontal=True, key="chain-measure", format_func=lambda c: eng.metric(measures[c]).label)},
    pdf_name=doc.file_name(period, key))
