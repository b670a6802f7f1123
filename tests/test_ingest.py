"""Loading: bad input is reported row by row and changes nothing; loads upsert; unload restores exactly."""
import datetime as dt
import shutil
from pathlib import Path

import pytest

from metrics.access import SYSTEM
from metrics.compute.engine import Engine
from metrics.errors import MetricsError
from metrics.ingest.loader import load_file, unload
from metrics.ingest.profiles import parse_profile
from metrics.store.database import connect
from tests.security.support import table_checksums

BAD = Path(__file__).parent / "bad_inputs"


@pytest.fixture
def db(demo_db, tmp_path, config):
    path = tmp_path / "load.duckdb"
    shutil.copy(demo_db, path)
    con = connect(path, config)
    yield con
    con.close()


# file → (row, column, words of the reason) for row-level problems, or words of the one sentence.
CASES = {
    "wrong_delimiter.csv": "looks ';'-separated, but the profile says ','",
    "missing_column.csv": (0, "received_at", "column missing from the header"),
    "text_in_number.csv": (2, "amount", "not a double"),
    "unparseable_date.csv": (2, "received_at", "not a timestamp (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)"),
    "unknown_department.csv": (2, "department_id", "unknown department housng_repairs"),
    "duplicate_keys.csv": (2, "invoice_id", "duplicate key: also on row 1"),
    "empty.csv": "is empty: expected a header row and data rows",
    "truncated_last_line.csv": "the last line is cut off (8 of 11 fields",
    "not_utf8.csv": "the file is not UTF-8: set file.encoding",
    "formula_error.xlsx": (2, "amount", "not a double"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_reported_and_changes_nothing(db, config, tmp_path, name):
    before = table_checksums(db)
    expected = CASES[name]
    if isinstance(expected, str):
        with pytest.raises(MetricsError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            load_file(db, config, "invoices", BAD / name, report_dir=tmp_path)
    else:
        result = load_file(db, config, "invoices", BAD / name, report_dir=tmp_path)
        assert not result.ok and result.batch_id is None
        row, column, words = expected
        hits = result.problems[(result.problems["row"] == row) & (result.problems["column"] == column)]
        assert len(hits) == 1 and words in hits.iloc[0]["reason"], result.problems
        if row:
            assert Path(result.report).exists()
    assert table_checksums(db) == before


def test_latin1_file_loads_when_the_profile_says_so(db, config):
    profile = parse_profile({"table": "invoices", "file": {"encoding": "latin-1"}, "columns": {
        "invoice_id": {"from": "invoice_id"}, "supplier_id": {"from": "supplier_id"},
        "supplier_name": {"from": "supplier_name"}, "department_id": {"from": "department_id"},
        "received_at": {"from": "received_at", "type": "timestamp", "formats": ["%Y-%m-%d"]}}}, "latin1")
    r = load_file(db, config, "invoices", BAD / "not_utf8.csv", profile)
    assert r.ok and db.execute("SELECT supplier_name FROM invoices WHERE invoice_id = 'I1'").fetchone()[0] == "Café Müller"


def test_good_file_loads_then_same_file_is_skipped(db, config):
    r = load_file(db, config, "invoices", BAD / "good.csv")
    assert r.ok and (r.inserted, r.updated) == (2, 0)
    again = load_file(db, config, "invoices", BAD / "good.csv")
    assert again.skipped and again.batch_id == r.batch_id
    batch = db.execute("SELECT table_name, file_name, rows, rows_inserted, status FROM load_batches "
                       "WHERE batch_id = $b", {"b": r.batch_id}).fetchone()
    assert batch == ("invoices", "good.csv", 2, 2, "loaded")


def test_corrected_export_upserts_and_unload_restores_the_previous_figures(db, config, tmp_path):
    engine = Engine(db, config)
    period = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    from metrics.compute.periods import Period
    year = Period(*period)
    before = {k: engine.value(SYSTEM, k, period=year, compare=False) for k in ("paid_within_terms", "median_days_to_pay")}
    sums_before = table_checksums(db)
    # Correct two existing demo invoices (paid much later) and add one new one.
    ids = [r[0] for r in db.execute("SELECT invoice_id FROM invoices WHERE paid_at >= DATE '2025-03-01' "
                                    "ORDER BY invoice_id LIMIT 2").fetchall()]
    rows = db.execute("SELECT invoice_id, supplier_id, supplier_name, local_supplier, small_business, department_id, "
                      "received_at, approved_at, paid_at + INTERVAL 60 DAY, amount, terms_days FROM invoices "
                      "WHERE invoice_id IN (SELECT unnest($i))", {"i": ids}).fetchall()
    path = tmp_path / "corrected.csv"
    lines = ["invoice_id,supplier_id,supplier_name,local_supplier,small_business,department_id,received_at,"
             "approved_at,paid_at,amount,terms_days"]
    lines += [",".join("" if v is None else (v.strftime("%Y-%m-%d %H:%M:%S") if hasattr(v, "strftime") else str(v).lower()
                                             if isinstance(v, bool) else str(v)) for v in r) for r in rows]
    lines.append("NEW1,SUP9,New Co,true,true,finance_payables,2025-06-01 09:00:00,2025-06-02 09:00:00,"
                 "2025-06-05 09:00:00,10.00,14")
    path.write_text("\n".join(lines) + "\n")
    n_before = db.execute("SELECT count(*) FROM invoices").fetchone()[0]
    r = load_file(db, config, "invoices", path)
    assert r.ok and (r.inserted, r.updated) == (1, 2)
    assert db.execute("SELECT count(*) FROM invoices").fetchone()[0] == n_before + 1      # no duplicates
    after = engine.value(SYSTEM, "paid_within_terms", period=year, compare=False)
    assert after.denominator == before["paid_within_terms"].denominator + 1
    u = unload(db, r.batch_id)
    assert (u["removed"], u["restored"]) == (3, 2)
    for k, v in before.items():
        again = engine.value(SYSTEM, k, period=year, compare=False)
        assert (again.numerator, again.denominator, again.value) == (v.numerator, v.denominator, v.value)
    changed = {t for t, h in table_checksums(db).items() if h != sums_before[t]}
    assert changed == {"load_batches"}          # only the record of the load and its undoing remains
    with pytest.raises(MetricsError, match="is unloaded"):
        unload(db, r.batch_id)


def test_unload_refuses_when_a_later_batch_replaced_its_rows(db, config, tmp_path):
    first = load_file(db, config, "invoices", BAD / "good.csv")
    text = (BAD / "good.csv").read_text().replace(",250,30", ",260,30")
    (tmp_path / "fix.csv").write_text(text)
    second = load_file(db, config, "invoices", tmp_path / "fix.csv")
    assert second.ok and second.updated == 2
    with pytest.raises(MetricsError, match=f"batch {second.batch_id} replaced rows of batch {first.batch_id}"):
        unload(db, first.batch_id)
    unload(db, second.batch_id)
    unload(db, first.batch_id)
    assert db.execute("SELECT count(*) FROM invoices WHERE invoice_id IN ('I1', 'I2')").fetchone()[0] == 0


def test_dry_run_writes_nothing(db, config):
    before = table_checksums(db)
    r = load_file(db, config, "invoices", BAD / "good.csv", dry_run=True)
    assert r.ok and r.inserted == 2 and r.batch_id is None
    assert table_checksums(db) == before


def test_cli_load_refuses_clearly_while_another_process_writes(demo_db, tmp_path):
    """DuckDB allows one writer per file: while the dashboard holds it, the command line says what to do."""
    import subprocess
    import sys
    import time
    db = tmp_path / "busy.duckdb"
    shutil.copy(demo_db, db)
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); "
                               "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        out = subprocess.run([sys.executable, "-m", "metrics", "load", "invoices", str(BAD / "good.csv"),
                              "--db", str(db)], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
        assert out.returncode == 2
        assert "is in use by another process, usually the dashboard" in out.stderr
        assert "upload the file on the dashboard's Data page" in out.stderr
    finally:
        holder.kill()
        holder.wait()


def test_reloading_an_export_keeps_the_work_done_in_the_dashboard(db, config, tmp_path):
    from metrics.voice import cases
    engine = Engine(db, config)
    fid, received, dept = db.execute("""SELECT feedback_id, received_at, department_id FROM feedback
        WHERE kind = 'complaint' AND followed_up_at IS NULL AND resolved_at IS NULL ORDER BY feedback_id LIMIT 1""").fetchone()
    cases.follow_up(engine, SYSTEM, fid, 0, "Called back", at=dt.datetime(2026, 1, 5, 10))
    cases.resolve(engine, SYSTEM, fid, 1, "billing", "Refunded", at=dt.datetime(2026, 1, 6, 10))
    worked = db.execute("SELECT * EXCLUDE (batch_id) FROM feedback WHERE feedback_id = $i", {"i": fid}).fetchone()
    path = tmp_path / "complaints.csv"      # yesterday's export again: it knows nothing of the follow-up
    header = ("feedback_id,kind,source,received_at,department_id,staff_id,request_id,contact_id,csat,nps,effort,"
              "comment,theme,acknowledged_at,followed_up_at,follow_up_by,action_taken,resolved_at,shared_with_staff,"
              "customer_id,from_department_id")
    path.write_text(header + "\n" + f"{fid},complaint,customer,{received:%Y-%m-%d %H:%M:%S},{dept},,,,,,,"
                    "Still unhappy,,,,,,,false,,\n")
    r = load_file(db, config, "feedback", path)
    assert r.ok and (r.inserted, r.updated) == (0, 1)
    row = db.execute("SELECT followed_up_at, follow_up_note, resolved_at, theme, action_taken, version, comment "
                     "FROM feedback WHERE feedback_id = $i", {"i": fid}).fetchone()
    assert row == (dt.datetime(2026, 1, 5, 10), "Called back", dt.datetime(2026, 1, 6, 10), "billing", "Refunded", 2,
                   "Still unhappy")
    unload(db, r.batch_id)
    assert db.execute("SELECT * EXCLUDE (batch_id) FROM feedback WHERE feedback_id = $i", {"i": fid}).fetchone() == worked
