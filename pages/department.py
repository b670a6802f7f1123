"""Department: its goals, the internal service it gives and receives, what waits, what customers say."""
import streamlit as st

import app_cache
import session
import widgets
from metrics import access
from metrics.features import chain
from metrics.present import charts, views
from metrics.formatting import format_cell, format_date, format_period
from metrics.compute import records
from metrics.voice import lists
from metrics.errors import AccessDenied
from metrics.catalogue.scope import Scope
from metrics.voice import praise

viewer = session.require_viewer()
eng = session.engine()
period, grain = session.period_controls(eng, "Department")
key = session.department_picker(eng, viewer)
scope = Scope("department", key)
st.title(eng.config.departments[key].name)
st.caption(f"{format_period(period)} · compared with {format_period(period.previous())}")
session.banner(eng)
widgets.flash()

if access.may(eng.authorize, viewer, scope, records=True):
    st.subheader("What customers praised")
    widgets.praise_block(eng, viewer, scope, period, key)

widgets.cards(eng, app_cache.view(views.cards, viewer, scope, period, eng.config.page("department", "headline")))

st.subheader("Our part in the shared goals")
st.info(chain.words_for(eng, app_cache.view(chain.attribution, viewer, period), key, period), icon=":material/link:")
widgets.table(app_cache.view(views.department_contribution, viewer, key, period), f"{key}-goals")

left, right = st.columns(2)
with left:
    st.subheader("Service we give colleagues")
    widgets.cards(eng, app_cache.view(views.cards, viewer, scope, period, eng.config.page("department", "internal_given")), per_row=2)
with right:
    st.subheader("Service we receive")
    widgets.cards(eng, app_cache.view(views.cards, viewer, scope, period, eng.config.page("department", "internal_received")), per_row=1)

try:
    st.subheader("Waiting on us")
    wait, words = app_cache.view(views.waiting_list, viewer, scope, period.end)
    st.caption(words)
    if len(wait):
        widgets.table(wait, f"{key}-waiting")
    st.subheader("What customers said about us")
    widgets.table(app_cache.view(lists.feedback_comments, viewer, scope, period), f"{key}-comments")
    with st.expander("The records behind a figure"):
        metric = st.selectbox("Figure", eng.config.page("department", "headline"), format_func=lambda k: eng.metric(k).label)
        st.caption("A person's name shows only where you may see that person's own figures.")
        try:
            widgets.table(app_cache.view(records.metric_records, viewer, metric, scope, period, 500),
                          f"{key}-{metric}-records")
        except AccessDenied as exc:      # e.g. too few survey answers to show them one by one
            st.info(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
except AccessDenied:
    st.info("Customers' comments and the records behind the figures are visible to the department concerned "
            "and to executives.")

st.subheader("Thanks between colleagues")
left, right = st.columns([3, 2])
with left:
    since = session.up_to_today(eng, period)
    st.caption(f"Since {format_date(since.start)}.")
    feed = app_cache.view(praise.feed, viewer, key, since)
    if feed.empty:
        st.caption("No thanks recorded in this period.")
    for r in feed.head(8).itertuples():
        st.markdown(f":material/volunteer_activism: **{widgets.plain(r.from_name)}** thanked "
                    f"**{widgets.plain(r.to_name)}** for *{widgets.plain(r.value)}* · {format_date(r.given_at)}")
        st.caption(widgets.plain(format_cell(r.message, "")))
with right:
    widgets.thank_form(eng, viewer, f"dept-{key}")

st.subheader("Trend")
metric = st.selectbox("Measure", eng.config.page("department", "headline"), key="trend", format_func=lambda k: eng.metric(k).label)
st.plotly_chart(app_cache.chart(charts.trend_figure, (views.trend, viewer, metric, scope, session.trend_period(period), grain),
                                eng.metric(metric)), width="stretch")
