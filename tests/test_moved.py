"""What moved this figure (metrics/features/moved.py), worked by hand on the fixture (tests/fixture.sql).

Calls answered within 20 s for the organisation, April → May 2024, by department:
- April: c8 (contact centre) answered in 15 s → 1 of 1; May: the contact centre's c1 c2 c4 c5 (c3 is a short
  abandon, not counted) with c1 and c5 in time → 2 of 4; Housing's c6 (30 s) → 0 of 1. Organisation: 1.0 → 2/5 = 0.4,
  a change of -0.6.
- Shares of the calls: contact centre 1 → 4/5, Housing 0 → 1/5. Rates: contact centre 1 → 1/2; Housing — → 0 (new in
  May: it keeps May's rate for April).
- Contact centre: rate (0.5 - 1) × (1 + 0.8) / 2 = -0.45; mix (0.8 - 1) × (1 + 0.5) / 2 = -0.15. Housing: rate 0,
  mix (0.2 - 0) × (0 + 0) / 2 = 0. Sum -0.6: the change, exactly.
Calls offered (a count): April 1 (c8), May 6 (c1–c6): contact centre +4 (1 → 5), Housing +1 (0 → 1).
"""
import json

import pytest

from metrics.access import SYSTEM, Viewer
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.periods import month
from metrics.cli.main import main
from metrics.compute.engine import Engine
from metrics.errors import MetricsError
from metrics.features import moved
from tests.conftest import demo_sign_in

MAY = month(2024, 5)


def test_a_ratio_splits_into_rate_and_mix_that_sum_to_the_change(engine):
    e = moved.explain(engine, SYSTEM, "grade_of_service", ORGANISATION, MAY, by="department")
    assert (e.before, e.after) == (pytest.approx(1.0), pytest.approx(0.4))
    assert e.change == pytest.approx(-0.6, abs=1e-12)
    parts = {p.group: p for p in e.parts}
    assert parts["contact_centre"].rate == pytest.approx(-0.45, abs=1e-12)
    assert parts["contact_centre"].mix == pytest.approx(-0.15, abs=1e-12)
    assert (parts["housing"].rate, parts["housing"].mix) == (pytest.approx(0, abs=1e-12), pytest.approx(0, abs=1e-12))
    assert abs(sum(p.total for p in e.parts) + e.not_shown - e.change) < 1e-12
    assert abs(e.not_shown) < 1e-12                      # every call belongs to a department here
    assert e.words.startswith("Calls answered within 20 seconds fell 60.0 pts (worse): Contact Centre -45.0 pts from "
                              "its own rate, -15.0 pts from a smaller share of the volume")


def test_a_count_splits_into_each_groups_change(engine):
    e = moved.explain(engine, SYSTEM, "calls_offered", ORGANISATION, MAY, by="department")
    assert e.change == 5 and e.kind == "count"
    assert {p.group: p.total for p in e.parts} == {"contact_centre": 4, "housing": 1}
    assert abs(sum(p.total for p in e.parts) + e.not_shown - e.change) < 1e-12


def test_groups_the_viewer_may_not_see_are_one_line_and_the_parts_still_add_up(engine):
    # Ann (S1) sees her own figures only: by person, Bob's (S2) and everyone else's are "not shown".
    ann = Viewer("Ann", "staff", "cc_phones", "S1")
    e = moved.explain(engine, ann, "grade_of_service", ORGANISATION, MAY, by="staff")
    assert {p.group for p in e.parts} <= {"S1"}
    assert abs(sum(p.total for p in e.parts) + e.not_shown - e.change) < 1e-12
    cat = Viewer("Cat", "executive", "contact_centre", "S3")
    everyone = moved.explain(engine, cat, "grade_of_service", ORGANISATION, MAY, by="staff")
    assert {p.group for p in everyone.parts} > {p.group for p in e.parts}


def test_a_median_does_not_split(engine):
    median = next(k for k, m in engine.config.metrics.items()
                  if m.type == "simple" and m.measure.agg == "median")
    with pytest.raises(MetricsError, match="does not split into parts"):
        moved.explain(engine, SYSTEM, median, ORGANISATION, MAY)


def test_rate_and_mix_by_hand_for_new_and_vanished_groups():
    # A: 3/4 → 1/2; B: 1/4 → 0 rows (vanished: keeps its rate); C: 0 rows → 3/6 (new). Totals 4/8 → 4/8.
    effects = moved.ratio_effects({"A": (3, 4, 1, 2), "B": (1, 4, 0, 0), "C": (0, 0, 3, 6)})
    # A: w 0.5 → 0.25, r 0.75 → 0.5: rate -0.25 × 0.375 = -0.09375; mix -0.25 × 0.625 = -0.15625
    assert effects["A"] == (pytest.approx(-0.09375), pytest.approx(-0.15625))
    # B: w 0.5 → 0, r 0.25 both: rate 0; mix -0.5 × 0.25 = -0.125. C: w 0 → 0.75, r 0.5: mix 0.75 × 0.5 = 0.375
    assert effects["B"] == (pytest.approx(0), pytest.approx(-0.125))
    assert effects["C"] == (pytest.approx(0), pytest.approx(0.375))
    assert abs(sum(r + m for r, m in effects.values()) - (4 / 8 - 4 / 8)) < 1e-12


def test_the_overview_says_what_moved_a_card_as_the_command_line_does(env, config, capsys):
    at, viewer = demo_sign_in("executive", env, config)
    at.selectbox(key="moved-overview").set_value("csat")
    at.run()
    assert not at.exception
    eng = Engine.open(env, config)
    e = moved.explain(eng, viewer, "csat", ORGANISATION, eng.default_period())
    shown = [m.value.replace("\\", "") for m in at.markdown]
    assert e.words in shown
    assert main(["explain", "csat", "--json", "--db", env]) == 0
    assert json.loads(capsys.readouterr().out)["words"] == e.words       # the command line sees the same
