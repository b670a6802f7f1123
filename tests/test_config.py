"""config.yaml validation: every mistake reported at once, with its key path and a hint."""
import copy

import pytest
import yaml

from metrics.cli.main import main
from metrics.catalogue.parse import load_config, parse_config
from metrics.errors import ConfigError
from metrics.compute.sqlcheck import check_sql


@pytest.fixture(scope="module")
def raw():
    with open("config.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_shipped_config_is_valid():
    config = load_config("config.yaml")
    check_sql(config)
    levels = [d.level for d in config.departments.values()]
    assert levels.count("directorate") == 3 and levels.count("department") == 12
    assert {"contact_centre", "it", "communications", "finance"} <= set(config.departments)
    assert len(config.goals) == 5


def five_mistakes(raw):
    bad = copy.deepcopy(raw)
    bad["metrics"]["grade_of_service"]["drection"] = "higher_is_better"                      # 1 unknown key
    bad["metrics"]["sla_attainment"]["targets"]["by_department"]["biling"] = {"target": 0.9}  # 2 unknown department
    bad["metrics"]["csat"]["numerator"]["source"] = "survey"                                  # 3 unknown source
    bad["metrics"]["median_days_to_pay"]["agg"] = "mean"                                      # 4 agg not in the list
    bad["goals"]["promises_kept"]["metrics"]["sla_attainmnt"] = 0.4                           # 5 unknown goal metric
    return bad


def test_five_mistakes_reported_together_with_key_paths(raw):
    with pytest.raises(ConfigError) as info:
        parse_config(five_mistakes(raw))
    errors = info.value.errors
    paths = [e.split(":")[0] for e in errors]
    assert paths == ["metrics.grade_of_service.drection",
                     "metrics.sla_attainment.targets.by_department.biling",
                     "metrics.csat.numerator.source",
                     "metrics.median_days_to_pay.agg",
                     "goals.promises_kept.metrics.sla_attainmnt"]
    assert "allowed:" in errors[0] and "direction" in errors[0]
    assert "known:" in errors[1]
    assert "'mean' is not one of count, count_distinct, sum, avg, min, max, median, quantile" in errors[3]


def test_check_command_prints_all_five_and_exits_2(raw, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(five_mistakes(raw)), encoding="utf-8")
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "5 errors" in err
    assert err.count("\n  - ") == 5
    assert "metrics.sla_attainment.targets.by_department.biling: unknown department" in err


def test_check_command_ok_summary(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out.strip()
    import yaml
    n = len(yaml.safe_load(open("config.yaml", encoding="utf-8"))["metrics"])     # counted from the raw YAML
    assert out.startswith("config.yaml: OK") and f"{n} metrics" in out and len(out.splitlines()) == 1


@pytest.mark.parametrize("mutate, path, words", [
    (lambda c: c["metrics"]["grade_of_service"]["numerator"].update(filter="NOT abandoned AND wait_secs <= 20"),
     "metrics.grade_of_service", "wait_secs"),
    (lambda c: c["sources"]["contacts"].update(time="recieved_at"), "sources.contacts.time", "recieved_at"),
    (lambda c: c["sources"]["invoices"]["case"].update(closed="payed_at"), "sources.invoices.case.closed", "payed_at"),
])
def test_sql_level_mistakes_name_the_metric_or_source(raw, mutate, path, words):
    bad = copy.deepcopy(raw)
    mutate(bad)
    with pytest.raises(ConfigError) as info:
        check_sql(parse_config(bad))
    assert any(e.startswith(path) and words in e for e in info.value.errors), info.value.errors


@pytest.mark.parametrize("mutate, expected", [
    (lambda c: c["metrics"]["csat"]["targets"]["default"].update(warning=0.9),
     "metrics.csat.targets.default.warning: 0.9 is above the target 0.8"),
    (lambda c: c["metrics"]["abandonment_rate"]["targets"]["default"].update(warning=0.01),
     "metrics.abandonment_rate.targets.default.warning: 0.01 is below the target 0.05"),
    (lambda c: c["metrics"]["grade_of_service"]["numerator"].update(filter="wait_seconds <= {answer_within}"),
     "metrics.grade_of_service.numerator.filter: unknown placeholder {answer_within}"),
    (lambda c: c["metrics"]["calls_offered"].update(filter="received_at < {period_end}"),
     "metrics.calls_offered.filter: unknown placeholder {period_end}; only at_period_end metrics"),
    (lambda c: c["organisation"].update(holidays=["2024-13-01"]), "organisation.holidays[0]"),
    (lambda c: c["organisation"].update(time_zone="Europe/Londn"), "organisation.time_zone"),
    (lambda c: c["organisation"].update(periods_from=["contacts", "request"]),
     "organisation.periods_from: 'request' is not a source"),
    (lambda c: c["departments"][0]["children"][0]["children"][0].update(children=[{"key": "x", "name": "X"}]),
     "departments[0].children[0].children[0].children: teams cannot have children"),
    (lambda c: c["metrics"]["p90_resolution_hours"].pop("quantile"), "metrics.p90_resolution_hours.quantile"),
    (lambda c: c["metrics"]["nps"]["numerator"].update(agg="median"), "metrics.nps.numerator.agg"),
    (lambda c: c["goals"]["promises_kept"]["metrics"].update(sla_attainment=-1), "weights must be positive"),
    # Failure demand: a reason's class, the no-reason rule, a class's flag, the chain's failure-demand figures.
    (lambda c: c["demand"]["reasons"].update(progress_chase="chaseing"),
     "demand.reasons.progress_chase: 'chaseing' is not one of the demand classes (value, chasing,"),
    (lambda c: c["demand"]["no_reason"].update(waiting="waiting"), "demand.no_reason.waiting: 'waiting' is not one"),
    (lambda c: c["demand"]["classes"]["chasing"].update(failure="yes"),
     "demand.classes.chasing.failure: expected true (failure demand) or false (value demand)"),
    (lambda c: c["demand"].update(window_days=0), "demand.window_days"),
    (lambda c: c["chain"]["failure_demand"].update(share="failure_demand_caused"),
     "chain.failure_demand.share: failure_demand_caused is not a ratio"),
    (lambda c: c["chain"]["failure_demand"].update(caused="failure_demand_share"),
     "chain.failure_demand.caused: failure_demand_share is not a count of a source naming a `department`"),
    (lambda c: c["chain"]["failure_demand"].pop("cost"), "chain.failure_demand.cost: required key is missing"),
])
def test_single_mistakes(raw, mutate, expected):
    bad = copy.deepcopy(raw)
    mutate(bad)
    with pytest.raises(ConfigError) as info:
        parse_config(bad)
    assert any(expected in e for e in info.value.errors), info.value.errors


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("organisation:\n  name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+ is not valid YAML"):
        load_config(path)


def test_missing_file():
    with pytest.raises(ConfigError, match="config file not found"):
        load_config("no-such-config.yaml")


def test_every_metric_is_documented():
    """Docs test: every metric has a label, a description and an owner department."""
    config = load_config("config.yaml")
    for m in config.metrics.values():
        assert m.label and m.description and m.owner in config.departments, m.key


def test_every_config_key_is_in_the_readme():
    """Docs test: every key the config reader accepts is explained in README.md."""
    from metrics.catalogue import metric_defs as cfg
    readme = open("README.md", encoding="utf-8").read()
    keys = set(cfg._METRIC_KEYS) | set(cfg._MEASURE_KEYS)
    keys |= {"organisation", "database", "departments", "sources", "metrics", "goals", "name", "time_zone",
             "country", "subdivision", "business_days", "holidays", "path", "key", "front_line", "children",
             "table", "time", "department", "staff", "filter", "dimensions", "derived", "target", "warning",
             "default", "by_department", "misses", "privacy", "min_group_size", "auth", "mode",
             "session_idle_minutes", "anonymous", "periods_from"}
    missing = sorted(k for k in keys if f"`{k}`" not in readme)
    assert not missing, f"keys not documented in README.md: {missing}"
