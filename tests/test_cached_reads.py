"""A cached result is reused exactly while nothing it read has changed (metrics/compute/reads.py, app_cache._Memo):
a load of invoices leaves results about contacts, hand-offs and feedback cached, recomputes those that read invoices,
and after the figure store's swap every result still equals the same call computed afresh."""
import datetime as dt
import shutil

import pandas as pd
import pytest

import app_cache
from metrics.access import EVERYONE, Role, Viewer
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.reads import Reads
from metrics.features import chain
from metrics.ingest.loader import load_file
from metrics.present import charts, views
from metrics.voice import lists

HEAD = Viewer("head@example.org", Role.HEAD, department_id="contact_centre")


@pytest.fixture(params=["wait", "background"])
def served(request, demo_db, tmp_path, monkeypatch):
    db = tmp_path / "reads.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("CX_DB", str(db))
    monkeypatch.setenv("CX_FIGURE_STORE", request.param)
    app_cache.engine.clear()
    app_cache.clear()
    eng = app_cache.engine()
    eng.refresh_figures()
    yield eng
    app_cache.engine.clear()
    app_cache.clear()


def load_one_invoice(eng, tmp_path, paid_on: dt.date) -> None:
    """One paid invoice of the finance team, paid 20 days after approval on `paid_on` (late: 30 days' terms)."""
    received = paid_on - dt.timedelta(days=45)
    csv = tmp_path / "invoice.csv"
    csv.write_text("invoice_id,supplier_id,supplier_name,local_supplier,small_business,department_id,received_at,"
                   f"approved_at,paid_at,amount,terms_days\nREADS1,SUP1,One,false,false,finance_payables,"
                   f"{received} 09:00:00,{received + dt.timedelta(days=25)} 09:00:00,{paid_on} 09:00:00,10.00,30\n")
    result = load_file(eng.con, eng.config, "invoices", csv, loaded_by="test")
    assert result.inserted == 1


def same(a, b) -> None:
    """Equal values: frames cell by cell, dicts and lists item by item."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    else:
        assert a == b


def calls(eng):
    """Page-data calls as the pages make them: the first three read no invoices, the last two do."""
    period = eng.default_period()
    headline = ["csat", "first_contact_resolution"]
    return {"comments": (lists.feedback_comments, HEAD, Scope("department", "contact_centre"), period),
            "flow": (chain.referral_flow, EVERYONE, period),
            "cards": (views.cards, EVERYONE, ORGANISATION, period, headline),
            "payments": (chain.supplier_payments, EVERYONE, period),
            "invoice cards": (views.cards, EVERYONE, ORGANISATION, period, ["paid_within_terms_local", "late_payments"])}


def ask(call) -> tuple:
    """A page-data call through the cache, and whether it was computed (not reused) for this ask."""
    computed = app_cache._views.computed
    value = app_cache.view(*call)
    return value, app_cache._views.computed - computed


def test_a_load_recomputes_only_the_results_that_read_its_table(served, tmp_path):
    wanted = calls(served)
    before = {name: app_cache.view(*call) for name, call in wanted.items()}
    flow_chart = app_cache.chart(charts.sankey_figure, wanted["flow"])
    load_one_invoice(served, tmp_path, served.default_period().start + dt.timedelta(days=3))
    got = {name: ask(call) for name, call in wanted.items()}
    times = {name: n for name, (_, n) in got.items()}
    if served._store_thread is not None:           # background: the next store is built meanwhile; ask again after it
        served._store_thread.join(timeout=120)
        got = {name: ask(call) for name, call in wanted.items()}
        times = {name: times[name] + n for name, (_, n) in got.items()}
    fresh = {name: func(served, viewer, *args) for name, (func, viewer, *args) in wanted.items()}
    for name in wanted:                                   # every answer, reused or not, is the data as it is now
        same(got[name][0], fresh[name])
    # Nothing the first three read changed: reused through the load and the store's swap, never computed again.
    assert times["comments"] == times["flow"] == times["cards"] == 0
    for name in ("comments", "flow", "cards"):
        same(got[name][0], before[name])
    # The payments read the invoices table: computed again, and show the one new invoice paid in the period.
    assert times["payments"] >= 1
    def paid(payments):                                   # the finance department's invoices paid (its teams' together)
        return payments.set_index("department").loc["finance", "invoices_paid"]
    assert paid(fresh["payments"]) == paid(before["payments"]) + 1
    # The invoice cards read only the store: computed again once the store holds the load (at once when waiting
    # for it; in the background, after the swap — until then they are the previous store's, like its stamp).
    assert times["invoice cards"] == 1
    assert app_cache.chart(charts.sankey_figure, wanted["flow"]) is flow_chart      # its data held: the same figure


def test_a_write_to_feedback_recomputes_the_comments_at_once_and_nothing_about_hand_offs(served):
    wanted = calls(served)
    before = {name: app_cache.view(*wanted[name]) for name in ("comments", "flow")}
    first = before["comments"].iloc[0]
    with served.cursor() as cur:                         # an audited write, as the dashboard's case actions make
        cur.execute("BEGIN TRANSACTION")
        cur.execute("UPDATE feedback SET comment = 'Changed by the test' WHERE comment = $c AND received_at = $r",
                    {"c": first["comment"], "r": first["received_at"]})
        cur.execute("INSERT INTO audit_log (acted_at, user_name, role, action, entity, entity_id, changes) "
                    "VALUES (now(), 'test', 'admin', 'feedback.edit', 'feedback', 'x', '{}')")
        cur.execute("COMMIT")
    comments, n = ask(wanted["comments"])
    assert n == 1
    same(comments, lists.feedback_comments(served, *wanted["comments"][1:]))
    assert not comments.equals(before["comments"])
    flow, n = ask(wanted["flow"])
    assert n == 0                                        # the hand-offs' flow was reused
    same(flow, before["flow"])


def test_what_a_query_reads_is_each_table_it_names():
    reads = Reads(frozenset({"contacts", "replaced_contacts", "handoffs", "load_batches", "departments"}))
    with reads.collect() as got:
        reads.note_sql("SELECT * FROM contacts c JOIN handoffs h ON h.contact_id = c.contact_id")
    assert got == {"*", "t:contacts", "t:handoffs"}
    with reads.collect() as got:                           # a table without a version of its own: any change
        reads.note_sql("SELECT count(*) FROM replaced_contacts JOIN departments USING (department_id)")
    assert got == {"*", "all"}
    with reads.collect() as outer:
        with reads.collect() as inner:
            reads.note_sql("SELECT contact_id FROM contacts WHERE contact_id_old IS NULL")
        with reads.quiet():
            reads.note_sql("SELECT * FROM load_batches")
    assert inner == outer == {"*", "t:contacts"}
