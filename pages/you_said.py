"""You said, we did: changes made from suggestions, with the figure they were meant to move. Public: no names."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.formatting import format_date
from metrics.voice import suggestions

eng = session.engine()
st.title("You said, we did")
st.caption(f"{eng.config.organisation.name}: ideas from customers and colleagues that we put into practice, and how "
           "the figure each was meant to move changed (the 90 days before the change beside the 90 days after).")
if eng.synthetic():
    st.info("Demo data: a generated, synthetic organisation.", icon=":material/science:")
count = st.select_slider("How many", [10, 20, 50, 100], value=20)
df = app_cache.view(suggestions.you_said_we_did, None, count)
if df.empty:
    st.caption("Nothing implemented yet.")
for r in df.itertuples():
    with st.container(border=True):
        st.markdown(f"**You said:** {widgets.plain(r.you_said)}")
        st.markdown(f"**We did:** {widgets.plain(r.we_did)}")
        st.caption(f"{widgets.plain(r.department)} · {format_date(r.implemented_on)}")
        if r.measure:
            st.markdown(f"{r.measure}: {r.before} before → {r.after} after" + (f" ({r.change})" if r.change else ""))
