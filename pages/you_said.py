"""You said, we did: changes made from suggestions, with the figure they were meant to move. Public: no names."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.present import documents

eng = session.engine()
doc = documents.you_said(eng, None, st.session_state.get("you-said-count", 20), view=app_cache.view)
widgets.render(eng, None, doc, {"count": lambda: st.select_slider("How many", [10, 20, 50, 100], value=20,
                                                                   key="you-said-count")})
