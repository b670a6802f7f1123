"""Password sign-in: argon2 hashes, identical refusals, slowed-down failures, expiring revocable sessions."""
import dataclasses
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import app_cache
from metrics.store import accounts
from metrics.cli.main import main
from metrics.errors import MetricsError
from metrics.store.database import connect
from tests.conftest import serve_in_password_mode

T0 = dt.datetime(2025, 1, 6, 9, 0, 0)
PW = "correct horse battery"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def con(config, tmp_path):
    c = connect(tmp_path / "u.duckdb", config, create=True)
    c.execute("INSERT INTO staff (staff_id, name, email, department_id, manager_id, active, started_on, left_on) VALUES ('S1', 'Ann', 'a@x', 'cc_phones', NULL, true, DATE '2020-01-01', NULL)")
    accounts.add_user(c, "ann@council.example", "staff", staff_id="S1", password=PW, config=config)
    yield c
    c.close()


def test_sign_in_gives_the_viewer_with_the_staff_department(con):
    v = accounts.authenticate(con, "Ann@Council.example ", PW)
    assert (v.user, v.role, v.department_id, v.staff_id) == ("ann@council.example", "staff", "cc_phones", "S1")
    stored = con.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2") and PW not in stored


def test_wrong_password_and_unknown_user_get_the_same_message(con):
    with pytest.raises(accounts.AuthError) as wrong:
        accounts.authenticate(con, "ann@council.example", "wrong password!!")
    with pytest.raises(accounts.AuthError) as unknown:
        accounts.authenticate(con, "nobody@council.example", PW)
    assert str(wrong.value) == str(unknown.value) == "That user name and password do not match an account."


def test_disabled_user(con):
    accounts.set_active(con, "ann@council.example", False)
    with pytest.raises(accounts.AuthError, match="This account is disabled"):
        accounts.authenticate(con, "ann@council.example", PW)


def test_repeated_failures_are_slowed_down(con):
    for i in range(5):                                  # five free failures
        with pytest.raises(accounts.AuthError, match="do not match"):
            accounts.authenticate(con, "ann@council.example", "bad password 123", now=T0 + dt.timedelta(seconds=i))
    # The 5th failure was at T0+4 s: wait 30 s → locked until T0+34 s, even for the right password.
    with pytest.raises(accounts.AuthError, match=r"try again in 25 seconds"):
        accounts.authenticate(con, "ann@council.example", PW, now=T0 + dt.timedelta(seconds=10))
    with pytest.raises(accounts.AuthError, match="do not match"):       # 6th failure at T0+40 s → wait 60 s
        accounts.authenticate(con, "ann@council.example", "bad password 123", now=T0 + dt.timedelta(seconds=40))
    with pytest.raises(accounts.AuthError, match=r"try again in 31 seconds"):
        accounts.authenticate(con, "ann@council.example", PW, now=T0 + dt.timedelta(seconds=70))
    assert accounts.authenticate(con, "ann@council.example", PW, now=T0 + dt.timedelta(seconds=101)).staff_id == "S1"
    assert con.execute("SELECT failed_attempts FROM users").fetchone()[0] == 0       # reset by success


def test_sessions_expire_and_are_revocable(con):
    token = accounts.start_session(con, "ann@council.example", ttl_minutes=120, now=T0)
    stored = con.execute("SELECT token_hash FROM sessions").fetchone()[0]
    assert stored != token and len(stored) == 64 and token not in stored
    assert accounts.resume_session(con, token, idle_minutes=60, now=T0 + dt.timedelta(minutes=50)).staff_id == "S1"
    # Idle 61 minutes after the last use (T0+50) → expired.
    with pytest.raises(accounts.AuthError, match="Your session expired"):
        accounts.resume_session(con, token, idle_minutes=60, now=T0 + dt.timedelta(minutes=111))
    t2 = accounts.start_session(con, "ann@council.example", ttl_minutes=120, now=T0)
    for minutes in (50, 100):                           # kept alive, but the absolute limit is 120 minutes
        accounts.resume_session(con, t2, now=T0 + dt.timedelta(minutes=minutes))
    with pytest.raises(accounts.AuthError, match="Your session expired"):
        accounts.resume_session(con, t2, now=T0 + dt.timedelta(minutes=120))
    t3 = accounts.start_session(con, "ann@council.example", now=T0)
    accounts.end_session(con, t3)
    with pytest.raises(accounts.AuthError, match="You have been signed out"):
        accounts.resume_session(con, t3, now=T0)
    t4 = accounts.start_session(con, "ann@council.example", now=T0)
    accounts.set_active(con, "ann@council.example", False)
    with pytest.raises(accounts.AuthError, match="signed out"):
        accounts.resume_session(con, t4, now=T0)


