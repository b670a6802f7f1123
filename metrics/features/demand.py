"""Failure demand: which department's delays made customers call again.

Every contact is classed, linked and attributed by the contact_demand view (migration 014: a reason's class, or the
no-reason rule; the item a failure-demand call chases; the department and person holding that item's stage at the
call, from case_stages — the chain's own stages). This module turns the catalogue's figures about it (config
`chain.failure_demand`: share, caused, cost; it names no metric itself) into what the pages say:

- `summary` / `in_words`: the organisation's failure demand this period and the departments that caused it
  (unattributed calls said as such) — the Overview, the chain page;
- `calls_caused`: the calls a unit's or a person's delays caused, newest first — a record list (the department
  concerned, executives, the person themselves), with what each call chased;
- `invitation`: "3 customers called again about callbacks waiting on you" — a person's own page, an invitation to
  act, never a ranking;
- `flow_links` / `chain_flow`: the failure-demand stream the chain page adds to its Sankey (each department →
  "Called us again").
"""
from __future__ import annotations

import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.features import chain
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.errors import UnknownError
from metrics.formatting import format_date, format_percent, format_value, is_missing

# What a failure-demand call chased (contact_demand.linked_type) → the words for it (one, several).
CHASED = {"request": ("a request", "requests"), "referral": ("a callback", "callbacks"),
          "contact": ("an earlier contact", "earlier contacts")}
AGAIN = "Called us again (failure demand)"      # the Sankey node the stream flows into
UNKNOWN = "Cause not known"                     # … and the node unattributed calls come from
COLUMNS = ["Called", "Channel", "Why", "Chased", "Held by", "Customer"]


def enabled(engine: Engine) -> bool:
    """Whether config names the failure-demand figures (`chain.failure_demand`)."""
    return bool(engine.config.chain.failure_demand)


def _metric(engine: Engine, part: str):
    return engine.metric(engine.config.chain.failure_demand[part])


@access.same_for_every_viewer
def summary(engine: Engine, viewer: Viewer, period: Period) -> dict:
    """The organisation's failure demand in the period.

    Returns:
        {"contacts": failure-demand contacts, "of": all contacts, "share": their share (None when too few),
         "cost": the cost figure, "by_department": DataFrame(department, contacts) most first (only those with any),
         "unattributed": contacts linked to nothing — counted for the organisation only}.
    """
    engine.authorize(viewer, ORGANISATION, records=False)
    share = engine.value(viewer, _metric(engine, "share").key, ORGANISATION, period, compare=False)
    caused = _metric(engine, "caused").key
    total = engine.value(viewer, caused, ORGANISATION, period, compare=False).value or 0
    by = engine.breakdown(viewer, caused, ORGANISATION, period, by="department")
    by = by[by["value"].fillna(0) > 0]
    by = pd.DataFrame({"department": by["grp"], "contacts": by["value"].astype(int)}).sort_values(
        ["contacts", "department"], ascending=[False, True]).reset_index(drop=True)
    cost = engine.value(viewer, _metric(engine, "cost").key, ORGANISATION, period, compare=False).value
    return {"contacts": int(share.numerator or 0), "of": int(share.denominator or 0), "share": share.value,
            "cost": cost, "by_department": by, "unattributed": int(total) - int(by["contacts"].sum())}


