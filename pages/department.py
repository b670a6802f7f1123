"""Department: its goals, the internal service it gives and receives, what waits, what customers say."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.compute import records
from metrics.errors import AccessDenied
from metrics.catalogue.scope import Scope
from metrics.present import documents

viewer = session.require_viewer()
eng = session.engine()
period, grain = session.period_controls(eng, "Department")
key = session.department_picker(eng, viewer)
scope = Scope("department", key)
headline = eng.config.page("department", "headline")
choices = documents.Choices(trend=st.session_state.get("trend"), spc=st.session_state.get("trend-spc", False))
doc = documents.department(eng, viewer, key, period, grain, choices, view=app_cache.view)


def behind_a_figure() -> None:
    """The records behind one of the headline figures (not printed: a page's working view)."""
    with st.expander("The records behind a figure"):
        metric = st.selectbox("Figure", headline, format_func=lambda k: eng.metric(k).label)
        st.caption("A person's name shows only where you may see that person's own figures.")
        try:
            widgets.table(app_cache.view(records.metric_records, viewer, metric, scope, period, 500),
                          f"{key}-{metric}-records")
        except AccessDenied as exc:      # e.g. too few survey answers to show them one by one
            st.info(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")


widgets.render(eng, viewer, doc, {
    "flash": widgets.flash,
    "what-moved": lambda: widgets.what_moved(eng, viewer, headline, scope, period, key),
    "records": behind_a_figure,
    "thanks": lambda: widgets.thank_form(eng, viewer, f"dept-{key}"),
    "trend": lambda: widgets.trend_controls(eng, headline, "trend", measure_key="trend"),
    "events": lambda: widgets.events_form(eng, viewer, scope, choices.trend_of(headline), period, choices.spc, key)},
    pdf_name=doc.file_name(period, key))
