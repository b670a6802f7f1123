"""The Alerts page in Streamlit's AppTest: a head adds a rule through the form, the rule is evaluated on the demo data
as the head sees it, the alert shows on the page, and "Resolved" takes it off the list."""
import datetime as dt
from pathlib import Path

import pytest

from metrics.catalogue.scope import Scope
from metrics.compute.engine import Engine
from metrics.compute.periods import Period
from metrics.deliver import digests
from metrics.features import alerts
from streamlit.testing.v1 import AppTest
from tests.conftest import demo_sign_in

ROOT = Path(__file__).resolve().parent.parent


def open_alerts(db, config):
    at, viewer = demo_sign_in("head", db, config)
    at.switch_page(str(ROOT / "pages/alerts.py"))
    at.run()
    assert not at.exception
    return at, viewer


def test_a_head_adds_a_rule_sees_the_alert_and_resolves_it(env, config):
    at, head = open_alerts(env, config)
    eng = Engine.open(env, config)
    last = eng.data_range()[1]
    so_far = Period(last.replace(day=1), last)
    figure = eng.figure(head, "sla_attainment", Scope("department", head.department_id), so_far)
    assert figure.value is not None
    [s for s in at.selectbox if s.label == "Measure"][0].set_value("sla_attainment")
    at.run()
    [s for s in at.selectbox if s.label == "For"][0].set_value(f"department:{head.department_id}")
    [r for r in at.radio if r.label == "Alert me when it is"][0].set_value("threshold")
    at.run()
    [s for s in at.selectbox if s.label == "Direction"][0].set_value("below")
    above = round(figure.value * 100 + 1, 1)                     # a value the figure so far is below, in %
    [n for n in at.number_input if n.label == "Value (%)"][0].set_value(above)
    [b for b in at.button if b.label == "Add the rule"][0].click()
    at.run()
    assert not at.exception and not at.error
    rules = eng.read_store("SELECT * FROM alert_rules")
    assert len(rules) == 1 and rules.at[0, "threshold"] == pytest.approx(above / 100)
    assert (rules.at[0, "user_id"], rules.at[0, "kind"], rules.at[0, "crosses"]) == (head.user, "threshold", "below")
    fired = alerts.evaluate(eng, last, dt.datetime.combine(last, dt.time(23)))
    assert [a["rule_id"] for a in fired] == [rules.at[0, "rule_id"]]
    at.run()
    assert any(fired[0]["message"][:40] in m.value for m in at.markdown)
    [b for b in at.button if b.label == "Resolved"][0].click()
    at.run()
    assert not at.exception
    assert alerts.my_alerts(eng, head).empty
    assert not any(b.label == "Resolved" for b in at.button)


def test_a_head_subscribes_someone_they_manage_and_the_link_unsubscribes_them(env, config):
    at, head = open_alerts(env, config)
    eng = Engine.open(env, config)
    team = digests.team(eng, head)
    assert len(team)                                     # the demo's head of Housing manages people
    person = team.iloc[0]
    at.selectbox(key="dg-page").set_value("my-contribution")
    at.run()
    [r for r in at.radio if r.label == "When"][0].set_value("monthly")
    at.run()
    [n for n in at.number_input if n.label == "On day"][0].set_value(3)
    at.selectbox(key="dg-for").set_value(person["staff_id"])
    [b for b in at.button if b.label == "Add the digest"][0].click()
    at.run()
    assert not at.exception and not at.error
    sub = eng.read_store("SELECT user_id, staff_id, page, cadence, day, created_by, token FROM subscriptions")
    assert len(sub) == 1
    assert (sub.at[0, "staff_id"], sub.at[0, "page"], sub.at[0, "cadence"], sub.at[0, "day"], sub.at[0, "created_by"]) \
        == (person["staff_id"], "my-contribution", "monthly", 3, head.user)
    assert any("My contribution, monthly on day 3" in m.value and person["name"] in m.value for m in at.markdown)
    # The e-mail's link, opened without signing in.
    link = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    link.query_params["unsubscribe"] = sub.at[0, "token"]
    link.run()
    assert not link.exception
    assert [s.value for s in link.success] == ["You will get no more e-mails for My contribution, monthly on day 3."]
    assert digests.mine(eng, head).empty
