"""`python -m metrics`: build the demo, check config, and compute any metric from the command line.

This module holds the argument parser and the dispatch; the commands live beside it: figures.py (list,
value, series, breakdown, goals, staff, chain, benchmark), data.py (demo, check, load, unload, batches,
export-parquet, bench), users.py (users ...) and targets.py (targets ...), with what they share in common.py.

Exit codes: 0 success, 2 bad input (one clear sentence on stderr), 1 an unexpected failure.
Until sign-in exists for the command line, it acts as the all-seeing system viewer.
"""
from __future__ import annotations

import argparse
import os
import sys

from metrics.catalogue.parse import load_config
from metrics.cli.data import (cmd_batches, cmd_bench, cmd_check, cmd_demo, cmd_export_parquet, cmd_figure_store, cmd_load,
                              cmd_unload)
from metrics.cli.figures import (cmd_benchmark, cmd_breakdown, cmd_chain, cmd_goals, cmd_list, cmd_series, cmd_staff,
                                 cmd_value)
from metrics.cli.alerts import add_parser as alerts_parser, cmd_alerts
from metrics.cli.digest import add_parser as digest_parser, cmd_digest
from metrics.cli.events import add_parser as events_parser, cmd_events
from metrics.cli.init import add_parser as init_parser, cmd_init
from metrics.cli.report import add_parser as report_parser, cmd_report
from metrics.cli.signals import add_parser as signals_parser, cmd_explain, cmd_spc
from metrics.cli.targets import add_parser as targets_parser, cmd_targets
from metrics.cli.users import cmd_users
from metrics.compute.periods import GRAINS
from metrics.compute.sqlcheck import check_sql
from metrics.errors import ConfigError, MetricsError

