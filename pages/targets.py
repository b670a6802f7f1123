"""Targets: administrators and executives set them, heads propose them for their own department, executives decide.

Each target is for one metric and one unit from the day it takes effect; config.yaml's are the defaults. A figure is
judged against the target in force on its period's first day, so past statuses stay as they were.
"""
import datetime as dt

import pandas as pd
import streamlit as st

import app_cache
import session
import widgets
from metrics import access
from metrics.compute.target_status import target_for
from metrics.errors import MetricsError
from metrics.features import targets
from metrics.formatting import format_value

viewer = session.require_viewer()
eng = session.engine()
config = eng.config
st.title("Targets")
st.caption("config.yaml's targets are the defaults. A target set here is for one measure and one unit from the day it "
           "takes effect until the next one does; every figure is judged against the target in force on its "
           "period's first day, so last year's statuses keep last year's targets.")
widgets.flash()

settable = [k for k, m in config.metrics.items() if m.direction != "neutral" and not m.observations]
home = access.home_unit(config, viewer)
if access.may_set_targets(viewer):
    units = [None] + list(config.departments)
else:
    units = list(config.descendants(home)) if viewer.is_head and home else []


def unit_name(key) -> str:
    """A unit's name; the organisation for a target with no department (None, or a gap in a table)."""
    return "The organisation" if key is None or pd.isna(key) else config.departments[key].name


def default_words(metric_key: str, unit) -> str:
    metric = config.metric(metric_key)
    t = target_for(metric, unit, config)
    if t is None:
        return "config.yaml sets no target for it"
    band = f", warning {t.warning:g}" if t.warning is not None else ""
    return f"config.yaml's target for it: {t.target:g} ({format_value(metric, t.target)}){band}"


if units:
    setting = access.may_set_targets(viewer)
    gen_key, gen = widgets.form_generation("target")
    with st.expander("Set a target" if setting else "Propose a target for your department", expanded=False):
        metric_key = st.selectbox("Measure", settable, format_func=lambda k: config.metric(k).label, key=f"t-m-{gen}")
        unit = st.selectbox("For", units, format_func=unit_name, key=f"t-u-{gen}")
        st.caption(default_words(metric_key, unit) + ". Write targets as config.yaml does: 0.85 for 85 %.")
        with st.form(f"target-{gen}"):
            start = st.date_input("In force from", dt.date(dt.date.today().year, 4, 1), format="YYYY-MM-DD")
            value = st.number_input("Target", value=None, format="%.4g")
            warning = st.number_input("Warning threshold (optional)", value=None, format="%.4g",
                                      help="On the worse side of the target: lower for a measure where higher is better.")
            reason = st.text_input("Why" + ("" if setting else " (the executive reads this)"),
                                   help=f"At most {targets.REASON_MAX} characters.")
            if st.form_submit_button("Set the target" if setting else "Propose it", type="primary",
                                     **widgets.locked(viewer)):
                fn = targets.set_target if setting else targets.propose
                done = "Target set." if setting else "Proposed: it waits for an executive's decision."
                widgets.act(done, fn, eng, viewer, metric_key, unit, start, value, warning, reason, _reset=gen_key)

status = st.radio("Show", [None, "proposed", "approved", "rejected", "replaced"], horizontal=True, key="t-status",
                  format_func=lambda s: "All" if s is None else s.capitalize())
try:
    held = app_cache.view(targets.listing, viewer, status)
except MetricsError as exc:
    st.info(str(exc))
    st.stop()
if held.empty:
    st.info("No targets set here yet" + ("" if status is None else f" with status {status}")
            + ": config.yaml's targets apply (see *Metric definitions*).", icon=":material/flag:")
else:
    def as_shown(key, value) -> str:
        """A threshold as the metric shows its figures (80.0 %), or – for none."""
        return "–" if value is None or pd.isna(value) or key not in config.metrics else format_value(config.metric(key), value)
    shown = held.drop(columns=["version"]).assign(
        target=[as_shown(k, v) for k, v in zip(held["metric_key"], held["target"])],
        warning=[as_shown(k, v) for k, v in zip(held["metric_key"], held["warning"])],
        metric_key=[config.metric(k).label if k in config.metrics else k for k in held["metric_key"]],
        department_id=[unit_name(d) for d in held["department_id"]])
    widgets.table(shown, "targets", columns={
        "target_id": "Id", "metric_key": "Measure", "department_id": "For", "effective_from": "In force from",
        "target": "Target", "warning": "Warning", "status": "Status", "reason": "Why", "proposed_by": "Proposed by",
        "proposed_at": "Proposed", "decided_by": "Decided by", "decided_at": "Decided", "decision_note": "Note"})

waiting = held[held["status"] == "proposed"] if not held.empty else held
if access.may_approve_targets(viewer) and not waiting.empty:
    st.subheader("Proposals waiting for a decision")
    ids = list(waiting["target_id"])
    if gone := widgets.left_list("t-pick", "target", ids):
        widgets.changed_warning(eng, "targets", gone, f"Target {gone}")
        st.session_state.pop("t-pick")
        st.session_state["opened-target"].pop(gone, None)
    labels = {r.target_id: f"{r.target_id} · {config.metric(r.metric_key).label} for {unit_name(r.department_id)} "
                           f"from {r.effective_from:%d %b %Y}: {r.target:g}" for r in waiting.itertuples()}
    pick = st.selectbox("Proposal", ids, key="t-pick", format_func=labels.get)
    row = waiting.set_index("target_id").loc[pick]
    version, refresh = widgets.opened_version("target", pick, row["version"])
    st.write(f"Proposed by {widgets.plain(row['proposed_by'])}: {widgets.plain(row['reason'] or '(no reason given)')}")
    with st.form(f"decide-{pick}"):
        note = st.text_input("Note (needed to reject)", help=f"At most {targets.REASON_MAX} characters.")
        approve, reject = st.columns(2)
        if approve.form_submit_button("Approve", type="primary", **widgets.locked(viewer)):
            widgets.act(f"Target {pick} approved.", targets.decide, eng, viewer, pick, version, True, note,
                        _refresh=refresh)
        if reject.form_submit_button("Reject", **widgets.locked(viewer)):
            widgets.act(f"Target {pick} rejected.", targets.decide, eng, viewer, pick, version, False, note,
                        _refresh=refresh)

if not held.empty:
    with st.expander("History of a target"):
        one = st.selectbox("Target", list(held["target_id"]), key="t-history")
        widgets.table(app_cache.view(targets.history, viewer, one), f"target-{one}-history", columns={
            "acted_at": "When", "user_name": "Who", "role": "Role", "action": "What", "changes": "Changes"})
