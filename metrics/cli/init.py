"""`python -m metrics init`: set up a new organisation — a config file with its name, calendar and departments on the
shipped catalogue, an empty database, and its people loaded (metrics/features/setup.py)."""
from __future__ import annotations

from metrics.cli.users import new_password
from metrics.errors import MetricsError
from metrics.features import setup


def cmd_init(args, _config) -> None:
    key_map = {}
    for pair in args.map or []:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise MetricsError(f"--map {pair!r} is not OLD=NEW; e.g. --map contact_centre=customer_services")
        key_map[old.strip()] = new.strip()
    details = setup.Organisation(args.name, args.time_zone, args.country, args.subdivision)
    admin = setup.Administrator(args.admin, new_password(args)) if args.admin else None
    made = setup.create(args.config, details, args.departments, key_map, args.out, args.db, staff=args.staff,
                        admin=admin, force=args.force)
    print(f"{made.summary()}; start the dashboard with `make run CONFIG={made.config}`")


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
    i.add_argument("--admin", metavar="EMAIL", help="the first administrator's account: people then sign in by "
                   "password (asked for twice, or read from standard input with --password-stdin)")
    i.add_argument("--password-stdin", action="store_true", help="read --admin's password from standard input")
    i.add_argument("--out", default="organisation.yaml", help="the config file to write (default: %(default)s)")
    i.add_argument("--db", help="the database to create (default: data/<out's name>.duckdb)")
    i.add_argument("--force", action="store_true", help="replace an existing config file or database")
