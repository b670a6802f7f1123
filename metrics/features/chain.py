"""The chain: internal service between departments, where customers' waits come from, supplier payments.

Everything here is built from the catalogue's own definitions (the engine and the metric records), so a
figure on the chain page equals the same metric anywhere else. Which metrics those are is config's
`chain:` section (Config.chain); this module names none of them:
- `internal_matrix`: providers × requesters for the internal-service metrics (`chain.internal_service`,
  column → metric; `Engine.matrix`);
- `decline_reasons`: the declined internal requests (the counted rows of the `chain.declines` column's
  metric), by reason;
- `referral_flow`: contacts → the front door (`chain.front_door`) → officers → callback returned in time /
  later / not yet, with counts and median times (the referrals are `chain.callbacks`'s rows);
- `late_outcomes` / `attribution`: for every late outcome customers felt (`chain.late_outcomes`), the
  elapsed time split across its hand-off stages and the miss given to the department that held it longest
  (see `attribute`); each counts a source whose `case` says how its rows are followed through `handoffs`;
- `supplier_payments`: each approving department's payment figures (`chain.supplier_payments`), local
  small businesses apart, and the median days of each invoice's stages.

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
from metrics.formatting import format_date, is_missing

# The referral flow's callback outcomes: the column of `by_department` → the words of its stage and Sankey node.
OUTCOMES = {"within_1_day": "Called back within a working day", "later": "Called back later",
            "not_returned": "Not called back yet"}


def _department(engine: Engine, key) -> str | None:
    """A unit key rolled up to its department (a directorate stays itself); None for no unit."""
    if is_missing(key) or key not in engine.config.departments:
        return None
    return access.department_of(engine.config, key)


def _records(engine: Engine, key: str, period: Period) -> pd.DataFrame:
    """Every row a metric counted in the period, organisation-wide (its records: a ratio's denominator rows, with
    `counted` for those in its numerator)."""
    return engine.rows_behind(engine.metric(key), Rows("all"), period, 10_000_000)


def _counted(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows a metric counts as its figure: a ratio's numerator rows (`counted`), or all of a count's."""
    return rows[rows["counted"].astype(bool)] if "counted" in rows.columns else rows


@access.same_for_every_viewer
def internal_matrix(engine: Engine, viewer: Viewer, period: Period, level: str = "department") -> pd.DataFrame:
    """Providers × requesters: one column per `chain.internal_service` column (NaN when too few answers), with
    `requests` (the `chain.requests` column's denominator) and `declined` (the `chain.declines` column's
    numerator) — one row per pair with internal requests or feedback."""
    chain = engine.config.chain
    frames = []
    for column, key in chain.internal_service.items():
        df = engine.matrix(viewer, key, period, level)[["grp", "grp2", "numerator", "denominator", "value"]]
        df = df.rename(columns={"grp": "provider", "grp2": "requester", "value": column})
        if column == chain.requests:
            df["requests"] = df["denominator"]
        if column == chain.declines:
            df["declined"] = df["numerator"]
        frames.append(df.drop(columns=["numerator", "denominator"]))
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on=["provider", "requester"], how="outer")
    return out.sort_values(["provider", "requester"]).reset_index(drop=True)


def matrix_columns(engine: Engine) -> list[str]:
    """The matrix's figure columns in the order shown: each `chain.internal_service` column, the count of its
    requests or declines after it."""
    chain = engine.config.chain
    counts = {chain.requests: "requests", chain.declines: "declined"}
    return [c for column in chain.internal_service for c in (column, counts.get(column)) if c]


def worst_first(engine: Engine, matrix: pd.DataFrame) -> pd.DataFrame:
    """Matrix rows worst first on the first `chain.internal_service` measure (by its metric's direction)."""
    column, key = next(iter(engine.config.chain.internal_service.items()))
    return matrix.sort_values(column, ascending=engine.metric(key).direction != "lower_is_better")


