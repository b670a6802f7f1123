"""Alerts: my alerts (snooze, resolved) and my rules — a metric for a scope I may see, and what should alert me.
Rules are evaluated after each load and by `python -m metrics alerts run`, as I see the figures
(metrics/features/alerts.py)."""
import datetime as dt

import pandas as pd
import streamlit as st

import session
import widgets
from metrics.catalogue.scope import Scope
from metrics.features import alerts
from metrics.formatting import format_value
from metrics.store.writes import now

viewer = session.require_viewer()
eng = session.engine()
st.title("Alerts")
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
