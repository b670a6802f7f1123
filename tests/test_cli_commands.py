"""The command line's commands on a file copy of the hand-worked fixture (tests/fixture.sql): the printed
values, worked out by hand, not just the exit codes.

Commands: list, breakdown, staff, batches, load + unload, users add / set-password / disable / enable / list.
"""
import io
import json
from pathlib import Path

import pytest

from metrics.cli import main as cli
from metrics.cli.main import main
from metrics.compute.sqlcheck import check_sql
from metrics.store import accounts
from metrics.store.database import connect
from tests.conftest import with_columns

FIXTURE = Path(__file__).parent / "fixture.sql"


@pytest.fixture(scope="module")
def checked(config):
    """config.yaml, its SQL checked once here (as `main` does on every run)."""
    check_sql(config)
    return config


@pytest.fixture(autouse=True)
def config_read_once(checked, monkeypatch):
    """Every command reads and checks config.yaml first (~2.5 s on this machine); these tests run ~30 commands,
    so they reuse the one checked copy. Parsing the arguments, dispatch and the command itself run as always."""
    real = cli.load_config
    monkeypatch.setattr(cli, "load_config", lambda path: checked if path == "config.yaml" else real(path))
    monkeypatch.setattr(cli, "check_sql", lambda config: None)


@pytest.fixture
def db(tmp_path, config):
    """The fixture organisation in a DuckDB file of its own."""
    path = tmp_path / "fixture.duckdb"
    con = connect(path, config, create=True)
    con.execute(with_columns(con, FIXTURE.read_text(encoding="utf-8")))
    con.close()
    return str(path)


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *args):
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


# --- list ------------------------------------------------------------------------------------------
def test_list_prints_every_metric_with_its_target(config, capsys):
    code, out, err = run(capsys, "list")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 * len(config.metrics)                # a line of label and target, a line of description
    width = max(len(k) for k in config.metrics)                 # keys are padded to the longest
    assert width == len("avoidable_contacts_per_1000_requests") == 36
    by_key = {lines[i].split()[0]: (lines[i], lines[i + 1]) for i in range(0, len(lines), 2)}
    # Targets formatted by the metric's format: percent with 1 decimal, a duration in seconds, an NPS score,
    # a number of days, and no target at all.
    assert by_key["grade_of_service"][0] == f"{'grade_of_service':<36}  Calls answered within 20 seconds  target 80.0 %"
    assert by_key["abandonment_rate"][0] == f"{'abandonment_rate':<36}  Calls abandoned  target 5.0 %"
    assert by_key["avg_speed_of_answer"][0] == f"{'avg_speed_of_answer':<36}  Average wait to answer  target 30 s"
    assert by_key["nps"][0] == f"{'nps':<36}  Net promoter score  target +20"
    assert by_key["median_days_to_pay"][0] == f"{'median_days_to_pay':<36}  Typical days to pay a supplier  target 20.0 days"
    assert by_key["calls_offered"] == (f"{'calls_offered':<36}  Calls offered", f"{'':<36}  Phone calls received.")


def test_list_json(config, capsys):
    rows = run_json(capsys, "list")
    assert [r["metric"] for r in rows] == list(config.metrics)
    by_key = {r["metric"]: r for r in rows}
    assert by_key["abandonment_rate"] == {
        "metric": "abandonment_rate", "label": "Calls abandoned", "type": "ratio", "direction": "lower_is_better",
        "format": "percent", "owner": "contact_centre", "target": 0.05,
        "description": "Abandoned calls / offered calls; abandons in under 5 seconds are left out of both."}
    assert by_key["calls_offered"]["target"] is None and by_key["calls_offered"]["type"] == "simple"


# --- breakdown -------------------------------------------------------------------------------------
MAY = ("--from", "2024-05-01", "--to", "2024-05-31")


