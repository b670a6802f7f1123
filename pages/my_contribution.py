"""My contribution: my figures beside my team's, the thanks I was given, what waits on me."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.errors import AccessDenied
from metrics.present import documents

viewer = session.require_viewer()
eng = session.engine()
if viewer.staff_id is None:
    st.info("This page is for people with a staff record.")
    st.stop()
period, grain = session.period_controls(eng, "My contribution")
try:                                   # e.g. an administrator viewing as a staff member: no personal figures
    doc = documents.my_contribution(eng, viewer, period, grain, view=app_cache.view)
except AccessDenied as exc:
    st.title("My contribution")
    st.info(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    st.stop()
widgets.render(eng, viewer, doc, {"flash": widgets.flash, "thanks": lambda: widgets.thank_form(eng, viewer, "me")},
               pdf_name=doc.file_name(period))
