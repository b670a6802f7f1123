"""Alerts and digests: my alerts (snooze, resolved) and my rules — a metric for a scope I may see, and what should
alert me; and the pages I (or the people I manage) get by e-mail. Rules are evaluated after each load and by
`python -m metrics alerts run`, as I see the figures (metrics/features/alerts.py); digests are sent by
`python -m metrics digest run`, each as its recipient sees the page (metrics/features/digests.py)."""
import datetime as dt

import pandas as pd
import streamlit as st

import session
import widgets
from metrics.catalogue.scope import Scope
from metrics.deliver import digests
from metrics.features import alerts
from metrics.present import documents
from metrics.formatting import format_value
from metrics.store.writes import now

viewer = session.require_viewer()
eng = session.engine()
st.title("Alerts and digests")
st.caption("An alert rule watches one measure for one unit (or your own figures) over this month, quarter or year so "
           f"far. Each rule alerts you at most once in {eng.config.alert_quiet_hours} hours (alerts.quiet_hours), "
           "and never about figures you may not see.")
widgets.flash()
lock = widgets.locked(viewer)

st.subheader("My alerts")
mine = alerts.my_alerts(eng, viewer)
if mine.empty:
    st.caption("No open alerts.")
for a in mine.itertuples():
    with st.container(border=True):
        st.markdown(widgets.plain(a.message))
        quiet = pd.notna(a.snoozed_until) and a.snoozed_until > now(eng.config)
        st.caption(f"Fired {a.fired_at:%d %b %Y %H:%M}" + (f" · snoozed until {a.snoozed_until:%d %b %Y %H:%M}" if quiet else ""))
        left, mid, right = st.columns([1, 1, 4])
        if left.button("Snooze a week", key=f"snooze-{a.alert_id}", **lock):
            widgets.act("Snoozed for a week.", alerts.snooze, eng, viewer, a.alert_id,
                        now(eng.config) + dt.timedelta(days=7))
        if mid.button("Resolved", key=f"resolve-{a.alert_id}", **lock):
            widgets.act("Marked resolved.", alerts.resolve, eng, viewer, a.alert_id)

st.subheader("My rules")
rules = alerts.my_rules(eng, viewer)
labels = {k: m.label for k, m in eng.config.metrics.items()}
if rules.empty:
    st.caption("No rules yet.")
for r in rules.itertuples():
    metric = eng.config.metrics.get(r.metric_key)
    scope = alerts.scope_name(eng.config, Scope(r.scope_kind, r.scope_key), own="my own figures")
    what = {"threshold": f"{r.crosses} {format_value(metric, r.threshold) if metric else r.threshold}",
            "off_target": "off target", "projected_miss": "projected to miss its target"}[r.kind]
    left, right = st.columns([5, 1])
    left.markdown(f"**{labels.get(r.metric_key, r.metric_key)}** for {scope}, this {r.grain} so far: {what}")
    if right.button("Stop", key=f"stop-{r.rule_id}", **lock):
        widgets.act("Rule stopped.", alerts.stop_rule, eng, viewer, r.rule_id)

with st.expander("Add a rule"):
    key = st.selectbox("Measure", list(labels), format_func=labels.get, key="alert-metric")
    metric = eng.config.metrics[key]
    units = {"organisation": eng.config.organisation.name,
             **{f"{d.level}:{k}": f"{d.name} ({d.level})" for k, d in eng.config.departments.items()}}
    if viewer.staff_id:
        units[f"staff:{viewer.staff_id}"] = "my own figures"
    scope = st.selectbox("For", list(units), format_func=units.get, key="alert-scope")
    kinds = {"projected_miss": "projected to miss its target (at the pace so far)", "off_target": "off target",
             "threshold": "crosses a value"}
    kind = st.radio("Alert me when it is", list(kinds), format_func=kinds.get, key="alert-kind")
    threshold = crosses = None
    if kind == "threshold":
        percent = metric.format == "percent"
        a, b = st.columns(2)
        crosses = a.selectbox("Direction", alerts.CROSSES, key="alert-crosses")
        value = b.number_input("Value" + (" (%)" if percent else ""), value=0.0, key="alert-threshold")
        threshold = value / 100 if percent else value
    grain = st.selectbox("Over", alerts.GRAINS, format_func=lambda g: f"this {g} so far", key="alert-grain")
    if st.button("Add the rule", type="primary", **lock):
        widgets.act("Rule added: it is evaluated after each load.", alerts.add_rule, eng, viewer, key, scope, kind,
                    threshold, crosses, grain)

st.subheader("Digests by e-mail")
st.caption("A page as a PDF with its key figures in the e-mail, on a schedule: for people who read their mail rather "
           "than the dashboard. Each digest shows what its recipient may see, with their own figures; every e-mail has "
           "a one-click unsubscribe link.")
subs = digests.mine(eng, viewer)
names = {k: d.name for k, d in eng.config.departments.items()}
if subs.empty:
    st.caption("No digests yet.")
for r in subs.itertuples():
    left, right = st.columns([5, 1])
    whom = "" if r.user_id == viewer.user else f" — for {widgets.plain(r.user_id)} ({widgets.plain(r.email)})"
    left.markdown(widgets.plain(digests.describe(r.page, r.cadence, None if pd.isna(r.day) else int(r.day),
                                                 names.get(r.scope_key))) + whom)
    if right.button("Stop", key=f"unsub-{r.subscription_id}", **lock):
        widgets.act("Digest stopped.", digests.end, eng, viewer, r.subscription_id)

with st.expander("Add a digest"):
    page = st.selectbox("Page", list(documents.PAGES), format_func=lambda k: documents.PAGES[k].title, key="dg-page")
    scope = None
    if documents.PAGES[page].scoped:
        units = [k for k, d in eng.config.departments.items() if d.level == "department"]
        own = units.index(viewer.department_id) if viewer.department_id in units else 0
        scope = f"department:{st.selectbox('Department', units, index=own, format_func=names.get, key='dg-unit')}"
    cadences = {"weekly": "every week", "monthly": "every month", "after_load": "after each load of data"}
    cadence = st.radio("When", list(cadences), format_func=cadences.get, horizontal=True, key="dg-cadence")
    day = None
    if cadence == "weekly":
        day = st.selectbox("On", range(7), format_func=lambda d: digests.WEEKDAYS[d], key="dg-weekday",
                           help="The digest covers the Monday–Sunday week before that day.")
    elif cadence == "monthly":
        day = st.number_input("On day", 1, 28, 1, key="dg-day", help="The digest covers the calendar month before.")
    team = digests.team(eng, viewer)
    staff_id = None
    if len(team):
        people = {"me": "me", **dict(zip(team["staff_id"], team["name"]))}
        staff_id = st.selectbox("For", list(people), format_func=people.get, key="dg-for",
                                help="Heads and executives may subscribe the people they manage; it shows what they may see.")
        staff_id = None if staff_id == "me" else staff_id
    if st.button("Add the digest", type="primary", **lock):
        widgets.act("Digest added: it is sent by the next scheduled run.", digests.subscribe, eng, viewer, page, cadence,
                    None if day is None else int(day), scope, staff_id)
