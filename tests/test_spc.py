"""Statistical process control (metrics/features/spc.py), worked on paper: XmR limits, each special-cause rule at
exactly its run length and one short of it, direction, each assurance outcome, a series too short for limits, and
limits re-calculated from a change point. Defaults: Making Data Count (limit 2.66 × mean moving range, runs of 7,
at least 12 points)."""
import json

import pandas as pd
import pytest

from metrics.catalogue.definitions import SpcSettings
from metrics.cli.main import main
from metrics.compute.engine import Engine
from metrics.features import spc
from metrics.present import charts, documents
from tests.conftest import demo_sign_in

MDC = SpcSettings()
# A stable baseline: 12, 10, 12, 10, ... (12 points). Mean 11; every moving range 2, so the mean moving range is 2;
# limits 11 ± 2.66 × 2 = 5.68 and 16.32; close to a limit beyond 11 ± (2/3) × 5.32 = 7.4533… and 14.5466….
BASE = [12, 10] * 6


def test_limits_worked_on_paper():
    values = [10, 12, 11, 13, 12, 11, 10, 12, 11, 13, 12, 11]
    # Sum 138 → mean 11.5. Moving ranges 2 1 2 1 1 1 2 1 2 1 1: 15 over 11 → 1.3636…; 2.66 × 15 / 11 = 3.62727…
    c = spc.chart(values, "higher_is_better", 9, MDC)
    [s] = c.stretches
    assert s.mean == pytest.approx(11.5, abs=1e-12)
    assert s.mean_moving_range == pytest.approx(15 / 11, abs=1e-12)
    assert (s.lower, s.upper) == (pytest.approx(11.5 - 2.66 * 15 / 11), pytest.approx(11.5 + 2.66 * 15 / 11))
    assert s.lower == pytest.approx(7.872727, abs=1e-6) and s.upper == pytest.approx(15.127273, abs=1e-6)
    assert set(c.rules) == {None} and c.variation == spc.COMMON
    assert c.assurance == spc.HIT_AND_MISS                # 7.87 < 9 < 15.13: the target is inside the limits


@pytest.mark.parametrize("target, direction, expected", [
    (7, "higher_is_better", spc.PASS),       # both limits above a floor of 7: met as the process runs
    (16, "higher_is_better", spc.FAIL),      # both below 16: not met without a change
    (9, "higher_is_better", spc.HIT_AND_MISS),
    (16, "lower_is_better", spc.PASS),       # both below a ceiling of 16
    (7, "lower_is_better", spc.FAIL),
    (9, "neutral", None),                    # no assurance for a neutral measure
    (None, "higher_is_better", None),        # nor without a target
])
def test_each_assurance_outcome(target, direction, expected):
    values = [10, 12, 11, 13, 12, 11, 10, 12, 11, 13, 12, 11]          # limits 7.87 – 15.13 (above)
    assert spc.chart(values, direction, target, MDC).assurance == expected


def test_a_shift_is_seven_points_on_one_side_not_six():
    seven = spc.chart(BASE + [12] * 7, "higher_is_better", None, MDC, baseline=12)
    assert seven.rules[12:] == (spc.SHIFT,) * 7 and set(seven.rules[:12]) == {None}
    assert seven.kinds[-1] == spc.IMPROVEMENT and seven.variation == spc.IMPROVEMENT
    six = spc.chart(BASE + [12] * 6 + [10], "higher_is_better", None, MDC, baseline=12)
    assert set(six.rules) == {None} and six.variation == spc.COMMON
    # Direction: the same run below the mean of a lower-is-better measure is an improvement, of a higher-is-better
    # one a concern, of a neutral one a change.
    low = BASE[:-1] + [12] + [10] * 7                                     # the baseline ends above the mean
    assert spc.chart(low, "lower_is_better", None, MDC, baseline=12).variation == spc.IMPROVEMENT
    assert spc.chart(low, "higher_is_better", None, MDC, baseline=12).variation == spc.CONCERN
    assert spc.chart(low, "neutral", None, MDC, baseline=12).variation == spc.CHANGE_LOW
    # A point on the mean breaks a run.
    broken = spc.chart(BASE + [12] * 3 + [11] + [12] * 3, "higher_is_better", None, MDC, baseline=12)
    assert set(broken.rules) == {None}