def in_words(engine: Engine, s: dict, period: Period, shown: int = 3) -> str:
    """'Failure demand: 259 of 10,276 contacts (2.5 %) from 1 Nov 2025 to 30 Nov 2025 were customers contacting us
    again about something not yet done — caused by Housing (80), ... and 3 more; 25 not traced to a cause. Handling
    them cost £1,101.'"""
    when = f"from {format_date(period.start)} to {format_date(period.end)}"
    if not s["contacts"]:
        return f"Failure demand: no contact {when} was a customer contacting us again about something not yet done."
    names = {k: d.name for k, d in engine.config.departments.items()}
    parts = [f"{names.get(r.department, r.department)} ({r.contacts:,})" for r in s["by_department"].head(shown).itertuples()]
    more = len(s["by_department"]) - shown
    if more > 0:
        parts.append(f"{more} more department{'s' if more > 1 else ''}")
    caused = (f" — caused by {', '.join(parts[:-1])} and {parts[-1]}" if len(parts) > 1 else
              f" — caused by {parts[0]}" if parts else "")
    share = "" if is_missing(s["share"]) else f" ({format_percent(s['share'], 1)})"
    unknown = f"; {s['unattributed']:,} could not be traced to a cause" if s["unattributed"] else ""
    cost = "" if is_missing(s["cost"]) else f" Handling them cost about {format_value(_metric(engine, 'cost'), s['cost'])}."
    return (f"Failure demand: {s['contacts']:,} of {s['of']:,} contacts{share} {when} were customers contacting us "
            f"again about something not yet done{caused}{unknown}.{cost}")


@access.same_for_every_viewer
def unit_words(engine: Engine, viewer: Viewer, unit: str, period: Period) -> str:
    """'12 of the organisation's 259 failure-demand contacts from … to … (4.6 %) were customers waiting on Housing;
    handling them cost about £52.' — a unit's part, its share of the organisation's."""
    if unit not in engine.config.departments:
        raise UnknownError(f"unknown department {unit!r}: choose one of {', '.join(engine.config.departments)}")
    scope = Scope("department", unit)
    engine.authorize(viewer, scope, records=False)
    caused, cost = _metric(engine, "caused"), _metric(engine, "cost")
    mine = engine.value(viewer, caused.key, scope, period, compare=False).value or 0
    total = engine.value(viewer, caused.key, ORGANISATION, period, compare=False).value or 0
    when = f"from {format_date(period.start)} to {format_date(period.end)}"
    name = engine.config.departments[unit].name
    if not mine:
        return f"No customer contacted us again {when} about something waiting with {name}."
    spent = engine.value(viewer, cost.key, scope, period, compare=False).value
    return (f"{int(mine):,} of the organisation's {int(total):,} failure-demand contacts {when} "
            f"({format_percent(mine / total, 1)}) were customers contacting us again about something waiting with "
            f"{name}" + ("" if is_missing(spent) else f"; handling them cost about {format_value(cost, spent)}") + ".")


def _rows(engine: Engine, viewer: Viewer, scope: Scope, period: Period, limit: int) -> pd.DataFrame:
    """The failure-demand contacts counted for the scope (the `caused` metric's rows), newest first."""
    engine.authorize(viewer, scope, records=True)
    metric = _metric(engine, "caused")
    return engine.rows_behind(metric, engine.rows_for(metric, scope), period, limit)


def _chased_words(engine: Engine, rows: pd.DataFrame) -> list[str]:
    """What each call chased, in words: 'Request R123 (Repair), opened 2 May 2025', 'Callback asked for on 3 May
    2025', 'Earlier contact on 1 May 2025'."""
    def ids(kind):
        return [str(i) for i in rows.loc[rows["linked_type"] == kind, "linked_id"]]
    requests = engine.read_store("SELECT request_id AS k, category, created_at AS at FROM requests "
                                 "WHERE request_id IN (SELECT unnest($ids))", {"ids": ids("request")}).set_index("k")
    referral = engine.config.source_of(engine.metric(engine.config.chain.callbacks)).case.type
    asked = engine.read_store("SELECT case_id AS k, min(handed_at) AS at FROM handoffs WHERE case_type = $t AND "
                              "case_id IN (SELECT unnest($ids)) GROUP BY case_id",
                              {"t": referral, "ids": ids("referral")}).set_index("k")["at"]
    earlier = engine.read_store("SELECT contact_id AS k, received_at AS at FROM contacts WHERE contact_id IN "
                                "(SELECT unnest($ids))", {"ids": ids("contact")}).set_index("k")["at"]
    out = []
    for kind, key in zip(rows["linked_type"], rows["linked_id"]):
        if kind == "request" and key in requests.index:
            r = requests.loc[key]
            out.append(f"Request {key} ({r['category']}), opened {format_date(r['at'])}")
        elif kind == "referral" and key in asked.index:
            out.append(f"Callback asked for on {format_date(asked[key])}")
        elif kind == "contact" and key in earlier.index:
            out.append(f"Earlier contact on {format_date(earlier[key])}")
        else:
            out.append("Nothing traced")
    return out


