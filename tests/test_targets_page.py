"""The Targets page in Streamlit's AppTest: a head proposes a target for their department through the form, an
executive approves it on the same page, and from then on the department's figure is judged against it — the same
figure the command line gives."""
from pathlib import Path

import app_cache
from metrics.access import SYSTEM
from metrics.catalogue.scope import Scope
from metrics.compute.engine import Engine
from tests.conftest import demo_sign_in

ROOT = Path(__file__).resolve().parent.parent


def open_targets(role, db, config):
    at, viewer = demo_sign_in(role, db, config)
    at.switch_page(str(ROOT / "pages/targets.py"))
    at.run()
    assert not at.exception
    return at, viewer


def test_a_head_proposes_and_an_executive_approves_on_the_page(env, config):
    at, head = open_targets("head", env, config)
    eng = Engine.open(env, config)
    period = eng.default_period()
    unit = [s for s in at.selectbox if s.label == "For"][0]
    assert set(unit.options) <= {eng.config.departments[k].name for k in eng.config.descendants(head.department_id)}
    [s for s in at.selectbox if s.label == "Measure"][0].set_value("csat")
    at.run()
    at.date_input[0].set_value(period.start)
    [n for n in at.number_input if n.label == "Target"][0].set_value(4.6)
    [n for n in at.number_input if n.label.startswith("Warning")][0].set_value(4.2)
    [t for t in at.text_input if t.label.startswith("Why")][0].set_value("customers expect more")
    [b for b in at.button if b.label == "Propose it"][0].click()
    at.run()
    assert not at.exception and not at.error
    proposed = eng.read_store("SELECT * FROM targets")
    assert (len(proposed), proposed.at[0, "status"], proposed.at[0, "department_id"]) == (1, "proposed", head.department_id)
    scope = Scope("department", head.department_id)
    before = eng.value(SYSTEM, "csat", scope, period, compare=False)
    assert before.target != 4.6                                           # a proposal judges nothing

    at, _ = open_targets("executive", env, config)
    [t for t in at.text_input if t.label.startswith("Note")][0].set_value("agreed at the board")
    [b for b in at.button if b.label == "Approve"][0].click()
    at.run()
    assert not at.exception and not at.error
    decided = eng.read_store("SELECT status, decided_by, decision_note FROM targets")
    assert (decided.at[0, "status"], decided.at[0, "decision_note"]) == ("approved", "agreed at the board")
    app_cache.clear()
    after = Engine.open(env, config).value(SYSTEM, "csat", scope, period, compare=False)
    assert (after.target, after.warning, after.value) == (4.6, 4.2, before.value)
    trail = eng.read_store("SELECT action, role FROM audit_log WHERE entity = 'targets' ORDER BY audit_id")
    assert trail.values.tolist() == [["target.propose", "head"], ["target.approve", "executive"]]