def test_a_trend_is_seven_points_each_higher_not_six():
    seven = spc.chart(BASE + [8, 9, 10, 11, 12, 13, 14], "higher_is_better", None, MDC, baseline=12)
    assert seven.rules[12:] == (spc.TREND,) * 7
    assert seven.variation == spc.IMPROVEMENT
    six = spc.chart(BASE + [9, 10, 11, 12, 13, 14], "higher_is_better", None, MDC, baseline=12)
    assert set(six.rules) == {None}
    falling = spc.chart(BASE + [14, 13, 12, 11, 10, 9, 8], "lower_is_better", None, MDC, baseline=12)
    assert falling.rules[12:] == (spc.TREND,) * 7 and falling.variation == spc.IMPROVEMENT
    flat = spc.chart(BASE + [8, 9, 10, 10, 12, 13, 14], "higher_is_better", None, MDC, baseline=12)
    assert spc.TREND not in flat.rules                    # a tie is not a rise


def test_a_point_beyond_a_limit():
    above = spc.chart(BASE + [16.4], "higher_is_better", None, MDC, baseline=12)       # 16.4 > 16.32
    assert above.rules[-1] == spc.BEYOND and above.variation == spc.IMPROVEMENT
    inside = spc.chart(BASE + [16.3], "higher_is_better", None, MDC, baseline=12)      # 16.3 ≤ 16.32
    assert inside.rules[-1] is None
    below = spc.chart(BASE + [5.6], "higher_is_better", None, MDC, baseline=12)        # 5.6 < 5.68
    assert below.rules[-1] == spc.BEYOND and below.variation == spc.CONCERN


def test_two_of_three_points_close_to_a_limit():
    # 15 is close to the upper limit (14.55 < 15 ≤ 16.32); 11.5 is above the mean but not close.
    two = spc.chart(BASE + [15, 11.5, 15], "higher_is_better", None, MDC, baseline=12)
    assert two.rules[12:] == (spc.TWO_OF_THREE, None, spc.TWO_OF_THREE)
    across = spc.chart(BASE + [15, 10, 15], "higher_is_better", None, MDC, baseline=12)  # the middle one below
    assert set(across.rules) == {None}
    one = spc.chart(BASE + [15, 11.5, 11.5], "higher_is_better", None, MDC, baseline=12)
    assert set(one.rules) == {None}


def test_a_series_too_short_for_limits_says_so():
    c = spc.chart(BASE[:11], "higher_is_better", 9, MDC)
    assert c.too_short and c.variation is None and c.assurance is None
    assert c.stretches[0].mean is None
    assert c.notes == ("Too few points for process limits: 11 since the start, and SPC needs at least 12.",)
    assert not spc.chart(BASE, "higher_is_better", 9, MDC).too_short


def test_limits_are_recalculated_from_a_change_point():
    values = BASE + [22, 20] * 6                                        # a new level from point 12: mean 21
    c = spc.chart(values, "higher_is_better", None, MDC, change_points=(12,))
    assert [s.mean for s in c.stretches] == [pytest.approx(11), pytest.approx(21)]
    assert [(s.lower, s.upper) for s in c.stretches][1] == (pytest.approx(21 - 5.32), pytest.approx(21 + 5.32))
    assert set(c.rules) == {None}                                       # each stretch stable on its own limits
    whole = spc.chart(values, "higher_is_better", None, MDC)            # one set of limits: the new level stands out
    assert whole.stretches[0].mean == pytest.approx(16) and spc.SHIFT in whole.rules
    short = spc.chart(values[:20], "higher_is_better", None, MDC, change_points=(12,))   # 8 points since the change
    assert short.too_short and "8 since the last change point" in short.notes[0]


def test_the_spc_command_on_the_demo_agrees_with_its_series(demo_db, capsys):
    """`spc --json` on the demo: its centre and limits recomputed here from `series --json`'s values by the formula
    (a second, simpler computation); a point beyond them flagged, none inside flagged as beyond."""
    args = ["grade_of_service", "--scope", "department:contact_centre", "--from", "2023-01-01", "--to", "2025-12-31",
            "--json", "--db", demo_db]
    assert main(["series", *args]) == 0
    values = [r["value"] for r in json.loads(capsys.readouterr().out) if r["value"] is not None]
    assert main(["spc", *args]) == 0
    out = json.loads(capsys.readouterr().out)
    mean = sum(values) / len(values)
    mr = sum(abs(b - a) for a, b in zip(values, values[1:])) / (len(values) - 1)
    assert [p["value"] for p in out["points"]] == pytest.approx(values)
    last = out["points"][-1]
    assert last["mean"] == pytest.approx(mean) and last["lower"] == pytest.approx(mean - 2.66 * mr)
    assert last["upper"] == pytest.approx(mean + 2.66 * mr)
    for p in out["points"]:
        assert (p["rule"] == "beyond_limit") == (not p["lower"] <= p["value"] <= p["upper"])
    assert out["assurance"] in (spc.PASS, spc.FAIL, spc.HIT_AND_MISS) and len(values) == 36


def test_a_special_cause_is_marked_on_the_spc_chart_by_its_kind(config):
    frame = pd.DataFrame({"bucket": pd.date_range("2024-01-01", periods=13, freq="MS"),
                          "value": [0.12, 0.10] * 6 + [0.164]})
    c = spc.chart(list(frame["value"]), "higher_is_better", 0.09, MDC, baseline=12)
    frame = frame.assign(mean=[s.mean for s in (c.stretch_of(i) for i in range(13))], lower=c.stretches[0].lower,
                         upper=c.stretches[0].upper, rule=list(c.rules), kind=list(c.kinds))
    frame.attrs["words"] = spc.words(c)
    fig = charts.spc_figure(frame, config.metrics["grade_of_service"])
    names = [t.name for t in fig.data]
    assert names[:4] == ["Monthly figure", "Centre line (mean)", "Upper process limit", "Lower process limit"]
    [marked] = [t for t in fig.data if t.name == "Special cause: improvement"]
    assert list(marked.y) == [pytest.approx(16.4)]                     # the last point, in percent
    assert fig.layout.title.text.endswith("<sup>⬆ Special cause: improvement · ◐ Will sometimes meet the target</sup>")


def test_the_overview_cards_carry_the_icons_and_the_trend_turns_into_an_spc_chart(env, config):
    at, viewer = demo_sign_in("executive", env, config)
    signals = [c.value for c in at.caption if c.value.split(" ")[0] in ("≈", "⬆", "⬇", "⇡", "⇣", "∅")]
    assert len(signals) == len(config.page("overview", "headline"))
    assert all(any(w in s for w in [*spc.VARIATION_WORDS.values(), "Too few points"]) for s in signals)
    at.toggle(key="overview-spc").set_value(True)
    at.run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert {"Centre line (mean)", "Upper process limit", "Lower process limit"} <= {t.get("name") for t in spec["data"]}
    eng = Engine.open(env, config)
    doc = documents.overview(eng, viewer, eng.default_period(), choices=documents.Choices(spc=True))
    assert doc.filters["Trend drawn as"] == "SPC chart over 24 months"


def test_the_overview_grid_orders_departments_by_special_causes_of_concern(env, config):
    # The order is checked against a second, simpler computation: for every department and grid measure with a
    # figure, its SPC chart over 24 months straight from spc.for_series; the departments are then ranked by how
    # many of their cells end in a special cause of concern, most first, ties in config's order.
    from metrics.access import EVERYONE
    from metrics.catalogue.scope import Scope
    from metrics.present import views
    eng = Engine.open(env, config)
    period = eng.default_period()
    span = spc.history(period, config.spc)
    units = [k for k, d in config.departments.items() if d.level == "department"]
    concern = {}
    for d in units:
        for m in config.page("overview", "heatmap"):
            if pd.isna(eng.value(EVERYONE, m, Scope("department", d), period, compare=False).value):
                continue
            c = spc.for_series(eng, EVERYONE, m, Scope("department", d), span)[1]
            concern[d] = concern.get(d, 0) + (not c.too_short and c.variation == spc.CONCERN)
    expected = sorted(units, key=lambda d: (-concern.get(d, 0), units.index(d)))
    grid = views.heatmap(eng, EVERYONE, period, "concern")
    assert list(dict.fromkeys(grid["department"])) == expected
    assert list(dict.fromkeys(views.heatmap(eng, EVERYONE, period)["department"])) == units
    fig = charts.heatmap_figure(grid)
    marked = [n for n in fig.data[0].y if n.endswith(" ⬇)")]
    assert len(marked) == sum(1 for d in units if concern.get(d))
    at, _ = demo_sign_in("executive", env, config)
    at.radio(key="overview-grid").set_value("concern")
    at.run()
    assert not at.exception
    [table] = [f.value for f in at.dataframe if "Variation (SPC)" in f.value.columns]
    names = {k: d.name for k, d in config.departments.items()}
    assert list(dict.fromkeys(table["Department"])) == [names[d] for d in expected]


