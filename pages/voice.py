"""Voice of the customer: the department's inbox of unhappy customers to follow up, themes, their words."""
import pandas as pd
import streamlit as st

import app_cache
import session
import widgets
from metrics import access
from metrics.voice import cases
from metrics.present import charts, views
from metrics.formatting import format_cell, format_date, format_datetime, format_period, is_missing
from metrics.voice import lists
from metrics.store import writes
from metrics.errors import MetricsError
from metrics.catalogue.scope import Scope
from metrics.voice import themes

viewer = session.require_viewer()
eng = session.engine()
period, grain = session.period_controls(eng, "Voice of the customer")
key = session.department_picker(eng, viewer)
scope = Scope("department", key)
st.title(f"Voice of the customer — {eng.config.departments[key].name}")
st.caption(f"{format_period(period)} · compared with {format_period(period.previous())}")
session.banner(eng)
widgets.flash()

widgets.cards(eng, app_cache.view(views.cards, viewer, scope, period, eng.config.page("voice", "headline")))

if not access.may(eng.authorize, viewer, scope, records=True):
    st.info("The cases and customers' comments are visible to the department concerned and to executives.")
    st.stop()

st.subheader("Unhappy customers to follow up")
bd = cases.business_days(eng)
today = cases.judged_at(writes.now(eng.config))          # "overdue now" is the same all day (cases.judged_at)
counts = app_cache.view(cases.summary, viewer, key, today)
c1, c2, c3 = st.columns(3)
c1.metric("Open cases", f"{counts['open']:,}")
c2.metric("Awaiting follow-up", f"{counts['awaiting_follow_up']:,}")
c3.metric("Overdue now", f"{counts['overdue']:,}", help=f"Not followed up within {bd} working days of receipt.")
status = st.radio("Show", cases.STATUSES, horizontal=True, format_func=str.capitalize, key="case-status")
inbox = app_cache.view(cases.inbox, viewer, key, status, today, 200)
shown = inbox.assign(overdue=inbox["overdue"].map({True: "⚠ Overdue", False: ""}))[
    ["case_id", "overdue", "status", "kind", "received_at", "due", "theme_label", "assignee", "comment"]].rename(
    columns={"case_id": "Case", "overdue": "Overdue", "status": "Status", "kind": "Kind", "received_at": "Received",
             "due": "Follow up by", "theme_label": "Theme", "assignee": "With", "comment": "In their words"})
# Overdue cases come first and carry the marker "⚠ Overdue" (a cell style per row cost a fifth of the page's time).
st.dataframe(widgets.readable(shown), hide_index=True, width="stretch", height=min(420, 38 + 35 * len(shown)))
st.caption(f"{len(inbox):,} {status} case{'s' if len(inbox) != 1 else ''}"
           + (" shown (the first 200)" if len(inbox) == 200 else "") + "; overdue first, then oldest first.")

ids = list(inbox["case_id"])
labels = {r.case_id: f"{r.case_id} · {r.kind} · received {format_date(r.received_at)}" + (" · overdue" if r.overdue else "")
          for r in inbox.itertuples()}
if gone := widgets.left_list("case-pick", "case", ids):     # someone else acted on it: show it as it is now
    ids.insert(0, gone)
    labels[gone] = f"{gone} · no longer {status}"
