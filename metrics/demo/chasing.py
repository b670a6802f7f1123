"""The demo's failure demand: why each contact came, its handling time, and the contacts our own lateness caused.

Failure demand (migration 014) follows that lateness. Every contact carries a reason (new_request when it raised a
request, missed_service for a missed bin, else enquiry or payment; none recorded for ~15 %: every abandoned call and
some others) and, for answered calls (~280 s) and the counter (~420 s), its handling seconds. Appended after them
(ids continuing the numbering) come ~8,700 contacts a year customers make because of our own delays, mostly calls to
the contact centre: chasing late requests (half their customers, 1–3 times until closed, within six weeks of due;
progress_chase, ~60 % naming the request) and callbacks not returned in time (~60 %, once or twice;
callback_chase), ~15 % of both with no reason recorded; repeat faults after ~6 % of closed repairs, damp and
potholes; and unclear letters (~1 % of value demand) within 28 days of a request closing. They come from a generator
of their own (seed + 14) drawn after every other table, so those tables' rows — and feedback, surveys and the
telephony report, built from the original contacts — are exactly as without them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.demo.base import END, SEC, START, Ctx, rates

# --- Failure demand (migration 014): why each contact came, its handling time, and the calls our lateness caused ---
# Drawn from a generator of its own (seed + 14), after every other table: those tables' rows stay exactly as they were,
# and feedback, surveys and the telephony report are built from the original contacts only.
DEMAND_SEED_OFFSET = 14
REPEAT_FAULT_CATEGORIES = ("Repair", "Damp and mould", "Pothole")
CHASE_CHANNELS, CHASE_CHANNEL_P = np.array(["phone", "email", "web"]), [0.8, 0.1, 0.1]
VALUE_REASONS = ("new_request", "enquiry", "payment")
CHASE_WEEKS = 6        # a late item is chased for up to six weeks after it fell due (well within stale_after_days)


UNIDENTIFIED_CHASERS = 0.08          # share of chasing callers (not linked to a case by the CRM) not identified


def _handle_seconds(rng, channel: np.ndarray, abandoned: np.ndarray) -> np.ndarray:
    """Talk plus wrap-up: answered calls ~280 s, the counter ~420 s (log-normal, those means); e-mail, web and social
    have none (the view costs them at their channel's average, or the default), nor have abandoned calls."""
    out = np.full(len(channel), np.nan)
    talk = (channel == "phone") & ~abandoned
    out[talk] = np.round(rng.lognormal(np.log(280) - 0.45 ** 2 / 2, 0.45, talk.sum()))
    counter = channel == "counter"
    out[counter] = np.round(rng.lognormal(np.log(420) - 0.4 ** 2 / 2, 0.4, counter.sum()))
    return out


def _reasons(rng, contacts: pd.DataFrame, requests: pd.DataFrame) -> np.ndarray:
    """The original contacts' reasons: new_request for one that raised a request (missed_service when it reported a
    missed bin), else enquiry or payment; none recorded (~15 %: every abandoned call and some others), so the view's
    no-reason rule decides those."""
    n = len(contacts)
    category = contacts.request_id.map(requests.set_index("request_id").category).to_numpy()
    reason = np.where(rng.random(n) < 0.75, "enquiry", "payment").astype(object)
    reason[contacts.request_id.notna().to_numpy()] = "new_request"
    reason[category == "Missed bin"] = "missed_service"
    abandoned = contacts.abandoned.to_numpy()
    extra = max(0.15 - abandoned.mean(), 0.0) / max(1.0 - abandoned.mean(), 1e-9)
    reason[abandoned | (rng.random(n) < extra)] = None
    return reason


def _times_between(c: Ctx, rng, after: np.ndarray, before: np.ndarray, tries: int = 16) -> np.ndarray:
    """A business-hours time strictly after each `after` and before each `before` (NaT: the end of the data) on a
    business day of the data, busier days (Mondays, March) more likely as for every call; NaT where none was found."""
    phone_rate, _ = rates(c)
    busy = phone_rate / phone_rate.max()
    after = after.astype("datetime64[s]")
    before = np.where(pd.isna(before), END, before).astype("datetime64[s]")
    before = np.minimum(before, END.astype("datetime64[s]"))
    first = np.busday_offset((after + np.timedelta64(7, "h")).astype("datetime64[D]"), 0, roll="forward",
                             holidays=c.holidays)
    last = np.busday_offset((before - SEC).astype("datetime64[D]"), 0, roll="backward", holidays=c.holidays)
    span = np.where(last >= first, np.busday_count(first, last + np.timedelta64(1, "D"), holidays=c.holidays), 0)
    out = np.full(len(after), np.datetime64("NaT"), dtype="datetime64[s]")
    for _ in range(tries):
        day = np.busday_offset(first, np.floor(rng.random(len(after)) * span).astype(int), roll="forward",
                               holidays=c.holidays)
        hour = np.clip(rng.normal(12.5, 2.6, len(after)), 8, 17.99)
        t = day.astype("datetime64[s]") + (hour * 3600).astype(np.int64) * SEC
        index = np.clip((day - START).astype(int), 0, len(busy) - 1)
        ok = np.isnat(out) & (span > 0) & (t > after) & (t < before) & (rng.random(len(after)) < busy[index])
        out[ok] = t[ok]
    return out


def _on_duty(rng, staff: pd.DataFrame, teams: np.ndarray, when: np.ndarray) -> np.ndarray:
    """A random member of each team employed on the day (started, not yet left)."""
    day = when.astype("datetime64[D]")
    started = pd.to_datetime(staff.started_on).to_numpy().astype("datetime64[D]")
    left = pd.to_datetime(staff.left_on).to_numpy().astype("datetime64[D]")
    ids = staff.staff_id.to_numpy()
    out = np.empty(len(teams), dtype=object)
    for team in np.unique(teams):
        idx = np.flatnonzero(teams == team)
        pool = np.flatnonzero(staff.department_id.to_numpy() == team)
        chosen = rng.choice(pool, len(idx))
        for _ in range(20):
            bad = (started[chosen] > day[idx]) | (~np.isnat(left[chosen]) & (left[chosen] <= day[idx]))
            if not bad.any():
                break
            chosen[bad] = rng.choice(pool, bad.sum())
        out[idx] = ids[chosen]
    return out


def _until(closed: np.ndarray, due: np.ndarray) -> np.ndarray:
    """When chasing stops: the item's closure, the end of the data, or CHASE_WEEKS after it fell due if sooner."""
    closed = np.where(pd.isna(closed), END, closed).astype("datetime64[s]")
    return np.minimum(closed, due.astype("datetime64[s]") + np.timedelta64(7 * CHASE_WEEKS, "D"))


def _chases(c: Ctx, rng, contacts: pd.DataFrame, requests: pd.DataFrame, handoffs: pd.DataFrame,
            n_value: int) -> pd.DataFrame:
    """What each failure-demand contact is about: customer_id, after / before (the window it falls in), reason,
    request_id — from the demo's own lateness, so it follows SLA_TREND and CALLBACK_TREND."""
    parts = []
    ext = requests[requests.requester_department_id.isna()]
    # Late requests (closed after due, or still open past it): half the customers chase, 1–3 times, until it closes
    # (within CHASE_WEEKS of the due time: nobody chases for years); the CRM links ~60 % of those calls to the request.
    late = (ext.closed_at.fillna(pd.Timestamp(END)) > ext.due_at).to_numpy()
    r = ext[late & (rng.random(len(ext)) < 0.5)]
    r = r.loc[r.index.repeat(rng.choice([1, 2, 3], len(r), p=[0.5, 0.3, 0.2]))]
    parts.append(pd.DataFrame({"customer_id": r.customer_id.to_numpy(), "after": r.due_at.to_numpy(),
                               "before": _until(r.closed_at.to_numpy(), r.due_at.to_numpy()),
                               "reason": np.where(rng.random(len(r)) < 0.85, "progress_chase", None),
                               "request_id": np.where(rng.random(len(r)) < 0.6, r.request_id.to_numpy(), None)}))
    # Callbacks not returned by their due time: ~60 % of those customers call once or twice until they are.
    h = handoffs[handoffs.case_type == "referral"]
    late = (h.responded_at.isna() | (h.responded_at > h.due_at)).to_numpy()
    h = h[late & (rng.random(len(h)) < 0.6)]
    h = h.loc[h.index.repeat(rng.choice([1, 2], len(h), p=[0.65, 0.35]))]
    customer = contacts.set_index("contact_id").customer_id.reindex(h.case_id).to_numpy()
    parts.append(pd.DataFrame({"customer_id": customer, "after": h.due_at.to_numpy(),
                               "before": _until(h.responded_at.to_numpy(), h.due_at.to_numpy()),
                               "reason": np.where(rng.random(len(h)) < 0.85, "callback_chase", None),
                               "request_id": None}))
    # Repairs and potholes "fixed" but not put right: ~6 % call again within a fortnight of closure.
    done = ext[(ext.status == "closed") & ext.category.isin(REPEAT_FAULT_CATEGORIES)]
    done = done[rng.random(len(done)) < 0.06]
    parts.append(pd.DataFrame({"customer_id": done.customer_id.to_numpy(), "after": done.closed_at.to_numpy(),
                               "before": done.closed_at.to_numpy() + np.timedelta64(14, "D"),
                               "reason": "repeat_fault", "request_id": done.request_id.to_numpy()}))
    # A letter or bill nobody could understand (~1 % of value demand), within 28 days of a request closing; council
    # tax and benefits letters three times as often.
    closed = ext[ext.status == "closed"]
    weight = np.where([c.department_of(d) == "revenues_benefits" for d in closed.department_id], 3.0, 1.0)
    pick = rng.choice(len(closed), min(len(closed), round(0.01 * n_value)), replace=False, p=weight / weight.sum())
    q = closed.iloc[np.sort(pick)]
    parts.append(pd.DataFrame({"customer_id": q.customer_id.to_numpy(), "after": q.closed_at.to_numpy(),
                               "before": q.closed_at.to_numpy() + np.timedelta64(28, "D"),
                               "reason": "unclear_letter", "request_id": None}))
    return pd.concat(parts, ignore_index=True)


def with_failure_demand(c: Ctx, seed: int, contacts: pd.DataFrame, requests: pd.DataFrame, handoffs: pd.DataFrame,
                         staff: pd.DataFrame) -> pd.DataFrame:
    """The contacts with their reason and handling time, and the failure-demand contacts appended after them (ids
    continuing the numbering): answered by the contact centre's phone or digital team, never resolved there."""
    rng = np.random.default_rng(seed + DEMAND_SEED_OFFSET)
    out = contacts.copy()
    out["reason"] = _reasons(rng, contacts, requests)
    out["handle_seconds"] = _handle_seconds(rng, contacts.channel.to_numpy(), contacts.abandoned.to_numpy())
    n_value = int(out.reason.isin(VALUE_REASONS).sum())
    ch = _chases(c, rng, contacts, requests, handoffs, n_value)
    ch["received_at"] = _times_between(c, rng, ch["after"].to_numpy(), ch["before"].to_numpy())
    ch = ch[ch.received_at.notna()].sort_values("received_at", kind="stable").reset_index(drop=True)
    n = len(ch)
    received = ch.received_at.to_numpy().astype("datetime64[s]")
    channel = rng.choice(CHASE_CHANNELS, n, p=CHASE_CHANNEL_P)
    phone = channel == "phone"
    team = np.where(phone, "cc_phones", "cc_digital").astype(object)
    phone_rate, _ = rates(c)
    load = phone_rate[(received.astype("datetime64[D]") - START).astype(int)] / phone_rate[c.busday].mean()
    wait = np.where(phone, np.round(rng.lognormal(np.log(11 * np.maximum(load, 0.1) ** 2.2), 0.9), 1), np.nan)
    answered = np.where(phone, received + np.nan_to_num(wait).astype(np.int64) * SEC, np.datetime64("NaT"))
    first = len(contacts) + 1
    ids = np.char.add("C", np.char.zfill(np.arange(first, first + n).astype(str), 8))
    new = pd.DataFrame({"contact_id": ids,
                        "channel": channel, "received_at": received, "answered_at": answered.astype("datetime64[s]"),
                        "abandoned": False, "wait_seconds": wait, "department_id": team,
                        "staff_id": _on_duty(rng, staff, team, received), "resolved_first_contact": False,
                        "request_id": ch.request_id.to_numpy(), "referred": False,
                        "customer_id": ch.customer_id.to_numpy(), "reason": ch.reason.to_numpy(),
                        "handle_seconds": _handle_seconds(rng, channel, np.zeros(n, dtype=bool))})
    # Some callers are not identified (no customer reference given, and the call not linked to a case): their
    # chase cannot be traced to what it chased, and counts as unattributed failure demand.
    unknown = new.request_id.isna().to_numpy() & (rng.random(n) < UNIDENTIFIED_CHASERS)
    new.loc[unknown, "customer_id"] = None
    return pd.concat([out, new[out.columns]], ignore_index=True)
