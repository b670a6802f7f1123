"""Every page × role in Streamlit's AppTest: no exception, the figures equal the command line's, and
pages outside a role cannot be reached."""
import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import app_cache
from metrics.cli.main import main
from metrics.compute.engine import Engine
from metrics.formatting import format_value
from metrics.present.personas import demo_personas
from metrics.catalogue.scope import ORGANISATION
from metrics.present import views
from tests.conftest import demo_sign_in

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("overview", "department", "my_contribution", "voice", "chain", "benchmark", "ideas", "you_said",
         "targets", "definitions", "data")
ALLOWED = {"executive": {"overview", "department", "my_contribution", "voice", "chain", "benchmark", "ideas", "you_said",
                         "targets", "definitions"},
           "head": {"overview", "department", "my_contribution", "voice", "chain", "benchmark", "ideas", "you_said",
                    "targets", "definitions"},
           "staff": {"department", "my_contribution", "voice", "chain", "ideas", "you_said", "definitions"},
           "admin": {"overview", "department", "ideas", "you_said", "targets", "definitions", "data"}}


def cli_value(capsys, db, metric, scope):
    assert main(["value", metric, "--scope", scope, "--json", "--db", db]) == 0
    return json.loads(capsys.readouterr().out)


def signed_in(role: str, db: str, config) -> tuple[AppTest, object]:
    return demo_sign_in(role, db, config)


@pytest.mark.parametrize("role", list(ALLOWED))
def test_every_allowed_page_renders(env, config, role):
    at, _ = signed_in(role, env, config)
    for page in sorted(ALLOWED[role]):
        at.switch_page(str(ROOT / f"pages/{page}.py"))
        at.run()
        assert not at.exception, (role, page, [e.message for e in at.exception])
        assert at.title, (role, page)


@pytest.mark.parametrize("role", list(ALLOWED))
def test_forbidden_pages_cannot_be_switched_to(env, config, role):
    at, _ = signed_in(role, env, config)
    for page in set(PAGES) - ALLOWED[role]:
        with pytest.raises(Exception, match="Could not find a navigation page"):
            at.switch_page(str(ROOT / f"pages/{page}.py"))


def test_overview_figures_equal_the_command_line(env, config, capsys):
    at, _ = signed_in("executive", env, config)
    shown = {m.label: m.value for m in at.metric}
    for key in ("grade_of_service", "sla_attainment", "csat"):
        d = cli_value(capsys, env, key, "org")
        assert shown[config.metrics[key].label] == format_value(config.metrics[key], d["value"])


def test_department_page_of_a_head_shows_their_department(env, config, capsys):
    at, viewer = signed_in("head", env, config)
    assert at.title[0].value == config.departments[viewer.department_id].name
    shown = {m.label: m.value for m in at.metric}
    d = cli_value(capsys, env, "first_contact_resolution", f"department:{viewer.department_id}")
    assert shown[config.metrics["first_contact_resolution"].label] == \
        format_value(config.metrics["first_contact_resolution"], d["value"])


def test_my_contribution_equals_the_command_line(env, config, capsys):
    at, viewer = signed_in("staff", env, config)
    assert at.title[0].value == "My contribution"
    table = at.dataframe[0].value
    row = table[table["Measure"] == config.metrics["first_contact_resolution"].label].iloc[0]
    mine = cli_value(capsys, env, "first_contact_resolution", f"staff:{viewer.staff_id}")
    assert row["Me"] == format_value(config.metrics["first_contact_resolution"], mine["value"])


