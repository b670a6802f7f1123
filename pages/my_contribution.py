"""My contribution: my figures beside my team's, the thanks I was given, what waits on me."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.voice import lists
from metrics.errors import AccessDenied
from metrics.catalogue.scope import Scope
from metrics.present import views
from metrics.formatting import format_cell, format_date, format_period

viewer = session.require_viewer()
eng = session.engine()
if viewer.staff_id is None:
    st.info("This page is for people with a staff record.")
    st.stop()
period, grain = session.period_controls(eng, "My contribution")
me = Scope("staff", viewer.staff_id)
st.title("My contribution")
try:                                   # e.g. an administrator viewing as a staff member: no personal figures
    eng.authorize(viewer, me, records=False)
except AccessDenied as exc:
    st.info(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    st.stop()
st.caption(f"{viewer.user} · {format_period(period)}. Your figures are visible to you and your managers only.")
session.banner(eng)

widgets.flash()
st.subheader("What customers said about you")
widgets.praise_block(eng, viewer, me, period, "me")

st.subheader("Thanks from colleagues")
since = session.up_to_today(eng, period)          # thanks given today show at once, whatever the period
st.caption(f"Since {format_date(since.start)}.")
thanks = app_cache.view(lists.thanks, viewer, me, since)
thanks = thanks[thanks["what"] != "Compliment from a customer"]
if thanks.empty:
    st.caption("No thanks recorded in this period.")
for _, t in thanks.head(5).iterrows():
    st.success(f"**{t['what']}** · {format_date(t['given'])} — {widgets.plain(format_cell(t['message'], ''))}"
               + (f" ({widgets.plain(t['value'])})" if format_cell(t["value"], "") else ""), icon=":material/favorite:")
if len(thanks) > 5:
    widgets.table(thanks, "my-thanks")

st.subheader("My figures beside my team's")
mine = app_cache.view(views.personal, viewer, viewer.staff_id, period)
if mine.empty:
    st.caption("No figures about your work in this period.")
else:
    widgets.table(mine[["Measure", "Me", "My team", "Target", "Status"]], "my-figures")

st.subheader("Waiting on me")
wait, words = app_cache.view(views.waiting_list, viewer, me, period.end)
st.caption(words)
if len(wait):
    widgets.table(wait, "my-waiting")

st.subheader("How my work feeds our shared goals")
for sentence in app_cache.view(views.goals_in_words, viewer, viewer.staff_id, period):
    st.markdown(f"- {sentence}")

st.subheader("Say thank you")
widgets.thank_form(eng, viewer, "me")
