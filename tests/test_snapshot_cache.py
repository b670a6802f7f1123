"""A page run reads one state of the data, and a load invalidates every cached figure."""
import shutil

import app_cache
from metrics.access import SYSTEM
from metrics.compute.engine import Engine
from metrics.ingest.loader import load_file
from metrics.compute.periods import month
from metrics.catalogue.scope import ORGANISATION
from metrics.present import views


def test_a_snapshot_keeps_one_state_while_a_load_commits(fresh_engine):
    eng = fresh_engine
    count = "SELECT count(*) AS n FROM invoices"
    with eng.snapshot():
        before = eng.read_store(count).iloc[0, 0]
        writer = eng.con.cursor()                       # another session commits a new invoice meanwhile
        writer.execute("INSERT INTO invoices (invoice_id, supplier_id, received_at) VALUES ('NEW', 'S', now())")
        writer.close()
        assert eng.read_store(count).iloc[0, 0] == before     # the page run still sees one state
        with eng.snapshot():                              # nested: the same snapshot
            assert eng.read_store(count).iloc[0, 0] == before
    assert eng.read_store(count).iloc[0, 0] == before + 1      # the next run sees the load


def test_a_load_invalidates_cached_figures(demo_db, config, tmp_path, monkeypatch):
    db = tmp_path / "cache.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("CX_DB", str(db))
    app_cache.engine.clear()
    app_cache.clear()
    period = month(2025, 12)
    first = app_cache.view(views.cards, SYSTEM, ORGANISATION, period, ("late_payments",))[0]
    eng = app_cache.engine()
    direct = Engine(eng.con, config).value(SYSTEM, "late_payments", ORGANISATION, period)
    assert first.value == direct.value                     # the cached path gives the event-table number
    again = app_cache.view(views.cards, SYSTEM, ORGANISATION, period, ("late_payments",))[0]
    assert again.value == first.value
    # One invoice paid 40 days after receipt on 30-day terms, paid in December 2025: one more late payment.
    csv = tmp_path / "late.csv"
    csv.write_text("invoice_id,supplier_id,supplier_name,local_supplier,small_business,department_id,received_at,"
                   "approved_at,paid_at,amount,terms_days\n"
                   "LATE1,SUP1,One,false,false,finance_payables,2025-11-01 09:00:00,2025-11-05 09:00:00,"
                   "2025-12-11 09:00:00,10.00,30\n")
    version = eng.data_version()
    assert load_file(eng.con, config, "invoices", csv).ok
    assert eng.data_version() != version
    after = app_cache.view(views.cards, SYSTEM, ORGANISATION, period, ("late_payments",))[0]
    assert after.value == first.value + 1
    app_cache.engine.clear()


def test_one_scan_ratios_give_exactly_the_two_scan_numbers(demo_db, config, monkeypatch):
    """Ratios whose two sides read the same rows are computed in one scan; the old two-scan path must agree
    for every such metric, for a figure, a breakdown by department and by person, and a monthly series."""
    import datetime as dt

    import pandas as pd

    from metrics.compute.periods import Period
    from metrics.compute.query import QueryBuilder
    from metrics.catalogue.scope import Scope
    eng = Engine.open(demo_db, config, read_only=True)
    quarter = Period(dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    keys = [k for k, m in config.metrics.items() if eng.builder._one_scan(m)]
    assert len(keys) >= 20

    def everything():
        out = {}
        for k in keys:
            out[k, "org"] = eng.frame(SYSTEM, k, ORGANISATION, quarter)
            out[k, "dept"] = eng.frame(SYSTEM, k, ORGANISATION, quarter, by="department")
            out[k, "month"] = eng.frame(SYSTEM, k, ORGANISATION, quarter, grain="month")
            if all(config.sources[m.source].staff for m in config.metrics[k].measures()):
                out[k, "staff"] = eng.frame(SYSTEM, k, Scope("department", "contact_centre"), quarter, by="staff")
        return out
    one = everything()
    monkeypatch.setattr(QueryBuilder, "_one_scan", lambda self, metric: False)
    two = everything()
    for key, frame in one.items():
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), two[key].reset_index(drop=True), obj=str(key))
