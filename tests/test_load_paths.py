"""The same file through the loader's fast path and through its general path gives the same tables.

metrics/ingest/loader.py takes the fast path (metrics/ingest/fast.py: DuckDB's typed CSV reader straight into the
table) when `fast.eligible(profile)` — a CSV whose columns are all taken as they are, e.g. the default profile
(the schema's own column names) — and the general path (read as text, convert and check in SQL) otherwise, or
when the fast path's reader refuses the file. Here each file is loaded twice into its own copy of the fixture
organisation: once as it comes (fast path; the log says "loaded in"), once with `fast.eligible` answering
False (general path; the log says "read and converted"). Every column of every row must then be equal, and so
must the rows each load replaced (replaced_<table>) and what load_batches records.

Each file mixes spellings both paths must read alike (TRUE/t/1/yes for booleans, date-only and ISO "T"
timestamps, fractional seconds, exponents, empty and quoted-empty fields, quoted commas, quotes and line breaks,
text that looks like a formula) and corrects one fixture row (an upsert), so inserted/updated are known by hand.
"""
from pathlib import Path

import pytest

from metrics.ingest import fast
from metrics.ingest.loader import default_profile, load_file
from metrics.store.database import connect
from tests.conftest import with_columns

FIXTURE = Path(__file__).parent / "fixture.sql"

FILES = {
    # contacts: 3 new rows and c1 corrected (wait 20.0 → 12.5): read 4, inserted 3, updated 1.
    "contacts": (
        "contact_id,channel,received_at,answered_at,abandoned,wait_seconds,department_id,staff_id,"
        "resolved_first_contact,request_id,referred,customer_id\n"
        "x1,phone,2024-05-02 09:00:00,2024-05-02 09:00:20,false,20.0,cc_phones,S1,true,,false,P1\n"
        'x2,email,2024-05-03,,FALSE,,cc_digital,,TRUE,R1,True,""\n'
        "x3,phone,2024-05-04T10:15:30.250,2024-05-04 10:16:00,f,2e1,housing_repairs,S2,t,,1,P9\n"
        "c1,phone,2024-05-02 09:00,2024-05-02 09:00:12.5,no,12.5,cc_phones,S1,yes,,0,P1\n",
        {"rows_read": 4, "inserted": 3, "updated": 1},
        "contact_id"),
    # feedback: 3 new rows and F1's comment corrected: read 4, inserted 3, updated 1.
    "feedback": (
        "feedback_id,kind,source,received_at,department_id,staff_id,request_id,contact_id,csat,nps,effort,comment,"
        "theme,acknowledged_at,followed_up_at,follow_up_by,action_taken,resolved_at,shared_with_staff,customer_id,"
        "from_department_id\n"
        'Fx1,survey,customer,2024-05-02 10:00:00,cc_phones,S1,,c1,5,10,7,"Good, but ""slow"" — café",outcome,,,,,,'
        "true,P1,\n"
        'Fx2,survey,customer,2024-05-03 11:30:00,housing_repairs,S2,R1,,4.0,,,"line one\r\nline two",repairs,,'
        "2024-05-07 09:00:00,S2,Called,,false,P3,\n"
        "Fx3,complaint,customer,2024-05-04,housing_repairs,,R2,,,,,=HYPERLINK(\"x\"),repairs,,,,,2024-05-20,FALSE,,\n"
        "F1,survey,customer,2024-05-02 10:00:00,cc_phones,S1,,c1,5,10,7,Great again,outcome,,,,,,false,P1,\n",
        {"rows_read": 4, "inserted": 3, "updated": 1},
        "feedback_id"),
    # invoices: I6 new and I1 corrected (paid 15 → 14 May, amount 100 → 100.25): read 2, inserted 1, updated 1.
    "invoices": (
        "invoice_id,supplier_id,supplier_name,local_supplier,small_business,department_id,received_at,approved_at,"
        "paid_at,amount,terms_days\n"
        'I6,SUP3,"Smith, Jones & Co",yes,no,finance_payables,2024-05-01,2024-05-02 09:00,,1e3,30\n'
        "I1,SUP1,Local One,TRUE,t,finance_payables,2024-05-01 09:00:00,2024-05-05 09:00:00,2024-05-14 09:00:00,"
        "100.25,14\n",
        {"rows_read": 2, "inserted": 1, "updated": 1},
        "invoice_id"),
}


def fixture_db(config):
    con = connect(":memory:", config, create=True)
    con.execute(with_columns(con, FIXTURE.read_text(encoding="utf-8")))
    return con


def load(config, table, path, monkeypatch, general: bool):
    """Load `path` into a fresh fixture database by one path; returns (connection, result, log lines)."""
    con = fixture_db(config)
    log = []
    with monkeypatch.context() as m:
        if general:
            m.setattr(fast, "eligible", lambda profile: False)
        result = load_file(con, config, table, path, loaded_by="test", log=log.append)
    return con, result, log


