"""Managing accounts while the dashboard runs: only an active administrator account (or the command line) may,
every change is audited in its own transaction, disabling ends sessions at once, the last administrator stays,
and the Users page does all of it — refusing anyone else."""
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import app_cache
from metrics.store import accounts
from metrics.access import SYSTEM, Viewer
from metrics.cli.main import main
from metrics.errors import AccessDenied, MetricsError
from metrics.store.database import connect
from tests.security.support import assert_one_sentence, table_checksums
from tests.conftest import serve_in_password_mode

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2025, 1, 6, 9, 0, 0)
PW = "correct horse battery"
ADA, ANN, HANA = "ada@council.example", "ann@council.example", "hana@council.example"
ADA_V = Viewer(ADA, "admin", "people", None)           # as accounts.authenticate returns her


@pytest.fixture
def con(config, tmp_path):
    c = connect(tmp_path / "admin.duckdb", config, create=True)
    c.execute("INSERT INTO staff (staff_id, name, email, department_id, manager_id, active, started_on, left_on) "
              "VALUES ('S1', 'Ann', 'ann@x', 'cc_phones', NULL, true, DATE '2020-01-01', NULL)")
    accounts.add_user(c, ADA, "admin", "Ada", department_id="people", password=PW, config=config)
    accounts.add_user(c, ANN, "staff", "Ann", staff_id="S1", password=PW, config=config)
    accounts.add_user(c, HANA, "head", "Hana", department_id="housing", password=PW, config=config)
    yield c
    c.close()


def audit_rows(con, since: int = 0):
    return [(a, i, u, r, json.loads(c)) for a, i, u, r, c in con.execute(
        "SELECT action, entity_id, user_name, role, changes FROM audit_log WHERE entity = 'users' AND audit_id > $s "
        "ORDER BY audit_id", {"s": since}).fetchall()]


def last_audit_id(con) -> int:
    return con.execute("SELECT coalesce(max(audit_id), 0) FROM audit_log").fetchone()[0]


CHANGES = {
    "add": lambda c, v: accounts.add_user(c, "bob@council.example", "staff", password=PW, actor=v),
    "disable": lambda c, v: accounts.set_active(c, ANN, False, actor=v),
    "password": lambda c, v: accounts.set_password(c, ANN, "another long password", actor=v),
    "role": lambda c, v: accounts.set_role(c, ANN, "admin", actor=v),
    "list": lambda c, v: accounts.list_users(c, v),
}


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("actor, words", [
    (Viewer(HANA, "head", "housing", None), (HANA, "may not manage users", "only administrators")),
    (Viewer(ANN, "staff", "cc_phones", "S1"), (ANN, "may not manage users", "only administrators")),
    (Viewer("eli@council.example", "executive"), ("eli@council.example", "only administrators")),
    (Viewer("Administrator", "admin", "people"), ("Administrator", "not an active administrator account")),  # demo
], ids=["head", "staff", "executive", "demo-admin-persona"])
def test_only_an_administrator_account_manages_users(con, change, actor, words):
    before = table_checksums(con)
    with pytest.raises(AccessDenied) as refused:
        CHANGES[change](con, actor)
    assert_one_sentence(str(refused.value), *words)
    assert table_checksums(con) == before


def test_a_demoted_or_disabled_administrator_loses_the_right_at_once(con):
    accounts.add_user(con, "bea@council.example", "admin", password=PW, actor=ADA_V)
    bea = accounts.authenticate(con, "bea@council.example", PW)          # her Viewer, as her session keeps it
    accounts.set_role(con, "bea@council.example", "head", actor=ADA_V)
    with pytest.raises(AccessDenied, match="bea@council.example is not an active administrator account"):
        accounts.set_active(con, ANN, False, actor=bea)
    accounts.set_role(con, "bea@council.example", "admin", actor=ADA_V)
    accounts.set_active(con, "bea@council.example", False, actor=ADA_V)
    with pytest.raises(AccessDenied, match="not an active administrator account"):
        accounts.list_users(con, bea)


