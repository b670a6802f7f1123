"""The synthetic demo organisation: Riverside Borough Council, 1 Jan 2023 – 31 Dec 2025.

Vectorised numpy from one seed, so every build is identical and 1 M contacts take seconds.
Volumes at scale 1: ~96,000 calls a year plus ~40,000 contacts on other channels, ~20 % raising a
request, ~20,000 referrals a year, ~3,000 internal requests a year, surveys, complaints,
compliments, suggestions, recognition, ~8,000 invoices a year and ~30 peer councils' benchmarks.
Some departments improve over the three years (housing, IT), some slip (waste, finance).
Staff numbers do not grow with scale; a few people start in late 2025 and have very few contacts.

Failure demand follows that lateness (metrics/demo/chasing.py).
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from metrics.demo.base import END, SEC, YEARS, Ctx, rates
from metrics.demo.chasing import with_failure_demand
from metrics.demo.parts import (benchmarks, feedback, invoices, observations, recognitions, staff_frame,
                                suggestions, surveys_sent)

DEFAULT_SEED = 20230101
FRONT_TEAMS = ("waste_collections", "street_cleansing", "highways_maintenance", "parking", "housing_repairs",
               "housing_tenancy", "council_tax", "benefits", "planning_applications", "building_control")
# Share of referrals answered within a working day at the start and end of 2023–2025, by department.
CALLBACK_TREND = {"housing": (0.62, 0.90), "waste": (0.88, 0.70), "highways": (0.80, 0.84),
                  "revenues_benefits": (0.86, 0.88), "planning": (0.75, 0.80)}
SLA_TREND = {"housing": (0.68, 0.90), "waste": (0.92, 0.74), "highways": (0.82, 0.86),
             "revenues_benefits": (0.88, 0.90), "planning": (0.78, 0.82), "it": (0.70, 0.90),
             "communications": (0.80, 0.85), "finance": (0.85, 0.75), "people": (0.82, 0.86)}
CATEGORY = {"waste": ["Missed bin", "Fly-tipping", "Bulky waste"], "highways": ["Pothole", "Street light", "Parking permit"],
            "housing": ["Repair", "Damp and mould", "Tenancy query"], "revenues_benefits": ["Council tax query", "Benefit claim"],
            "planning": ["Planning enquiry", "Building control inspection"], "it": ["IT access", "Laptop fault", "Web form change"],
            "communications": ["Press release", "Resident notification", "Web page update"],
            "finance": ["Supplier set-up", "Payment query"], "people": ["Recruitment", "Payroll query"]}
DECLINE = np.array(["Not on our work plan", "Not in my position description", "Needs a business case", "Duplicate request"])


def _contacts(c: Ctx, staff: pd.DataFrame):
    rng = c.rng
    phone_rate, month_f = rates(c)
    other_rate = month_f * np.where(c.busday, 1.0, 0.35)
    other_rate *= 40_000 * YEARS * c.scale / other_rate.sum()
    n_phone, n_other = rng.poisson(phone_rate), rng.poisson(other_rate)
    day = np.concatenate([np.repeat(c.days, n_phone), np.repeat(c.days, n_other)])
    n = len(day)
    phone = np.arange(n) < n_phone.sum()
    load = np.concatenate([np.repeat(phone_rate / phone_rate[c.busday].mean(), n_phone), np.ones(n_other.sum())])
    hour = np.clip(rng.normal(12.5, 2.6, n), 8, 17.99)
    received = day.astype("datetime64[s]") + (hour * 3600).astype(np.int64) * SEC
    order = np.argsort(received, kind="stable")
    received, phone, load = received[order], phone[order], load[order]
    channel = np.where(phone, "phone", rng.choice(["email", "web", "counter", "social"], n, p=[0.4, 0.35, 0.15, 0.1]))
    to_cc = rng.random(n) < 0.75
    team = np.where(channel == "counter", "cc_counter", np.where(phone, "cc_phones", "cc_digital"))
    team = np.where(to_cc | (channel == "counter"), team, rng.choice(FRONT_TEAMS, n)).astype(object)
    # Waits grow on busy days and in the busy months; a seasonal dip around the 0.80 target.
    wait = np.where(phone, np.round(rng.lognormal(np.log(11 * load ** 2.2), 0.9), 1), np.nan)
    wait[phone & (rng.random(n) < 0.004)] = 20.0                 # some calls answered at exactly 20 s
    abandoned = phone & (rng.random(n) < np.clip(np.nan_to_num(wait) / 900, 0, 0.6))
    short = phone & (rng.random(n) < 0.02)
    wait[short] = rng.choice([0.8, 1.5, 2.7, 3.9, 4.9], short.sum())
    abandoned |= short
    on_staff = staff[staff.active | staff.left_on.notna()]
    pools = {t: g.staff_id.to_numpy() for t, g in on_staff.groupby("department_id")}
    sid = c.pick(pools, team)
    sid[abandoned] = None
    answered = np.where(abandoned | ~phone, np.datetime64("NaT"), received + np.nan_to_num(wait).astype(np.int64) * SEC)
    answered_ok = ~abandoned
    fcr = answered_ok & (rng.random(n) < 0.76)
    raises = answered_ok & (rng.random(n) < 0.21)
    referred = answered_ok & ~fcr & (rng.random(n) < 0.63)
    customer = np.char.add("P", rng.integers(0, int(90_000 * c.scale) + 100, n).astype(str))
    cid = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 8))
    req_id = np.where(raises, np.char.add("R", np.char.zfill(np.arange(1, n + 1).astype(str), 8)), None)
    df = pd.DataFrame({"contact_id": cid, "channel": channel, "received_at": received, "answered_at": answered,
                       "abandoned": abandoned, "wait_seconds": wait, "department_id": team, "staff_id": sid,
                       "resolved_first_contact": fcr, "request_id": req_id, "referred": referred,
                       "customer_id": customer})
    return df


def _external_requests(c: Ctx, contacts: pd.DataFrame, pools: dict) -> pd.DataFrame:
    rng = c.rng
    src = contacts[contacts.request_id.notna()]
    n = len(src)
    owner = np.where(np.isin(src.department_id, FRONT_TEAMS), src.department_id, rng.choice(FRONT_TEAMS, n)).astype(object)
    created = src.received_at.to_numpy() + np.timedelta64(5, "m")
    sla_days = rng.choice([2, 5, 10], n, p=[0.3, 0.5, 0.2])
    due = c.add_business_days(created, sla_days)
    ontime = rng.random(n) < c.trend(SLA_TREND, owner, created)
    span = (due - created).astype(np.int64)
    dur = np.where(ontime, rng.uniform(0.1, 1.0, n) * span, span * rng.uniform(1.05, 3.0, n)).astype(np.int64)
    exact = rng.random(n) < 0.002
    dur[exact] = span[exact]                                     # a handful closed exactly at due
    closed = c.clip_end(created + dur * SEC)
    first = created + (np.minimum(dur, rng.exponential(6 * 3600, n)).astype(np.int64)) * SEC
    first = c.clip_end(first)
    cat = _categories(c, owner)
    return pd.DataFrame({"request_id": src.request_id.to_numpy(), "category": cat, "department_id": owner,
                         "staff_id": c.pick(pools, owner), "requester_department_id": None, "created_at": created,
                         "due_at": due, "first_response_at": first, "closed_at": closed,
                         "status": np.where(pd.isna(closed), "open", "closed"), "decline_reason": None,
                         "priority": rng.choice(["normal", "high", "urgent"], n, p=[0.8, 0.15, 0.05]),
                         "channel": src.channel.to_numpy(), "customer_id": src.customer_id.to_numpy()})


def _categories(c: Ctx, teams: np.ndarray) -> np.ndarray:
    out = np.empty(len(teams), dtype=object)
    for t in np.unique(teams):
        idx = np.flatnonzero(teams == t)
        out[idx] = c.rng.choice(CATEGORY.get(c.department_of(t), ["General enquiry"]), len(idx))
    return out


def _internal_requests(c: Ctx, pools: dict) -> pd.DataFrame:
    rng = c.rng
    n = int(3_000 * YEARS * c.scale)
    providers = np.array(["it_service_desk", "it_applications", "comms_media", "comms_web", "finance_payables",
                          "hr_advice", "payroll"])
    owner = rng.choice(providers, n, p=[0.3, 0.15, 0.12, 0.08, 0.15, 0.12, 0.08]).astype(object)
    requester = rng.choice(np.array(c.teams), n).astype(object)
    requester = np.where(requester == owner, "cc_phones", requester)
    bdays = c.days[c.busday]
    created = np.sort(rng.choice(bdays, n)).astype("datetime64[s]") + (rng.uniform(8, 17, n) * 3600).astype(np.int64) * SEC
    due = c.add_business_days(created, rng.choice([3, 5, 10], n))
    ontime = rng.random(n) < c.trend(SLA_TREND, owner, created)
    span = (due - created).astype(np.int64)
    dur = np.where(ontime, rng.uniform(0.1, 1.0, n) * span, span * rng.uniform(1.05, 2.5, n)).astype(np.int64)
    closed = c.clip_end(created + dur * SEC)
    declined = (rng.random(n) < 0.08) & ~pd.isna(closed)
    first = c.clip_end(created + np.minimum(dur, rng.exponential(12 * 3600, n)).astype(np.int64) * SEC)
    ids = np.char.add("IR", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    return pd.DataFrame({"request_id": ids, "category": _categories(c, owner), "department_id": owner,
                         "staff_id": c.pick(pools, owner), "requester_department_id": requester, "created_at": created,
                         "due_at": due, "first_response_at": first, "closed_at": closed,
                         "status": np.where(pd.isna(closed), "open", np.where(declined, "declined", "closed")),
                         "decline_reason": np.where(declined, rng.choice(DECLINE, n), None),
                         "priority": rng.choice(["normal", "high"], n, p=[0.85, 0.15]), "channel": "internal",
                         "customer_id": None})


def _referrals(c: Ctx, contacts: pd.DataFrame, pools: dict) -> pd.DataFrame:
    rng = c.rng
    src = contacts[contacts.referred]
    n = len(src)
    to = np.where(np.isin(src.department_id, FRONT_TEAMS), src.department_id, rng.choice(FRONT_TEAMS, n)).astype(object)
    handed = src.answered_at.fillna(src.received_at).to_numpy()
    due = c.add_business_days(handed, np.ones(n, dtype=int), hour=23) + np.timedelta64(59 * 60 + 59, "s")
    within = rng.random(n) < c.trend(CALLBACK_TREND, to, handed)
    days = np.where(within, rng.choice([0, 0, 1], n), rng.choice([2, 3, 4, 6], n))
    hour = rng.uniform(9, 17, n)
    resp = np.busday_offset(handed.astype("datetime64[D]"), days, roll="forward", holidays=c.holidays)
    resp = resp.astype("datetime64[s]") + (hour * 3600).astype(np.int64) * SEC
    resp = np.maximum(resp, handed + np.timedelta64(10, "m"))
    resp[rng.random(n) < 0.03] = np.datetime64("NaT")           # never returned
    resp = c.clip_end(resp)
    ids = np.char.add("H", np.char.zfill(np.arange(1, n + 1).astype(str), 8))
    return pd.DataFrame({"handoff_id": ids, "case_type": "referral", "case_id": src.contact_id.to_numpy(),
                         "from_department_id": src.department_id.to_numpy(), "to_department_id": to,
                         "to_staff_id": c.pick(pools, to), "handed_at": handed, "responded_at": resp,
                         "completed_at": resp, "due_at": due})


def _request_handoffs(c: Ctx, requests: pd.DataFrame, pools: dict) -> pd.DataFrame:
    """Hand-offs of external requests: raised at the contact centre and passed to the owning team; some are
    passed on to another team, and some of those come back (a chain that loops)."""
    rng = c.rng
    r = requests[requests.requester_department_id.isna()]
    r = r[rng.random(len(r)) < 0.35]
    n = len(r)
    created = r.created_at.to_numpy()
    end = r.closed_at.to_numpy()
    end = np.where(pd.isna(end), r.due_at.to_numpy() + np.timedelta64(10, "D"), end).astype("datetime64[s]")
    span = np.maximum((end - created).astype(np.int64), 3600)
    owner = r.department_id.to_numpy().astype(object)
    t1 = created + (np.minimum(rng.uniform(0.02, 0.25, n) * span, 6 * 3600)).astype(np.int64) * SEC
    parts = [pd.DataFrame({"case_id": r.request_id.to_numpy(), "from_department_id": "cc_phones",
                           "to_department_id": owner, "handed_at": t1})]
    two = rng.random(n) < 0.3
    other = rng.choice(np.array(list(FRONT_TEAMS) + ["it_applications", "finance_payables"]), n).astype(object)
    other = np.where(other == owner, "it_applications", other)
    t2 = t1 + (rng.uniform(0.1, 0.5, n) * (end - t1).astype(np.int64)).astype(np.int64) * SEC
    parts.append(pd.DataFrame({"case_id": r.request_id.to_numpy()[two], "from_department_id": owner[two],
                               "to_department_id": other[two], "handed_at": t2[two]}))
    back = two & (rng.random(n) < 0.4)
    t3 = t2 + (rng.uniform(0.3, 0.8, n) * (end - t2).astype(np.int64)).astype(np.int64) * SEC
    parts.append(pd.DataFrame({"case_id": r.request_id.to_numpy()[back], "from_department_id": other[back],
                               "to_department_id": owner[back], "handed_at": t3[back]}))
    h = pd.concat(parts, ignore_index=True)
    h = h[h.handed_at < END].sort_values(["case_id", "handed_at"], kind="stable")
    h["handed_at"] = h["handed_at"].astype("datetime64[s]")
    h["case_type"] = "request"
    h["to_staff_id"] = c.pick(pools, h.to_department_id.to_numpy())
    h["responded_at"] = h.handed_at + pd.to_timedelta(rng.exponential(4 * 3600, len(h)).astype(np.int64), unit="s")
    h["completed_at"] = h.groupby("case_id").handed_at.shift(-1)
    h["due_at"] = pd.NaT
    h["responded_at"] = c.clip_end(h["responded_at"].to_numpy().astype("datetime64[s]"))
    return h


def _invoice_stages(c: Ctx, invoices: pd.DataFrame, pools: dict) -> pd.DataFrame:
    """Approval stages: Accounts payable registers an invoice, the approving team approves it, Accounts
    payable pays it."""
    rng = c.rng
    inv = invoices[(invoices.department_id != "finance_payables") & invoices.approved_at.notna()]
    n = len(inv)
    received, approved = inv.received_at.to_numpy(), inv.approved_at.to_numpy()
    out_at = received + (rng.uniform(0.05, 0.3, n) * (approved - received).astype(np.int64)).astype(np.int64) * SEC
    dept = inv.department_id.to_numpy().astype(object)
    h = pd.concat([
        pd.DataFrame({"case_id": inv.invoice_id.to_numpy(), "from_department_id": "finance_payables",
                      "to_department_id": dept, "handed_at": out_at, "responded_at": approved, "completed_at": approved}),
        pd.DataFrame({"case_id": inv.invoice_id.to_numpy(), "from_department_id": dept,
                      "to_department_id": "finance_payables", "handed_at": approved,
                      "responded_at": inv.paid_at.to_numpy(), "completed_at": inv.paid_at.to_numpy()})],
        ignore_index=True)
    h["case_type"] = "invoice"
    h["to_staff_id"] = c.pick(pools, h.to_department_id.to_numpy())
    h["due_at"] = pd.NaT
    return h.sort_values(["case_id", "handed_at"], kind="stable")


def generate(departments, holidays, org_name: str, scale: float = 1.0, seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Generate every table of the demo organisation.

    Args:
        departments: config Department objects (key, name, parent, level, front_line), in config order.
        holidays: dates that are not business days besides weekends.
        org_name: our organisation's name (kept out of the benchmark peers: our figures come from our data).
        scale: multiplies event volumes (not staff).
        seed: the random seed; the same seed gives the same frames.
    Returns:
        table name → DataFrame with that table's columns.
    """
    c = Ctx(departments, holidays, scale, seed)
    frames: dict[str, pd.DataFrame] = {}
    frames["departments"] = pd.DataFrame({"department_id": [d.key for d in c.deps], "name": [d.name for d in c.deps],
                                          "parent_id": [d.parent for d in c.deps],
                                          "is_front_line": [d.front_line for d in c.deps],
                                          "level": [d.level for d in c.deps]})
    staff = staff_frame(c)
    frames["staff"] = staff
    active = staff[staff.active]
    pools = {t: g.staff_id.to_numpy() for t, g in active.groupby("department_id")}
    contacts = _contacts(c, staff)
    frames["contacts"] = contacts
    frames["requests"] = pd.concat([_external_requests(c, contacts, pools), _internal_requests(c, pools)],
                                   ignore_index=True)
    frames["invoices"] = invoices(c)
    stages = pd.concat([_referrals(c, contacts, pools), _request_handoffs(c, frames["requests"], pools),
                        _invoice_stages(c, frames["invoices"], pools)], ignore_index=True)
    stages["handoff_id"] = np.char.add("H", np.char.zfill(np.arange(1, len(stages) + 1).astype(str), 8))
    frames["handoffs"] = stages
    frames["feedback"] = feedback(c, contacts, frames["requests"], pools)
    frames["surveys_sent"] = surveys_sent(c, contacts, frames["feedback"])
    frames["suggestions"] = suggestions(c, staff)
    frames["recognitions"] = recognitions(c, staff)
    frames["kpi_observations"] = observations(c, contacts)
    frames["benchmarks"] = benchmarks(c, org_name)
    frames["contacts"] = with_failure_demand(c, seed, contacts, frames["requests"], stages, staff)
    frames["meta"] = pd.DataFrame({"key": ["synthetic", "generator", "seed", "scale", "period_start", "period_end"],
                                   "value": ["true", "metrics.demo", str(seed), str(scale), "2023-01-01", "2025-12-31"]})
    return frames


def write(con, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Insert the frames into existing tables in one transaction; returns rows per table."""
    counts = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table, frame in frames.items():
            con.register("_demo_frame", frame)
            con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _demo_frame')
            con.unregister("_demo_frame")
            counts[table] = len(frame)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts
