"""`python -m metrics events ...`: list, add and remove the annotations marked on the trends
(metrics/features/events.py) — e.g. a data issue recorded by whoever runs the loads."""
from __future__ import annotations

import datetime as dt

from metrics.catalogue.definitions import Config
from metrics.catalogue.scope import parse_scope
from metrics.cli.common import cli_actor, print_rows, writer
from metrics.compute.engine import Engine
from metrics.compute.periods import Period, parse_date
from metrics.errors import MetricsError
from metrics.features import events
from metrics.formatting import is_missing


def cmd_events(args, config: Config) -> None:
    con = writer(args, config, instead="an executive or head can do this under a trend on the dashboard now, or "
                                        "stop the dashboard and run the command again")
    engine, actor = Engine(con, config), cli_actor()
    try:
        scope = parse_scope(getattr(args, "scope", None), config)
        if args.action == "list":
            rng = engine.data_range()
            start = parse_date(args.start, "--from") if args.start else (rng[0] if rng else dt.date.min)
            end = parse_date(args.end, "--to") if args.end else (rng[1] if rng else dt.date.max)
            if end < start:
                raise MetricsError(f"--to ({end}) is before --from ({start})")
            df = events.on_chart(engine, actor, scope, Period(start, end), args.metric)
            df = df.drop(columns=["version"]).assign(starts=[str(d) for d in df["starts"]],
                                                     ends=[None if is_missing(d) else str(d) for d in df["ends"]])
            print_rows(df, args.json, f"no events on the charts of {scope} from {start} to "
                       f"{end}")
        elif args.action == "add":
            until = parse_date(args.until, "--until") if args.until else None
            key = events.add(engine, actor, scope, parse_date(args.day, "--day"), args.kind, args.title, args.detail,
                             until, args.metric, args.change_point)
            print(f"marked {key} on the trends of {scope}" + (" (a change point)" if args.change_point else ""))
        else:
            row = con.execute("SELECT version FROM annotations WHERE annotation_id = $k", {"k": args.id}).fetchone()
            events.remove(engine, actor, args.id, row[0] if row else 0)
            print(f"took {args.id} off the trends")
    finally:
        con.close()


def add_parser(sub, common, db) -> None:
    e = sub.add_parser("events", help="annotations on the trends: list, add, remove",
                       description="Events marked on the trends of a scope and the units under it (a change we made, "
                       "something outside our control, a data issue; config annotations.kinds); a change point "
                       "re-calculates the SPC limits from its day.")
    es = e.add_subparsers(dest="action", required=True, metavar="ACTION")
    el = es.add_parser("list", parents=[common, db], help="the events a chart of the scope shows")
    el.add_argument("--scope", default="org", help="org (default), department:KEY, team:KEY or staff:ID")
    el.add_argument("--metric", help="a chart of this metric (default: events about every figure only)")
    el.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: the data's first)")
    el.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: the data's last)")
    el.add_argument("--json", action="store_true")
    ea = es.add_parser("add", parents=[common, db], help="mark an event (audited as the command line)")
    ea.add_argument("--scope", default="org", help="org (default), or department:KEY / team:KEY")
    ea.add_argument("--day", required=True, help="the day it happened, YYYY-MM-DD")
    ea.add_argument("--until", help="its last day, for a range (YYYY-MM-DD)")
    ea.add_argument("--kind", required=True, help="one of config's annotations.kinds")
    ea.add_argument("--title", required=True, help="what happened, in plain text")
    ea.add_argument("--detail", help="more words, plain text (optional)")
    ea.add_argument("--metric", help="about this figure only (default: every figure of the scope)")
    ea.add_argument("--change-point", action="store_true", help="re-calculate the SPC limits from this day")
    er = es.add_parser("remove", parents=[common, db], help="take an event off the trends (the row and audit stay)")
    er.add_argument("id", help="the event's id (see `events list`)")