def test_a_department_with_a_special_cause_of_concern_comes_first_in_the_grid(config):
    # The fixture (tests/fixture.sql) with a grid of one measure, calls answered within 20 s, and 40 calls a month
    # for June 2022 – March 2024 (22 months) added for two teams; the period is May 2024, so the SPC chart covers
    # June 2022 – May 2024.
    # - Housing (housing_repairs): 32, 36, 32, … of 40 in time — 80 %, 90 %, …: mean 85 %, moving ranges all 10 pts,
    #   limits 85 ± 26.6 = 58.4 … 111.6 %. April has no calls (no point); May is the fixture's c6, 30 s: 0 of 1 = 0 %,
    #   beyond the lower limit — a special cause of concern (higher is better).
    #   With May: 23 points, mean (11 × 80 + 11 × 90 + 0) / 23 = 81.3 %; moving ranges 21 × 10 + 90 = 300 over 22
    #   → 13.64; lower limit 81.3 − 36.3 = 45.1 % — May still beyond it.
    # - The Contact Centre (cc_phones): 16, 40, 16, … of 40 — 40 %, 100 %: moving ranges 60 pts, limits mean ± 160:
    #   nothing is beyond them, and April (c8, 1 of 1 = 100 %) and May (2 of 4 = 50 %) are not either.
    # So Housing (1 concern) comes before the Contact Centre (0), which config lists first; departments with no
    # figure follow in config's order.
    import dataclasses
    from types import MappingProxyType

    from metrics.access import EVERYONE
    from metrics.compute.periods import month
    from metrics.present import views
    from metrics.store.database import connect
    from tests.conftest import with_columns
    pages = {p: dict(parts) for p, parts in config.pages.items()}
    pages["overview"]["heatmap"] = ("grade_of_service",)
    cfg = dataclasses.replace(config, pages=MappingProxyType({p: MappingProxyType(v) for p, v in pages.items()}))
    con = connect(":memory:", cfg, create=True)
    con.execute(with_columns(con, open("tests/fixture.sql", encoding="utf-8").read()))
    rows = []
    for i in range(22):
        year, mon = divmod(5 + i, 12)
        for team, in_time in (("housing_repairs", (32, 36)[i % 2]), ("cc_phones", (16, 40)[i % 2])):
            for n in range(40):
                wait = 10.0 if n < in_time else 60.0
                rows.append((f"g{team}{i}-{n}", pd.Timestamp(2022 + year, mon + 1, 15, 9), wait, team))
    con.executemany("INSERT INTO contacts (contact_id, channel, received_at, answered_at, abandoned, wait_seconds, "
                    "department_id, staff_id, resolved_first_contact, request_id, referred, customer_id) VALUES "
                    "(?, 'phone', ?, NULL, false, ?, ?, NULL, true, NULL, false, NULL)", rows)
    eng = Engine(con, cfg)
    grid = views.heatmap(eng, EVERYONE, month(2024, 5), "concern")
    order = list(dict.fromkeys(grid["department"]))
    units = [k for k, d in cfg.departments.items() if d.level == "department"]
    assert order == ["housing", "contact_centre"] + [u for u in units if u not in ("housing", "contact_centre")]
    cells = grid.set_index("department")
    assert cells.loc["housing", "variation"] == spc.CONCERN and cells.loc["housing", "signal"] == "⬇"
    assert cells.loc["contact_centre", "variation"] == spc.COMMON and cells.loc["contact_centre", "signal"] == ""
    assert list(dict.fromkeys(views.heatmap(eng, EVERYONE, month(2024, 5))["department"])) == units
    fig = charts.heatmap_figure(grid)
    assert list(fig.data[0].y[:2]) == ["Housing (1 ⬇)", "Contact Centre"]
    assert fig.data[0].text[0][0].endswith(" ⬇")
    con.close()
