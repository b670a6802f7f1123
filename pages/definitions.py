"""Metric definitions in the organisation's language: label, definition, owner, target."""
import pandas as pd
import streamlit as st

import session
import widgets
from metrics.formatting import direction_words, format_value

viewer = session.require_viewer()
eng = session.engine()
st.title("Metric definitions")
st.caption("Every figure on every page is computed from these definitions, the same way for everyone.")
rows = [{"Measure": m.label, "Key": m.key, "Definition": m.description,
         "Owner": eng.config.departments[m.owner].name,
         "Target": format_value(m, m.default_target.target if m.default_target else None),
         "Direction": direction_words(m.direction)}
        for m in eng.config.metrics.values()]
widgets.table(pd.DataFrame(rows), "metric-definitions")