@access.same_for_every_viewer
def decline_reasons(engine: Engine, viewer: Viewer, period: Period) -> pd.DataFrame:
    """provider, requester, reason, declined — the declined requests the matrix's `declined` counts."""
    engine.authorize(viewer, ORGANISATION, records=False)
    key = engine.config.chain.internal_service[engine.config.chain.declines]
    src = engine.config.source_of(engine.metric(key))
    rows = _counted(_records(engine, key, period))
    if rows.empty:
        return pd.DataFrame(columns=["provider", "requester", "reason", "declined"])
    out = pd.DataFrame({"provider": [_department(engine, k) for k in rows[src.department]],
                        "requester": [_department(engine, k) for k in rows[src.requester]],
                        "reason": rows["decline_reason"].fillna("(no reason given)")})
    return (out.groupby(["provider", "requester", "reason"]).size().rename("declined").reset_index()
            .sort_values(["provider", "declined"], ascending=[True, False]).reset_index(drop=True))


@access.same_for_every_viewer
def referral_flow(engine: Engine, viewer: Viewer, period: Period) -> dict:
    """The customer's path from a contact to a callback, for contacts and referrals in the period.

    Returns:
        {"stages": DataFrame(stage, count, median_hours), "links": DataFrame(source, target, count),
         "by_department": DataFrame(department, referred, within_1_day, later, not_returned)}.
        The front door is `chain.front_door` with its teams; a contact there is sorted there when no referral
        (a hand-off of the `chain.callbacks` source's case type) names it. Referrals are those handed in the
        period (`chain.callbacks`'s rows); "within 1 working day" is that metric's numerator; "not returned"
        means no callback by the end of the period.
    """
    engine.authorize(viewer, ORGANISATION, records=False)
    config = engine.config
    front = config.departments[config.chain.front_door].name
    door = list(config.descendants(config.chain.front_door))
    src = config.source_of(engine.metric(config.chain.callbacks))
    case = src.case
    params = {"a": period.start_instant, "b": period.end_exclusive, "cc": door, "t": case.type}
    contacts = engine.read_store("""
        SELECT count(*) AS contacts,
               count(*) FILTER (WHERE department_id IN (SELECT unnest($cc))) AS at_cc,
               count(*) FILTER (WHERE department_id IN (SELECT unnest($cc)) AND NOT EXISTS (
                   SELECT 1 FROM handoffs h WHERE h.case_type = $t AND h.case_id = c.contact_id)) AS sorted_at_cc,
               median(wait_seconds) FILTER (WHERE department_id IN (SELECT unnest($cc)) AND NOT abandoned
                                            AND channel = 'phone') / 3600.0 AS cc_wait_hours
        FROM contacts c WHERE received_at >= $a AND received_at < $b""", params).iloc[0]
    refs = _records(engine, config.chain.callbacks, period)
    end = pd.Timestamp(period.end_exclusive)
    refs = refs.assign(department=[_department(engine, k) for k in refs[src.department]],
                       returned=refs[case.closed].notna() & (refs[case.closed] < end))
    refs["outcome"] = np.where(refs["counted"], "within_1_day", np.where(refs["returned"], "later", "not_returned"))
    from_cc = refs[refs["from_department_id"].isin(door)]
    hours = (refs[case.closed] - refs[case.opened]).dt.total_seconds() / 3600
    by = (refs.groupby(["department", "outcome"]).size().unstack(fill_value=0)
          .reindex(columns=list(OUTCOMES), fill_value=0))
    by.insert(0, "referred", by.sum(axis=1))
    by = by.reset_index().sort_values("referred", ascending=False).reset_index(drop=True)
    n_cc, n_sorted, n_ref = int(contacts["at_cc"]), int(contacts["sorted_at_cc"]), len(refs)
    sorted_words = f"Sorted at the {front}"
    stages = pd.DataFrame(
        [("Contacts", int(contacts["contacts"]), None), (front, n_cc, _num(contacts["cc_wait_hours"])),
         (sorted_words, n_sorted, None), ("Referred to an officer", n_ref, None)]
        + [(words, int((refs["outcome"] == o).sum()),
            None if o == "not_returned" else _num(hours[refs["outcome"] == o].median())) for o, words in OUTCOMES.items()],
        columns=["stage", "count", "median_hours"])
    names = {k: config.departments[k].name for k in by["department"]}
    links = [("Contacts", front, n_cc), ("Contacts", "Handled directly by departments", int(contacts["contacts"]) - n_cc),
             (front, sorted_words, n_sorted)]
    links += [(front, names[r.department], int((from_cc["department"] == r.department).sum())) for r in by.itertuples()]
    elsewhere = refs[~refs["from_department_id"].isin(door)]
    links += [("Handled directly by departments", names[r.department], int((elsewhere["department"] == r.department).sum()))
              for r in by.itertuples()]
    links += [(names[r.department], words, int(getattr(r, o))) for r in by.itertuples() for o, words in OUTCOMES.items()]
    links = pd.DataFrame(links, columns=["source", "target", "count"])
    return {"stages": stages, "links": links[links["count"] > 0].reset_index(drop=True), "by_department": by}


