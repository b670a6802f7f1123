"""The demo organisation: deterministic, consistent, and the volumes the design asks for."""
import shutil

import duckdb
import pytest

from metrics.catalogue import calendar
from metrics.compute.engine import Engine
from metrics.present.personas import demo_personas

from metrics.demo import council


@pytest.fixture(scope="module")
def frames(config):
    return council.generate(list(config.departments.values()), set(calendar.holiday_names(config.organisation)),
                         config.organisation.name, scale=1.0)


def test_same_seed_same_data(config):
    args = (list(config.departments.values()), set(calendar.holiday_names(config.organisation)), "X")
    a, b = council.generate(*args, scale=0.05), council.generate(*args, scale=0.05)
    assert a.keys() == b.keys() and all(a[k].equals(b[k]) for k in a)
    c = council.generate(*args, scale=0.05, seed=7)
    assert not a["contacts"].equals(c["contacts"])


def test_volumes_match_the_design(frames):
    c = frames["contacts"]
    calls_per_year = (c.channel == "phone").sum() / 3
    assert 96_000 * 0.9 <= calls_per_year <= 96_000 * 1.1                      # ~96,000 calls a year
    assert 0.15 <= c.request_id.notna().mean() <= 0.25                          # ~20 % raise a request
    referrals_per_year = (frames["handoffs"].case_type == "referral").sum() / 3
    assert 20_000 * 0.85 <= referrals_per_year <= 20_000 * 1.15                 # ~20,000 referrals a year
    staff = frames["staff"]
    assert 220 <= len(staff) <= 280                                             # ~250 staff
    assert len(set(frames["benchmarks"].organisation)) >= 30                    # ~30 peers and us
    assert c.received_at.max() < __import__("pandas").Timestamp("2026-01-01")
    assert c.received_at.min() >= __import__("pandas").Timestamp("2023-01-01")


def test_written_database_is_consistent(demo_db):
    con = duckdb.connect(demo_db, read_only=True)
    one = lambda sql: con.execute(sql).fetchone()[0]
    assert one("SELECT value FROM meta WHERE key = 'synthetic'") == "true"
    # Every reference points at something that exists.
    assert one("SELECT count(*) FROM contacts c LEFT JOIN staff s USING (staff_id) "
               "WHERE c.staff_id IS NOT NULL AND s.staff_id IS NULL") == 0
    assert one("SELECT count(*) FROM contacts c LEFT JOIN requests r USING (request_id) "
               "WHERE c.request_id IS NOT NULL AND r.request_id IS NULL") == 0
    for table, col in (("contacts", "department_id"), ("requests", "department_id"), ("handoffs", "to_department_id"),
                       ("feedback", "department_id"), ("invoices", "department_id"), ("staff", "department_id")):
        assert one(f"SELECT count(*) FROM {table} t LEFT JOIN departments d ON d.department_id = t.{col} "
                   f"WHERE t.{col} IS NOT NULL AND d.department_id IS NULL") == 0, table
    # Times run forwards.
    assert one("SELECT count(*) FROM contacts WHERE answered_at < received_at") == 0
    assert one("SELECT count(*) FROM requests WHERE closed_at < created_at OR first_response_at < created_at") == 0
    assert one("SELECT count(*) FROM invoices WHERE approved_at < received_at OR paid_at < approved_at") == 0
    # Boundary cases the metrics must handle occur naturally.
    assert one("SELECT count(*) FROM contacts WHERE wait_seconds = 20 AND NOT abandoned") > 0
    assert one("SELECT count(*) FROM contacts WHERE abandoned AND wait_seconds = 4.9") > 0
    assert one("SELECT count(*) FROM requests WHERE closed_at = due_at") > 0
    # A few people with fewer than 30 but more than 0 calls in December 2025 (below min_denominator).
    few = one("SELECT count(*) FROM (SELECT staff_id, count(*) n FROM contacts WHERE channel = 'phone' AND "
              "received_at >= DATE '2025-12-01' AND staff_id IS NOT NULL GROUP BY staff_id) WHERE n < 30")
    assert few >= 3
    assert {"contact_centre", "it", "communications", "finance"} <= {
        r[0] for r in con.execute("SELECT department_id FROM departments").fetchall()}
    con.close()


def test_some_departments_improve_and_some_slip(demo_db, config):
    from metrics.access import SYSTEM
    from metrics.compute.engine import Engine
    from metrics.compute.periods import Period
    import datetime as dt
    e = Engine.open(demo_db, config, read_only=True)
    y = lambda year: Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
    val = lambda key, dep, year: e.value(SYSTEM, key, e_scope(dep), y(year), compare=False).value
    from metrics.catalogue.scope import Scope
    e_scope = lambda dep: Scope("department", dep)
    assert val("callback_within_1_day", "housing", 2025) > val("callback_within_1_day", "housing", 2023) + 0.1
    assert val("callback_within_1_day", "waste", 2025) < val("callback_within_1_day", "waste", 2023) - 0.1
    assert val("internal_sla_attainment", "it", 2025) > val("internal_sla_attainment", "it", 2023) + 0.1


def test_thanks_given_in_the_dashboard_today_leave_the_demo_personas_as_they_were(demo_db, config, tmp_path):
    """The staff-member persona is picked from the last month of the demo's data: thanks given since (after the data
    ends, e.g. on the dashboard today) neither remove it nor make someone else the persona."""
    db = tmp_path / "personas.duckdb"
    shutil.copy(demo_db, db)
    before = [p.label for p in demo_personas(Engine.open(str(db), config))]
    assert any(label.startswith("Staff member — ") for label in before)
    with duckdb.connect(str(db)) as con:
        other = con.execute("SELECT staff_id FROM staff WHERE department_id LIKE 'cc_%' AND active ORDER BY staff_id "
                            "DESC LIMIT 1").fetchone()[0]
        columns = [r[0] for r in con.execute("DESCRIBE recognitions").fetchall()]
        row = con.execute("SELECT * FROM recognitions LIMIT 1").fetchone()
        values = dict(zip(columns, row), recognition_id="today-1", to_staff_id=other, given_at="2026-12-02 09:00")
        con.execute(f"INSERT INTO recognitions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    list(values.values()))
    assert [p.label for p in demo_personas(Engine.open(str(db), config))] == before
