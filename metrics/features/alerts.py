"""Alerts: a person's rules on a metric and a scope, evaluated after each load and by the scheduled run.

A rule fires when, for the period of its grain holding the day evaluated (this month so far, say):
- `threshold`: the figure so far is above (or below) a value;
- `off_target`: the figure so far is off target (the status rule, metrics.compute.target_status);
- `projected_miss`: a straight-line projection to the period's end misses the target in force. The projection
  assumes the rest of the period goes at the pace so far: a count or a sum grows in proportion to the days
  (12 complaints in 18 of 30 days → 20), while a share, a ratio, an average or a median stays what it is so far
  (70 % so far → 70 %). The alert says so in its words.
Every rule is evaluated as its owner sees the figures (metrics.access, suppression of small groups): a rule on a
scope its owner may no longer see does not fire. A rule fires at most once within config's `alerts.quiet_hours`
of its last alert, and not while that alert is snoozed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from metrics.access import Viewer
from metrics.catalogue.definitions import Metric
from metrics.catalogue.scope import Scope, parse_scope
from metrics.compute import target_status
from metrics.compute.engine import Engine
from metrics.compute.periods import Period, bucket_start
from metrics.errors import AccessDenied, MetricsError
from metrics.formatting import format_date, format_value
from metrics.features import outbox, owners
from metrics.store import writes

KINDS = ("threshold", "off_target", "projected_miss")
CROSSES = ("above", "below")
GRAINS = ("month", "quarter", "year")
_GROWS = ("count", "sum", "count_distinct")        # aggregations that grow with the days in the period


@dataclass(frozen=True)
class Rule:
    rule_id: str
    user_id: str
    metric_key: str
    scope: Scope
    kind: str
    threshold: float | None
    crosses: str | None
    grain: str


def add_rule(eng, viewer: Viewer, metric_key: str, scope_text: str, kind: str, threshold: float | None = None,
             crosses: str | None = None, grain: str = "month", at: dt.datetime | None = None) -> str:
    """A new rule for the viewer (audited); MetricsError with one sentence, and nothing written, for an unknown metric
    or scope, a scope they may not see, or a rule that is not whole."""
    metric = eng.metric(metric_key)
    scope = parse_scope(scope_text, eng.config)
    eng.authorize(viewer, scope, records=False)
    if kind not in KINDS:
        raise MetricsError(f"alert kind {kind!r} is not one of {', '.join(KINDS)}")
    if grain not in GRAINS:
        raise MetricsError(f"alert period {grain!r} is not one of {', '.join(GRAINS)}")
    if kind == "threshold":
        if threshold is None or crosses not in CROSSES:
            raise MetricsError("a threshold alert needs a value and whether it fires above or below it "
                               f"(e.g. {metric.key} below 0.8)")
    elif threshold is not None or crosses is not None:
        raise MetricsError(f"a {kind} alert takes no threshold: it uses the target in force")
    at = at or writes.now(eng.config)
    if kind != "threshold":
        today = at.date()
        if eng.target(metric, eng.target_department(scope, today), Period(today, today)) is None:
            raise MetricsError(f"{metric.label} has no target for {scope}, so it cannot be off target or miss one; "
                               "alert when it crosses a value instead")
    rule_id = writes.new_id("AR")
    with writes.transaction(eng.con, viewer) as cur:
        cur.execute("INSERT INTO alert_rules (rule_id, user_id, role, department_id, staff_id, metric_key, scope_kind, "
                    "scope_key, kind, threshold, crosses, grain, created_at) VALUES ($r, $u, $role, $d, $st, $m, $k, "
                    "$s, $kind, $t, $c, $g, $at)",
                    {"r": rule_id, "u": viewer.user, "role": viewer.role, "d": viewer.department_id,
                     "st": viewer.staff_id, "m": metric.key, "k": scope.kind, "s": scope.key,
                     "kind": kind, "t": threshold, "c": crosses, "g": grain, "at": at})
        writes.audit(cur, viewer, at, "alert_rule.add", "alert_rules", rule_id,
                     {"metric": [None, metric.key], "scope": [None, str(scope)], "kind": [None, kind],
                      "threshold": [None, threshold], "crosses": [None, crosses], "grain": [None, grain]})
    return rule_id


def projected(metric: Metric, value: float | None, so_far: Period, whole: Period) -> float | None:
    """The value at the end of `whole` if the rest of it goes at the pace of `so_far` (see the module docstring)."""
    if value is None:
        return None
    measure = metric.measure if metric.type == "simple" else None
    if measure is not None and measure.agg in _GROWS and measure.at_period_end is None:
        gone = (so_far.end - so_far.start).days + 1
        return value * ((whole.end - whole.start).days + 1) / gone
    return value


def _misses(metric: Metric, value: float | None, target: float | None) -> bool:
    if value is None or target is None:
        return False
    return value < target if metric.direction == "higher_is_better" else value > target


def _rules(cur, demo: bool) -> list[tuple[Rule, Viewer]]:
    """Active rules, each with its owner as a Viewer: the owner's account as it is now (an inactive or removed account's
    rules are not evaluated) — or, with demo sign-in, where people have no accounts, the persona that made it."""
    rows = cur.execute(f"""SELECT r.rule_id, r.user_id, r.metric_key, r.scope_kind, r.scope_key, r.kind, r.threshold,
                                  r.crosses, r.grain, {owners.COLUMNS.format(t='r')}
                           FROM alert_rules r {owners.JOIN.format(t='r')}
                           WHERE r.active AND {owners.CURRENT}
                           ORDER BY r.created_at, r.rule_id""", {"demo": demo}).fetchall()
    return [(Rule(r[0], r[1], r[2], Scope(r[3], r[4]), r[5], r[6], r[7], r[8]),
             Viewer(user=r[1], role=r[9], department_id=r[10], staff_id=r[11])) for r in rows]


def _quiet(cur, rule_id: str, now: dt.datetime, quiet_hours: int) -> bool:
    """Whether the rule's last alert is within the quiet time, or snoozed until after now."""
    row = cur.execute("SELECT max(fired_at), max(snoozed_until) FROM alerts WHERE rule_id = $r",
                      {"r": rule_id}).fetchone()
    last, snoozed = row
    return (last is not None and last > now - dt.timedelta(hours=quiet_hours)) or \
        (snoozed is not None and snoozed > now)