def calls_caused(engine: Engine, viewer: Viewer, scope: Scope, period: Period, limit: int = 200) -> pd.DataFrame:
    """The calls the scope's delays caused in the period, newest first, as the page lists them (COLUMNS): when, the
    channel, why (the demand class), what it chased (_chased_words), the team holding it at the call, the customer's
    reference. A record list: the department concerned, executives, or the person themselves."""
    rows = _rows(engine, viewer, scope, period, limit)
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    units = {k: d.name for k, d in engine.config.departments.items()}
    return pd.DataFrame({
        "Called": [format_date(t) for t in rows["received_at"]],
        "Channel": rows["channel"].fillna("—").str.capitalize(),
        "Why": rows["demand_label"].fillna("—"),
        "Chased": _chased_words(engine, rows),
        "Held by": ["—" if is_missing(k) else units.get(k, k) for k in rows["cause_department_id"]],
        "Customer": rows["customer_id"].fillna("—")})[COLUMNS]


def invitation(engine: Engine, viewer: Viewer, staff_id: str, period: Period) -> str:
    """What the person's own page says about the calls their waiting items caused: '3 customers called again about
    callbacks waiting on you and 1 about a request, from … to …' — or that none did. Customers are counted once
    however often they called."""
    rows = _rows(engine, viewer, Scope("staff", staff_id), period, 10_000)
    when = f"from {format_date(period.start)} to {format_date(period.end)}"
    if rows.empty:
        return f"No customer called again about anything waiting on you {when}."
    per = rows.assign(who=rows["customer_id"].fillna(rows["contact_id"])).groupby("linked_type")["who"].nunique()
    counts = [(int(per[kind]), one if per[kind] == 1 else many) for kind, (one, many) in CHASED.items() if kind in per]
    (n, what), rest = counts[0], counts[1:]
    text = f"{n:,} customer{'' if n == 1 else 's'} called again about {what} waiting on you"
    if rest:
        text += " and " + ", ".join(f"{m:,} about {w}" for m, w in rest)
    return f"{text}, {when}. Dealing with those first saves each of them another call."


@access.same_for_every_viewer
def flow_links(engine: Engine, viewer: Viewer, period: Period) -> pd.DataFrame:
    """The Sankey's failure-demand stream: source (a department's name, or UNKNOWN), target AGAIN, count."""
    s = summary(engine, viewer, period)
    names = {k: d.name for k, d in engine.config.departments.items()}
    links = [(names.get(r.department, r.department), AGAIN, r.contacts) for r in s["by_department"].itertuples()]
    if s["unattributed"]:
        links.append((UNKNOWN, AGAIN, s["unattributed"]))
    return pd.DataFrame(links, columns=["source", "target", "count"])


@access.same_for_every_viewer
def chain_flow(engine: Engine, viewer: Viewer, period: Period) -> dict:
    """The chain page's flow (chain.referral_flow) with the failure-demand stream added to its links: each department
    whose delays made customers call again → AGAIN (and UNKNOWN → AGAIN for calls traced to no cause)."""
    flow = chain.referral_flow(engine, viewer, period)
    if not enabled(engine):
        return flow
    extra = flow_links(engine, viewer, period)
    return {**flow, "links": pd.concat([flow["links"], extra], ignore_index=True)}
