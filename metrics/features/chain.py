"""The chain: internal service between departments, where customers' waits come from, supplier payments.

Everything here is built from the catalogue's own definitions (the engine and the metric records), so a
figure on the chain page equals the same metric anywhere else:
- `internal_matrix`: providers × requesters for the internal-service metrics (`Engine.matrix`);
- `decline_reasons`: the declined internal requests behind `internal_decline_rate`, by reason;
- `referral_flow`: contacts → contact centre → officers → callback returned in a working day / later /
  not yet, with counts and median times (the callback counts are `callback_within_1_day`'s);
- `late_outcomes` / `attribution`: for every late outcome customers felt (`late_requests`,
  `late_callbacks`, `late_payments`), the elapsed time split across its hand-off stages and the miss
  given to the department that held it longest (see `attribute`);
- `supplier_payments`: each approving department's payment figures, local small businesses apart.

Access: these are unit-level figures every signed-in viewer may see; the list of customers waiting for
a callback is a record list, visible to the department concerned and executives.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.compute.query import Rows
from metrics.catalogue.scope import ORGANISATION, Scope

INTERNAL = {"internal_sla_attainment": "sla", "internal_median_response_hours": "median_hours",
            "internal_decline_rate": "decline_rate", "internal_csat": "csat"}
# Late outcomes customers feel, with how to follow each through the hand-offs table:
# metric → (case_type, case id column, start column, end column, owner column, what it is in words)
LATE = {"late_requests": ("request", "request_id", "created_at", "closed_at", "department_id", "request closed late"),
        "late_callbacks": ("referral", "case_id", "handed_at", "responded_at", "to_department_id",
                           "callback not returned within a working day"),
        "late_payments": ("invoice", "invoice_id", "received_at", "paid_at", "department_id", "invoice paid late")}


def _department(engine: Engine, key) -> str | None:
    """A unit key rolled up to its department (a directorate stays itself); None for no unit."""
    if key is None or key != key or key not in engine.config.departments:
        return None
    return access.department_of(engine.config, key)


@access.same_for_every_viewer
def internal_matrix(engine: Engine, viewer: Viewer, period: Period, level: str = "department") -> pd.DataFrame:
    """Providers × requesters: sla, sla_requests, median_hours, decline_rate, declined, csat (NaN when too
    few answers) — one row per pair with internal requests or feedback."""
    frames = []
    for key, name in INTERNAL.items():
        df = engine.matrix(viewer, key, period, level)[["grp", "grp2", "numerator", "denominator", "value"]]
        df = df.rename(columns={"grp": "provider", "grp2": "requester", "value": name})
        if name == "sla":
            df["sla_requests"] = df["denominator"]
        if name == "decline_rate":
            df["declined"] = df["numerator"]
        frames.append(df.drop(columns=["numerator", "denominator"]))
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on=["provider", "requester"], how="outer")
    return out.sort_values(["provider", "requester"]).reset_index(drop=True)


@access.same_for_every_viewer
def decline_reasons(engine: Engine, viewer: Viewer, period: Period) -> pd.DataFrame:
    """provider, requester, reason, declined — the declined requests counted by internal_decline_rate."""
    engine.authorize(viewer, ORGANISATION, records=False)
    metric = engine.metric("internal_decline_rate")
    sql, params = engine.builder.records(metric, Rows("all"), period, 10_000_000)
    rows = engine.query(sql, params)
    rows = rows[rows["counted"]]
    if rows.empty:
        return pd.DataFrame(columns=["provider", "requester", "reason", "declined"])
    out = pd.DataFrame({"provider": [_department(engine, k) for k in rows["department_id"]],
                        "requester": [_department(engine, k) for k in rows["requester_department_id"]],
                        "reason": rows["decline_reason"].fillna("(no reason given)")})
    return (out.groupby(["provider", "requester", "reason"]).size().rename("declined").reset_index()
            .sort_values(["provider", "declined"], ascending=[True, False]).reset_index(drop=True))


@access.same_for_every_viewer
def referral_flow(engine: Engine, viewer: Viewer, period: Period) -> dict:
    """The customer's path from a contact to a callback, for contacts and referrals in the period.

    Returns:
        {"stages": DataFrame(stage, count, median_hours), "links": DataFrame(source, target, count),
         "by_department": DataFrame(department, referred, within_1_day, later, not_returned)}.
        Referrals are those handed in the period (callback_within_1_day's rows); "within 1 working day" is
        that metric's numerator; "not returned" means no callback by the end of the period.
    """
    engine.authorize(viewer, ORGANISATION, records=False)
    cc = list(engine.config.descendants("contact_centre"))
    params = {"a": period.start_instant, "b": period.end_exclusive, "cc": cc}
    contacts = engine.query("""
        SELECT count(*) AS contacts,
               count(*) FILTER (WHERE department_id IN (SELECT unnest($cc))) AS at_cc,
               median(wait_seconds) FILTER (WHERE department_id IN (SELECT unnest($cc)) AND NOT abandoned
                                            AND channel = 'phone') / 3600.0 AS cc_wait_hours
        FROM contacts WHERE received_at >= $a AND received_at < $b""", params).iloc[0]
    metric = engine.metric("callback_within_1_day")
    sql, p2 = engine.builder.records(metric, Rows("all"), period, 10_000_000)
    refs = engine.query(sql, p2)
    refs = refs.assign(department=[_department(engine, k) for k in refs["to_department_id"]],
                       returned=refs["responded_at"].notna() & (refs["responded_at"] < pd.Timestamp(period.end_exclusive)))
    refs["outcome"] = np.where(refs["counted"], "within_1_day", np.where(refs["returned"], "later", "not_returned"))
    from_cc = refs[refs["from_department_id"].isin(cc)]
    hours = (refs["responded_at"] - refs["handed_at"]).dt.total_seconds() / 3600
    by = (refs.groupby(["department", "outcome"]).size().unstack(fill_value=0)
          .reindex(columns=["within_1_day", "later", "not_returned"], fill_value=0))
    by.insert(0, "referred", by.sum(axis=1))
    by = by.reset_index().sort_values("referred", ascending=False).reset_index(drop=True)
    n_cc, n_ref = int(contacts["at_cc"]), len(refs)
    stages = pd.DataFrame([
        ("Contacts", int(contacts["contacts"]), None),
        ("Contact centre", n_cc, _num(contacts["cc_wait_hours"])),
        ("Sorted at the contact centre", n_cc - len(from_cc), None),
        ("Referred to an officer", n_ref, None),
        ("Called back within a working day", int((refs["outcome"] == "within_1_day").sum()),
         _num(hours[refs["outcome"] == "within_1_day"].median())),
        ("Called back later", int((refs["outcome"] == "later").sum()), _num(hours[refs["outcome"] == "later"].median())),
        ("Not called back yet", int((refs["outcome"] == "not_returned").sum()), None),
    ], columns=["stage", "count", "median_hours"])
    names = {k: engine.config.departments[k].name for k in by["department"]}
    links = [("Contacts", "Contact centre", n_cc), ("Contacts", "Handled directly by departments",
                                                    int(contacts["contacts"]) - n_cc),
             ("Contact centre", "Sorted at the contact centre", n_cc - len(from_cc))]
    links += [("Contact centre", names[r.department], int((from_cc["department"] == r.department).sum()))
              for r in by.itertuples()]
    elsewhere = refs[~refs["from_department_id"].isin(cc)]
    links += [("Handled directly by departments", names[r.department], int((elsewhere["department"] == r.department).sum()))
              for r in by.itertuples()]
    words = {"within_1_day": "Called back within a working day", "later": "Called back later",
             "not_returned": "Not called back yet"}
    links += [(names[r.department], words[o], int(getattr(r, o))) for r in by.itertuples() for o in words]
    links = pd.DataFrame(links, columns=["source", "target", "count"])
    return {"stages": stages, "links": links[links["count"] > 0].reset_index(drop=True), "by_department": by}


def _num(x) -> float | None:
    return None if x is None or x != x else float(x)


def waiting_for_callback(engine: Engine, viewer: Viewer, unit: str, as_of: dt.date) -> pd.DataFrame:
    """Customers whose callback from the unit is past due and not returned at the end of `as_of`, referred in the
    last 90 days (as the waiting lists), oldest first — a record list: the department concerned and executives."""
    engine.authorize(viewer, Scope("department", unit), records=True)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    return engine.query("""
        SELECT h.case_id AS contact_id, c.customer_id, h.handed_at, h.due_at, h.to_department_id, s.name AS officer
        FROM handoffs h LEFT JOIN contacts c ON c.contact_id = h.case_id LEFT JOIN staff s ON s.staff_id = h.to_staff_id
        WHERE h.case_type = 'referral' AND h.handed_at < $e AND (h.responded_at IS NULL OR h.responded_at >= $e)
          AND h.due_at < $e AND h.handed_at >= $e - INTERVAL 90 DAY AND h.to_department_id IN (SELECT unnest($u))
        ORDER BY h.due_at""", {"e": end, "u": list(engine.config.descendants(unit))})


def late_outcomes(engine: Engine, viewer: Viewer, period: Period, stages: bool = True) -> pd.DataFrame:
    """Every late outcome of the period with its stages and the department it waited longest with.

    Returns one row per outcome: kind, case_id, start, end, waited_longest (department key), longest_hours,
    total_hours, stages (list of (department, hours) in order).
    """
    engine.authorize(viewer, ORGANISATION, records=False)
    frames = []
    for key, (case_type, id_col, start, end, owner, words) in LATE.items():
        metric = engine.metric(key)
        sql, params = engine.builder.records(metric, Rows("all"), period, 10_000_000)
        rows = engine.query(sql, params)
        if key == "late_requests":
            rows = rows[rows["department_id"].notna()]
        frames.append(pd.DataFrame({"kind": words, "case_type": case_type, "case_id": rows[id_col].astype(str),
                                    "start_at": rows[start],
                                    "end_at": rows[end].fillna(pd.Timestamp(period.end_exclusive)),
                                    "owner": rows[owner]}))
    late = pd.concat(frames, ignore_index=True)
    return attribute(engine, late, stages)


def attribute(engine: Engine, late: pd.DataFrame, with_stages: bool = True) -> pd.DataFrame:
    """Split each outcome's elapsed time across its hand-off stages and find who held it longest.

    Stages: from the start to the first hand-off the case is with that hand-off's sender (or its owner when it
    was never handed on); then with each hand-off's receiver until the next hand-off or the end (an open
    stage runs to the end given — the period's end for outcomes not yet done). Hand-offs after the end are
    ignored. Time is summed per department (teams roll up; a chain that loops back adds both visits), and the
    outcome goes to the department with the most time; a tie goes to the one that had the case first.

    Args:
        late: kind, case_type, case_id, start_at, end_at, owner — one row per outcome.
        with_stages: also list each outcome's stages (department, hours) — skipped for counts alone.
    """
    out_cols = ["kind", "case_id", "start_at", "end_at", "waited_longest", "longest_hours", "total_hours", "stages"]
    if late.empty:
        return pd.DataFrame(columns=out_cols)
    with engine.cursor() as cur:
        cur.register("_late", late[["case_type", "case_id", "start_at", "end_at", "owner"]])
        stages = cur.execute("""
            WITH h AS (
                SELECT l.case_type, l.case_id, h.handed_at, h.from_department_id, h.to_department_id,
                       h.handoff_id
                FROM _late l JOIN handoffs h ON h.case_type = l.case_type AND h.case_id = l.case_id
                WHERE h.handed_at < l.end_at),
            firsts AS (
                SELECT case_type, case_id, min(handed_at) AS first_at,
                       arg_min(from_department_id, (handed_at, handoff_id)) AS first_from
                FROM h GROUP BY ALL)
            SELECT l.case_type, l.case_id, 0 AS ord, l.start_at AS s, coalesce(f.first_at, l.end_at) AS e,
                   coalesce(f.first_from, l.owner) AS dept
            FROM _late l LEFT JOIN firsts f USING (case_type, case_id)
            UNION ALL
            SELECT h.case_type, h.case_id, row_number() OVER w AS ord, h.handed_at,
                   coalesce(lead(h.handed_at) OVER w, l.end_at), h.to_department_id
            FROM h JOIN _late l USING (case_type, case_id)
            WINDOW w AS (PARTITION BY h.case_type, h.case_id ORDER BY h.handed_at, h.handoff_id)
            ORDER BY case_type, case_id, ord""").df()
        cur.unregister("_late")
    stages = stages.merge(late[["case_type", "case_id", "start_at", "end_at"]], on=["case_type", "case_id"])
    s = stages["s"].where(stages["s"] > stages["start_at"], stages["start_at"])
    e = stages["e"].where(stages["e"] < stages["end_at"], stages["end_at"])
    stages["hours"] = ((e - s).dt.total_seconds() / 3600).clip(lower=0)
    stages["department"] = [_department(engine, k) or str(k) for k in stages["dept"]]
    keys = ["case_type", "case_id"]
    per = (stages.groupby(keys + ["department"], sort=False)
           .agg(hours=("hours", "sum"), first=("ord", "min")).reset_index())
    # Most time first; on a tie, the department that had the case first.
    best = per.sort_values(keys + ["hours", "first"], ascending=[True, True, False, True]).drop_duplicates(keys)
    totals = per.groupby(keys)["hours"].sum().rename("total_hours")
    out = (late[keys + ["kind", "start_at", "end_at"]]
           .merge(best[keys + ["department", "hours"]], on=keys).merge(totals.reset_index(), on=keys))
    if with_stages:
        shown = stages[(stages["hours"] > 0) | (stages.groupby(keys)["ord"].transform("size") == 1)]
        shown = shown.assign(pair=list(zip(shown["department"], shown["hours"].round(3))))
        split = shown.groupby(keys, sort=False)["pair"].agg(list).rename("stages")
        out = out.merge(split.reset_index(), on=keys, how="left")
    else:
        out["stages"] = None
    out = out.rename(columns={"department": "waited_longest", "hours": "longest_hours"})
    return out[out_cols]


@access.same_for_every_viewer
def attribution(engine: Engine, viewer: Viewer, period: Period) -> pd.DataFrame:
    """Per department and kind of late outcome: how many waited longest there, of how many in all."""
    lo = late_outcomes(engine, viewer, period, stages=False)
    if lo.empty:
        return pd.DataFrame(columns=["department", "kind", "waited_longest", "of_all", "share"])
    out = lo.groupby(["waited_longest", "kind"]).size().rename("waited_longest_n").reset_index()
    totals = lo.groupby("kind").size()
    out["of_all"] = out["kind"].map(totals)
    out["share"] = out["waited_longest_n"] / out["of_all"]
    return (out.rename(columns={"waited_longest": "department", "waited_longest_n": "waited_longest"})
            .sort_values(["kind", "waited_longest"], ascending=[True, False]).reset_index(drop=True))


def in_words(engine: Engine, viewer: Viewer, unit: str, period: Period) -> str:
    """"Of the N late outcomes customers felt in this period, M waited longest with us." for a unit."""
    return words_for(engine, attribution(engine, viewer, period), unit, period)


def words_for(engine: Engine, att: pd.DataFrame, unit: str, period: Period) -> str:
    """The in_words sentence from an attribution table already computed (pages reuse the cached one)."""
    dept = _department(engine, unit) or unit
    total = int(att.drop_duplicates("kind")["of_all"].sum()) if len(att) else 0
    m = int(att.loc[att["department"] == dept, "waited_longest"].sum()) if len(att) else 0
    return (f"Of the {total:,} late outcomes customers felt from {period.start:%d %b %Y} to {period.end:%d %b %Y} "
            f"(requests closed late, callbacks not returned within a working day, invoices paid late), {m:,} waited "
            f"longest with {engine.config.departments[dept].name}.")


@access.same_for_every_viewer
def supplier_payments(engine: Engine, viewer: Viewer, period: Period) -> pd.DataFrame:
    """Per approving department: invoices paid, paid within terms (all, and local small businesses with their
    stricter target), typical approval days, and median days in each stage (registration, approval, payment)."""
    engine.authorize(viewer, ORGANISATION, records=False)
    cols = {}
    for key in ("paid_within_terms", "paid_within_terms_local", "approval_days", "late_payments"):
        b = engine.breakdown(viewer, key, ORGANISATION, period, by="department")
        cols[key] = b.set_index("grp")
    out = pd.DataFrame({
        "invoices_paid": cols["paid_within_terms"]["denominator"],
        "paid_within_terms": cols["paid_within_terms"]["value"],
        "paid_within_terms_status": cols["paid_within_terms"]["status"],
        "local_small_paid": cols["paid_within_terms_local"]["denominator"],
        "local_small_within_terms": cols["paid_within_terms_local"]["value"],
        "local_small_status": cols["paid_within_terms_local"]["status"],
        "approval_days": cols["approval_days"]["value"],
        "late_payments": cols["late_payments"]["value"]})
    stages = engine.query("""
        SELECT i.department_id,
               median(date_diff('second', i.received_at, h1.handed_at)) / 86400.0 AS registration_days,
               median(date_diff('second', h1.handed_at, i.approved_at)) / 86400.0 AS approval_stage_days,
               median(date_diff('second', i.approved_at, i.paid_at)) / 86400.0 AS payment_days
        FROM invoices i
        LEFT JOIN (SELECT case_id, min(handed_at) AS handed_at FROM handoffs WHERE case_type = 'invoice'
                   GROUP BY case_id) h1 ON h1.case_id = i.invoice_id
        WHERE i.paid_at >= $a AND i.paid_at < $b GROUP BY i.department_id""",
                          {"a": period.start_instant, "b": period.end_exclusive})
    stages["department"] = [_department(engine, k) for k in stages["department_id"]]
    stages = stages.groupby("department")[["registration_days", "approval_stage_days", "payment_days"]].median()
    out = out.join(stages, how="left")
    out = out[out["invoices_paid"] > 0]
    return out.rename_axis("department").reset_index()
