"""`python -m metrics alerts run|list`: evaluate every alert rule on the data as it is (for cron or a systemd timer,
and after a load), and list alerts (metrics/features/alerts.py)."""
from __future__ import annotations

from metrics.catalogue.definitions import Config
from metrics.cli.common import print_rows, writer
from metrics.compute.engine import Engine
from metrics.compute.periods import parse_date
from metrics.features import alerts, outbox


def cmd_alerts(args, config: Config) -> None:
    con = writer(args, config, instead="alerts are evaluated by the dashboard after each load on its Data page; stop "
                                        "the dashboard to run them from the command line")
    try:
        if args.action == "run":
            if args.as_of:
                fired = alerts.evaluate(Engine(con, config, engine="duckdb"), parse_date(args.as_of, "--as-of"))
            else:
                fired = alerts.after_load(con, config)
            for a in fired:
                print(f"{a['user_id']}: {a['message']}")
            print(f"{len(fired)} alert{'s' if len(fired) != 1 else ''} fired")
            if config.mail is not None:
                print(f"e-mail: {outbox.deliver(con, config).summary()}")
        else:
            df = con.execute("SELECT alert_id, user_id, fired_at, message, snoozed_until, resolved_at FROM alerts "
                             + ("WHERE user_id = $u " if args.user else "") + "ORDER BY fired_at DESC",
                             {"u": args.user.strip().lower()} if args.user else {}).df()
            print_rows(df, args.json, "no alerts" + (f" for {args.user}" if args.user else ""))
    finally:
        con.close()


def add_parser(sub, common, db) -> None:
    a = sub.add_parser("alerts", help="evaluate alert rules, list alerts",
                       description="People set alert rules on the dashboard's Alerts page; `run` evaluates every "
                       "rule as its owner sees the figures (cron or a systemd timer, or after a load).")
    acts = a.add_subparsers(dest="action", required=True, metavar="ACTION")
    r = acts.add_parser("run", parents=[common, db], help="evaluate every rule now and send the e-mail that is due")
    r.add_argument("--as-of", help="the last day of data to judge (default: the last day loaded), YYYY-MM-DD")
    ls = acts.add_parser("list", parents=[common, db], help="alerts, newest first")
    ls.add_argument("--user", help="one person's (their user name)")
    ls.add_argument("--json", action="store_true")
