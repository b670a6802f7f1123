"""`python -m metrics`: build the demo, check config, and compute any metric from the command line.

Exit codes: 0 success, 2 bad input (one clear sentence on stderr), 1 an unexpected failure.
Until sign-in exists for the command line, it acts as the all-seeing system viewer.
"""
from __future__ import annotations

import argparse
import json
import time
import os
import sys
from pathlib import Path

from metrics.compute import target_status
from metrics.access import SYSTEM
from metrics.catalogue.definitions import Config
from metrics.catalogue.parse import load_config
from metrics.errors import ConfigError, MetricsError
from metrics.present.formatting import format_delta, format_value
from metrics.compute.periods import GRAINS, Period, parse_date
from metrics.catalogue.scope import parse_scope

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
    bt = sub.add_parser("batches", parents=[common, db], help="list load batches", description="Every load, newest first.")
    bt.add_argument("--json", action="store_true")
    be = sub.add_parser("bench", parents=[common], help="measure speed (prints measured ratios)",
                        description="Benchmarks. Without a subject: build (or reuse, in data/bench/) demo databases "
                        "at 1 M, 3 M and the asked number of contacts and measure each metric through the metrics "
                        "layer against hand-written SQL, every page per role cold and warm, the loader against a "
                        "bare read_csv, and peak memory. `ingest`: the loader alone.")
    be.add_argument("what", nargs="?", choices=("ingest", "all"), default="all", help="what to measure (default all)")
    be.add_argument("--rows", type=int, default=None, help="contacts (or rows of the ingest file); default 1,000,000")
    be.add_argument("--scale", type=float, help="demo scale instead of --rows (1 ≈ 408,000 contacts)")
    be.add_argument("--no-pages", action="store_true", help="skip the page timings")
    be.add_argument("--no-ingest", action="store_true", help="skip the loader benchmark")
    be.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                    help="spark: also the same metrics and pages on Spark over the exported Parquet, side by side")
    be.add_argument("--json", action="store_true")
    ch = sub.add_parser("chain", parents=[common, db, figures], help="internal service, referral flow, delays, payments",
                        description="The chain between departments for a period: the internal-service matrix, "
                        "declined requests by reason, the referral flow, which department late outcomes waited "
                        "longest with, and supplier payments. With --scope department:KEY, also that department's "
                        "share of the late outcomes in words.")
    ch.add_argument("--part", choices=("matrix", "declines", "flow", "late", "suppliers", "all"), default="all",
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
    return p


def _period(args, engine) -> Period:
    if args.start is None and args.end is None:
        return engine.default_period()
    if args.start is None or args.end is None:
        raise MetricsError("give both --from and --to (or neither, for the last full month in the data)")
    return Period(parse_date(args.start, "--from"), parse_date(args.end, "--to"))


def _viewer(args, engine):
    """SYSTEM, or the user named by --as with their own access rules."""
    from metrics.store import accounts
    if not getattr(args, "as_user", None):
        return SYSTEM
    try:
        return accounts.viewer_for_login(engine.con.cursor(), args.as_user)
    except accounts.AuthError:
        raise MetricsError(f"--as {args.as_user}: no such active user; `python -m metrics users list` shows them") from None


def _password(args) -> str:
    import getpass
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise MetricsError("the two passwords differ; nothing was changed")
    return first


def _cli_actor():
    """Who the audit trail names for a users command: the command line and the operating-system account."""
    import getpass
    from metrics.access import Viewer
    try:
        who = getpass.getuser()
    except Exception:                   # no login name in this environment (e.g. a container without one)
        who = "unknown"
    return Viewer(user=f"command line ({who})", role=SYSTEM.role)


def cmd_users(args, config: Config) -> None:
    from metrics.store import accounts
    con = _writer(args, config, instead="an administrator can do this on the dashboard's Users page now, or "
                                          "stop the dashboard and run the command again")
    actor = _cli_actor()
    try:
        if args.action == "add":
            password = None if args.no_password else _password(args)
            accounts.add_user(con, args.user, args.role, args.name, args.department, args.staff, password, config,
                              actor=actor)
            print(f"added {args.user.lower()} ({args.role})")
        elif args.action == "set-password":
            accounts.set_password(con, args.user, _password(args), actor=actor)
            print(f"password set for {args.user}; their sessions were ended")
        elif args.action == "set-role":
            accounts.set_role(con, args.user, args.role, actor=actor)
            print(f"{args.user} is now {args.role}; their sessions were ended")
        elif args.action in ("disable", "enable"):
            accounts.set_active(con, args.user, args.action == "enable", actor=actor)
            print(f"{args.action}d {args.user}" + ("; their sessions were ended" if args.action == "disable" else ""))
        else:
            df = accounts.list_users(con, actor)
            print(json.dumps(_records(df), indent=2) if args.json else df.to_string(index=False))
    finally:
        con.close()


def _writer(args, config: Config, instead: str = "upload the file on the dashboard's Data page, or stop the "
                                                 "dashboard and run the load again"):
    """The database opened for writing; a clear refusal while the dashboard (or another load) holds it, saying
    what to do `instead`."""
    from metrics.store.database import connect
    from metrics.errors import SchemaError
    path = args.db or config.database_path
    try:
        return connect(path, config)
    except SchemaError as exc:
        if "open for writing" in str(exc):
            raise MetricsError(f"{path} is in use by another process, usually the dashboard (DuckDB allows one "
                               f"writer per file): {instead}") from None
        raise


def cmd_load(args, config: Config) -> None:
    from metrics.ingest.loader import load_file
    from metrics.ingest.profiles import load_profile
    profile = load_profile(args.mapping) if args.mapping else None
    con = _writer(args, config)
    log = lambda m: print(f"  {m}", file=sys.stderr, flush=True)    # noqa: E731 — stage lines
    if sys.stderr.isatty():                                          # DuckDB's own bar for long steps
        con.execute("SET enable_progress_bar = true")
    try:
        r = load_file(con, config, args.table, args.file, profile, loaded_by="cli", dry_run=args.dry_run,
                      report_dir=args.report_dir, log=log)
    finally:
        con.close()
    if not r.ok:
        for _, p in r.problems.iterrows():
            print(f"row {p['row']}, column {p['column']}, value {p['value']!r}: {p['reason']}", file=sys.stderr)
        if r.problem_count > len(r.problems):
            print(f"... and {r.problem_count - len(r.problems):,} more", file=sys.stderr)
        raise MetricsError(r.summary())
    print(r.summary())


def cmd_unload(args, config: Config) -> None:
    from metrics.ingest.loader import unload
    con = _writer(args, config)
    try:
        r = unload(con, args.batch)
    finally:
        con.close()
    print(f"unloaded batch {args.batch}: removed {r['removed']:,} rows from {r['table']}, restored {r['restored']:,}")


def cmd_bench(args, config: Config) -> None:
    from metrics.cli.bench import DEMO_ROWS_PER_SCALE, bench_all, bench_ingest, print_all, print_ingest
    rows = int(args.scale * DEMO_ROWS_PER_SCALE) if args.scale else (args.rows or 1_000_000)
    if rows < 1000:
        raise MetricsError("--rows must be at least 1,000 (or --scale at least 0.003)")
    if args.what == "ingest":
        return print_ingest(bench_ingest(config, rows), args.json)
    sizes = sorted({s for s in (1_000_000, 3_000_000) if s < rows} | {rows})
    print_all(bench_all(config, sizes, Path("data/bench"), pages=not args.no_pages, ingest=not args.no_ingest,
                        engine=args.engine), args.json)


def cmd_batches(args, config: Config) -> None:
    engine = _engine(args, config)
    df = engine.query("SELECT batch_id, table_name, file_name, status, rows, rows_inserted, rows_updated, "
                      "rows_dropped, round(seconds, 1) AS seconds, loaded_by, loaded_at, profile "
                      "FROM load_batches ORDER BY batch_id DESC")
    print(json.dumps(_records(df), indent=2) if args.json else (df.to_string(index=False) if len(df) else "no loads yet"))


def _engine(args, config: Config):
    """Check what was asked against config first, then open the database."""
    from metrics.compute.engine import Engine
    if getattr(args, "metric", None):
        config.metric(args.metric)
    if getattr(args, "scope", None):
        parse_scope(args.scope, config)
    return Engine.open(args.db or config.database_path, config, engine=getattr(args, "engine", None))


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


def _status_text(code: str) -> str:
    icon, word, _ = target_status.LABELS[code]
    return f"{icon} {word}"


def _records(df) -> list[dict]:
    return json.loads(df.to_json(orient="records", date_format="iso"))


def cmd_demo(args, config: Config) -> None:
    from metrics.demo.build import build_demo_database
    path = Path(args.db or config.database_path)
    if args.if_missing and path.exists():
        print(f"{path} exists; leaving it as it is")
        return
    result = build_demo_database(path, config, scale=args.scale, seed=args.seed, force=args.force)
    rows = result["rows"]
    print(f"built {result['path']} in {result['seconds']:.1f} s: "
          + ", ".join(f"{n:,} {t}" for t, n in rows.items() if t != "meta"))


def cmd_check(args, config: Config) -> None:
    print(f"{config.path}: OK — {len(config.departments)} departments, {len(config.sources)} sources, "
          f"{len(config.metrics)} metrics, {len(config.goals)} shared goals")


def cmd_list(args, config: Config) -> None:
    rows = [{"metric": m.key, "label": m.label, "type": m.type, "direction": m.direction, "format": m.format,
             "owner": m.owner, "target": m.default_target.target if m.default_target else None,
             "description": m.description} for m in config.metrics.values()]
    if args.json:
        return _print_json(rows)
    width = max(len(r["metric"]) for r in rows)
    for r, m in zip(rows, config.metrics.values()):
        target = f"  target {format_value(m, r['target'])}" if r["target"] is not None else ""
        print(f"{r['metric']:<{width}}  {r['label']}{target}\n{'':<{width}}  {r['description']}")


def cmd_value(args, config: Config) -> None:
    engine = _engine(args, config)
    result = engine.value(_viewer(args, engine), args.metric, parse_scope(args.scope, config), _period(args, engine))
    if args.json:
        return _print_json(result.to_dict())
    m = engine.metric(args.metric)
    print(f"{m.label} ({m.key}) — {result.scope}, {result.start} to {result.end}")
    parts = f"  ({result.numerator:,.0f} / {result.denominator:,.0f})" if m.type == "ratio" and result.denominator is not None else ""
    print(f"  value      {result.formatted}{parts}")
    if result.target is not None:
        warn = f", warning {format_value(m, result.warning)}" if result.warning is not None else ""
        print(f"  target     {format_value(m, result.target)}{warn}")
    print(f"  status     {_status_text(result.status)}")
    for name, fig in (("previous", result.previous), ("last year", result.last_year)):
        change = None if fig.value is None or result.value is None else result.value - fig.value
        print(f"  {name:<10} {format_value(m, fig.value)}  ({fig.start} to {fig.end}; change {format_delta(m, change)})")


def _table(engine, metric_key: str, df, first: str) -> None:
    m = engine.metric(metric_key)
    for _, r in df.iterrows():
        print(f"{str(r[first]):<34} {format_value(m, None if r['value'] != r['value'] else r['value']):>16}  "
              f"{_status_text(r['status'])}")


def _cmd_frame(args, config: Config, first: str) -> None:
    """series and breakdown: a DataFrame of figures, as JSON or a table."""
    engine = _engine(args, config)
    scope, period = parse_scope(args.scope, config), _period(args, engine)
    if args.command == "series":
        df = engine.series(_viewer(args, engine), args.metric, scope, period, args.grain)
    else:
        df = engine.breakdown(_viewer(args, engine), args.metric, scope, period, args.by)
    if args.json:
        return _print_json(_records(df))
    _table(engine, args.metric, df, first)


def cmd_series(args, config: Config) -> None:
    _cmd_frame(args, config, "bucket")


def cmd_breakdown(args, config: Config) -> None:
    _cmd_frame(args, config, "name")


def cmd_goals(args, config: Config) -> None:
    from metrics.features.goals import contributions, goal_results
    engine = _engine(args, config)
    period = _period(args, engine)
    if args.goal:
        df = contributions(engine, _viewer(args, engine), args.goal, period)
        if args.json:
            return _print_json(_records(df))
        for _, r in df.iterrows():
            share = "–" if r["miss_share"] is None or r["miss_share"] != r["miss_share"] else f"{r['miss_share'] * 100:.0f} %"
            sc = "–" if r["score"] is None or r["score"] != r["score"] else f"{r['score'] * 100:.0f}"
            print(f"{r['name']:<34} score {sc:>4}  {_status_text(r['status']):<18} misses {r['misses']:>6,.0f} ({share})")
        return
    results = goal_results(engine, _viewer(args, engine), parse_scope(args.scope, config), period)
    if args.json:
        return _print_json([g.to_dict() for g in results])
    for g in results:
        sc = "–" if g.score is None else f"{g.score * 100:.0f}/100"
        print(f"{g.label} — score {sc}  {_status_text(g.status)}")
        for m in g.measures:
            print(f"    {m.label:<52} {m.formatted:>12}  {_status_text(m.status)}")


def cmd_staff(args, config: Config) -> None:
    engine = _engine(args, config)
    df = engine.query("SELECT staff_id, name, department_id, manager_id, active FROM staff ORDER BY staff_id")
    if args.department:
        df = df[df.department_id.isin(parse_scope(f"department:{args.department}", config) and
                                       config.descendants(args.department))]
    print(df.to_string(index=False))


def cmd_chain(args, config: Config) -> None:
    from metrics.features import chain
    engine = _engine(args, config)
    period, viewer = _period(args, engine), _viewer(args, engine)
    parts = ("matrix", "declines", "flow", "late", "suppliers") if args.part == "all" else (args.part,)
    out: dict = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    if "matrix" in parts:
        out["matrix"] = chain.internal_matrix(engine, viewer, period)
    if "declines" in parts:
        out["declines"] = chain.decline_reasons(engine, viewer, period)
    if "flow" in parts:
        flow = chain.referral_flow(engine, viewer, period)
        out.update(flow_stages=flow["stages"], flow_links=flow["links"], flow_by_department=flow["by_department"])
    if "late" in parts:
        out["late"] = chain.attribution(engine, viewer, period)
        scope = parse_scope(args.scope, config)
        if scope.is_unit:
            out["in_words"] = chain.in_words(engine, viewer, scope.key, period)
    if "suppliers" in parts:
        out["suppliers"] = chain.supplier_payments(engine, viewer, period)
    if args.json:
        return _print_json({k: _records(v) if hasattr(v, "to_json") else v for k, v in out.items()})
    print(f"The chain, {period}")
    for key, value in out.items():
        if key in ("from", "to"):
            continue
        print(f"\n== {key.replace('_', ' ')} ==")
        print(value if isinstance(value, str) else (value.to_string(index=False) if len(value) else "(none)"))


def cmd_benchmark(args, config: Config) -> None:
    from metrics.features import peers
    engine = _engine(args, config)
    viewer = _viewer(args, engine)
    if args.list or not args.measure:
        df = peers.cohorts(engine, viewer)
        return _print_json(_records(df)) if args.json else print(df.to_string(index=False))
    df = peers.benchmark(engine, viewer, args.measure, args.source, args.cohort)
    if df.empty:
        raise MetricsError(f"no peer figures for {args.measure!r}" + (f" in cohort {args.cohort!r}" if args.cohort else "")
                           + "; `python -m metrics benchmark --list` shows the publications and cohorts")
    if args.json:
        return _print_json(_records(df))
    metric = config.metrics.get(args.measure)
    fmt = (lambda v: format_value(metric, v if v == v else None)) if metric else (lambda v: "–" if v != v else f"{v:,.3g}")
    print(f"{metric.label if metric else args.measure} — {args.cohort or 'all peers'}"
          f" ({'higher is better' if df['direction'].iloc[0] == 'higher_is_better' else 'lower is better' if df['direction'].iloc[0] == 'lower_is_better' else 'direction unknown'})")
    for r in df.itertuples():
        rank = "–" if r.percentile_rank != r.percentile_rank else f"{r.percentile_rank:.0f}th percentile, quartile {r.quartile}"
        print(f"  {r.period:<8} peers {r.peers:>3}  Q1 {fmt(r.q1):>10}  median {fmt(r.median):>10}  Q3 {fmt(r.q3):>10}"
              f"  ours {fmt(r.ours):>10} ({r.ours_from or 'none'})  {rank}")


def cmd_export_parquet(args, config: Config) -> None:
    from metrics.store.export import export_parquet
    engine = _engine(args, config)
    t = time.perf_counter()
    counts = export_parquet(engine.con, args.dir, force=args.force)
    print(f"exported {sum(counts.values()):,} rows of {len(counts)} tables to {args.dir} in {time.perf_counter() - t:.1f} s: "
          + ", ".join(f"{n:,} {k}" for k, n in counts.items() if n))


COMMANDS = {"demo": cmd_demo, "check": cmd_check, "list": cmd_list, "value": cmd_value, "series": cmd_series,
            "breakdown": cmd_breakdown, "goals": cmd_goals, "staff": cmd_staff, "users": cmd_users,
            "load": cmd_load, "unload": cmd_unload, "batches": cmd_batches, "bench": cmd_bench,
            "chain": cmd_chain, "benchmark": cmd_benchmark, "export-parquet": cmd_export_parquet}


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
        from metrics.compute.sqlcheck import check_sql
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