def test_every_change_is_audited_without_secrets(con):
    start = last_audit_id(con)
    bob = "bob@council.example"
    accounts.add_user(con, " Bob@Council.example ", "head", "Bob", department_id="housing", password=PW, actor=ADA_V,
                      at=T0)
    accounts.set_role(con, bob, "staff", actor=ADA_V, at=T0 + dt.timedelta(minutes=1))
    accounts.set_password(con, bob, "a brand new password", actor=ADA_V, at=T0 + dt.timedelta(minutes=2))
    accounts.set_active(con, bob, False, actor=ADA_V, at=T0 + dt.timedelta(minutes=3))
    accounts.set_active(con, bob, True, actor=ADA_V, at=T0 + dt.timedelta(minutes=4))
    assert audit_rows(con, start) == [
        ("user.add", bob, ADA, "admin", {"display_name": [None, "Bob"], "role": [None, "head"],
                                         "department_id": [None, "housing"], "staff_id": [None, None],
                                         "password": [None, True]}),
        ("user.role", bob, ADA, "admin", {"role": ["head", "staff"], "sessions_ended": [None, 0]}),
        ("user.password", bob, ADA, "admin", {"password": ["(earlier)", "(new)"], "sessions_ended": [None, 0]}),
        ("user.disable", bob, ADA, "admin", {"active": [True, False], "sessions_ended": [None, 0]}),
        ("user.enable", bob, ADA, "admin", {"active": [False, True]}),
    ]
    times = [r[0] for r in con.execute("SELECT acted_at FROM audit_log WHERE audit_id > $s ORDER BY audit_id",
                                       {"s": start}).fetchall()]
    assert times == [T0 + dt.timedelta(minutes=m) for m in range(5)]
    trail = " ".join(r[0] for r in con.execute("SELECT changes FROM audit_log").fetchall())
    assert "$argon2" not in trail and PW not in trail and "a brand new password" not in trail
    listed = accounts.list_users(con, ADA_V)
    assert "password_hash" not in listed.columns and not listed.astype(str).apply(
        lambda col: col.str.contains("argon2")).any().any()


def test_disabling_ends_every_session_at_once(con):
    tokens = [accounts.start_session(con, ANN, now=T0), accounts.start_session(con, ANN, now=T0)]
    for t in tokens:
        accounts.resume_session(con, t, now=T0 + dt.timedelta(minutes=1))
    start = last_audit_id(con)
    accounts.set_active(con, ANN, False, actor=ADA_V, at=T0 + dt.timedelta(minutes=2))
    for t in tokens:
        with pytest.raises(accounts.AuthError, match="You have been signed out"):
            accounts.resume_session(con, t, now=T0 + dt.timedelta(minutes=3))
    assert audit_rows(con, start)[0][4] == {"active": [True, False], "sessions_ended": [None, 2]}
    assert con.execute("SELECT revoked_at FROM sessions").fetchall() == [(T0 + dt.timedelta(minutes=2),)] * 2
    accounts.set_active(con, ANN, True, actor=ADA_V)                  # enabling again revives no old session
    with pytest.raises(accounts.AuthError):
        accounts.resume_session(con, tokens[0], now=T0 + dt.timedelta(minutes=4))
    # A password reset and a change of role end sessions too (the role applies from the next sign-in).
    for change in (lambda: accounts.set_password(con, ANN, "another long password", actor=ADA_V),
                   lambda: accounts.set_role(con, ANN, "head", actor=ADA_V)):
        token = accounts.start_session(con, ANN)
        change()
        with pytest.raises(accounts.AuthError, match="You have been signed out"):
            accounts.resume_session(con, token)


