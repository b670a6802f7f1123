"""The commands that print figures: list, value, series, breakdown, goals, staff, chain, benchmark."""
from __future__ import annotations

from metrics.catalogue.definitions import Config
from metrics.catalogue.scope import parse_scope
from metrics.cli.common import open_engine, period, print_json, records, viewer
from metrics.compute.target_status import status_text
from metrics.errors import MetricsError
from metrics.features import chain, demand, peers
from metrics.features.goals import contributions, goal_results
from metrics.formatting import direction_words, format_delta, format_figure, format_percent, format_value, is_missing


def cmd_list(args, config: Config) -> None:
    rows = [{"metric": m.key, "label": m.label, "type": m.kind, "direction": m.direction, "format": m.format,
             "owner": m.owner, "target": m.default_target.target if m.default_target else None,
             "description": m.description} for m in config.metrics.values()]
    if args.json:
        return print_json(rows)
    width = max(len(r["metric"]) for r in rows)
    for r, m in zip(rows, config.metrics.values()):
        target = f"  target {format_value(m, r['target'])}" if r["target"] is not None else ""
        print(f"{r['metric']:<{width}}  {r['label']}{target}\n{'':<{width}}  {r['description']}")


def cmd_value(args, config: Config) -> None:
    engine = open_engine(args, config)
    result = engine.value(viewer(args, engine), args.metric, parse_scope(args.scope, config), period(args, engine))
    if args.json:
        return print_json(result.to_dict())
    m = engine.metric(args.metric)
    print(f"{m.label} ({m.key}) — {result.scope}, {result.start} to {result.end}")
    parts = f"  ({result.numerator:,.0f} / {result.denominator:,.0f})" if m.type == "ratio" and result.denominator is not None else ""
    print(f"  value      {result.formatted}{parts}")
    if result.target is not None:
        warn = f", warning {format_value(m, result.warning)}" if result.warning is not None else ""
        print(f"  target     {format_value(m, result.target)}{warn}")
    print(f"  status     {status_text(result.status)}")
    for name, fig in (("previous", result.previous), ("last year", result.last_year)):
        change = None if fig.value is None or result.value is None else result.value - fig.value
        print(f"  {name:<10} {format_value(m, fig.value)}  ({fig.start} to {fig.end}; change {format_delta(m, change)})")


def _table(engine, metric_key: str, df, first: str) -> None:
    m = engine.metric(metric_key)
    for _, r in df.iterrows():
        print(f"{str(r[first]):<34} {format_value(m, r['value']):>16}  "
              f"{status_text(r['status'])}")


def _cmd_frame(args, config: Config, first: str) -> None:
    """series and breakdown: a DataFrame of figures, as JSON or a table."""
    engine = open_engine(args, config)
    scope, span = parse_scope(args.scope, config), period(args, engine)
    if args.command == "series":
        df = engine.series(viewer(args, engine), args.metric, scope, span, args.grain)
    else:
        df = engine.breakdown(viewer(args, engine), args.metric, scope, span, args.by)
    if args.json:
        return print_json(records(df))
    _table(engine, args.metric, df, first)


def cmd_series(args, config: Config) -> None:
    _cmd_frame(args, config, "bucket")


def cmd_breakdown(args, config: Config) -> None:
    _cmd_frame(args, config, "name")


def cmd_goals(args, config: Config) -> None:
    engine = open_engine(args, config)
    span = period(args, engine)
    if args.goal:
        df = contributions(engine, viewer(args, engine), args.goal, span)
        if args.json:
            return print_json(records(df))
        for _, r in df.iterrows():
            share = format_percent(r["miss_share"])
            sc = format_percent(r["score"], unit="")
            print(f"{r['name']:<34} score {sc:>4}  {status_text(r['status']):<18} misses {r['misses']:>6,.0f} ({share})")
        return
    results = goal_results(engine, viewer(args, engine), parse_scope(args.scope, config), span)
    if args.json:
        return print_json([g.to_dict() for g in results])
    for g in results:
        sc = format_percent(g.score, unit="/100")
        print(f"{g.label} — score {sc}  {status_text(g.status)}")
        for m in g.measures:
            print(f"    {m.label:<52} {m.formatted:>12}  {status_text(m.status)}")