@pytest.mark.parametrize("kwargs, sentence", [
    ({"user_id": "bob@council.example", "role": "boss"}, "role 'boss' is not one of"),
    ({"user_id": "bob@council.example", "role": "head", "department_id": "housng"}, "unknown department 'housng'"),
    ({"user_id": "bob@council.example", "role": "staff", "staff_id": "S9"}, "no staff member 'S9'"),
    ({"user_id": "ann@council.example", "role": "staff"}, "already exists"),
    ({"user_id": "bob@council.example", "role": "staff", "password": "short"}, "at least 12 characters"),
    ({"user_id": "bob smith", "role": "staff"}, "should be an e-mail address"),
])
def test_bad_users_are_refused_with_one_sentence(con, config, kwargs, sentence):
    with pytest.raises(MetricsError, match=sentence):
        accounts.add_user(con, config=config, **kwargs)


def test_oidc_email_maps_to_a_user(con):
    assert accounts.viewer_for_login(con, "ANN@council.example").role == "staff"
    with pytest.raises(accounts.AuthError, match="has no account here"):
        accounts.viewer_for_login(con, "stranger@elsewhere.example")


def test_users_command_line(demo_db, tmp_path, monkeypatch, capsys):
    db = tmp_path / "cli.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["users", "add", "head@council.example", "--role", "head", "--department", "housing",
                 "--password-stdin", "--db", str(db)]) == 0
    assert main(["users", "list", "--json", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    users = json.loads(out[out.index("["):])
    assert users[0]["user_id"] == "head@council.example" and "password_hash" not in users[0]
    assert main(["users", "disable", "nobody@council.example", "--db", str(db)]) == 2
    assert "no user 'nobody@council.example'" in capsys.readouterr().err


def test_value_as_a_user_applies_their_access(demo_db, tmp_path, monkeypatch, capsys, config):
    db = tmp_path / "as.duckdb"
    shutil.copy(demo_db, db)
    c = connect(db, config)
    staff = c.execute("SELECT staff_id FROM staff WHERE department_id = 'cc_phones' AND staff_id NOT IN "
                      "(SELECT manager_id FROM staff WHERE manager_id IS NOT NULL) ORDER BY staff_id LIMIT 2").fetchall()
    accounts.add_user(c, "adviser@council.example", "staff", staff_id=staff[0][0], config=config)
    c.close()
    assert main(["value", "csat", "--scope", f"staff:{staff[0][0]}", "--as", "adviser@council.example", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["value", "csat", "--scope", f"staff:{staff[1][0]}", "--as", "adviser@council.example", "--db", str(db)]) == 2
    assert "may not see the individual figures" in capsys.readouterr().err


@pytest.fixture
def password_app(demo_db, tmp_path, monkeypatch, config):
    db = tmp_path / "pw.duckdb"
    shutil.copy(demo_db, db)
    c = connect(db, config)
    accounts.add_user(c, "boss@council.example", "executive", password=PW, department_id="customer_digital")
    accounts.add_user(c, "gone@council.example", "staff", password=PW, department_id="cc_phones")
    accounts.set_active(c, "gone@council.example", False)
    c.close()
    serve_in_password_mode(db, tmp_path, monkeypatch)
    yield
    app_cache.engine.clear()


def sign_in(user, password):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(password)
    at.button[0].click()
    at.run()
    return at


@pytest.mark.parametrize("user, password, message", [
    ("boss@council.example", "not the password", "That user name and password do not match an account."),
    ("who@council.example", PW, "That user name and password do not match an account."),
    ("gone@council.example", PW, "This account is disabled; ask an administrator to re-enable it."),
])
def test_password_page_refusals(password_app, user, password, message):
    at = sign_in(user, password)
    assert not at.exception and at.error[0].value == message and not at.metric


def test_password_sign_in_and_expired_session(password_app):
    at = sign_in("boss@council.example", PW)
    assert not at.exception and at.title[0].value == "Overview"
    eng = app_cache.engine()
    eng.con.execute("UPDATE sessions SET last_seen_at = last_seen_at - INTERVAL 2 HOUR")
    at.run()
    assert not at.exception and not at.metric and not at.dataframe
    assert at.warning[0].value == "Your session expired; please sign in again."