def everything(con, table, key):
    """Every column of every row of the table and of replaced_<table>, and what load_batches says."""
    columns = con.execute(f"DESCRIBE {table}").fetchall()
    rows = con.execute(f"SELECT * FROM {table} ORDER BY {key}, batch_id").fetchall()
    replaced = con.execute(f"SELECT * FROM replaced_{table} ORDER BY {key}").fetchall()
    batches = con.execute("SELECT batch_id, table_name, file_name, checksum, rows, loaded_by, status, rows_inserted, "
                          "rows_updated, rows_rejected, rows_dropped, profile FROM load_batches").fetchall()
    return columns, rows, replaced, batches


@pytest.mark.parametrize("table", list(FILES))
def test_fast_and_general_paths_give_identical_tables(config, tmp_path, monkeypatch, table):
    text, counts, key = FILES[table]
    path = tmp_path / f"{table}.csv"
    path.write_bytes(text.encode("utf-8"))
    assert fast.eligible(default_profile(fixture_db(config), table))       # the default profile may go fast

    quick, r_fast, log_fast = load(config, table, path, monkeypatch, general=False)
    slow, r_general, log_general = load(config, table, path, monkeypatch, general=True)
    # Each load took the path it was meant to.
    assert r_fast.ok and r_general.ok, (r_fast.problems, r_general.problems)
    assert log_fast[0].startswith("loaded in") and not any("read and converted" in m for m in log_fast), log_fast
    assert any(m.startswith("read and converted") for m in log_general), log_general
    # The counts worked out by hand, the same on both paths.
    for r in (r_fast, r_general):
        assert {"rows_read": r.rows_read, "inserted": r.inserted, "updated": r.updated} == counts
    # Every column, row by row.
    cols_f, rows_f, repl_f, batches_f = everything(quick, table, key)
    cols_g, rows_g, repl_g, batches_g = everything(slow, table, key)
    assert cols_f == cols_g
    assert len(rows_f) == len(rows_g)
    for a, b in zip(rows_f, rows_g):
        assert a == b, {c[0]: (x, y) for c, x, y in zip(cols_f, a, b) if x != y}
    assert repl_f == repl_g and len(repl_f) == counts["updated"]
    assert batches_f == batches_g and len(batches_f) == 1


def test_the_loaded_values_are_the_ones_in_the_file(config, tmp_path, monkeypatch):
    """A few values read back by hand, so that two paths agreeing on a wrong reading would not pass."""
    text, _, _ = FILES["contacts"]
    path = tmp_path / "contacts.csv"
    path.write_bytes(text.encode("utf-8"))
    for general in (False, True):
        con, r, _ = load(config, "contacts", path, monkeypatch, general)
        got = {row[0]: row[1:] for row in con.execute(
            "SELECT contact_id, CAST(received_at AS VARCHAR), abandoned, wait_seconds, resolved_first_contact, referred, "
            "customer_id, batch_id FROM contacts WHERE contact_id IN ('x1', 'x2', 'x3', 'c1')").fetchall()}
        assert got["x2"] == ("2024-05-03 00:00:00", False, None, True, True, None, 1)     # date only → midnight; "" → NULL
        assert got["x3"] == ("2024-05-04 10:15:30.25", False, 20.0, True, True, "P9", 1)  # ISO "T", 2e1 = 20, t/1
        assert got["c1"] == ("2024-05-02 09:00:00", False, 12.5, True, False, "P1", 1)    # corrected; no/yes/0
        # The row it replaced is kept for unload, as the fixture had it (wait 20 s, no batch).
        assert con.execute("SELECT wait_seconds, batch_id, replaced_by FROM replaced_contacts").fetchall() == \
            [(20.0, None, 1)]


def test_text_with_surrounding_spaces_loads_the_same_on_both_paths(config, tmp_path, monkeypatch):
    """PRODUCT BUG (metrics/ingest/fast.py, try_fast; compare metrics/ingest/convert.py _source, which reads every
    field as nullif(trim(field), '')): the general path trims text fields and turns a blank field into NULL; the
    fast path stores them as they are. The same file then gives different tables depending on the path, e.g. a
    comment '  padded  ' is 'padded' on one path and '  padded  ' on the other, and a customer id ' P1 ' would no
    longer match 'P1' for repeat complaints."""
    header = FILES["feedback"][0].splitlines()[0]
    path = tmp_path / "feedback.csv"
    path.write_bytes((header + "\n" + "Fs1,survey,customer,2024-05-02 10:00:00,cc_phones,S1,,c1,3,1,7,  padded  ,"
                      "outcome,,,,,,false, P1 ,\n").encode("utf-8"))
    quick, r_fast, log_fast = load(config, "feedback", path, monkeypatch, general=False)
    slow, r_general, _ = load(config, "feedback", path, monkeypatch, general=True)
    assert r_fast.ok and r_general.ok and log_fast[0].startswith("loaded in")
    sql = "SELECT comment, customer_id FROM feedback WHERE feedback_id = 'Fs1'"
    assert slow.execute(sql).fetchall() == [("padded", "P1")]                 # the general path's reading
    assert quick.execute(sql).fetchall() == slow.execute(sql).fetchall()
