"""Overview: the organisation's headline figures, shared goals, departments at a glance, trends."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.catalogue.scope import ORGANISATION
from metrics.present import documents

viewer = session.require_viewer()
eng = session.engine()
period, grain = session.period_controls(eng, "Overview")
headline = eng.config.page("overview", "headline")
choices = documents.Choices(trend=st.session_state.get("overview-trend"),
                            spc=st.session_state.get("overview-spc", False),
                            grid=st.session_state.get("overview-grid", "structure"))
doc = documents.overview(eng, viewer, period, grain, choices, view=app_cache.view)
widgets.render(eng, viewer, doc, {"trend": lambda: widgets.trend_controls(eng, headline, "overview"),
                                  "what-moved": lambda: widgets.what_moved(eng, viewer, headline, ORGANISATION, period,
                                                                           "overview"),
                                  "grid": lambda: widgets.grid_order("overview-grid"),
                                  "events": lambda: widgets.events_form(eng, viewer, ORGANISATION,
                                                                        choices.trend_of(headline), period,
                                                                        choices.spc, "overview")},
               pdf_name=doc.file_name(period))