def evaluate(eng, as_of: dt.date, now: dt.datetime | None = None) -> list[dict]:
    """Evaluate every active rule on the data up to `as_of` (usually the last day loaded); record and return the
    alerts that fire (a dict per alert: its row)."""
    now = now or writes.now(eng.config)
    fired = []
    with eng.cursor() as cur:
        rules = _rules(cur, eng.config.auth_mode == "demo")
    for rule, owner in rules:
        start = bucket_start(as_of, rule.grain)
        whole = Period(start, bucket_start(as_of, rule.grain, following=True) - dt.timedelta(days=1))
        so_far = Period(start, as_of)
        try:
            metric = eng.metric(rule.metric_key)
            fig = eng.figure(owner, rule.metric_key, rule.scope, so_far)
        except (AccessDenied, MetricsError):
            continue                       # the owner may no longer see it, or the metric left the catalogue
        target = eng.target(metric, eng.target_department(rule.scope, start), whole)
        goal = target.target if target else None
        estimate = None
        if rule.kind == "threshold":
            hit = fig.value is not None and (fig.value > rule.threshold if rule.crosses == "above"
                                             else fig.value < rule.threshold)
        elif rule.kind == "off_target":
            hit = fig.status == target_status.OFF_TARGET
        else:
            estimate = projected(metric, fig.value, so_far, whole)
            hit = fig.status not in (target_status.INSUFFICIENT, target_status.SUPPRESSED) and \
                _misses(metric, estimate, goal)
        if not hit:
            continue
        with writes.transaction(eng.con) as cur:
            if _quiet(cur, rule.rule_id, now, eng.config.alert_quiet_hours):
                continue
            row = {"alert_id": writes.new_id("AL"), "rule_id": rule.rule_id, "user_id": rule.user_id,
                   "fired_at": now, "period_start": whole.start, "period_end": whole.end, "as_of": as_of,
                   "value": fig.value, "projected": estimate, "target": goal,
                   "message": _message(eng, metric, rule, fig.value, estimate, goal, so_far, whole)}
            cur.execute("INSERT INTO alerts (alert_id, rule_id, user_id, fired_at, period_start, period_end, as_of, "
                        "value, projected, target, message) VALUES ($alert_id, $rule_id, $user_id, $fired_at, "
                        "$period_start, $period_end, $as_of, $value, $projected, $target, $message)", row)
            address = owners.address(cur, owner)
            if eng.config.mail is not None and address:
                outbox.queue(cur, eng.config, "alert", row["alert_id"], address, f"Alert: {metric.label}",
                             f"{row['message']}.\n\nYour alerts and rules: the dashboard's Alerts page.", now=now)
        fired.append(row)
    return fired


def scope_name(config, scope: Scope, own: str | None = None) -> str:
    """A rule's scope as people read it: the unit's name, the organisation's, or a person (`own` for the viewer's)."""
    if scope.is_unit:
        return config.departments[scope.key].name
    if scope.kind == "organisation":
        return config.organisation.name
    return own or f"staff member {scope.key}"