def _num(x) -> float | None:
    return None if is_missing(x) else float(x)


def waiting_for_callback(engine: Engine, viewer: Viewer, unit: str, as_of: dt.date) -> pd.DataFrame:
    """Customers whose callback from the unit is past due and not returned at the end of `as_of`, referred in the
    last 90 days (as the waiting lists), oldest first — a record list: the department concerned and executives."""
    engine.authorize(viewer, Scope("department", unit), records=True)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    case = engine.config.source_of(engine.metric(engine.config.chain.callbacks)).case
    return engine.read_store("""
        SELECT h.case_id AS contact_id, c.customer_id, h.handed_at, h.due_at, h.to_department_id, s.name AS officer
        FROM handoffs h LEFT JOIN contacts c ON c.contact_id = h.case_id LEFT JOIN staff s ON s.staff_id = h.to_staff_id
        WHERE h.case_type = $t AND h.handed_at < $e AND (h.responded_at IS NULL OR h.responded_at >= $e)
          AND h.due_at < $e AND h.handed_at >= $e - INTERVAL 90 DAY AND h.to_department_id IN (SELECT unnest($u))
        ORDER BY h.due_at""", {"e": end, "u": list(engine.config.descendants(unit)), "t": case.type})


def late_outcomes(engine: Engine, viewer: Viewer, period: Period, stages: bool = True) -> pd.DataFrame:
    """Every late outcome of the period with its stages and the department it waited longest with.

    The late outcomes are the rows `chain.late_outcomes`' metrics count (their records; a ratio's `counted` rows),
    each followed through the hand-offs as its source's `case` says and owned by the source's `department`
    (rows with no owner are left out, for every kind alike).

    Returns one row per outcome: kind (the customers' words), case_id, start, end, waited_longest (department
    key), longest_hours, total_hours, stages (list of (department, hours) in order).
    """
    engine.authorize(viewer, ORGANISATION, records=False)
    end = pd.Timestamp(period.end_exclusive)
    frames = []
    for key, words in engine.config.chain.late_outcomes.items():
        src = engine.config.source_of(engine.metric(key))
        case = src.case
        rows = _counted(_records(engine, key, period))
        rows = rows[rows[src.department].notna()]
        frames.append(pd.DataFrame({"kind": words, "case_type": case.type, "case_id": rows[case.id].astype(str),
                                    "start_at": rows[case.opened], "end_at": rows[case.closed].fillna(end),
                                    "owner": rows[src.department]}))
    late = pd.concat(frames, ignore_index=True)
    return attribute(engine, late, stages)


