"""Setting up a new organisation — the one code path behind `python -m metrics init` and the dashboard's set-up page.

From its name and calendar, its units (a departments CSV, metrics/catalogue/organisation.py) and, optionally, its
people (a staff CSV, loaded by the normal loader) and a first administrator's account, it writes a config file (the
shipped catalogue with the organisation's own details and departments) and an empty database. Everything is made in
a temporary folder first — the config validated like any config.yaml, the staff loaded, the account created — and
moved into place only when all of it worked: with any problem nothing is written, and the error is one sentence.
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from metrics.catalogue import organisation
from metrics.catalogue.parse import load_config
from metrics.compute.sqlcheck import check_sql
from metrics.errors import ConfigError, MetricsError
from metrics.ingest.loader import load_file
from metrics.store import accounts
from metrics.store.database import connect


@dataclass(frozen=True)
class Organisation:
    name: str
    time_zone: str
    country: str
    subdivision: str | None = None


@dataclass(frozen=True)
class Administrator:
    user: str                     # an e-mail address: the user name to sign in with
    password: str
    display_name: str | None = None


@dataclass(frozen=True)
class Created:
    config: Path
    database: Path
    units: int
    staff: int

    def summary(self) -> str:
        return (f"wrote {self.config} ({self.units} units) and {self.database}"
                + (f" with {self.staff} staff" if self.staff else ""))


def default_database(config_path: str | Path) -> Path:
    """Where a new organisation's database goes unless told: data/<config file's name>.duckdb."""
    return Path("data") / f"{Path(config_path).stem}.duckdb"


def create(base_config: str | Path, details: Organisation, departments: str | Path, key_map: dict[str, str],
           out: str | Path, db: str | Path | None = None, staff: str | Path | None = None,
           admin: Administrator | None = None, force: bool = False) -> Created:
    """Write a new organisation's config file and database, or nothing (MetricsError / ConfigError, one sentence).

    Args:
        base_config: the shipped config.yaml whose catalogue, sources and goals the new config keeps.
        details: name, time zone, country (and region) for the calendar.
        departments: the departments CSV (key, name, parent, front_line).
        key_map: which of the organisation's units stands for each department the catalogue names.
        out: the config file to write; db: its database (default_database(out)).
        staff: a staff CSV in the staff table's columns, loaded after the departments.
        admin: a first administrator; with one the config signs in by password (argon2-hashed in the database).
        force: replace an existing config file or database.
    """
    out = Path(out)
    db = Path(db) if db else default_database(out)
    for path, what in ((out, "config file"), (db, "database")):
        if path.exists() and not force:
            raise MetricsError(f"{path} exists; choose another config file / database, or replace the {what} "
                               "(--force on the command line)")
    units = organisation.read_departments(departments)
    named = {k: v for k, v in details.__dict__.items() if v}
    cfg = organisation.configured(organisation.read_base(base_config), named, units, key_map)
    cfg["database"] = {**(cfg.get("database") or {}), "path": str(db)}
    if admin is not None:
        cfg["auth"] = {**(cfg.get("auth") or {}), "mode": "password"}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        draft, draft_db = Path(tmp) / out.name, Path(tmp) / "new.duckdb"
        draft.write_text(organisation.dump(cfg), encoding="utf-8")
        try:
            config = load_config(str(draft))
        except ConfigError as exc:
            raise ConfigError(f"the configuration for {details.name} would not be valid, so nothing was written: "
                              f"{str(exc).replace(str(draft), str(out))}") from None
        check_sql(config)
        con = connect(draft_db, config, create=True)
        people = 0
        try:
            if staff:
                result = load_file(con, config, "staff", staff, loaded_by="init", report_dir=tmp)
                if result.problem_count:
                    first = result.problems.iloc[0]
                    raise MetricsError(f"{Path(staff).name}: {result.problem_count} problem(s), e.g. row {first['row']} "
                                       f"{first['column']} {first['value']!r}: {first['reason']}; nothing was written")
                people = result.inserted
            if admin is not None:
                accounts.add_user(con, admin.user, "admin", admin.display_name, password=admin.password,
                                  config=config)
        finally:
            con.close()
        db.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(draft_db), db)
        os.replace(draft, out)
    return Created(out, db, sum(1 for _ in organisation.walk(units)), people)


def setup_code(config_path: str | Path) -> str:
    """The code the dashboard's set-up page asks for while `config_path` does not exist: made once, kept beside where
    the config will be (readable by its owner only) and printed in the server's log, so only someone with access to
    the server can set the organisation up."""
    path = setup_code_path(config_path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(12) + "\n")
    return path.read_text().strip()


def setup_code_path(config_path: str | Path) -> Path:
    config_path = Path(config_path)
    return config_path.with_name(f".{config_path.name}.setup-code")


def check_setup_code(config_path: str | Path, given: str) -> None:
    if not secrets.compare_digest((given or "").strip().encode(), setup_code(config_path).encode()):
        raise MetricsError(f"that is not the set-up code; it is in {setup_code_path(config_path)} on the server "
                           "and in the server's log")