def _message(eng, metric: Metric, rule: Rule, value, estimate, goal, so_far: Period, whole: Period) -> str:
    """The alert in one sentence, saying what was measured, over which days, and against what."""
    unit = scope_name(eng.config, rule.scope)
    days = (so_far.end - so_far.start).days + 1
    total = (whole.end - whole.start).days + 1
    head = (f"{metric.label} for {unit}: {format_value(metric, value)} so far "
            f"({format_date(so_far.start)} – {format_date(so_far.end)}, {days} of {total} days)")
    if rule.kind == "threshold":
        return f"{head}, {rule.crosses} your threshold of {format_value(metric, rule.threshold)}"
    if rule.kind == "off_target":
        return f"{head}, off its target of {format_value(metric, goal)}"
    return (f"{head}; at the pace so far (a straight-line projection) {format_value(metric, estimate)} by "
            f"{format_date(whole.end)}, against a target of {format_value(metric, goal)}")


def after_load(con, config, now: dt.datetime | None = None) -> list[dict]:
    """Evaluate every rule on the data just written (live figures, DuckDB: the figure store may still be building),
    up to the last day loaded; the alerts that fired."""
    eng = Engine(con, config, engine="duckdb")
    last = eng.data_range()
    return evaluate(eng, last[1], now) if last else []


def my_rules(eng, viewer: Viewer) -> pd.DataFrame:
    """The viewer's active rules."""
    return eng.read_store("SELECT rule_id, metric_key, scope_kind, scope_key, kind, threshold, crosses, grain, "
                          "created_at FROM alert_rules WHERE user_id = $u AND active ORDER BY created_at",
                          {"u": viewer.user})


def stop_rule(eng, viewer: Viewer, rule_id: str, at: dt.datetime | None = None) -> None:
    """Stop one of the viewer's rules (audited; its alerts stay)."""
    at = at or writes.now(eng.config)
    with writes.transaction(eng.con, viewer) as cur:
        row = cur.execute("SELECT user_id FROM alert_rules WHERE rule_id = $r AND active", {"r": rule_id}).fetchone()
        if row is None or row[0] != viewer.user:
            raise MetricsError(f"no active alert rule {rule_id!r} of yours")
        cur.execute("UPDATE alert_rules SET active = false, version = version + 1 WHERE rule_id = $r", {"r": rule_id})
        writes.audit(cur, viewer, at, "alert_rule.stop", "alert_rules", rule_id, {"active": [True, False]})


def my_alerts(eng, viewer: Viewer, include_resolved: bool = False) -> pd.DataFrame:
    """The viewer's own alerts, newest first."""
    done = "" if include_resolved else " AND resolved_at IS NULL"
    return eng.read_store("SELECT alert_id, fired_at, message, snoozed_until, resolved_at FROM alerts "
                          f"WHERE user_id = $u{done} ORDER BY fired_at DESC", {"u": viewer.user})


def _own(cur, viewer: Viewer, alert_id: str):
    row = cur.execute("SELECT user_id FROM alerts WHERE alert_id = $a", {"a": alert_id}).fetchone()
    if row is None or row[0] != viewer.user:
        raise MetricsError(f"no alert {alert_id!r} of yours")


def snooze(eng, viewer: Viewer, alert_id: str, until: dt.datetime, at: dt.datetime | None = None) -> None:
    """Quiet the alert's rule until `until` (audited)."""
    at = at or writes.now(eng.config)
    if until <= at:
        raise MetricsError("snooze until a time after now")
    with writes.transaction(eng.con, viewer) as cur:
        _own(cur, viewer, alert_id)
        cur.execute("UPDATE alerts SET snoozed_until = $s, version = version + 1 WHERE alert_id = $a",
                    {"s": until, "a": alert_id})
        writes.audit(cur, viewer, at, "alert.snooze", "alerts", alert_id, {"snoozed_until": [None, until]})


def resolve(eng, viewer: Viewer, alert_id: str, at: dt.datetime | None = None) -> None:
    """Mark the alert resolved (audited); the rule fires again when it holds after the quiet time."""
    at = at or writes.now(eng.config)
    with writes.transaction(eng.con, viewer) as cur:
        _own(cur, viewer, alert_id)
        cur.execute("UPDATE alerts SET resolved_at = $t, version = version + 1 WHERE alert_id = $a",
                    {"t": at, "a": alert_id})
        writes.audit(cur, viewer, at, "alert.resolve", "alerts", alert_id, {"resolved_at": [None, at]})


