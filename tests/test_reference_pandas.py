"""Every metric, recomputed independently in plain pandas over the demo tables, must match the engine.

The reference below is written from data-and-metrics.md with pandas and numpy only (business days by
numpy.busday_count with the `holidays` package), sharing no code with metrics/compute/query.py.
"""
import duckdb
import holidays as holidays_lib
import numpy as np
import pandas as pd
import pytest

from metrics.access import SYSTEM
from metrics.compute.engine import Engine
from metrics.compute.periods import month
from metrics.catalogue.scope import ORGANISATION, Scope
from tests import test_failure_demand_demo as fd

PERIOD = month(2025, 3)
START, END = pd.Timestamp("2025-03-01"), pd.Timestamp("2025-04-01")   # END = first instant after the period


@pytest.fixture(scope="module")
def tables(demo_db):
    con = duckdb.connect(demo_db, read_only=True)
    names = ["departments", "staff", "contacts", "requests", "handoffs", "feedback", "surveys_sent", "suggestions",
             "recognitions", "invoices", "kpi_observations"]
    out = {n: con.execute(f"SELECT * FROM {n}").df() for n in names}
    con.close()
    return out


@pytest.fixture(scope="module")
def hol(config):
    days = set(holidays_lib.country_holidays("GB", subdiv="ENG", years=range(2022, 2027)))
    days |= set(config.organisation.holidays)
    return np.array(sorted(days), dtype="datetime64[D]")


def members(t, key):
    """The department key and everything below it, from the departments table."""
    if key is None:
        return None
    out, todo = set(), [key]
    while todo:
        k = todo.pop()
        out.add(k)
        todo += list(t["departments"].loc[t["departments"].parent_id == k, "department_id"])
    return out


def within(df, col, keys, lo=START, hi=END):
    rows = df[(df[col] >= lo) & (df[col] < hi)]
    return rows


def scoped(df, col, keys):
    return df if keys is None else df[df[col].isin(keys)]


def bdays(a, b, hol):
    return np.busday_count(a.dt.date.to_numpy().astype("datetime64[D]"), b.dt.date.to_numpy().astype("datetime64[D]"),
                           holidays=hol)


def days(a, b):
    return (b.dt.normalize() - a.dt.normalize()).dt.days


@pytest.fixture(scope="module")
def demand(tables, config):
    """Each contact of March 2025 classed, linked and attributed by the plain-pandas rules of
    tests/test_failure_demand_demo.py (no project code), with what it is about and the customer's previous contact."""
    d = config.demand
    rules = {"reasons": dict(d.reasons), "failure": {k: c.failure for k, c in d.classes.items()},
             "window": pd.Timedelta(days=d.window_days), "stale": pd.Timedelta(days=d.stale_after_days),
             "waiting": d.waiting_class, "otherwise": d.otherwise_class, "default_seconds": d.default_handle_seconds,
             "per_minute": float(config.metrics["failure_demand_cost"].params["cost_per_minute"])}
    c = tables["contacts"]
    calls = c[(c.received_at >= START) & (c.received_at < END)]
    ref = fd.reference(tables, rules, calls)
    ref["request_id"] = calls.set_index("contact_id").request_id.reindex(ref.index)
    ref["about"] = ref.linked_id.where(ref.linked_type == "request", ref.request_id)
    ref["about_owner"] = ref.about.map(tables["requests"].set_index("request_id").department_id)
    known = c[c.customer_id.notna()].sort_values(["customer_id", "received_at", "contact_id"])
    gap = (known.received_at - known.groupby("customer_id").received_at.shift(1)).dt.total_seconds() / 86400
    ref["days_since"] = gap.set_axis(known.contact_id).reindex(ref.index)
    return ref


