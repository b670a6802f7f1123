"""`python -m metrics init`: set up a new organisation — a config file with its name, calendar and departments on the
shipped catalogue, an empty database, and its people loaded (metrics/catalogue/organisation.py)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from metrics.catalogue import organisation
from metrics.catalogue.parse import load_config
from metrics.compute.sqlcheck import check_sql
from metrics.errors import ConfigError, MetricsError
from metrics.ingest.loader import load_file
from metrics.store.database import connect


def cmd_init(args, _config) -> None:
    out, db = Path(args.out), Path(args.db or f"data/{Path(args.out).stem}.duckdb")
    for path, what in ((out, "config file"), (db, "database")):
        if path.exists() and not args.force:
            raise MetricsError(f"{path} exists; choose another --out / --db, or pass --force to replace the {what}")
    key_map = {}
    for pair in args.map or []:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise MetricsError(f"--map {pair!r} is not OLD=NEW; e.g. --map contact_centre=customer_services")
        key_map[old.strip()] = new.strip()
    base = organisation.read_base(args.config)
    departments = organisation.read_departments(args.departments)
    details = {"name": args.name, "time_zone": args.time_zone, "country": args.country}
    if args.subdivision:
        details["subdivision"] = args.subdivision
    cfg = organisation.configured(base, details, departments, key_map)
    cfg["database"] = {**(cfg.get("database") or {}), "path": str(db)}
    with tempfile.TemporaryDirectory(dir=out.parent if out.parent.exists() else None) as tmp:
        draft, draft_db = Path(tmp) / out.name, Path(tmp) / "new.duckdb"
        draft.write_text(organisation.dump(cfg), encoding="utf-8")
        try:
            config = load_config(str(draft))
        except ConfigError as exc:
            raise ConfigError(f"the configuration for {args.name} would not be valid, so nothing was written: "
                              f"{str(exc).replace(str(draft), str(out))}") from None
        check_sql(config)
        con = connect(draft_db, config, create=True)
        try:
            if args.staff:
                result = load_file(con, config, "staff", args.staff, loaded_by="init", report_dir=tmp)
                if result.problem_count:
                    first = result.problems.iloc[0]
                    raise MetricsError(f"{args.staff}: {result.problem_count} problem(s), e.g. row {first['row']} "
                                       f"{first['column']} {first['value']!r}: {first['reason']}; nothing was written")
        finally:
            con.close()
        db.parent.mkdir(parents=True, exist_ok=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(draft_db), db)
        os.replace(draft, out)
    units = sum(1 for _ in organisation._walk(departments))
    print(f"wrote {out} ({args.name}: {units} units) and {db}"
          + (f" with the staff of {args.staff}" if args.staff else "")
          + f"; start the dashboard with `make run CONFIG={out}`")


def add_parser(sub, common) -> None:
    i = sub.add_parser("init", parents=[common], help="set up a new organisation: config, empty database, staff",
                       description="Write a config file for a new organisation — its name, time zone, country and "
                       "departments (from a CSV: key, name, parent, front_line) on the shipped catalogue — create "
                       "its empty database, and load its staff. Nothing is written if anything is wrong.")
    i.add_argument("--name", required=True, help="the organisation's name")
    i.add_argument("--time-zone", required=True, help="e.g. Europe/London")
    i.add_argument("--country", required=True, help="ISO country code for public holidays, e.g. GB")
    i.add_argument("--subdivision", help="region for public holidays, e.g. ENG")
    i.add_argument("--departments", required=True, help="CSV: key, name, parent, front_line")
    i.add_argument("--staff", help="CSV in the staff table's column names (loaded after the departments)")
    i.add_argument("--map", action="append", metavar="OLD=NEW",
                   help="which of your departments stands for one the catalogue names (repeatable); without "
                   "one, the error lists every department still to map")
    i.add_argument("--out", default="organisation.yaml", help="the config file to write (default: %(default)s)")
    i.add_argument("--db", help="the database to create (default: data/<out's name>.duckdb)")
    i.add_argument("--force", action="store_true", help="replace an existing config file or database")
