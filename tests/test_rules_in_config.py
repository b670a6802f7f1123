"""Rules that live once, in config.yaml: changing the config changes the behaviour, and a typo is one sentence.

- what negative feedback (a case) and praise are: the feedback source's derived `negative` and `positive`
  columns, named by voice.feedback_source (also used by the closed-loop metrics);
- which values coded columns accept and the scales scores lie on: loader.allowed_values and loader.ranges.
"""
import datetime as dt
from pathlib import Path

import pytest

from metrics.voice import cases, praise
from metrics.access import SYSTEM
from metrics.catalogue.parse import load_config
from metrics.compute.engine import Engine
from metrics.errors import ConfigError
from metrics.ingest.loader import load_file
from metrics.compute.periods import month
from metrics.catalogue.scope import Scope
from metrics.compute.sqlcheck import check_sql
from metrics.store.database import connect
from tests.conftest import with_columns

ROOT = Path(__file__).resolve().parent.parent
MAY = month(2024, 5)
NEGATIVE = "      negative: \"kind = 'complaint' OR coalesce(csat <= 2, false) OR coalesce(nps <= 6, false)\"\n"
POSITIVE = "      positive: \"kind = 'compliment' OR coalesce(csat >= 4, false) OR coalesce(nps >= 9, false)\"\n"
CHANNELS = "    contacts: {channel: [phone, email, web, counter, social]}\n"


def edited(tmp_path, old: str, new: str):
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return load_config(path)


def fixture_engine(config) -> Engine:
    con = connect(":memory:", config, create=True)
    con.execute(with_columns(con, (ROOT / "tests" / "fixture.sql").read_text(encoding="utf-8")))
    return Engine(con, config)


def test_the_negative_rule_in_config_decides_what_is_a_case(tmp_path, config):
    """The fixture's cases, every time: complaints F6 F7 F8 F9 F10 and the low scores F3 (CSAT 2, NPS 3),
    F4 (NPS 6), F5 (CSAT 1) and the colleague's survey F14 (CSAT 2). With the rule narrowed to complaints, only
    the five complaints are cases."""
    at = dt.datetime(2024, 6, 1)
    ids = set(cases.inbox(fixture_engine(config), SYSTEM, "customer_digital", "all", at)["case_id"]) | set(
        cases.inbox(fixture_engine(config), SYSTEM, "place", "all", at)["case_id"])
    assert ids == {"F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F14"}
    narrow = edited(tmp_path, NEGATIVE, "      negative: \"kind = 'complaint'\"\n")
    eng = fixture_engine(narrow)
    ids = set(cases.inbox(eng, SYSTEM, "customer_digital", "all", at)["case_id"]) | set(
        cases.inbox(eng, SYSTEM, "place", "all", at)["case_id"])
    assert ids == {"F6", "F7", "F8", "F9", "F10"}


def test_the_positive_rule_in_config_decides_what_is_praise(tmp_path, config):
    """Praise about Ann (S1) in May with words: compliment F11 'Thanks Ann' and survey F1 'Great' (CSAT 5).
    With praise narrowed to compliments, F1 is no longer praise."""
    assert set(praise.praise(fixture_engine(config), SYSTEM, Scope("staff", "S1"), MAY)["feedback_id"]) == {"F1", "F11"}
    narrow = edited(tmp_path, POSITIVE, "      positive: \"kind = 'compliment'\"\n")
    assert set(praise.praise(fixture_engine(narrow), SYSTEM, Scope("staff", "S1"), MAY)["feedback_id"]) == {"F11"}


CONTACT = ("contact_id,channel,received_at,answered_at,abandoned,wait_seconds,department_id,staff_id,"
           "resolved_first_contact,request_id,referred,customer_id\n"
           "A1,app,2024-05-02 09:00:00,2024-05-02 09:00:05,false,5,cc_digital,,true,,false,P1\n")


def test_a_new_channel_is_accepted_once_config_lists_it(tmp_path, config):
    path = tmp_path / "app.csv"
    path.write_text(CONTACT, encoding="utf-8")
    refused = load_file(fixture_engine(config).con, config, "contacts", path, report_dir=tmp_path)
    assert not refused.ok
    assert refused.problems[["column", "value", "reason"]].values.tolist() == [
        ["channel", "app", "not one of phone, email, web, counter, social"]]
    wider = edited(tmp_path, CHANNELS, "    contacts: {channel: [phone, email, web, counter, social, app]}\n")
    eng = fixture_engine(wider)
    assert load_file(eng.con, wider, "contacts", path, report_dir=tmp_path).ok
    assert eng.read_store("SELECT channel FROM contacts WHERE contact_id = 'A1'").iloc[0, 0] == "app"