@pytest.mark.parametrize("page", [p for p in PAGES if p != "you_said"])
def test_a_page_opened_directly_without_sign_in_shows_no_data(env, page):
    at = AppTest.from_file(str(ROOT / f"pages/{page}.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert "Please sign in" in at.warning[0].value
    assert not at.metric and not at.dataframe


def test_you_said_we_did_is_public_and_names_nobody(env, config):
    at = AppTest.from_file(str(ROOT / "pages/you_said.py"), default_timeout=60)
    at.run()
    assert not at.exception and at.title[0].value == "You said, we did"
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "We did:" in text
    eng = Engine.open(env, config)
    names = set(eng.read_store("SELECT name FROM staff")["name"]) | set(eng.read_store("SELECT email FROM staff")["email"])
    assert not [n for n in names if n in text]
    implemented = eng.read_store("SELECT count(*) FROM suggestions WHERE status = 'implemented' AND implemented_at IS NOT "
                            "NULL").iloc[0, 0]
    assert text.count("We did:") == min(20, implemented)


def test_signed_out_dashboard_shows_only_sign_in(env):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    assert not at.exception and at.subheader[0].value == "Sign in" and not at.metric


def test_missing_database_is_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("CX_DB", str(tmp_path / "none.duckdb"))
    app_cache.engine.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    assert not at.exception and "no database at" in at.error[0].value


def test_a_write_changes_the_data_version_that_keys_the_cache(env, config):
    """A load moves the data version and the cached page figures are computed again from the new data: a stale
    cache (figures kept from before the load) fails here, because the load changes a headline figure."""
    eng = app_cache.engine()
    before = eng.data_version()
    viewer = demo_personas(eng)[0].viewer
    period = eng.default_period()
    keys = ("grade_of_service", "calls_offered")
    first = {r.metric: r for r in app_cache.view(views.cards, viewer, ORGANISATION, period, keys)}
    # The load: 500 phone calls answered in 1 second on the period's last day, recorded as batch 1 (what a load
    # does: its rows and its load_batches row in one go).
    ids = [f"stale-cache-{i}" for i in range(500)]
    eng.con.execute("BEGIN TRANSACTION")
    eng.con.execute("""INSERT INTO contacts (contact_id, channel, received_at, answered_at, abandoned, wait_seconds,
                                             department_id, resolved_first_contact, referred)
                       SELECT unnest($ids), 'phone', $at, $at + INTERVAL 1 SECOND, false, 1.0, 'cc_phones', true, false""",
                    {"ids": ids, "at": dt.datetime.combine(period.end, dt.time(12, 0))})
    eng.con.execute("INSERT INTO load_batches (batch_id, table_name, file_name, checksum, rows, loaded_at, loaded_by, "
                    "status) VALUES (1, 'contacts', 'x.csv', 'abc', 500, now(), 'test', 'loaded')")
    eng.con.execute("COMMIT")
    try:
        assert eng.data_version() != before
        again = {r.metric: r for r in app_cache.view(views.cards, viewer, ORGANISATION, period, keys)}
        # 500 more calls offered; 500 more answered within 20 s on both sides of grade_of_service.
        assert again["calls_offered"].value == first["calls_offered"].value + 500
        assert (again["grade_of_service"].numerator, again["grade_of_service"].denominator) == \
            (first["grade_of_service"].numerator + 500, first["grade_of_service"].denominator + 500)
        assert again["grade_of_service"].value == pytest.approx(
            (first["grade_of_service"].numerator + 500) / (first["grade_of_service"].denominator + 500))
    finally:
        eng.con.execute("DELETE FROM contacts WHERE contact_id LIKE 'stale-cache-%'")
        eng.con.execute("DELETE FROM load_batches WHERE batch_id = 1")
    # Back to the data as it was: a new version again, and the first figures again.
    restored = {r.metric: r for r in app_cache.view(views.cards, viewer, ORGANISATION, period, keys)}
    assert restored["calls_offered"].value == first["calls_offered"].value


def test_forms_show_one_clear_sentence_and_write_nothing(env, config):
    at, viewer = signed_in("head", env, config)
    at.switch_page(str(ROOT / "pages/voice.py"))
    at.run()
    eng = Engine.open(env, config)
    audit_before = eng.read_store("SELECT count(*) AS n FROM audit_log").iloc[0, 0]
    at.button(key="FormSubmitter:follow-" + at.selectbox(key="case-pick").value + "-Record follow-up").click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["What you told the customer is empty: write a few words (at most 1000 characters)"]
    at.switch_page(str(ROOT / "pages/my_contribution.py"))
    at.run()
    form = [t for t in at.text_area if t.label == "Message"][0]
    form.set_value("<script>alert('x')</script>")
    [s for s in at.selectbox if s.label == "Colleague"][0].set_value(
        eng.read_store("SELECT staff_id FROM staff WHERE active AND staff_id <> $me LIMIT 1", {"me": viewer.staff_id}).iloc[0, 0])
    [b for b in at.button if b.label == "Send thanks"][0].click()
    at.run()
    assert not at.exception
    assert any("Message contains markup" in e.value for e in at.error)
    assert eng.read_store("SELECT count(*) AS n FROM audit_log").iloc[0, 0] == audit_before


def frames_by_columns(at) -> list:
    return [d.value for d in at.dataframe]


def test_chain_page_figures_equal_the_command_line(env, config, capsys):
    at, _ = signed_in("executive", env, config)
    at.switch_page(str(ROOT / "pages/chain.py"))
    at.run()
    assert not at.exception
    assert main(["chain", "--json", "--db", env]) == 0
    cli = json.loads(capsys.readouterr().out)
    frames = frames_by_columns(at)
    stages = next(f for f in frames if "Stage" in f.columns)
    assert dict(zip(stages["Stage"], stages["Customers"])) == {r["stage"]: r["count"] for r in cli["flow_stages"]}
    by_dept = next(f for f in frames if "Called back in a working day" in f.columns)
    assert sorted(by_dept["Referred"]) == sorted(r["referred"] for r in cli["flow_by_department"])
    late = next(f for f in frames if "Waited longest there" in f.columns)
    assert sorted(zip(late["Late outcome"], late["Waited longest there"])) == \
        sorted((r["kind"], r["waited_longest"]) for r in cli["late"])
    words = [i.value for i in at.info if "late outcomes customers felt" in i.value]
    assert main(["chain", "--json", "--db", env, "--part", "late", "--scope", "department:contact_centre"]) == 0
    assert words == [json.loads(capsys.readouterr().out)["in_words"]]
    sup = next(f for f in frames if "Invoices paid" in f.columns)
    assert sorted(sup["Invoices paid"]) == sorted(r["invoices_paid"] for r in cli["suppliers"])


def test_benchmark_page_figures_equal_the_command_line(env, config, capsys):
    at, _ = signed_in("head", env, config)
    at.switch_page(str(ROOT / "pages/benchmark.py"))
    at.run()
    assert not at.exception
    metric = at.selectbox(key="bm-metric").value
    assert main(["benchmark", metric, "--json", "--db", env, "--source", "Synthetic peer benchmark"]) == 0
    cli = json.loads(capsys.readouterr().out)
    shown = next(f for f in frames_by_columns(at) if "Percentile rank" in f.columns)
    assert list(shown["Period"]) == [r["period"] for r in cli]
    assert list(shown["Percentile rank"]) == [f"{r['percentile_rank']:.0f}" for r in cli]
    assert list(shown["Peers"]) == [r["peers"] for r in cli]
