"""Failure demand on the pages (AppTest, the demo): the Overview's sentence and chart, a Department page's calls its
delays caused, the chain page's failure-demand stream, a person's invitation to act.

Every number the pages should show is counted here straight from the contact_demand table with plain SQL (a second,
simpler computation than the engine's: one count per question, no catalogue), for the page's default period.
"""
import json
from pathlib import Path

from metrics.compute.engine import Engine
from metrics.features import demand
from tests.conftest import demo_sign_in

ROOT = Path(__file__).resolve().parent.parent


def _sql(db, config, sql, params):
    """Plain SQL on the page's database (through the store's own cursor: the dashboard has the file open)."""
    return Engine.open(db, config).read_store(sql, params)


def _count(db, sql, params, config=None) -> int:
    from metrics.catalogue.parse import load_config
    return int(_sql(db, config or load_config("config.yaml"), sql, params).iloc[0, 0])


def _period(db, config):
    return Engine.open(db, config).default_period()


def _in(db, config) -> dict:
    p = _period(db, config)
    return {"a": p.start, "b": p.end_exclusive}


def test_overview_says_how_many_contacts_were_failure_demand_and_who_caused_them(env, config):
    at, _ = demo_sign_in("executive", env, config)
    when = _in(env, config)
    failure = _count(env, "SELECT count(*) FROM contact_demand WHERE failure AND received_at >= $a AND received_at < $b",
                     when)
    contacts = _count(env, "SELECT count(*) FROM contact_demand WHERE received_at >= $a AND received_at < $b", when)
    unknown = _count(env, "SELECT count(*) FROM contact_demand WHERE failure AND cause_department_id IS NULL "
                          "AND received_at >= $a AND received_at < $b", when)
    assert failure > 50 and contacts > failure
    words = [i.value for i in at.info if i.value.startswith("Failure demand:")]
    assert len(words) == 1
    assert words[0].startswith(f"Failure demand: {failure:,} of {contacts:,} contacts ({100 * failure / contacts:.1f} %)")
    assert (f"{unknown:,} could not be traced to a cause" in words[0]) == (unknown > 0)
    # The chart beside it: one bar per department that caused any (teams rolled up), unattributed last.
    per = _sql(env, config, """
        SELECT coalesce(CASE WHEN d.level = 'team' THEN d.parent_id ELSE d.department_id END, '?') AS dept, count(*) AS n
        FROM contact_demand c LEFT JOIN departments d ON d.department_id = c.cause_department_id
        WHERE c.failure AND c.cause_department_id IS NOT NULL AND c.received_at >= $a AND c.received_at < $b
        GROUP BY ALL""", when)
    per = dict(zip(per["dept"], per["n"]))
    names = dict(_sql(env, config, "SELECT department_id, name FROM departments", {}).values.tolist())
    bars = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    bar = next(s for s in bars if s["layout"].get("xaxis", {}).get("title", {}).get("text", "").startswith("customers' contacts caused"))
    shown = dict(zip(bar["data"][0]["y"], bar["data"][0]["x"]))
    expected = {names[k]: v for k, v in per.items()} | ({demand.UNKNOWN: unknown} if unknown else {})
    assert shown == expected


def test_a_department_sees_the_calls_its_delays_caused(env, config):
    at, viewer = demo_sign_in("head", env, config)
    at.switch_page(str(ROOT / "pages/department.py"))
    at.run()
    assert not at.exception
    units = list(config.descendants(viewer.department_id))
    when = {**_in(env, config), "u": units}
    mine = _count(env, "SELECT count(*) FROM contact_demand WHERE failure AND cause_department_id IN (SELECT unnest($u)) "
                       "AND received_at >= $a AND received_at < $b", when)
    assert mine > 0
    words = [i.value for i in at.info if "failure-demand contacts" in i.value or "No customer contacted us again" in i.value]
    assert len(words) == 1 and words[0].startswith(f"{mine:,} of the organisation's")
    table = next(d.value for d in at.dataframe if "Chased" in d.value.columns)
    assert len(table) == min(mine, 200)
    assert set(table["Held by"]) <= {config.departments[k].name for k in units}