def test_breakdown_json_by_department(config, db, capsys):
    # sla_attainment, May: contact_centre R3 kept → 1/1; housing R1 kept, R2 late → 1/2; every other department
    # 0/0 (no value). All below min_denominator 20 → not enough data. Housing's target is its own 0.80.
    rows = run_json(capsys, "breakdown", "sla_attainment", *MAY, "--by", "department", "--db", db)
    departments = [k for k, d in config.departments.items() if d.level == "department"]
    assert [r["grp"] for r in rows] == departments
    got = {r["grp"]: (r["numerator"], r["denominator"], r["value"], r["target"], r["status"]) for r in rows}
    assert got["contact_centre"] == (1, 1, 1.0, 0.85, "insufficient_data")
    assert got["housing"] == (1, 2, 0.5, 0.80, "insufficient_data")
    for k in set(departments) - {"contact_centre", "housing"}:
        assert got[k] == (0, 0, None, 0.85, "insufficient_data"), k


def test_breakdown_text_by_team(db, capsys):
    # grade_of_service in the contact centre, May, by team: cc_phones 2/4 = 50.0 %, the two other teams no calls.
    code, out, err = run(capsys, "breakdown", "grade_of_service", "--scope", "department:contact_centre",
                         *MAY, "--by", "team", "--db", db)
    assert code == 0, err
    assert out.splitlines() == [f"{'Phones team':<34} {'50.0 %':>16}  … Not enough data",
                                f"{'Digital & email team':<34} {'–':>16}  … Not enough data",
                                f"{'Customer service counter':<34} {'–':>16}  … Not enough data"]


def test_breakdown_text_with_statuses(db, capsys):
    # avg_handle_time, April, by department (telephony rows; no min_denominator): contact_centre has its team
    # row 2000 / 10 = 200 s ≤ target 300 → on target; 200 s ≥ 120 s is shown in minutes: 3 min 20 s.
    # (The organisation-wide April row belongs to no department.)
    code, out, err = run(capsys, "breakdown", "avg_handle_time", "--from", "2024-04-01", "--to", "2024-04-30",
                         "--by", "department", "--db", db)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{'Contact Centre':<34} {'3 min 20 s':>16}  ✔ On target"
    # Every other department has no figure: "–" and not enough data.
    assert all(line.endswith("–  … Not enough data") for line in lines[1:12]), lines


# --- staff -----------------------------------------------------------------------------------------
def staff_rows(out):
    lines = out.splitlines()
    assert lines[0].split() == ["staff_id", "name", "department_id", "manager_id", "active"]
    return [tuple(line.split()) for line in lines[1:]]


def test_staff_lists_everyone(db, capsys):
    code, out, err = run(capsys, "staff", "--db", db)
    assert code == 0, err
    rows = staff_rows(out)
    # Cat (S3) has no manager: shown as "–", like every missing value.
    assert rows[2][3] == "–"
    assert [r[:3] + r[4:] for r in rows] == [
        ("S1", "Ann", "cc_phones", "True"), ("S2", "Bob", "housing_repairs", "True"), ("S3", "Cat", "contact_centre", "True"),
        ("S4", "Dan", "cc_phones", "False"), ("S5", "Eve", "cc_phones", "True")]
    assert [r[3] for r in rows if r[0] != "S3"] == ["S3"] * 4


def test_staff_of_one_department_includes_its_teams(db, capsys):
    # contact_centre and its teams (cc_phones ...): S1, S3, S4, S5; Bob (housing_repairs) is not there.
    code, out, err = run(capsys, "staff", "--department", "contact_centre", "--db", db)
    assert code == 0, err
    assert [r[0] for r in staff_rows(out)] == ["S1", "S3", "S4", "S5"]
    code, out, err = run(capsys, "staff", "--department", "housing", "--db", db)
    assert [r[:3] for r in staff_rows(out)] == [("S2", "Bob", "housing_repairs")]
    code, out, err = run(capsys, "staff", "--department", "biling", "--db", db)
    assert code == 2 and "unknown department 'biling'" in err