def cmd_staff(args, config: Config) -> None:
    engine = open_engine(args, config)
    df = engine.read_store("SELECT staff_id, name, department_id, manager_id, active FROM staff ORDER BY staff_id")
    if args.department:
        df = df[df.department_id.isin(parse_scope(f"department:{args.department}", config) and
                                       config.descendants(args.department))]
    print(df.to_string(index=False, na_rep="–"))


def cmd_chain(args, config: Config) -> None:
    engine = open_engine(args, config)
    span, who = period(args, engine), viewer(args, engine)
    parts = ("matrix", "declines", "flow", "late", "suppliers", "failure") if args.part == "all" else (args.part,)
    out: dict = {"from": span.start.isoformat(), "to": span.end.isoformat()}
    if "matrix" in parts:
        out["matrix"] = chain.internal_matrix(engine, who, span)
    if "declines" in parts:
        out["declines"] = chain.decline_reasons(engine, who, span)
    if "flow" in parts:
        flow = chain.referral_flow(engine, who, span)
        out.update(flow_stages=flow["stages"], flow_links=flow["links"], flow_by_department=flow["by_department"])
    if "late" in parts:
        out["late"] = chain.attribution(engine, who, span)
        scope = parse_scope(args.scope, config)
        if scope.is_unit:
            out["in_words"] = chain.in_words(engine, who, scope.key, span)
    if "suppliers" in parts:
        out["suppliers"] = chain.supplier_payments(engine, who, span)
    if "failure" in parts and demand.enabled(engine):
        s = demand.summary(engine, who, span)
        out["failure_demand"] = s["by_department"].assign(share=s["by_department"]["contacts"] / max(s["contacts"], 1))
        out["failure_demand_words"] = demand.in_words(engine, s, span)
        out["failure_demand_unattributed"] = s["unattributed"]
        scope = parse_scope(args.scope, config)
        if scope.is_unit:
            out["failure_demand_in_words"] = demand.unit_words(engine, who, scope.key, span)
    if args.json:
        return print_json({k: records(v) if hasattr(v, "to_json") else v for k, v in out.items()})
    print(f"The chain, {span}")
    for key, value in out.items():
        if key in ("from", "to"):
            continue
        print(f"\n== {key.replace('_', ' ')} ==")
        print(value if isinstance(value, (str, int)) else (value.to_string(index=False) if len(value) else "(none)"))


def cmd_benchmark(args, config: Config) -> None:
    engine = open_engine(args, config)
    who = viewer(args, engine)
    if args.list or not args.measure:
        df = peers.cohorts(engine, who)
        return print_json(records(df)) if args.json else print(df.to_string(index=False))
    df = peers.benchmark(engine, who, args.measure, args.source, args.cohort)
    if df.empty:
        raise MetricsError(f"no peer figures for {args.measure!r}" + (f" in cohort {args.cohort!r}" if args.cohort else "")
                           + "; `python -m metrics benchmark --list` shows the publications and cohorts")
    if args.json:
        return print_json(records(df))
    metric = config.metrics.get(args.measure)
    fmt = (lambda v: format_figure(metric, v))
    direction = df["direction"].iloc[0]
    print(f"{metric.label if metric else args.measure} — {args.cohort or 'all peers'}"
          f" ({direction_words(direction)})")
    for r in df.itertuples():
        rank = "–" if is_missing(r.percentile_rank) else f"{r.percentile_rank:.0f}th percentile, quartile {r.quartile}"
        print(f"  {r.period:<8} peers {r.peers:>3}  Q1 {fmt(r.q1):>10}  median {fmt(r.median):>10}  Q3 {fmt(r.q3):>10}"
              f"  ours {fmt(r.ours):>10} ({r.ours_from or 'none'})  {rank}")
