"""The command line: JSON fields, exit codes, one clear sentence for bad input."""
import json
import subprocess
import sys

import pytest

from metrics.cli.main import main

COMMANDS = ("demo", "check", "list", "value", "series", "breakdown", "goals", "staff", "chain", "benchmark",
            "export-parquet")


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = subprocess.run([sys.executable, "-m", "metrics", command, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "usage: python -m metrics" in result.stdout


def test_value_json_for_the_contact_centre(demo_db, capsys):
    code, out, err = run(capsys, "value", "grade_of_service", "--scope", "department:contact_centre",
                         "--json", "--db", demo_db)
    assert code == 0, err
    d = json.loads(out)
    for key in ("metric", "scope", "from", "to", "value", "numerator", "denominator", "target", "status", "previous"):
        assert key in d
    # The demo runs to 31 Dec 2025, so the default period is December 2025 and the previous November.
    assert (d["from"], d["to"]) == ("2025-12-01", "2025-12-31")
    assert (d["previous"]["from"], d["previous"]["to"]) == ("2025-11-01", "2025-11-30")
    assert d["scope"] == "department:contact_centre" and d["metric"] == "grade_of_service"
    assert d["value"] == pytest.approx(d["numerator"] / d["denominator"])
    assert (d["target"], d["warning"]) == (0.8, 0.7)                       # config.yaml
    expected = "on_target" if d["value"] >= 0.8 else "warning" if d["value"] >= 0.7 else "off_target"
    assert d["status"] == expected
    assert {"numerator", "denominator", "value", "status"} <= set(d["previous"])


def test_value_text_output(demo_db, capsys):
    code, out, _ = run(capsys, "value", "csat", "--db", demo_db, "--from", "2025-01-01", "--to", "2025-03-31")
    assert code == 0
    assert out.startswith("Customers satisfied (csat) — organisation, 2025-01-01 to 2025-03-31")
    assert "previous   " in out and "(2024-10-01 to 2024-12-31" in out


def test_series_months_add_up_to_the_year(demo_db, capsys):
    code, out, _ = run(capsys, "series", "calls_offered", "--grain", "month", "--from", "2025-01-01",
                       "--to", "2025-12-31", "--json", "--db", demo_db)
    rows = json.loads(out)
    assert code == 0 and len(rows) == 12
    code, out, _ = run(capsys, "value", "calls_offered", "--from", "2025-01-01", "--to", "2025-12-31",
                       "--json", "--db", demo_db)
    assert sum(r["value"] for r in rows) == json.loads(out)["value"]


POINTS = {"on_target": 1.0, "warning": 0.5, "off_target": 0.0}      # the goal rule: a warning counts half


def status_by_hand(value, target, warning, direction):
    """The inclusive threshold rule, written out again."""
    if direction == "lower_is_better":
        value, target, warning = -value, -target, None if warning is None else -warning
    return "on_target" if value >= target else "warning" if warning is not None and value >= warning else "off_target"


def score_by_hand(pairs):
    """Weighted share on target over the measures that score; None when none does."""
    scored = [(POINTS[s], w) for s, w in pairs if s in POINTS]
    return sum(p * w for p, w in scored) / sum(w for _, w in scored) if scored else None


def month_sql(demo_db, sql):
    import duckdb
    con = duckdb.connect(demo_db, read_only=True)
    try:
        return con.execute(sql, {"a": "2025-12-01", "b": "2026-01-01"}).fetchall()
    finally:
        con.close()


def test_goals_json(demo_db, config, capsys):
    code, out, _ = run(capsys, "goals", "--json", "--db", demo_db)
    goals = json.loads(out)
    assert code == 0 and [g["goal"] for g in goals] == ["promises_kept", "sorted_first_time", "easy_to_deal_with",
                                                        "local_suppliers_paid", "listen_and_act"]
    scored = 0
    for g in goals:
        goal = config.goals[g["goal"]]
        assert [(m["metric"], m["weight"]) for m in g["measures"]] == list(goal.metrics)
        for m in g["measures"]:
            metric = config.metrics[m["metric"]]
            if m["status"] in POINTS:       # a figure with a target: its status follows from value and target
                t = metric.default_target
                assert m["target"] == t.target
                assert m["status"] == status_by_hand(m["value"], t.target, t.warning, metric.direction), m
        # The score recomputed from the measures' statuses and weights, and the goal's status from the score.
        expected = score_by_hand([(m["status"], m["weight"]) for m in g["measures"]])
        if expected is None:
            assert g["score"] is None and g["status"] == "insufficient_data", g
        else:
            scored += 1
            assert g["score"] == pytest.approx(expected), (g["goal"], g["score"], expected)
            assert g["status"] == status_by_hand(expected, goal.target, goal.warning, "higher_is_better")
    assert scored >= 4          # December 2025 at scale 0.25 has enough data for most goals (not a vacuous check)
    # One goal's measures by hand-written SQL: local_suppliers_paid, December 2025, the organisation.
    local = next(g for g in goals if g["goal"] == "local_suppliers_paid")
    m = {x["metric"]: x for x in local["measures"]}
    (within, paid), = month_sql(demo_db, """
        SELECT count(*) FILTER (WHERE date_diff('day', CAST(received_at AS DATE), CAST(paid_at AS DATE)) <= terms_days),
               count(*)
        FROM invoices WHERE local_supplier AND small_business AND paid_at >= CAST($a AS TIMESTAMP)
          AND paid_at < CAST($b AS TIMESTAMP)""")
    assert m["paid_within_terms_local"]["value"] == pytest.approx(within / paid)
    (median_days,), = month_sql(demo_db, """
        SELECT median(date_diff('day', CAST(received_at AS DATE), CAST(approved_at AS DATE))) FROM invoices
        WHERE approved_at >= CAST($a AS TIMESTAMP) AND approved_at < CAST($b AS TIMESTAMP)""")
    assert m["approval_days"]["value"] == pytest.approx(median_days)


def test_goal_contributions(demo_db, config, capsys):
    code, out, _ = run(capsys, "goals", "--goal", "local_suppliers_paid", "--json", "--db", demo_db)
    rows = json.loads(out)
    goal = config.goals["local_suppliers_paid"]
    assert code == 0 and [r["department"] for r in rows] == list(goal.departments)
    # Late payments in December 2025 by hand: paid later than terms, counted in the department (a team's parent).
    late = month_sql(demo_db, """
        SELECT department_id, count(*) FROM invoices
        WHERE paid_at >= CAST($a AS TIMESTAMP) AND paid_at < CAST($b AS TIMESTAMP)
          AND date_diff('day', CAST(received_at AS DATE), CAST(paid_at AS DATE)) > terms_days GROUP BY 1""")
    per_department = {}
    for unit, n in late:
        d = config.departments[unit]
        key = d.parent if d.level == "team" else unit
        per_department[key] = per_department.get(key, 0) + n
    total = sum(per_department.values())
    assert total > 0
    for r in rows:
        assert r["misses"] == per_department.get(r["department"], 0), r["department"]
        assert r["miss_share"] == pytest.approx(per_department.get(r["department"], 0) / total)
        # Each department's score from its own measures' statuses.
        expected = score_by_hand([(r[f"{k}_status"], w) for k, w in goal.metrics])
        if expected is None:
            assert r["score"] is None, r
        else:
            assert r["score"] == pytest.approx(expected), (r["department"], r["score"], expected)
    # Finance approves and pays: it has late payments of its own (the shares are not all zero).
    assert rows[0]["department"] == "finance" and rows[0]["miss_share"] > 0


@pytest.mark.parametrize("args, sentence", [
    (["value", "grade_of_servic"], "unknown metric 'grade_of_servic'"),
    (["value", "csat", "--scope", "department:biling"], "unknown department 'biling'"),
    (["value", "csat", "--scope", "staff:S9999"], "unknown staff member 'S9999'"),
    (["value", "csat", "--scope", "teem:x"], "scope 'teem:x' is not understood"),
    (["value", "csat", "--from", "2025-02-30", "--to", "2025-03-01"], "--from '2025-02-30' is not a date"),
    (["value", "csat", "--from", "2025-03-01", "--to", "2025-02-01"], "ends (2025-02-01) before it starts"),
    (["value", "csat", "--from", "2025-03-01"], "give both --from and --to"),
    (["value", "median_days_to_pay", "--scope", "staff:S0001"], "has no figure per person"),
    (["value", "csat", "--scope", "team:contact_centre"], "'contact_centre' is a department, not a team"),
])
def test_bad_input_exits_2_with_one_sentence(demo_db, capsys, args, sentence):
    code, out, err = run(capsys, *args, "--db", demo_db)
    assert code == 2 and out == ""
    assert sentence in err and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_demo_refuses_to_overwrite(demo_db, capsys):
    code, _, err = run(capsys, "demo", "--db", demo_db)
    assert code == 2 and "already exists; pass --force" in err
    code, out, _ = run(capsys, "demo", "--db", demo_db, "--if-missing")
    from metrics.store.database import latest_version
    assert code == 0 and f"leaving its data as it is (schema version {latest_version()})" in out


def test_chain_json_has_every_part_and_text_mode_works(demo_db, capsys):
    code, out, err = run(capsys, "chain", "--json", "--db", demo_db, "--scope", "department:housing")
    assert code == 0, err
    d = json.loads(out)
    assert {"matrix", "declines", "flow_stages", "flow_links", "flow_by_department", "late", "in_words",
            "suppliers"} <= set(d)
    # The flow's referral outcomes add up to the referrals, and the late split adds up per kind.
    stages = {r["stage"]: r["count"] for r in d["flow_stages"]}
    assert stages["Referred to an officer"] == sum(stages[k] for k in ("Called back within a working day",
                                                                       "Called back later", "Not called back yet"))
    for kind in {r["kind"] for r in d["late"]}:
        rows = [r for r in d["late"] if r["kind"] == kind]
        assert sum(r["waited_longest"] for r in rows) == rows[0]["of_all"]
    code, out, err = run(capsys, "chain", "--part", "flow", "--db", demo_db)
    assert code == 0 and "== flow stages ==" in out


@pytest.mark.parametrize("args, words", [
    (("benchmark", "happiness"), "no peer figures for 'happiness'"),
    (("benchmark", "grade_of_service", "--cohort", "Martians"), "in cohort 'Martians'"),
    (("chain", "--from", "2025-02-30", "--to", "2025-03-31"), "--from"),
])
def test_chain_and_benchmark_bad_input(demo_db, capsys, args, words):
    code, out, err = run(capsys, *args, "--db", demo_db)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


def test_benchmark_json_and_text(demo_db, capsys):
    code, out, err = run(capsys, "benchmark", "abandonment_rate", "--json", "--db", demo_db)
    assert code == 0, err
    rows = json.loads(out)
    assert [r["period"] for r in rows] == ["2023", "2024", "2025"]
    assert all(r["direction"] == "lower_is_better" and r["peers"] == 30 for r in rows)
    code, out, err = run(capsys, "benchmark", "--list", "--db", demo_db)
    assert code == 0 and "Unitary" in out