DEFAULT_CONFIG = "config.yaml"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: %(default)s)")
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", help="DuckDB file (default: database.path in config, data/cx.duckdb)")
    figures = argparse.ArgumentParser(add_help=False)
    figures.add_argument("--scope", default="org",
                         help="org, department:KEY, directorate:KEY, team:KEY or staff:ID (default: org)")
    figures.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: the last full month in the data)")
    figures.add_argument("--to", dest="end", help="last day, YYYY-MM-DD, included")
    figures.add_argument("--json", action="store_true", help="print JSON instead of text")
    figures.add_argument("--engine", choices=("duckdb", "spark"),
                         help="compute on DuckDB or on Spark over the exported Parquet (default: engine in config)")
    figures.add_argument("--as", dest="as_user", metavar="USER",
                         help="compute as this user (their access rules apply); default: the all-seeing system")

    p = argparse.ArgumentParser(prog="python -m metrics", description="Customer-experience metrics: "
                                "build the demo, check the configuration, compute figures.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = sub.add_parser("demo", parents=[common, db], help="build the synthetic demo database",
                       description="Generate the synthetic demo organisation (fixed seed: identical every run).")
    d.add_argument("--scale", type=float, default=1.0, help="multiply event volumes (default 1 ≈ 96,000 calls a year)")
    d.add_argument("--seed", type=int, help="generator seed (default: the fixed demo seed)")
    d.add_argument("--force", action="store_true", help="replace an existing database file")
    d.add_argument("--if-missing", action="store_true", help="do nothing when the file already exists")
    sub.add_parser("check", parents=[common], help="validate the configuration",
                   description="Validate config.yaml: keys, cross-references and that every metric compiles.")
    ls = sub.add_parser("list", parents=[common], help="the metric catalogue", description="List every metric.")
    ls.add_argument("--json", action="store_true", help="print JSON instead of text")
    v = sub.add_parser("value", parents=[common, db, figures], help="one metric for a scope and period",
                       description="A metric with numerator, denominator, target, status and the previous period.")
    v.add_argument("metric", help="metric key (see `list`)")
    s = sub.add_parser("series", parents=[common, db, figures], help="a metric over time",
                       description="A metric per day, week, month, quarter or year, with target and status.")
    s.add_argument("metric", help="metric key (see `list`)")
    s.add_argument("--grain", default="month", choices=GRAINS, help="bucket size (default: month)")
    b = sub.add_parser("breakdown", parents=[common, db, figures], help="a metric per unit below a scope",
                       description="A metric per directorate, department, team or person within a scope.")
    b.add_argument("metric", help="metric key (see `list`)")
    b.add_argument("--by", choices=("directorate", "department", "team", "staff"),
                   help="the level to cut by (default: one below the scope)")
    g = sub.add_parser("goals", parents=[common, db, figures], help="shared-goal scores",
                       description="Each shared goal's score and measures for a scope; with --goal, each "
                                   "department's contribution.")
    g.add_argument("--goal", help="one goal key: show each department's contribution to it")
    u = sub.add_parser("users", help="manage who can sign in",
                       description="Add users, set passwords, change roles, disable or enable them, list them "
                                   "(while the dashboard runs, administrators do this on its Users page).")
    us = u.add_subparsers(dest="action", required=True, metavar="ACTION")
    ua = us.add_parser("add", parents=[common, db], help="add a user")
    ua.add_argument("user", help="the sign-in name: an e-mail address")
    ua.add_argument("--role", required=True, choices=("executive", "head", "staff", "admin"))
    ua.add_argument("--name", help="display name")
    ua.add_argument("--department", help="department key (default: the staff member's)")
    ua.add_argument("--staff", help="their staff id")
    ua.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    ua.add_argument("--no-password", action="store_true", help="no password (signs in through OIDC only)")
    sp = us.add_parser("set-password", parents=[common, db], help="set a user's password")
    sp.add_argument("user")
    sp.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sr = us.add_parser("set-role", parents=[common, db], help="give a user another role (their sessions end)")
    sr.add_argument("user")
    sr.add_argument("--role", required=True, choices=("executive", "head", "staff", "admin"))
    for action in ("disable", "enable"):
        us.add_parser(action, parents=[common, db], help=f"{action} a user").add_argument("user")
    us.add_parser("list", parents=[common, db], help="list users").add_argument("--json", action="store_true")
    ld = sub.add_parser("load", parents=[common, db], help="load an export into a table",
                        description="Validate a file in full, then load it in one transaction (or write nothing).")
    ld.add_argument("table", help="the target table, e.g. contacts, requests, feedback, invoices, benchmarks")
    ld.add_argument("file", help="CSV/TSV, Excel (.xlsx) or Parquet file")
    ld.add_argument("--mapping", help="mapping profile name (data/mappings/NAME.yaml) or path")
    ld.add_argument("--dry-run", action="store_true", help="validate and count only; write nothing")
    ld.add_argument("--report-dir", help="where to write the CSV of all problems (default: beside the file, or the temporary folder if that one cannot be written)")
    un = sub.add_parser("unload", parents=[common, db], help="undo a load batch",
                        description="Remove exactly what a batch added and restore the rows it replaced.")
    un.add_argument("batch", type=int)
    fs = sub.add_parser("figure-store", parents=[common, db], help="build the figure store and keep it in the file",
                        description="Compute every standard figure in bulk (on Spark in batch with --engine spark) and "
                        "keep them in the DuckDB file, where the dashboard and the command line read them. The "
                        "dashboard builds it itself after each change; this is for Spark, or before a start.")
    fs.add_argument("--engine", choices=("duckdb", "spark"), help="compute on DuckDB or on Spark (default: config)")
    bt = sub.add_parser("batches", parents=[common, db], help="list load batches", description="Every load, newest first.")
    bt.add_argument("--json", action="store_true")
    be = sub.add_parser("bench", parents=[common], help="measure speed (prints measured ratios)",
                        description="Benchmarks. Without a subject: build (or reuse, in data/bench/) demo databases "
                        "at 1 M, 3 M and the asked number of contacts and measure each metric through the metrics "
                        "layer against hand-written SQL, every page per role cold and warm, the loader against a "
                        "bare read_csv, and peak memory. `ingest`: the loader alone. `pdf`: printing each page to PDF.")
    be.add_argument("what", nargs="?", choices=("ingest", "pdf", "all"), default="all",
                    help="what to measure (default all)")
    be.add_argument("--rows", type=int, default=None, help="contacts (or rows of the ingest file); default 1,000,000")
    be.add_argument("--scale", type=float, help="demo scale instead of --rows (1 ≈ 408,000 contacts)")
    be.add_argument("--no-pages", action="store_true", help="skip the page timings")
    be.add_argument("--no-ingest", action="store_true", help="skip the loader benchmark")
    be.add_argument("--serve", action="store_true", help="also the live server's CPU-seconds per page view, every "
                    "page of every role (tests/perf/serve_bench.py --views), and 10 and 25 people at once with a load "
                    "half-way (serve_bench.py --sessions N); needs Chromium")
    be.add_argument("--sizes", help="comma-separated contacts per database instead of 1 M, 3 M and --rows")
    be.add_argument("--spark-sizes", help="with --engine spark: only at these sizes (comma-separated contacts)")
    be.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                    help="spark: also the same metrics and pages on Spark over the exported Parquet, side by side")
    be.add_argument("--json", action="store_true")
    ch = sub.add_parser("chain", parents=[common, db, figures], help="internal service, referral flow, delays, payments",
                        description="The chain between departments for a period: the internal-service matrix, "
                        "declined requests by reason, the referral flow, which department late outcomes waited "
                        "longest with, supplier payments and failure demand (the contacts each department's delays "
                        "caused). With --scope department:KEY, also that department's share of the late outcomes and "
                        "of the failure demand in words.")
    ch.add_argument("--part", choices=("matrix", "declines", "flow", "late", "suppliers", "failure", "all"), default="all",
                    help="print only this part (default: all)")
    bm = sub.add_parser("benchmark", parents=[common, db], help="our figures beside a peer cohort",
                        description="Our figure, the cohort's quartiles and our percentile rank per period.")
    bm.add_argument("measure", nargs="?", help="measure key: a catalogue metric or a publication's own code (omit with "
                    "--list)")
    bm.add_argument("--source", help="only this publication")
    bm.add_argument("--cohort", help="only this peer group")
    bm.add_argument("--list", action="store_true", help="list the publications and cohorts")
    bm.add_argument("--json", action="store_true", help="print JSON instead of text")
    bm.add_argument("--as", dest="as_user", metavar="USER", help="compute as this user")
    bm.add_argument("--engine", choices=("duckdb", "spark"), help="compute our figures on DuckDB or Spark (default: "
                    "engine in config)")
    ex = sub.add_parser("export-parquet", parents=[common, db], help="write every table as Parquet",
                        description="Write the database's tables as Parquet under DIR (the big facts partitioned by "
                        "month), for other engines such as Spark.")
    ex.add_argument("dir", help="target folder (must be empty unless --force)")
    ex.add_argument("--force", action="store_true", help="replace an existing export")
    st_ = sub.add_parser("staff", parents=[common, db], help="list staff ids", description="List staff members.")
    st_.add_argument("--department", help="only this department (and its teams)")
    targets_parser(sub, common, db)
    alerts_parser(sub, common, db)
    report_parser(sub, common, db)
    signals_parser(sub, common, db, figures)
    digest_parser(sub, common, db)
    events_parser(sub, common, db)
    init_parser(sub, common)
    return p


COMMANDS = {"demo": cmd_demo, "check": cmd_check, "list": cmd_list, "value": cmd_value, "series": cmd_series,
            "breakdown": cmd_breakdown, "goals": cmd_goals, "staff": cmd_staff, "users": cmd_users,
            "load": cmd_load, "unload": cmd_unload, "batches": cmd_batches, "bench": cmd_bench,
            "chain": cmd_chain, "benchmark": cmd_benchmark, "export-parquet": cmd_export_parquet,
            "figure-store": cmd_figure_store, "targets": cmd_targets, "init": cmd_init,
            "alerts": cmd_alerts, "report": cmd_report, "spc": cmd_spc, "explain": cmd_explain, "digest": cmd_digest,
            "events": cmd_events}


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
        check_sql(config)
        COMMANDS[args.command](args, config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MetricsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("error: interrupted; nothing half-written was kept", file=sys.stderr)
        return 1
    except Exception as exc:      # a bug, not bad input: one line, and exit 1 (set CX_DEBUG=1 for the traceback)
        if os.environ.get("CX_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
              "(please report it; CX_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    return 0
