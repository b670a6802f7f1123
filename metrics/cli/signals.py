"""Signals, not noise, on the command line:
- `python -m metrics spc METRIC --scope ... --grain month [--json]`: a metric's series as an XmR chart — points,
  process limits, special causes and assurance against the target (metrics/features/spc.py);
- `python -m metrics explain METRIC --scope ... --from ... --to ... --by department [--json]`: what moved the figure
  against the previous period, group by group — by unit, person or a dimension such as channel
  (metrics/features/moved.py); an unknown `--by` is one sentence naming what is accepted, exit 2."""
from __future__ import annotations

from metrics.catalogue.definitions import Config
from metrics.catalogue.scope import parse_scope
from metrics.cli.common import open_engine, period, print_json, viewer
from metrics.compute.periods import Period, parse_date
from metrics.features import moved, spc
from metrics.formatting import format_delta, format_value, is_missing


def cmd_spc(args, config: Config) -> None:
    engine = open_engine(args, config)
    scope = parse_scope(args.scope, config)
    rng = engine.data_range()
    span = period(args, engine) if (args.start or args.end) else Period(rng[0], rng[1])
    changes = tuple(parse_date(d, "--change-point") for d in args.change_point or ())
    df, c = spc.for_series(engine, viewer(args, engine), args.metric, scope, span, args.grain, changes, args.baseline)
    metric = engine.metric(args.metric)
    points = []
    for i, r in df.iterrows():
        s = c.stretch_of(i)
        points.append({"bucket": str(r["bucket"]), "value": float(r["value"]), "mean": s.mean, "lower": s.lower,
                       "upper": s.upper, "rule": c.rules[i], "kind": c.kinds[i]})
    out = {"metric": metric.key, "label": metric.label, "scope": str(scope), "grain": args.grain,
           "from": str(span.start), "to": str(span.end), "direction": metric.direction, "points": points,
           "variation": c.variation, "assurance": c.assurance, "too_short": c.too_short, "notes": list(c.notes),
           "target": None if df.empty or is_missing(df["target"].iloc[-1]) else float(df["target"].iloc[-1])}
    if args.json:
        return print_json(out)
    print(f"{metric.label} · {scope} · {span.start} to {span.end} by {args.grain}")
    for p in points:
        flag = f"  {spc.RULE_WORDS[p['rule']]} ({p['kind'].replace('_', ' ')})" if p["rule"] else ""
        print(f"  {p['bucket']}  {format_value(metric, p['value']):>10}{flag}")
    last = c.stretches[-1] if c.stretches else None
    if last is not None and last.mean is not None:
        print(f"centre {format_value(metric, last.mean)}, process limits {format_value(metric, last.lower)} – "
              f"{format_value(metric, last.upper)} (from {last.baseline_points} points)")
    for note in c.notes:
        print(note)
    if c.variation:
        print(spc.VARIATION_WORDS[c.variation])
    if c.assurance:
        print(spc.ASSURANCE_WORDS[c.assurance])


def cmd_explain(args, config: Config) -> None:
    engine = open_engine(args, config)
    e = moved.explain(engine, viewer(args, engine), args.metric, parse_scope(args.scope, config), period(args, engine),
                      args.by)
    if args.json:
        return print_json({"metric": e.metric, "scope": str(e.scope), "from": str(e.period.start),
                           "to": str(e.period.end), "before": e.before, "after": e.after, "change": e.change,
                           "kind": e.kind, "not_shown": e.not_shown, "words": e.words,
                           "parts": [{"group": p.group, "name": p.name, "rate": p.rate, "mix": p.mix,
                                      "total": p.total} for p in e.parts]})
    print(e.words)
    metric = engine.metric(args.metric)
    for p in e.parts:
        print(f"  {p.name:<36} {format_delta(metric, p.total):>12}" + (
            f"   rate {format_delta(metric, p.rate)}, mix {format_delta(metric, p.mix)}" if e.kind == "ratio" else ""))
    if e.change is not None and abs(e.not_shown) > 1e-12:
        print(f"  {'groups not shown, together':<36} {format_delta(metric, e.not_shown):>12}")


def add_parser(sub, common, db, figures) -> None:
    p = sub.add_parser("spc", parents=[common, db, figures], help="a metric's series as an SPC chart",
                       description="An XmR chart (NHS England's Making Data Count): points, process limits, special "
                       "causes and whether the target will be met, as the user sees the figures.")
    p.add_argument("metric", help="metric key (see `list`)")
    p.add_argument("--grain", default="month", choices=("day", "week", "month", "quarter", "year"),
                   help="bucket size (default: month); the period defaults to all the data")
    p.add_argument("--change-point", action="append", metavar="DATE",
                   help="a day from which the limits are re-calculated (repeatable)")
    p.add_argument("--baseline", type=int, metavar="N", help="compute each stretch's limits from its first N points")
    x = sub.add_parser("explain", parents=[common, db, figures], help="what moved a figure, group by group",
                       description="A figure's change against the previous period split by the groups below the scope: "
                       "for a ratio each group's rate and mix effects, for a count its own change; they sum to the "
                       "change exactly. Groups the user may not see are one line.")
    x.add_argument("metric", help="metric key (see `list`)")
    x.add_argument("--by", metavar="GROUPS",
                   help="the groups: directorate, department, team, staff, or a dimension the metric's sources "
                   "declare in config.yaml (`dimensions:`, e.g. channel, category); default: one level below the scope")
