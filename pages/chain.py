"""The chain: the service departments give each other, the customer's path to a callback, where late outcomes
waited longest, and how local suppliers are paid."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.present import charts
from metrics.features import chain
from metrics.errors import AccessDenied
from metrics.formatting import format_date, format_days, format_hours, format_percent, format_period, format_value

viewer = session.require_viewer()
eng = session.engine()
period, grain = session.period_controls(eng, "The chain")
key = session.department_picker(eng, viewer)
names = {k: d.name for k, d in eng.config.departments.items()}
rules = eng.config.chain            # the metrics metrics.features.chain computes the page from (config `chain:`)
st.title("The chain")
st.caption(f"{format_period(period)} · how each department's service to colleagues, and each hand-off, reaches customers.")
session.banner(eng)
st.info(chain.words_for(eng, app_cache.view(chain.attribution, viewer, period), key, period), icon=":material/link:")

st.subheader("Service between departments")
matrix = app_cache.view(chain.internal_matrix, viewer, period)
measures = rules.internal_service  # matrix column → metric
column = st.radio("Measure", list(measures), horizontal=True, format_func=lambda c: eng.metric(measures[c]).label)
if matrix.empty:
    st.caption("No internal requests in this period.")
else:
    st.plotly_chart(app_cache.chart(charts.matrix_figure, (chain.internal_matrix, viewer, period), column,
                                    eng.metric(measures[column]), names), width="stretch")
    def readable(df):
        """The matrix rows as people read them: department names, figures in their metric's format."""
        out = df.copy()
        for col in ("provider", "requester"):
            out[col] = out[col].map(lambda k: names.get(k, k))
        for col, mkey in measures.items():
            out[col] = [format_value(eng.metric(mkey), v) for v in out[col]]
        return out.astype({"requests": "Int64", "declined": "Int64"})

    mine = readable(chain.worst_first(eng, matrix[matrix["provider"] == key]))
    held = readable(chain.worst_first(eng, matrix[matrix["requester"] == key]))
    shown = {c: eng.metric(measures[c]).label if c in measures else c.capitalize() for c in chain.matrix_columns(eng)}
    lead = eng.metric(next(iter(measures.values())))

    def side(rows, other: str, other_word: str, title: str, empty: str, name: str) -> None:
        st.markdown(title)
        if rows.empty:
            st.caption(empty)
        else:
            widgets.table(rows[[other] + list(shown)].rename(columns={other: other_word, **shown}), name)

    left, right = st.columns(2)
    with left:
        side(mine, "requester", "Asked by", f"**Colleagues {names[key]} lets down most** (as a provider, worst first "
             f"on {lead.label.lower()})", f"{names[key]} gave no internal service in this period.", f"{key}-as-provider")
    with right:
        side(held, "provider", "Provided by", f"**Providers who hold {names[key]} up** (as an internal customer)",
             f"{names[key]} asked no other department for anything in this period.", f"{key}-as-requester")
    with st.expander("Why colleagues' requests were declined"):
        declines = app_cache.view(chain.decline_reasons, viewer, period).copy()
        for col in ("provider", "requester"):
            declines[col] = declines[col].map(lambda k: names.get(k, k))
        widgets.table(declines.rename(columns={
            "provider": "Provided by", "requester": "Asked by", "reason": "Reason", "declined": "Declined"}), "declines")

st.subheader("From a contact to a callback")
flow = app_cache.view(chain.referral_flow, viewer, period)
st.plotly_chart(app_cache.chart(charts.sankey_figure, (chain.referral_flow, viewer, period)), width="stretch")
left, right = st.columns([2, 3])
with left:
    stages = flow["stages"].assign(median_hours=[format_hours(h) for h in flow["stages"]["median_hours"]])
    widgets.table(stages.rename(columns={"stage": "Stage", "count": "Customers", "median_hours": "Typical wait"}),
                  "flow-stages")
    st.caption(f"Typical wait: to be answered at the {names[rules.front_door]}; from referral to callback for callbacks.")
with right:
    widgets.table(flow["by_department"].assign(department=flow["by_department"]["department"].map(names)).rename(columns={
        "department": "Department", "referred": "Referred", "within_1_day": "Called back in a working day",
        "later": "Called back later", "not_returned": "Not called back yet"}), "flow-by-department")
try:
    waiting = app_cache.view(chain.waiting_for_callback, viewer, key, period.end)
    st.markdown(f"**Customers waiting for a callback from {names[key]}** at the end of {format_date(period.end)}: "
                f"{len(waiting):,}")
    widgets.table(waiting.assign(to_department_id=waiting["to_department_id"].map(names)).rename(columns={
        "contact_id": "Contact", "customer_id": "Customer", "handed_at": "Referred", "due_at": "Due",
        "to_department_id": "Team", "officer": "Officer"}), f"{key}-waiting-callback")
except AccessDenied:
    st.caption("The customers waiting are listed for the department concerned and executives.")

st.subheader("Where late outcomes waited longest")
att = app_cache.view(chain.attribution, viewer, period)
if att.empty:
    st.caption("No late outcomes in this period.")
else:
    st.plotly_chart(app_cache.chart(charts.attribution_figure, (chain.attribution, viewer, period), names), width="stretch")
    widgets.table(att.assign(department=att["department"].map(lambda k: names.get(k, k)),
                             share=[format_percent(v) for v in att["share"]]).rename(columns={"department": "Department", "kind": "Late outcome",
                                      "waited_longest": "Waited longest there", "of_all": "Of all", "share": "Share"}),
                  "late-attribution")
    st.caption("Each late outcome's time is split across its hand-off stages; it counts for the department that "
               "held it longest (a tie goes to the department that had it first).")

st.subheader("Paying suppliers")
sup = app_cache.view(chain.supplier_payments, viewer, period).copy()
sup["department"] = sup["department"].map(lambda k: names.get(k, k))
for col, mkey in rules.supplier_payments.items():      # each figure in its metric's format
    sup[col] = [format_value(eng.metric(mkey), v) for v in sup[col]]
for col in ("registration_days", "approval_stage_days", "payment_days"):
    sup[col] = [format_days(v) for v in sup[col]]
for col in ("within_terms_status", "local_small_status"):
    sup[col] = sup[col].map(widgets.status_text)
widgets.table(sup.rename(columns={
    "department": "Approving department", "invoices_paid": "Invoices paid", "within_terms": "Paid within terms",
    "within_terms_status": "Status", "local_small_paid": "Local small: paid",
    "local_small_within_terms": "Local small: within terms", "local_small_status": "Local small: status",
    "days_to_approve": "Typical days to approve", "paid_late": "Paid late", "registration_days": "To register",
    "approval_stage_days": "With the approver", "payment_days": "Approval to payment"}), "supplier-payments")
local, every = (eng.metric(rules.supplier_payments[c]) for c in ("local_small_within_terms", "within_terms"))
if local.default_target and every.default_target:
    st.caption(f"Local small businesses have a stricter target: {format_percent(local.default_target.target)} paid "
               f"within terms (all suppliers: {format_percent(every.default_target.target)}).")
