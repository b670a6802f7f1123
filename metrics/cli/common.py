"""What the command-line commands share: the period and viewer asked for, opening the database, printing."""
from __future__ import annotations

import getpass
import json

from metrics.access import SYSTEM, Viewer
from metrics.catalogue.definitions import Config
from metrics.catalogue.scope import parse_scope
from metrics.compute.engine import Engine
from metrics.compute.periods import Period, parse_date
from metrics.errors import MetricsError, SchemaError
from metrics.store.database import connect


def period(args, engine) -> Period:
    """--from/--to, or the last full month in the data when neither is given."""
    if args.start is None and args.end is None:
        return engine.default_period()
    if args.start is None or args.end is None:
        raise MetricsError("give both --from and --to (or neither, for the last full month in the data)")
    return Period(parse_date(args.start, "--from"), parse_date(args.end, "--to"))


def viewer(args, engine):
    """SYSTEM, or the user named by --as with their own access rules."""
    if not getattr(args, "as_user", None):
        return SYSTEM
    # Imported here, not at the top: importing accounts hashes a dummy password (argon2, ~0.3 s), which only
    # --as and the users commands need.
    from metrics.store import accounts
    try:
        return accounts.viewer_for_login(engine.con.cursor(), args.as_user)
    except accounts.AuthError:
        raise MetricsError(f"--as {args.as_user}: no such active user; `python -m metrics users list` shows them") from None


def open_engine(args, config: Config) -> Engine:
    """Check what was asked against config first, then open the database."""
    if getattr(args, "metric", None):
        config.metric(args.metric)
    if getattr(args, "scope", None):
        parse_scope(args.scope, config)
    return Engine.open(args.db or config.database_path, config, engine=getattr(args, "engine", None),
                       figure_store="saved")        # standard figures from the store kept in the file, when current


def writer(args, config: Config, instead: str = "upload the file on the dashboard's Data page, or stop the "
                                                "dashboard and run the load again"):
    """The database opened for writing; a clear refusal while the dashboard (or another load) holds it, saying
    what to do `instead`."""
    path = args.db or config.database_path
    try:
        return connect(path, config)
    except SchemaError as exc:
        if "open for writing" in str(exc):
            raise MetricsError(f"{path} is in use by another process, usually the dashboard (DuckDB allows one "
                               f"writer per file): {instead}") from None
        raise


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


def records(df) -> list[dict]:
    return json.loads(df.to_json(orient="records", date_format="iso"))


def cli_actor() -> Viewer:
    """Who the audit trail names for a command that writes: the command line and the operating-system account."""
    try:
        who = getpass.getuser()
    except Exception:                   # no login name in this environment (e.g. a container without one)
        who = "unknown"
    return Viewer(user=f"command line ({who})", role=SYSTEM.role)


def print_rows(df, as_json: bool, none: str) -> None:
    """A listing: JSON records, the table, or `none` when it has no rows."""
    if as_json:
        print_json(records(df))
    else:
        print(df.to_string(index=False) if len(df) else none)