def attribute(engine: Engine, late: pd.DataFrame, with_stages: bool = True) -> pd.DataFrame:
    """Split each outcome's elapsed time across its hand-off stages and find who held it longest.

    Stages (the case_stages view, which failure demand's attribution shares): from the start to the first hand-off
    the case is with that hand-off's sender (or its owner when it was never handed on); then with each hand-off's
    receiver until the next hand-off or the end (an open stage runs to the end given — the period's end for
    outcomes not yet done). Hand-offs at or after the end are ignored. Time is summed per department (teams roll up; a chain that loops back adds both visits), and the
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
        # The stages are case_stages' (migration 014: the one statement of who holds a case when, which failure
        # demand's attribution reads too), cut to the outcome's own start and end: a hand-off at or after the end
        # is ignored, so a case first handed on then is with its owner throughout.
        stages = cur.execute("""
            SELECT l.case_type, l.case_id, 0 AS ord, l.start_at AS s, coalesce(f.stage_to, l.end_at) AS e,
                   coalesce(f.department_id, l.owner) AS dept
            FROM _late l LEFT JOIN case_stages f ON f.case_type = l.case_type AND f.case_id = l.case_id
                                                AND f.ord = 0 AND f.stage_to < l.end_at
            UNION ALL
            SELECT l.case_type, l.case_id, s.ord, s.stage_from, least(coalesce(s.stage_to, l.end_at), l.end_at),
                   s.department_id
            FROM _late l JOIN case_stages s ON s.case_type = l.case_type AND s.case_id = l.case_id
                                           AND s.ord > 0 AND s.stage_from < l.end_at
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
    """The in_words sentence from an attribution table already computed (pages reuse the cached one); the kinds
    are `chain.late_outcomes`' words, in config order."""
    dept = _department(engine, unit) or unit
    total = int(att.drop_duplicates("kind")["of_all"].sum()) if len(att) else 0
    m = int(att.loc[att["department"] == dept, "waited_longest"].sum()) if len(att) else 0
    kinds = ", ".join(engine.config.chain.late_outcomes.values())
    return (f"Of the {total:,} late outcomes customers felt from {format_date(period.start)} to {format_date(period.end)} "
            f"({kinds}), {m:,} waited longest with {engine.config.departments[dept].name}.")


def _days(start: pd.Series, end: pd.Series) -> pd.Series:
    return (end - start).dt.total_seconds() / 86400


@access.same_for_every_viewer
def supplier_payments(engine: Engine, viewer: Viewer, period: Period) -> pd.DataFrame:
    """Per approving department (`chain.supplier_payments`): invoices paid (the `within_terms` ratio's
    denominator), the share paid within terms and its status, the same for local small businesses (their stricter
    target), typical days to approve, invoices paid late, and the median days of each paid invoice's stages:
    registration (received → first hand-off), with the approver (→ approved: the `days_to_approve` metric's own
    time column) and payment (→ paid). Each median is over the department's invoices (its teams' together)."""
    engine.authorize(viewer, ORGANISATION, records=False)
    metrics = engine.config.chain.supplier_payments
    b = {column: engine.breakdown(viewer, key, ORGANISATION, period, by="department").set_index("grp")
         for column, key in metrics.items()}
    out = pd.DataFrame({
        "invoices_paid": b["within_terms"]["denominator"],
        "within_terms": b["within_terms"]["value"],
        "within_terms_status": b["within_terms"]["status"],
        "local_small_paid": b["local_small_within_terms"]["denominator"],
        "local_small_within_terms": b["local_small_within_terms"]["value"],
        "local_small_status": b["local_small_within_terms"]["status"],
        "days_to_approve": b["days_to_approve"]["value"],
        "paid_late": b["paid_late"]["value"]})
    src = engine.config.source_of(engine.metric(metrics["within_terms"]))
    case, approved = src.case, engine.metric(metrics["days_to_approve"]).measure.time
    paid = _records(engine, metrics["within_terms"], period)          # the invoices paid in the period
    ids = paid[case.id].astype(str)
    first = engine.read_store("SELECT case_id, min(handed_at) AS first_at FROM handoffs WHERE case_type = $t "
                         "AND case_id IN (SELECT unnest($ids)) GROUP BY case_id", {"t": case.type, "ids": list(ids)})
    first_at = pd.to_datetime(ids.map(dict(zip(first["case_id"], first["first_at"]))))   # NaT: never handed on
    stages = pd.DataFrame({
        "department": [_department(engine, k) for k in paid[src.department]],
        "registration_days": _days(paid[case.opened], first_at),
        "approval_stage_days": _days(first_at, paid[approved]),
        "payment_days": _days(paid[approved], paid[case.closed])}).groupby("department").median()
    out = out.join(stages, how="left")
    out = out[out["invoices_paid"] > 0]
    return out.rename_axis("department").reset_index()