def test_the_last_active_administrator_cannot_be_disabled_or_demoted(con):
    before = table_checksums(con)
    for change, words in [
        (lambda: accounts.set_active(con, ADA, False, actor=ADA_V), ("you are the last active administrator",
                                                                      "cannot be disabled")),
        (lambda: accounts.set_role(con, ADA, "head", actor=ADA_V), ("you are the last active administrator",
                                                                     "cannot be given another role")),
        (lambda: accounts.set_active(con, ADA, False, actor=SYSTEM), (f"{ADA} is the last active administrator",
                                                                       "make another user an administrator first")),
    ]:
        with pytest.raises(MetricsError) as refused:
            change()
        assert_one_sentence(str(refused.value), *words)
    assert table_checksums(con) == before
    # With a second active administrator, Ada may step down; then Bea is the last one.
    accounts.add_user(con, "bea@council.example", "admin", password=PW, actor=ADA_V)
    accounts.set_role(con, ADA, "head", actor=ADA_V)
    bea = Viewer("bea@council.example", "admin")
    with pytest.raises(MetricsError, match="you are the last active administrator"):
        accounts.set_active(con, "bea@council.example", False, actor=bea)


def test_two_administrators_disabling_each_other_at_once_leave_one(con, monkeypatch):
    """Both check "another administrator remains" before either commits; the second commit must not go through."""
    import threading
    accounts.add_user(con, "bea@council.example", "admin", password=PW, actor=ADA_V)
    checked, both_checked = accounts._keeps_an_administrator, threading.Barrier(2)

    def check_then_wait(*args, **kwargs):
        checked(*args, **kwargs)
        both_checked.wait(timeout=10)
    monkeypatch.setattr(accounts, "_keeps_an_administrator", check_then_wait)
    outcome = {}

    def disable(actor, target):
        try:
            accounts.set_active(con, target, False, actor=Viewer(actor, "admin"))
            outcome[actor] = "saved"
        except MetricsError as exc:
            outcome[actor] = str(exc)
    threads = [threading.Thread(target=disable, args=(ADA, "bea@council.example")),
               threading.Thread(target=disable, args=("bea@council.example", ADA))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    saved = [a for a, o in outcome.items() if o == "saved"]
    assert len(saved) == 1 and "nothing was saved" in outcome[({ADA, "bea@council.example"} - set(saved)).pop()]
    assert con.execute("SELECT count(*) FROM users WHERE role = 'admin' AND active").fetchone()[0] == 1


def test_passwords_need_the_one_minimum_length(con):
    before = table_checksums(con)
    for change in (lambda: accounts.set_password(con, ANN, "eleven char", actor=ADA_V),
                   lambda: accounts.add_user(con, "bob@council.example", "staff", password="eleven char", actor=ADA_V)):
        with pytest.raises(MetricsError) as refused:
            change()
        assert_one_sentence(str(refused.value), "the password has 11 characters", "at least 12 characters")
    assert accounts.MIN_PASSWORD == 12 and table_checksums(con) == before


HOLD = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('holding', flush=True); sys.stdin.read()"


def test_the_command_line_points_to_the_users_page_while_the_dashboard_holds_the_file(con, config, tmp_path, capsys):
    db = tmp_path / "admin.duckdb"
    con.close()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        for args in (["users", "disable", ANN], ["users", "set-role", ANN, "--role", "head"], ["users", "list"]):
            assert main(args + ["--db", str(db)]) == 2
            err = capsys.readouterr().err.strip()
            assert err.startswith("error: ")
            assert_one_sentence(err[len("error: "):], "in use by another process", "the dashboard's Users page",
                                "or stop the dashboard and run the command again")
    finally:
        holder.communicate("")
    # With the file free again the commands work, and the trail names the command line.
    assert main(["users", "set-role", ANN, "--role", "head", "--db", str(db)]) == 0
    assert main(["users", "disable", ANN, "--db", str(db)]) == 0
    assert "disabled ann@council.example; their sessions were ended" in capsys.readouterr().out
    c = connect(db, config)
    try:
        rows = audit_rows(c)[-2:]
        assert [(a, i, r) for a, i, _, r, _ in rows] == [("user.role", ANN, "system"), ("user.disable", ANN, "system")]
        assert all(u.startswith("command line (") for _, _, u, _, _ in rows)
    finally:
        c.close()


# --- the Users page -------------------------------------------------------------------------------------------
@pytest.fixture
def password_app(demo_db, tmp_path, monkeypatch, config):
    db = tmp_path / "pw.duckdb"
    shutil.copy(demo_db, db)
    c = connect(db, config)
    accounts.add_user(c, ADA, "admin", "Ada", department_id="people", password=PW)
    accounts.add_user(c, ANN, "staff", "Ann", department_id="cc_phones", password=PW)
    accounts.add_user(c, HANA, "head", "Hana", department_id="housing", password=PW)
    c.close()
    serve_in_password_mode(db, tmp_path, monkeypatch)
    yield str(db)
    app_cache.engine.clear()


def sign_in(user):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(PW)
    at.button[0].click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def test_an_administrator_disables_a_user_on_the_page_and_their_session_stops(password_app, config):
    ann = sign_in(ANN)
    assert ann.sidebar.markdown[0].value.startswith(f"**{ANN}**")
    ada = sign_in(ADA)
    ada.switch_page(str(ROOT / "pages/users.py"))
    ada.run()
    assert not ada.exception and ada.title[0].value == "Users"
    listed = ada.dataframe[0].value
    assert list(listed["User name"]) == [ADA, ANN, HANA] and "password_hash" not in listed.columns
    assert int(listed.set_index("User name").loc[ANN, "Signed in now"]) == 1
    ada.selectbox(key="users-pick").set_value(ANN)
    ada.run()
    ada.button(key=f"disable-{ANN}").click()
    ada.run()
    assert not ada.exception and [s.value for s in ada.success] == [f"Disabled {ANN}: their sessions have ended."]
    ann.run()                                   # Ann's next page run: her session no longer resumes
    assert not ann.exception and not ann.dataframe and not ann.metric
    assert ann.warning[0].value == "You have been signed out; please sign in again."
    c = connect(password_app, config)
    try:
        assert c.execute("SELECT active FROM users WHERE user_id = $u", {"u": ANN}).fetchone()[0] is False
        assert audit_rows(c)[-1][:4] == ("user.disable", ANN, ADA, "admin")
    finally:
        c.close()


def test_a_head_is_refused_the_users_page(password_app):
    hana = sign_in(HANA)
    with pytest.raises(Exception, match="Could not find a navigation page"):       # not in her menu
        hana.switch_page(str(ROOT / "pages/users.py"))
    direct = AppTest.from_file(str(ROOT / "pages/users.py"), default_timeout=60)   # the page by its URL
    direct.session_state["viewer"] = Viewer(HANA, "head", "housing", None)
    direct.run()
    assert not direct.exception and [w.value for w in direct.warning] == ["The Users page is for administrators."]
    assert not direct.dataframe and not direct.text_input and not direct.button
    signed_out = AppTest.from_file(str(ROOT / "pages/users.py"), default_timeout=60)
    signed_out.run()
    assert not signed_out.exception and "Please sign in" in signed_out.warning[0].value and not signed_out.dataframe


def test_the_demo_administrator_persona_is_told_why_it_cannot_manage_accounts(demo_db, tmp_path, monkeypatch):
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("CX_DB", str(db))
    app_cache.engine.clear()
    try:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        at.run()
        at.radio[0].set_value("Administrator — data and users")
        at.button[0].click()
        at.run()
        at.switch_page(str(ROOT / "pages/users.py"))
        at.run()
        assert not at.exception and at.title[0].value == "Users"
        assert "Demo sign-in is on" in at.info[0].value
        assert not at.error and not at.dataframe          # one sentence, not a refusal on top of it
    finally:
        app_cache.engine.clear()
