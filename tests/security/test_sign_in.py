"""Sign-in throttling tells no one which names are accounts: a real account and an unknown name get the same
messages at the same moments and the same work (one argon2 check per attempt that is not held back); failures
are kept under a salted hash of the name, forgotten after a day, and a huge count cannot overflow."""
import datetime as dt
import shutil

import pytest

from metrics.store import accounts, database
from metrics.store.database import connect

T0 = dt.datetime(2025, 1, 6, 9, 0, 0)
PW = "correct horse battery"
REAL, UNKNOWN = "ann@council.example", "nobody@council.example"
NO_MATCH = "That user name and password do not match an account."


@pytest.fixture
def con(config, tmp_path):
    c = connect(tmp_path / "s.duckdb", config, create=True)
    accounts.add_user(c, REAL, "staff", department_id="cc_phones", password=PW, config=config)
    yield c
    c.close()


def attempt(con, name, password, at):
    try:
        accounts.authenticate(con, name, password, now=at)
        return "signed in"
    except accounts.AuthError as exc:
        return str(exc)


def test_a_real_account_and_an_unknown_name_are_throttled_alike(con, monkeypatch):
    checks = []
    hasher = accounts._hasher

    class Counting:                                    # argon2's PasswordHasher, counting its verifications
        def verify(self, stored, password):
            checks.append(1)
            return hasher.verify(stored, password)

        def __getattr__(self, name):
            return getattr(hasher, name)
    monkeypatch.setattr(accounts, "_hasher", Counting())
    # Seven wrong passwords one second apart: five free failures (T0 … T0+4 s), then the wait is 30 s from the
    # fifth failure, i.e. until T0+34 s. The message gives the whole seconds left plus one (the rule of
    # tests/test_accounts.py): at T0+5 s 29 s are left → "30 seconds", at T0+6 s 28 s → "29 seconds".
    expected = [NO_MATCH] * 5 + ["Too many failed attempts; try again in 30 seconds.",
                                 "Too many failed attempts; try again in 29 seconds."]
    seen, work = {}, {}
    for name in (REAL, UNKNOWN):
        checks.clear()
        seen[name] = [attempt(con, name, "wrong password!!", T0 + dt.timedelta(seconds=i)) for i in range(7)]
        work[name] = len(checks)
    assert seen[REAL] == seen[UNKNOWN] == expected
    assert work[REAL] == work[UNKNOWN] == 5            # held-back attempts check no password at all, for either
    # After the wait (T0+34 s) both are heard again: the account with its password, the unknown name refused as usual.
    assert attempt(con, REAL, PW, T0 + dt.timedelta(seconds=34)) == "signed in"
    assert attempt(con, UNKNOWN, PW, T0 + dt.timedelta(seconds=34)) == NO_MATCH
    # The success cleared the account's count: five fresh failures before any wait again.
    assert [attempt(con, REAL, "wrong password!!", T0 + dt.timedelta(seconds=40 + i)) for i in range(6)] == \
        [NO_MATCH] * 5 + ["Too many failed attempts; try again in 30 seconds."]


def test_the_count_follows_the_name_as_normalised(con):
    for i, typed in enumerate(["Nobody@Council.example", " nobody@council.example ", "NOBODY@COUNCIL.EXAMPLE",
                               "nobody@council.example", "nobody@Council.Example"]):
        assert attempt(con, typed, "x" * 12, T0 + dt.timedelta(seconds=i)) == NO_MATCH
    assert attempt(con, UNKNOWN, "x" * 12, T0 + dt.timedelta(seconds=5)).startswith("Too many failed attempts")


def test_failures_are_stored_without_the_name_and_forgotten_after_a_day(con):
    for i in range(50):
        attempt(con, f"guess{i}@council.example", "x" * 12, T0)
    rows = con.execute("SELECT name_key, failures FROM sign_in_failures").fetchall()
    assert len(rows) == 50 and all(n == 1 for _, n in rows)
    assert not any("guess" in key or "@" in key for key, _ in rows) and all(len(key) == 64 for key, _ in rows)
    # One more failure a day and a second later: the fifty are older than FORGET_FAILURES (24 h) and go.
    attempt(con, "late@council.example", "x" * 12, T0 + dt.timedelta(hours=24, seconds=1))
    assert con.execute("SELECT count(*) FROM sign_in_failures").fetchone()[0] == 1


def test_a_huge_failure_count_waits_the_longest_and_does_not_overflow(con):
    attempt(con, UNKNOWN, "x" * 12, T0)
    con.execute("UPDATE sign_in_failures SET failures = 1000000, last_failed_at = $t", {"t": T0})
    # The wait is capped at 15 minutes (900 s): 1 s after the last failure, 899 s are left → "900 seconds"
    # (whole seconds left plus one).
    assert attempt(con, UNKNOWN, "x" * 12, T0 + dt.timedelta(seconds=1)) == \
        "Too many failed attempts; try again in 900 seconds."


def test_an_upgraded_database_keeps_an_accounts_running_count(config, tmp_path, monkeypatch):
    """Migration 005 carries users.failed_attempts over to sign_in_failures (and retires the old columns)."""
    old = tmp_path / "migrations"
    old.mkdir()
    for path in sorted(database.MIGRATIONS_DIR.glob("00[1-4]_*.sql")):
        shutil.copy(path, old / path.name)
    monkeypatch.setattr(database, "MIGRATIONS_DIR", old)
    db = tmp_path / "v4.duckdb"
    c = connect(db, config, create=True)
    assert database.schema_version(c) == 4
    c.execute("INSERT INTO users (user_id, display_name, role, password_hash, created_at, failed_attempts, "
              "last_failed_at) VALUES ($u, $u, 'staff', $h, $t, 6, $t)",
              {"u": REAL, "h": accounts._hasher.hash(PW), "t": T0})
    c.close()
    monkeypatch.undo()
    c = connect(db, config)
    try:
        assert database.schema_version(c) >= 5
        assert c.execute("SELECT failures, last_failed_at FROM sign_in_failures").fetchall() == [(6, T0)]
        assert c.execute("SELECT failed_attempts, last_failed_at FROM users").fetchall() == [(0, None)]
        # Six failures → 60 s from T0: at T0+10 s, 50 s are left → "51 seconds" (whole seconds left plus one).
        assert attempt(c, REAL, PW, T0 + dt.timedelta(seconds=10)) == "Too many failed attempts; try again in 51 seconds."
        assert attempt(c, REAL, PW, T0 + dt.timedelta(seconds=60)) == "signed in"
    finally:
        c.close()