if ids:
    pick = st.selectbox("Open a case", ids, key="case-pick", format_func=labels.get)
    try:
        case = app_cache.view(cases.get, viewer, pick, today)    # a write to it moves the data version
    except MetricsError as exc:
        st.error(str(exc))
        st.stop()
    version, reset = widgets.opened_version("case", pick, case["version"])
    changed = widgets.stale(eng, "feedback", pick, f"Case {pick}", version, case["version"])
    with st.container(border=True):
        st.markdown(f"**Case {pick}** · {case['kind']} · received {format_datetime(case['received_at'])} · "
                    f"follow up by the end of {format_date(case['due'], weekday=True)} · **{case['status']}**"
                    + (" · :red[**overdue**]" if case["overdue"] else ""))
        st.text(case["comment"] if isinstance(case["comment"], str) else "(no comment)")
        facts = {"Satisfaction (1–5)": case["csat"], "Recommend (0–10)": case["nps"], "Theme": case["theme_label"],
                 "Followed up": case["followed_up_at"], "What was said": case["follow_up_note"],
                 "Action taken": case["action_taken"], "Resolved": case["resolved_at"]}
        st.dataframe(pd.DataFrame({"": list(facts), "Value": [format_cell(v) for v in facts.values()]}),
                     hide_index=True, width="stretch")
        if cases.may_act(eng, viewer, case):
            a, b = st.columns(2)
            with a:
                people = cases.assignable(eng, viewer, case["department_id"])
                who = st.selectbox("Assign to", people["staff_id"], index=None, key=f"assign-{pick}",
                                   format_func=dict(zip(people["staff_id"], people["name"])).get)
                if st.button("Assign", key=f"assign-btn-{pick}", **widgets.locked(viewer)):
                    if who is None:
                        st.error("Choose the person to assign the case to.")
                    else:
                        widgets.act(f"Case {pick} assigned.", cases.assign, eng, viewer, pick, who, version,
                                    _refresh=reset)
                if is_missing(case["acknowledged_at"]) and st.button("Acknowledge", key=f"ack-{pick}", **widgets.locked(viewer)):
                    widgets.act(f"Case {pick} acknowledged.", cases.acknowledge, eng, viewer, pick, version,
                                _refresh=reset)
            with b:
                if is_missing(case["followed_up_at"]):
                    with st.form(f"follow-{pick}"):
                        note = st.text_area("What you told the customer", help=f"Plain text, at most {cases.NOTE_MAX} characters.")
                        action = st.text_input("Action taken (optional)")
                        if st.form_submit_button("Record follow-up", type="primary", **widgets.locked(viewer)):
                            widgets.act(f"Follow-up recorded for case {pick}.", cases.follow_up, eng, viewer, pick,
                                        version, note, action, _refresh=reset)
                if is_missing(case["resolved_at"]):
                    with st.form(f"resolve-{pick}"):
                        causes = list(eng.config.voice.themes)
                        cause = st.selectbox("Root cause", causes, format_func=lambda t: eng.config.voice.themes[t].label,
                                             index=causes.index(case["theme"]) if case["theme"] in causes else None,
                                             placeholder="Choose the root cause")
                        done = st.text_input("Action taken")
                        if st.form_submit_button("Resolve", **widgets.locked(viewer)):
                            widgets.act(f"Case {pick} resolved.", cases.resolve, eng, viewer, pick, version, cause, done,
                                        _refresh=reset)
                else:
                    with st.form(f"reopen-{pick}"):
                        why = st.text_input("Why reopen?")
                        if st.form_submit_button("Reopen", **widgets.locked(viewer)):
                            widgets.act(f"Case {pick} reopened.", cases.reopen, eng, viewer, pick, version, why,
                                        _refresh=reset)
        else:
            st.caption("You can read this case; it is worked by its team and the head of department.")
        if changed:            # told once: the next action starts from the case as it is now
            reset()
        if not case["history"].empty:
            with st.expander("History"):
                widgets.table(case["history"], f"case-{pick}-history", columns={
                    "acted_at": "When", "user_name": "Who", "action": "What", "changes": "Changes"})

st.subheader("What customers talk about")
trend = app_cache.view(themes.theme_trend, viewer, scope, session.trend_period(period), grain)
if trend.empty:
    st.caption("No comments in the last twelve months.")
else:
    st.plotly_chart(app_cache.chart(charts.theme_figure, (themes.theme_trend, viewer, scope, session.trend_period(period), grain)),
                    width="stretch")
theme_keys = [None] + list(eng.config.voice.themes)
theme = st.selectbox("Comments on", theme_keys, format_func=lambda t: "every theme" if t is None else eng.config.voice.themes[t].label)
widgets.table(app_cache.view(lists.feedback_comments, viewer, scope, period, 200, theme), f"{key}-comments-{theme or 'all'}")