def test_a_score_outside_the_configured_scale_is_reported(tmp_path, config):
    narrow = edited(tmp_path, "feedback: {csat: [1, 5],", "feedback: {csat: [1, 4],")
    assert narrow.ranges[("feedback", "csat")] == (1, 4) and config.ranges[("feedback", "csat")] == (1, 5)


@pytest.mark.parametrize("old, new, words", [
    ("  feedback_source: feedback ", "  feedback_source: feedbak ", ("voice.feedback_source", "'feedbak'", "sources")),
    (POSITIVE, "", ("sources.feedback.derived.positive", "required by voice.feedback_source")),
    (CHANNELS, "    contacts: {channel: phone}\n", ("loader.allowed_values.contacts.channel", "non-empty list")),
    ("feedback: {csat: [1, 5],", "feedback: {csat: [5, 1],", ("loader.ranges.feedback.csat", "[lowest, highest]")),
])
def test_a_typo_in_a_rule_is_one_sentence_at_start_up(tmp_path, old, new, words):
    with pytest.raises(ConfigError) as exc:
        edited(tmp_path, old, new)
    assert any(all(w in e for w in words) for e in exc.value.errors), exc.value.errors


def test_a_rule_for_a_column_the_schema_lacks_is_found_at_start_up(tmp_path):
    typo = edited(tmp_path, CHANNELS, "    contacts: {chanel: [phone, email]}\n")
    with pytest.raises(ConfigError) as exc:
        check_sql(typo)
    assert any(e.startswith("loader.allowed_values.contacts.chanel: the schema has no such column") and "channel" in e
               for e in exc.value.errors), exc.value.errors


def test_the_case_follow_up_window_is_the_follow_up_metrics_parameter(config, tmp_path):
    """One number: cases are due after the business_days of the metric voice.follow_up_metric names."""
    import yaml
    from metrics.catalogue.parse import parse_config
    raw = yaml.safe_load(open("config.yaml", encoding="utf-8"))
    assert config.voice.follow_up_days == raw["metrics"][raw["voice"]["follow_up_metric"]]["params"]["business_days"]
    raw["metrics"][raw["voice"]["follow_up_metric"]]["params"]["business_days"] = 3
    assert parse_config(raw).voice.follow_up_days == 3
    raw["voice"]["follow_up_metric"] = "closed_loop_rat"
    with pytest.raises(ConfigError) as e:
        parse_config(raw)
    assert "voice.follow_up_metric: 'closed_loop_rat' is not a key of `metrics`" in e.value.errors


def test_an_organisation_changes_what_its_overview_leads_with_in_config(app_db, config, tmp_path, monkeypatch):
    """pages.overview.headline decides the Overview's cards: two other metrics in config, no code → exactly
    those two cards, in that order (labels from the catalogue)."""
    import yaml

    import app_cache
    from tests.conftest import demo_sign_in
    raw = yaml.safe_load(open("config.yaml", encoding="utf-8"))
    raw["pages"]["overview"]["headline"] = ["complaints_per_1000_contacts", "abandonment_rate"]
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("CX_CONFIG", str(cfg))
    monkeypatch.setenv("CX_DB", app_db)
    app_cache.engine.clear()
    try:
        at, _ = demo_sign_in("executive", app_db, config)
        labels = [m.label for m in at.metric]
        assert labels[:2] == [raw["metrics"]["complaints_per_1000_contacts"]["label"],
                              raw["metrics"]["abandonment_rate"]["label"]]
        assert raw["metrics"]["grade_of_service"]["label"] not in labels
    finally:
        app_cache.engine.clear()


@pytest.mark.parametrize("mutate, sentence", [
    (lambda raw: raw["pages"]["overview"].update(headline=["csat", "cast"]),
     "pages.overview.headline[1]: unknown metric 'cast'"),
    (lambda raw: raw["pages"]["voice"].pop("headline"), "pages.voice.headline: required key is missing"),
    (lambda raw: raw["pages"].update(overveiw={"headline": []}), "pages.overveiw: unknown key"),
    (lambda raw: raw.pop("pages"), "(top level).pages: required key is missing"),
])
def test_a_mistake_in_pages_names_the_place(mutate, sentence):
    import yaml
    from metrics.catalogue.parse import parse_config
    raw = yaml.safe_load(open("config.yaml", encoding="utf-8"))
    mutate(raw)
    with pytest.raises(ConfigError) as e:
        parse_config(raw)
    assert any(err.startswith(sentence) for err in e.value.errors), e.value.errors
