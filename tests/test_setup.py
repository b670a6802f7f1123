"""metrics/features/setup.py, behind both `python -m metrics init` and the dashboard's set-up page: a first
administrator who signs in by password, the set-up code that guards the page, and nothing written on any problem."""
import os
import stat

import pytest

from metrics.catalogue.parse import load_config
from metrics.errors import MetricsError
from metrics.features import setup
from metrics.store import accounts
from metrics.store.database import connect
from tests.test_init import DEPARTMENTS, MAP, STAFF

DETAILS = setup.Organisation("Testville", "America/New_York", "US")


def files(tmp_path, staff=STAFF):
    (tmp_path / "departments.csv").write_text(DEPARTMENTS)
    (tmp_path / "staff.csv").write_text(staff)
    return tmp_path / "departments.csv", tmp_path / "staff.csv"


def test_the_first_administrator_signs_in_by_password(tmp_path):
    departments, staff = files(tmp_path)
    made = setup.create("config.yaml", DETAILS, departments, MAP, tmp_path / "t.yaml", tmp_path / "t.duckdb",
                        staff=staff, admin=setup.Administrator("Boss@Testville.example", "a long enough password"))
    assert (made.units, made.staff) == (7, 2)            # the rows of the two files
    config = load_config(str(made.config))
    assert config.auth_mode == "password"
    con = connect(made.database, config)
    try:
        viewer = accounts.authenticate(con.cursor(), "boss@testville.example", "a long enough password")
        assert viewer.is_admin
        stored = con.execute("SELECT password_hash FROM users").fetchone()[0]
        assert stored.startswith("$argon2") and "a long enough password" not in stored
        with pytest.raises(MetricsError):
            accounts.authenticate(con.cursor(), "boss@testville.example", "wrong password!!")
    finally:
        con.close()


def test_a_short_password_writes_nothing(tmp_path):
    departments, staff = files(tmp_path)
    with pytest.raises(MetricsError, match="password"):
        setup.create("config.yaml", DETAILS, departments, MAP, tmp_path / "t.yaml", tmp_path / "t.duckdb",
                     staff=staff, admin=setup.Administrator("boss@testville.example", "short"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["departments.csv", "staff.csv"]


def test_an_existing_config_is_not_replaced(tmp_path):
    departments, _ = files(tmp_path)
    (tmp_path / "t.yaml").write_text("kept")
    with pytest.raises(MetricsError, match="exists"):
        setup.create("config.yaml", DETAILS, departments, MAP, tmp_path / "t.yaml", tmp_path / "t.duckdb")
    assert (tmp_path / "t.yaml").read_text() == "kept" and not (tmp_path / "t.duckdb").exists()


def test_the_set_up_code_is_kept_private_and_checked(tmp_path):
    target = tmp_path / "ours.yaml"
    code = setup.setup_code(target)
    path = setup.setup_code_path(target)
    assert path.parent == tmp_path and len(code) >= 16
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert setup.setup_code(target) == code                 # made once
    setup.check_setup_code(target, f" {code} ")
    with pytest.raises(MetricsError, match="not the set-up code"):
        setup.check_setup_code(target, code[:-1])
    with pytest.raises(MetricsError, match="not the set-up code"):
        setup.check_setup_code(target, "")
