"""Overview: the organisation's headline figures, shared goals, departments at a glance, trends."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.present import charts, views
from metrics.formatting import format_period
from metrics.catalogue.scope import ORGANISATION
from metrics.features import chain

viewer = session.require_viewer()
eng = session.engine()
period, grain = session.period_controls(eng, "Overview")

st.title("Overview")
st.caption(f"The whole organisation · {format_period(period)} · compared with {format_period(period.previous())}")
session.banner(eng)

widgets.cards(eng, app_cache.view(views.cards, viewer, ORGANISATION, period, eng.config.page("overview", "headline")))

st.subheader("Shared goals")
goals = app_cache.view(views.goal_table, viewer, ORGANISATION, period)
st.plotly_chart(app_cache.chart(charts.goal_bars, (views.goal_table, viewer, ORGANISATION, period)), width="stretch")
widgets.table(goals[list(views.GOAL_COLUMNS)], "shared-goals")

st.subheader("Which department holds each goal back")
st.caption("Where most of the misses customers felt sat this period.")
widgets.table(app_cache.view(views.holds_back_table, viewer, period), "holds-back")

st.subheader("Where late outcomes waited longest")
st.caption(f"Each late outcome ({', '.join(eng.config.chain.late_outcomes.values())}) counts for the department that "
           "held it longest across its hand-offs — see *The chain*.")
att = app_cache.view(chain.attribution, viewer, period)
if att.empty:
    st.caption("No late outcomes in this period.")
else:
    st.plotly_chart(app_cache.chart(charts.attribution_figure, (chain.attribution, viewer, period),
                                    {k: d.name for k, d in eng.config.departments.items()}), width="stretch")

st.subheader("Departments at a glance")
hm = app_cache.view(views.heatmap, viewer, period)
st.plotly_chart(app_cache.chart(charts.heatmap_figure, (views.heatmap, viewer, period)), width="stretch")
widgets.table(hm[["name", "label", "formatted", "word"]].rename(
    columns={"name": "Department", "label": "Measure", "formatted": "Figure", "word": "Status"}), "departments")

st.subheader("Trends")
key = st.selectbox("Measure", eng.config.page("overview", "headline"), format_func=lambda k: eng.metric(k).label)
st.plotly_chart(app_cache.chart(charts.trend_figure, (views.trend, viewer, key, ORGANISATION, session.trend_period(period),
                                                      grain), eng.metric(key)), width="stretch")
