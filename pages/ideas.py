"""Suggestions: anyone with a staff record puts an idea forward; heads review and decide for their department."""
import streamlit as st

import app_cache
import session
import widgets
from metrics import access
from metrics.voice import suggestions
from metrics.errors import MetricsError

viewer = session.require_viewer()
eng = session.engine()
st.title("Suggestions")
st.caption("Ideas from colleagues and customers. Implemented ones appear on *You said, we did*, with the figure "
           "they were meant to move before and after.")
widgets.flash()
depts = [k for k, d in eng.config.departments.items() if d.level == "department"]
own = access.home_unit(eng.config, viewer)
metrics_keys = list(eng.config.metrics)

if viewer.staff_id is not None:
    gen_key, gen = widgets.form_generation("idea")
    with st.expander("Put forward an idea", expanded=False):
        with st.form(f"idea-{gen}"):
            title = st.text_input("Title", help=f"Shown to the public if implemented; at most {suggestions.TITLE_MAX} characters, no names.")
            detail = st.text_area("The idea", help=f"At most {suggestions.DETAIL_MAX} characters.")
            dept = st.selectbox("For which department", depts, index=depts.index(own) if own in depts else 0,
                                format_func=lambda k: eng.config.departments[k].name)
            source = st.radio("From", ["staff", "customer"], horizontal=True,
                              format_func=lambda s: "Me" if s == "staff" else "A customer (I am recording it)")
            linked = st.selectbox("The figure it should move (optional)", metrics_keys, index=None,
                                  format_func=lambda k: eng.metric(k).label)
            if st.form_submit_button("Submit the idea", type="primary", **widgets.locked(viewer)):
                widgets.act("Thank you: your idea was recorded and goes to the head of department.", suggestions.submit,
                            eng, viewer, title, detail, dept, source, linked, _reset=gen_key)

if viewer.picks_any_department or own not in depts:
    unit = st.selectbox("Department", depts, format_func=lambda k: eng.config.departments[k].name, key="idea-dept")
else:
    unit = own
status = st.radio("Show", ["new", "reviewing", "implemented", "declined", None], horizontal=True,
                  format_func=lambda s: "All" if s is None else s.capitalize(), key="idea-status")
try:
    listing = app_cache.view(suggestions.listing, viewer, unit, status)
except MetricsError as exc:
    st.info(str(exc))
    st.stop()
widgets.table(listing.drop(columns=["version"]), f"ideas-{unit}", columns={
    "suggestion_id": "Id", "submitted_at": "Submitted", "source": "From", "title": "Title", "detail": "The idea",
    "department_id": "Team", "status": "Status", "linked_metric": "Should move", "what_we_did": "What we did",
    "decline_reason": "Why not", "decided_at": "Decided", "submitted_by": "Put forward by"})

open_ideas = listing[listing["status"].isin(["new", "reviewing"])]
ids = list(open_ideas["suggestion_id"])
if gone := widgets.left_list("idea-pick", "suggestion", ids):     # decided by someone else since it was opened
    widgets.changed_warning(eng, "suggestions", gone, f"Suggestion {gone}")
    st.session_state.pop("idea-pick")
    st.session_state["opened-suggestion"].pop(gone, None)
if access.may_decide_for(eng.config, viewer, unit) and ids:
    st.subheader("Decide")
    names = dict(zip(ids, open_ideas["suggestion_id"] + " · " + open_ideas["title"].fillna("")))
    pick = st.selectbox("Suggestion", ids, key="idea-pick", format_func=names.get)
    row = open_ideas.set_index("suggestion_id").loc[pick]
    version, refresh = widgets.opened_version("suggestion", pick, row["version"])
    if row["status"] == "new" and st.button("Mark as under review", **widgets.locked(viewer)):
        widgets.act(f"Suggestion {pick} is under review.", suggestions.review, eng, viewer, pick, version, _refresh=refresh)
    with st.form(f"decide-{pick}"):
        decision = st.radio("Decision", ["implemented", "declined"], horizontal=True,
                            format_func=lambda d: "Implemented" if d == "implemented" else "Declined")
        text = st.text_area("What we did (shown to the public, no names) — or why not",
                            help=f"Plain text, at most {suggestions.PUBLIC_MAX} characters.")
        linked = row["linked_metric"] if row["linked_metric"] in metrics_keys else None
        metric = st.selectbox("The figure it should move", metrics_keys,
                              index=metrics_keys.index(linked) if linked else None,
                              format_func=lambda k: eng.metric(k).label)
        if st.form_submit_button("Record the decision", type="primary", **widgets.locked(viewer)):
            widgets.act(f"Decision recorded for suggestion {pick}.", suggestions.decide, eng, viewer, pick, version, decision,
                        text, metric, _refresh=refresh)
