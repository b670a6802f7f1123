"""`python -m metrics digest run|log`: send the digests that are due and the alerts that fire (for cron or a
systemd timer; metrics/features/digests.py), and show what was sent."""
from __future__ import annotations

from metrics.catalogue.definitions import Config
from metrics.cli.common import print_rows, writer
from metrics.compute.engine import Engine
from metrics.compute.periods import parse_date
from metrics.deliver import digests
from metrics.features import alerts, outbox


def cmd_digest(args, config: Config) -> None:
    con = writer(args, config, instead="stop the dashboard while the digests run from the command line, or run them "
                                        "from a timer when the dashboard is not writing")
    try:
        eng = Engine(con, config, engine="duckdb")
        if args.action == "run":
            today = parse_date(args.today, "--today") if args.today else None
            queued = digests.run(eng, today)
            for d in queued:
                print(f"{d['recipient']}: {d['page']}, {d['period']} ({d['pdf_bytes'] / 1024:,.0f} KB PDF)")
            print(f"{len(queued)} digest{'s' if len(queued) != 1 else ''} queued")
            fired = alerts.after_load(con, config)
            print(f"{len(fired)} alert{'s' if len(fired) != 1 else ''} fired")
            if config.mail is None:
                print("e-mail: no mail server in config (mail:), so nothing was sent; the messages wait in the outbox")
            else:
                print(f"e-mail: {outbox.deliver(con, config).summary()}")
        else:
            print_rows(digests.sent_log(eng), args.json, "no digests yet")
    finally:
        con.close()


def add_parser(sub, common, db) -> None:
    d = sub.add_parser("digest", help="send the digests that are due; the sent log",
                       description="People subscribe on the dashboard's Alerts page; `run` renders each digest that "
                       "is due as its recipient, queues it with its PDF, evaluates alerts and sends the outbox.")
    acts = d.add_subparsers(dest="action", required=True, metavar="ACTION")
    r = acts.add_parser("run", parents=[common, db], help="queue and send what is due now")
    r.add_argument("--today", help="the day to judge what is due (default: today), YYYY-MM-DD")
    ls = acts.add_parser("log", parents=[common, db], help="digests queued and sent, newest first")
    ls.add_argument("--json", action="store_true")
