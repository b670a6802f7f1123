"""`python -m metrics targets ...`: list, set, import, approve and reject targets (metrics/features/targets.py)."""
from __future__ import annotations

from metrics.catalogue.definitions import Config
from metrics.cli.common import cli_actor, print_json, records, writer
from metrics.compute.engine import Engine
from metrics.features import targets


def cmd_targets(args, config: Config) -> None:
    con = writer(args, config, instead="an administrator or executive can do this on the dashboard's Targets page "
                                        "now, or stop the dashboard and run the command again")
    engine, actor = Engine(con, config), cli_actor()
    try:
        if args.action == "list":
            df = targets.listing(engine, actor, args.status, args.metric, args.department)
            if args.json:
                print_json(records(df))
            elif df.empty:
                print("no targets set in the database; config.yaml's targets apply")
            else:
                print(df.drop(columns=["version"]).to_string(index=False))
        elif args.action == "set":
            tid = targets.set_target(engine, actor, args.metric, args.department, args.start, args.target,
                                     args.warning, args.reason)
            unit = args.department or "the organisation"
            print(f"set {args.metric} for {unit} from {args.start}: target {args.target:g}"
                  + (f", warning {args.warning:g}" if args.warning is not None else "") + f" ({tid})")
        elif args.action == "import":
            ids = targets.import_file(engine, actor, args.file)
            print(f"set {len(ids)} target{'s' if len(ids) != 1 else ''} from {args.file}")
        else:
            row = targets.listing(engine, actor).set_index("target_id")
            version = int(row.loc[args.target_id, "version"]) if args.target_id in row.index else 0
            targets.decide(engine, actor, args.target_id, version, args.action == "approve", args.note)
            print(f"{args.action}d {args.target_id}")
    finally:
        con.close()


def add_parser(sub, common, db) -> None:
    t = sub.add_parser("targets", help="targets by period of effect (config.yaml's are the defaults)",
                       description="Targets held in the database, each for a metric and a unit from the day it takes "
                       "effect; a figure is judged against the target in force on its period's first day.")
    ts = t.add_subparsers(dest="action", required=True, metavar="ACTION")
    tl = ts.add_parser("list", parents=[common, db], help="list targets, newest first")
    tl.add_argument("--status", choices=targets.STATUSES)
    tl.add_argument("--metric")
    tl.add_argument("--department", help="a department key (omit for every unit)")
    tl.add_argument("--json", action="store_true")
    st = ts.add_parser("set", parents=[common, db], help="set a target (approved at once)")
    st.add_argument("metric", help="metric key (see `list`)")
    st.add_argument("--target", type=float, required=True, help="as config.yaml writes targets: 0.85 for 85 %%, 4.2 for a 4.2 score")
    st.add_argument("--warning", type=float, help="the warning threshold (optional)")
    st.add_argument("--department", help="department key (default: the organisation)")
    st.add_argument("--from", dest="start", required=True, help="the day it takes effect, YYYY-MM-DD")
    st.add_argument("--reason", help="why (kept with the target)")
    ti = ts.add_parser("import", parents=[common, db], help="set every target of a CSV file, or none",
                       description="Columns: metric, department (empty: the organisation), effective_from "
                       "(YYYY-MM-DD), target, warning and reason (both may be empty).")
    ti.add_argument("file")
    for action in ("approve", "reject"):
        d = ts.add_parser(action, parents=[common, db], help=f"{action} a proposed target")
        d.add_argument("target_id")
        d.add_argument("--note", required=action == "reject", help="the decision's note (needed to reject)")