def test_the_chain_page_adds_the_failure_demand_stream(env, config):
    at, _ = demo_sign_in("executive", env, config)
    at.switch_page(str(ROOT / "pages/chain.py"))
    at.run()
    assert not at.exception
    failure = _count(env, "SELECT count(*) FROM contact_demand WHERE failure AND received_at >= $a AND received_at < $b",
                     _in(env, config))
    sankey = next(s for s in (json.loads(c.proto.spec) for c in at.get("plotly_chart")) if s["data"][0]["type"] == "sankey")
    nodes, link = sankey["data"][0]["node"]["label"], sankey["data"][0]["link"]
    into = [v for t, v in zip(link["target"], link["value"]) if nodes[t] == demand.AGAIN]
    assert sum(into) == failure                  # every failure-demand contact, from its cause (or "not known")


def test_a_person_is_invited_to_act_on_the_calls_about_what_waits_on_them(env, config):
    at, viewer = demo_sign_in("staff", env, config)
    at.switch_page(str(ROOT / "pages/my_contribution.py"))
    at.run()
    assert not at.exception
    when = {**_in(env, config), "s": viewer.staff_id}
    customers = _count(env, "SELECT coalesce(sum(n), 0) FROM (SELECT linked_type, count(DISTINCT coalesce(customer_id, "
                            "contact_id)) AS n FROM contact_demand WHERE failure AND cause_staff_id = $s AND received_at "
                            ">= $a AND received_at < $b GROUP BY linked_type)", when)
    words = [i.value for i in at.info if "waiting on you" in i.value]
    assert len(words) == 1
    if customers:
        first = int(words[0].split(" ", 1)[0].replace(",", ""))
        rest = sum(int(part.split(" ")[0].replace(",", "")) for part in
                   words[0].split(" waiting on you", 1)[1].split(",")[0].split(" and ")[1:])
        assert first + rest == customers     # customers, each counted once per kind of item they chased
    else:
        assert words[0].startswith("No customer called again")


def test_an_officers_page_names_the_customers_who_called_again_about_what_waits_on_them(env, config):
    """The officer with most such customers in the period (the demo's staff persona answers phones, so nothing waits
    on them): their My contribution says how many customers called again about callbacks and requests waiting on
    them, and lists the calls."""
    from metrics.access import SYSTEM
    from metrics.present import documents
    from metrics.present.document import Note, Table
    when = _in(env, config)
    per = _sql(env, config, """
        SELECT cause_staff_id AS s, linked_type AS kind, count(DISTINCT coalesce(customer_id, contact_id)) AS n,
               count(*) AS calls
        FROM contact_demand WHERE failure AND cause_staff_id IS NOT NULL AND received_at >= $a AND received_at < $b
        GROUP BY ALL""", when)
    busiest = per.groupby("s")["n"].sum().sort_values(ascending=False, kind="stable")
    officer = busiest.index[0]
    mine = per[per["s"] == officer].set_index("kind")
    assert busiest.iloc[0] >= 2
    eng = Engine.open(env, config)
    doc = documents.my_contribution(eng, SYSTEM, _period(env, config), staff_id=officer)
    words = [b.text for b in doc.blocks if isinstance(b, Note) and "waiting on you" in b.text]
    assert len(words) == 1
    said = {kind: int(n) for kind, n in mine["n"].items()}
    order = [k for k in ("request", "referral", "contact") if k in said]
    first = order[0]
    assert words[0].startswith(f"{said[first]:,} customer{'' if said[first] == 1 else 's'} called again about ")
    for kind in order[1:]:
        assert f" {said[kind]:,} about " in words[0]
    calls = next(b for b in doc.blocks if isinstance(b, Table) and b.name == "my-calls-caused")
    assert len(calls.frame) == int(mine["calls"].sum())