# --- load, batches, unload -------------------------------------------------------------------------
HEADER = ("invoice_id,supplier_id,supplier_name,local_supplier,small_business,department_id,received_at,approved_at,"
          "paid_at,amount,terms_days\n")
# I1 corrected: paid 20 May instead of 15 May → 19 days on 14-day terms: late. I6 new: 1 May → 10 May, 9 days on 30.
CORRECTION = HEADER + ("I1,SUP1,Local One,true,true,finance_payables,2024-05-01 09:00:00,2024-05-05 09:00:00,"
                       "2024-05-20 09:00:00,100,14\n"
                       "I6,SUP3,New Co,false,false,housing_repairs,2024-05-01 09:00:00,2024-05-02 09:00:00,"
                       "2024-05-10 09:00:00,50,30\n")


def paid_within_terms(capsys, db):
    d = run_json(capsys, "value", "paid_within_terms", *MAY, "--db", db)
    return d["numerator"], d["denominator"]


def test_load_batches_and_unload(db, tmp_path, capsys):
    code, out, err = run(capsys, "batches", "--db", db)
    assert (code, out) == (0, "no loads yet\n")
    # Before: paid in May I1 (14 d on 14, within), I2 (15 on 14), I3 (31 on 30), I4 (18 on 30, within) → 2/4.
    assert paid_within_terms(capsys, db) == (2, 4)

    path = tmp_path / "invoices_fix.csv"
    path.write_text(CORRECTION, encoding="utf-8")
    code, out, err = run(capsys, "load", "invoices", str(path), "--db", db)
    assert code == 0, err
    assert out.startswith("invoices_fix.csv → invoices as batch 1: read 2 rows, inserted 1, updated 1 in ")
    # After: I1 now late (19 d), I6 within (9 d) → within I4, I6 of I1 I2 I3 I4 I6 → 2/5.
    assert paid_within_terms(capsys, db) == (2, 5)

    rows = run_json(capsys, "batches", "--db", db)
    assert len(rows) == 1
    b = rows[0]
    assert (b["batch_id"], b["table_name"], b["file_name"], b["status"], b["rows"], b["rows_inserted"],
            b["rows_updated"], b["rows_dropped"], b["loaded_by"]) == (1, "invoices", "invoices_fix.csv", "loaded",
                                                                     2, 1, 1, 0, "cli")
    code, out, err = run(capsys, "batches", "--db", db)
    assert code == 0 and out.splitlines()[0].split()[:4] == ["batch_id", "table_name", "file_name", "status"]
    assert out.splitlines()[1].split()[:7] == ["1", "invoices", "invoices_fix.csv", "loaded", "2", "1", "1"]

    # Unload: the batch's two rows go (corrected I1 and I6), the replaced I1 comes back.
    code, out, err = run(capsys, "unload", "1", "--db", db)
    assert (code, out) == (0, "unloaded batch 1: removed 2 rows from invoices, restored 1\n"), err
    assert paid_within_terms(capsys, db) == (2, 4)
    assert run_json(capsys, "batches", "--db", db)[0]["status"] == "unloaded"
    code, out, err = run(capsys, "unload", "1", "--db", db)
    assert code == 2 and "batch 1 is unloaded, so there is nothing to unload" in err
    code, out, err = run(capsys, "unload", "7", "--db", db)
    assert code == 2 and "no batch 7" in err


def test_unload_restores_the_rows_exactly(db, tmp_path, config, capsys):
    def invoices():
        con = connect(db, config)
        try:
            return con.execute("SELECT * EXCLUDE (batch_id) FROM invoices ORDER BY invoice_id").fetchall()
        finally:
            con.close()
    before = invoices()
    path = tmp_path / "invoices_fix.csv"
    path.write_text(CORRECTION, encoding="utf-8")
    assert run(capsys, "load", "invoices", str(path), "--db", db)[0] == 0
    during = invoices()
    assert [r[0] for r in during] == ["I1", "I2", "I3", "I4", "I5", "I6"]
    assert run(capsys, "unload", "1", "--db", db)[0] == 0
    assert invoices() == before