def reference(t, keys, hol, demand=None):
    """metric → (numerator, denominator, value) for March 2025 and the departments `keys` (None = all)."""
    r = {}
    ratio = lambda n, d, m=1.0: (float(n), float(d), float(n) / d * m if d else None)
    count = lambda n: (float(n), None, float(n))
    med = lambda s, q=0.5: (None, float(s.notna().sum()), float(np.quantile(s.dropna(), q)) if s.notna().any() else None)

    c = scoped(within(t["contacts"], "received_at", keys), "department_id", keys)
    ph = c[c.channel == "phone"]
    wait = ph.wait_seconds.fillna(0)
    offered = ph[~(ph.abandoned & (wait < 5))]
    r["calls_offered"] = count(len(ph))
    r["grade_of_service"] = ratio((~offered.abandoned & (offered.wait_seconds <= 20)).sum(), len(offered))
    r["abandonment_rate"] = ratio((offered.abandoned & (offered.wait_seconds.fillna(0) >= 5)).sum(), len(offered))
    ans = ph[~ph.abandoned].wait_seconds.dropna()
    r["avg_speed_of_answer"] = (float(ans.sum()), float(len(ans)), float(ans.mean()))
    r["first_contact_resolution"] = ratio(c.resolved_first_contact.sum(), len(c))
    r["request_rate"] = ratio(c.request_id.notna().sum(), len(c))
    r["referral_rate"] = ratio(c.referred.sum(), len(c))
    r["unresolved_contacts"] = count((~c.resolved_first_contact).sum())
    r["abandoned_calls"] = count((ph.abandoned & (wait >= 5)).sum())

    o = t["kpi_observations"]
    o = o[(o.metric_key == "avg_handle_time") & (pd.to_datetime(o.period_start) >= START) &
          (pd.to_datetime(o.period_end) < END)]
    if keys is None:
        o = o[o.department_id.isna()] if o.department_id.isna().any() else o
    else:
        o = o[o.department_id.isin(keys)]
    r["avg_handle_time"] = ratio(o.numerator.sum(), o.denominator.sum())

    q = scoped(t["requests"], "department_id", keys)
    ext, internal = q[q.requester_department_id.isna()], q[q.requester_department_id.notna()]
    r["requests_opened"] = count(len(within(q, "created_at", keys)))
    r["requests_closed"] = count((within(q, "closed_at", keys).status == "closed").sum())
    open_ = q[(q.created_at < END) & (q.closed_at.isna() | (q.closed_at >= END))]
    r["open_backlog"] = count(len(open_))
    r["overdue_open"] = count((open_.due_at < END).sum())
    for prefix, part in (("", ext), ("internal_", internal)):
        closed = within(part, "closed_at", keys)
        closed = closed[(closed.status == "closed")]
        due = closed[closed.due_at.notna()]
        r[f"{prefix}sla_attainment"] = ratio((due.closed_at <= due.due_at).sum(), len(due))
    ec = within(ext, "closed_at", keys)
    ec = ec[ec.status == "closed"]
    r["late_requests"] = count((ec.closed_at > ec.due_at).sum())
    hours = (ec.closed_at - ec.created_at).dt.total_seconds() / 3600
    r["median_resolution_hours"], r["p90_resolution_hours"] = med(hours), med(hours, 0.9)
    for prefix, part in (("first_response_hours", ext), ("internal_median_response_hours", internal)):
        fr = within(part, "first_response_at", keys)
        r[prefix] = med((fr.first_response_at - fr.created_at).dt.total_seconds() / 3600)
    raised = scoped(t["requests"][t["requests"].requester_department_id.notna()], "requester_department_id", keys)
    raised = within(raised, "closed_at", keys)
    raised = raised[(raised.status == "closed") & raised.due_at.notna()]
    r["internal_sla_received"] = ratio((raised.closed_at <= raised.due_at).sum(), len(raised))
    dec = within(internal, "closed_at", keys)
    dec = dec[dec.status.isin(["closed", "declined"])]
    r["internal_decline_rate"] = ratio((dec.status == "declined").sum(), len(dec))

    h = scoped(t["handoffs"][t["handoffs"].case_type == "referral"], "to_department_id", keys)
    hm = within(h, "handed_at", keys)
    answered = hm[hm.responded_at.notna()]
    r["callback_within_1_day"] = ratio((bdays(answered.handed_at, answered.responded_at, hol) <= 1).sum(), len(hm))
    r["late_callbacks"] = count(len(hm) - (bdays(answered.handed_at, answered.responded_at, hol) <= 1).sum())
    r["unreturned_callbacks"] = count(((h.handed_at < END) & (h.responded_at.isna() | (h.responded_at >= END))
                                       & (h.due_at < END)).sum())

    fall = scoped(t["feedback"], "department_id", keys)
    f = within(fall, "received_at", keys)
    cust = f[f.source == "customer"]
    surveys = cust[cust.kind == "survey"]
    staff_s = f[(f.kind == "survey") & (f.source == "staff") & f.csat.notna()]
    r["internal_csat"] = ratio((staff_s.csat >= 4).sum(), len(staff_s))
    r["csat"] = ratio((surveys.csat >= 4).sum(), surveys.csat.notna().sum())
    nps = cust.nps.dropna()
    r["nps"] = ratio(((nps >= 9).sum() - (nps <= 6).sum()), len(nps), 100)
    eff = cust.effort.dropna()
    r["customer_effort"] = ratio((eff >= 5).sum(), len(eff))
    sent = scoped(t["surveys_sent"], "department_id", keys)
    sent = sent[(pd.to_datetime(sent.sent_on) >= START) & (pd.to_datetime(sent.sent_on) < END)]
    r["survey_response_rate"] = ratio(len(surveys), sent.surveys.sum())
    neg = f[(f.kind == "complaint") | (f.csat <= 2).fillna(False) | (f.nps <= 6).fillna(False)]
    fu = neg[neg.followed_up_at.notna()]
    quick = (bdays(fu.received_at, fu.followed_up_at, hol) <= 2).sum()
    r["closed_loop_rate"] = ratio(quick, len(neg))
    r["loop_not_closed"] = count(len(neg) - quick)
    r["followed_up_rate"] = ratio(len(fu), len(neg))
    comp = f[f.kind == "complaint"]
    r["complaints_per_1000_contacts"] = ratio(len(comp), len(c), 1000)
    allc = t["feedback"][t["feedback"].kind == "complaint"]
    res = scoped(within(allc, "resolved_at", keys), "department_id", keys)
    r["complaint_resolution_days"] = med(days(res.received_at, res.resolved_at).astype(float))
    repeats = 0
    for _, row in comp.iterrows():
        earlier = allc[(allc.theme == row.theme) & (allc.received_at < row.received_at)
                       & (days(allc.received_at, pd.Series(row.received_at, index=allc.index)) <= 90)]
        same = (pd.notna(row.customer_id) and (earlier.customer_id == row.customer_id).any()) or \
               (pd.notna(row.request_id) and (earlier.request_id == row.request_id).any())
        repeats += bool(same)
    r["repeat_complaint_rate"] = ratio(repeats, len(comp))
    compl = f[f.kind == "compliment"]
    r["compliments"] = count(len(compl))
    r["positive_feedback_shared"] = ratio(compl.shared_with_staff.sum(), len(compl))

    s = scoped(t["suggestions"], "department_id", keys)
    r["suggestions_submitted"] = count(len(within(s, "submitted_at", keys)))
    sd = within(s, "decided_at", keys)
    sd = sd[sd.status.isin(["implemented", "declined"])]
    r["suggestion_decision_days"] = med(days(sd.submitted_at, sd.decided_at).astype(float))
    r["suggestions_implemented_rate"] = ratio((sd.status == "implemented").sum(), len(sd))
    rec = scoped(within(t["recognitions"], "given_at", keys), "to_department_id", keys)
    st = scoped(t["staff"], "department_id", keys)
    started, left = pd.to_datetime(st.started_on), pd.to_datetime(st.left_on)
    headcount = ((started < END) & (left.isna() | (left >= END))).sum()
    r["recognitions_per_100_staff"] = ratio(len(rec), headcount, 100)

    inv = scoped(t["invoices"], "department_id", keys)
    paid = within(inv, "paid_at", keys)
    d = days(paid.received_at, paid.paid_at)
    local = paid.local_supplier & paid.small_business
    r["median_days_to_pay"] = med(d.astype(float))
    r["paid_within_terms"] = ratio((d <= paid.terms_days).sum(), len(paid))
    r["paid_within_terms_local"] = ratio(((d <= paid.terms_days) & local).sum(), local.sum())
    r["late_payments"] = count((d > paid.terms_days).sum())
    ap = within(inv, "approved_at", keys)
    r["approval_days"] = med(days(ap.received_at, ap.approved_at).astype(float))

    if demand is not None:        # failure demand: where a contact arrived, whose delay caused it, what it is about
        arrived = scoped(demand, "department_id", keys)
        r["failure_demand_share"] = ratio(arrived.failure.sum(), len(arrived))
        r["repeat_contact_rate"] = ratio((arrived.days_since <= 7).sum(), len(arrived))
        failed = demand[demand.failure]
        caused = failed if keys is None else failed[failed.cause.isin(keys)]
        r["failure_demand_caused"] = count(len(caused))
        r["failure_demand_items"] = count(len(caused.dropna(subset=["linked_id"])
                                              .drop_duplicates(["linked_type", "linked_id"])))
        r["failure_demand_cost"] = count(caused.cost.sum())
        opened = scoped(within(t["requests"], "created_at", keys), "department_id", keys)
        r["avoidable_contacts_per_1000_requests"] = ratio(len(caused), len(opened), 1000)
        about = demand[demand.about.notna()]
        about = about if keys is None else about[about.about_owner.isin(keys)]
        closed = scoped(within(t["requests"], "closed_at", keys), "department_id", keys)
        r["contacts_per_resolved_request"] = ratio(len(about), (closed.status == "closed").sum())
    return r


@pytest.mark.parametrize("scope", [ORGANISATION, Scope("department", "contact_centre"), Scope("department", "housing")],
                         ids=str)
def test_engine_matches_pandas(demo_db, config, tables, hol, demand, scope):
    engine = Engine.open(demo_db, config, read_only=True)
    expected = reference(tables, members(tables, scope.key), hol, demand)
    assert set(expected) == set(config.metrics)
    problems = []
    for key, (n, d, v) in expected.items():
        got = engine.value(SYSTEM, key, scope, PERIOD, compare=False)
        for name, a, b in (("numerator", got.numerator, n), ("denominator", got.denominator, d), ("value", got.value, v)):
            same = (a is None and b is None) or (a is not None and b is not None and
                                                 abs(a - b) <= 1e-9 * max(1.0, abs(b)))
            if not same:
                problems.append(f"{key}.{name}: engine {a} vs pandas {b}")
    assert not problems, "\n".join(problems)
    # The demo must exercise the metrics: most have data at the organisation in a busy month.
    if scope == ORGANISATION:
        assert sum(v is not None and v != 0 for _, _, v in expected.values()) >= 40
