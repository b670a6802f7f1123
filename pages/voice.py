"""Voice of the customer: the department's inbox of unhappy customers to follow up, themes, their words."""
import pandas as pd
import streamlit as st

import app_cache
import session
import widgets
from metrics.voice import cases
from metrics.present import documents
from metrics.formatting import format_cell, format_date, format_datetime, is_missing
from metrics.store import writes
from metrics.errors import MetricsError
from metrics.catalogue.scope import Scope

viewer = session.require_viewer()
eng = session.engine()
period, grain = session.period_controls(eng, "Voice of the customer")
key = session.department_picker(eng, viewer)
scope = Scope("department", key)
doc = documents.voice(eng, viewer, key, period, grain, documents.Choices(
    status=st.session_state.get("case-status"), theme=st.session_state.get("voice-theme")), view=app_cache.view)
status = doc.filters["Cases shown"]
today = cases.judged_at(writes.now(eng.config))          # "overdue now" is the same all day (cases.judged_at)


def case_editor() -> None:
    """Open a case from the list and work it: assign, acknowledge, follow up, resolve or reopen (not printed)."""
    inbox = app_cache.view(cases.inbox, viewer, key, status, today, 200)
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
            return
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


theme_keys = [None] + list(eng.config.voice.themes)
widgets.render(eng, viewer, doc, {
    "flash": widgets.flash,
    "status": lambda: st.radio("Show", cases.STATUSES, horizontal=True, format_func=str.capitalize, key="case-status"),
    "case": case_editor,
    "theme": lambda: st.selectbox("Comments on", theme_keys, key="voice-theme",
                                  format_func=lambda t: "every theme" if t is None else eng.config.voice.themes[t].label)},
    pdf_name=doc.file_name(period, key))