# --- users -----------------------------------------------------------------------------------------
def users(capsys, db):
    code, out, err = run(capsys, "users", "list", "--json", "--db", db)
    assert code == 0, err
    return {u["user_id"]: u for u in json.loads(out)}


def sign_in(db, config, user, password):
    con = connect(db, config)
    try:
        return accounts.authenticate(con, user, password)
    finally:
        con.close()


def test_users_set_password_disable_and_enable(db, config, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("the first long password\n"))
    code, out, err = run(capsys, "users", "add", "Ann@X.org", "--role", "staff", "--staff", "S1", "--password-stdin",
                         "--db", db)
    assert (code, out) == (0, "added ann@x.org (staff)\n"), err
    u = users(capsys, db)["ann@x.org"]
    # The department comes from the staff member: S1 is in cc_phones.
    assert (u["role"], u["department_id"], u["staff_id"], u["active"], u["has_password"], u["live_sessions"]) == \
        ("staff", "cc_phones", "S1", True, True, 0)
    v = sign_in(db, config, "ann@x.org", "the first long password")
    assert (v.user, v.role, v.department_id, v.staff_id) == ("ann@x.org", "staff", "cc_phones", "S1")
    con = connect(db, config)
    accounts.start_session(con, "ann@x.org")
    con.close()
    assert users(capsys, db)["ann@x.org"]["live_sessions"] == 1

    # set-password: the new password works, the old one does not, and the open session was ended.
    monkeypatch.setattr("sys.stdin", io.StringIO("the second long password\n"))
    code, out, err = run(capsys, "users", "set-password", "ann@x.org", "--password-stdin", "--db", db)
    assert (code, out) == (0, "password set for ann@x.org; their sessions were ended\n"), err
    assert users(capsys, db)["ann@x.org"]["live_sessions"] == 0
    with pytest.raises(accounts.AuthError, match="do not match"):
        sign_in(db, config, "ann@x.org", "the first long password")
    assert sign_in(db, config, "ann@x.org", "the second long password").user == "ann@x.org"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, out, err = run(capsys, "users", "set-password", "ann@x.org", "--password-stdin", "--db", db)
    assert code == 2 and out == ""
    assert sign_in(db, config, "ann@x.org", "the second long password").user == "ann@x.org"   # unchanged

    # disable, then enable.
    code, out, err = run(capsys, "users", "disable", "ann@x.org", "--db", db)
    assert (code, out) == (0, "disabled ann@x.org; their sessions were ended\n"), err
    assert users(capsys, db)["ann@x.org"]["active"] is False
    with pytest.raises(accounts.AuthError, match="disabled"):
        sign_in(db, config, "ann@x.org", "the second long password")
    code, out, err = run(capsys, "users", "enable", "ann@x.org", "--db", db)
    assert (code, out) == (0, "enabled ann@x.org\n"), err
    assert users(capsys, db)["ann@x.org"]["active"] is True
    assert sign_in(db, config, "ann@x.org", "the second long password").user == "ann@x.org"
    code, out, err = run(capsys, "users", "enable", "ann@x.org", "--db", db)
    assert code == 2 and "ann@x.org is already enabled; nothing was changed" in err

    # Every change is in the audit trail, named after the command line.
    con = connect(db, config)
    trail = con.execute("SELECT action, entity_id, user_name FROM audit_log ORDER BY audit_id").fetchall()
    con.close()
    assert [(a, e) for a, e, _ in trail] == [("user.add", "ann@x.org"), ("user.password", "ann@x.org"),
                                             ("user.disable", "ann@x.org"), ("user.enable", "ann@x.org")]
    assert all(who.startswith("command line (") for _, _, who in trail)


def test_users_commands_name_an_unknown_user(db, capsys):
    for action in ("enable", "disable"):
        code, out, err = run(capsys, "users", action, "nobody@x.org", "--db", db)
        assert code == 2 and "no user 'nobody@x.org'" in err and out == ""
