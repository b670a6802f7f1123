"""Annotations (metrics/features/events.py): who may mark an event, plain text only, the audit trail, which charts show
it (its scope's and the units' under it, nowhere else), implemented suggestions shown as events, and a change point
re-calculating the SPC limits — on the hand-worked fixture (tests/fixture.sql) and, for the pages, the demo.

Units used (config.yaml): Housing (housing) with its team Housing repairs (housing_repairs); the Contact Centre
(contact_centre) with its Phones team (cc_phones) — siblings of Housing's side of the tree.
"""
import datetime as dt
import json
from pathlib import Path

import pytest

from metrics.access import SYSTEM, Viewer, viewing_as
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.engine import Engine
from metrics.compute.periods import Period, month
from metrics.errors import AccessDenied, MetricsError, UnknownError
from metrics.features import events, spc
from metrics.present import charts, documents
from metrics.store.writes import Conflict
from tests.conftest import demo_sign_in

ROOT = Path(__file__).resolve().parent.parent
MAY = month(2024, 5)
CAT = Viewer("Cat", "executive", "contact_centre", "S3")
HEAD = Viewer("head@council.example", "head", "housing", None)
ANN = Viewer("Ann", "staff", "cc_phones", "S1")
ADMIN = Viewer("admin", "admin")
HOUSING, REPAIRS = Scope("department", "housing"), Scope("team", "housing_repairs")
CONTACT_CENTRE, PHONES = Scope("department", "contact_centre"), Scope("team", "cc_phones")
YEAR = Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def audit_rows(eng, action: str) -> list:
    return eng.con.execute("SELECT user_name, entity, entity_id, changes FROM audit_log WHERE action = $a "
                           "ORDER BY audit_id", {"a": action}).fetchall()


def titles(eng, viewer, scope, span=YEAR, metric=None) -> list[str]:
    return list(events.on_chart(eng, viewer, scope, span, metric)["title"])


def test_who_may_mark_events_and_on_which_scopes(fresh_engine):
    eng = fresh_engine
    events.add(eng, HEAD, HOUSING, dt.date(2024, 5, 1), "change", "New repairs rota")      # their department
    events.add(eng, HEAD, REPAIRS, dt.date(2024, 5, 2), "external", "Storm")               # a team of it
    events.add(eng, CAT, ORGANISATION, dt.date(2024, 5, 3), "data_issue", "Phone data lost for a day")
    events.add(eng, CAT, CONTACT_CENTRE, dt.date(2024, 5, 4), "change", "New phone menu")  # executives: any unit
    refused = [(HEAD, CONTACT_CENTRE), (HEAD, ORGANISATION), (ANN, PHONES), (ADMIN, HOUSING)]
    for viewer, scope in refused:
        with pytest.raises(AccessDenied, match="may not mark events"):
            events.add(eng, viewer, scope, dt.date(2024, 5, 1), "change", "Not theirs")
    with pytest.raises(MetricsError, match="never one person's"):
        events.add(eng, CAT, Scope("staff", "S1"), dt.date(2024, 5, 1), "change", "About Ann")
    as_head = viewing_as(Viewer("H", "head", "housing", None), Viewer("admin", "admin"))
    with pytest.raises(AccessDenied):
        events.add(eng, as_head, HOUSING, dt.date(2024, 5, 1), "change", "Looking only")
    assert eng.con.execute("SELECT count(*) FROM annotations").fetchone()[0] == 4


@pytest.mark.parametrize("field, value, says", [
    ("title", "<b>Big</b> change", "contains markup"),
    ("title", "<script>alert(1)</script>", "contains markup"),
    ("detail", "see <a href='x'>this</a>", "contains markup"),
    ("title", "", "is empty"),
    ("title", "x" * 121, "at most 120"),
    ("kind", "party", "Kind 'party' is not accepted; choose one of: change, external, data_issue"),
])
def test_markup_and_bad_fields_are_refused_with_nothing_written(fresh_engine, field, value, says):
    args = {"starts": dt.date(2024, 5, 1), "kind": "change", "title": "A fine title", "detail": None} | {field: value}
    with pytest.raises(MetricsError, match=says.replace("(", r"\(")):
        events.add(fresh_engine, CAT, HOUSING, **args)
    assert fresh_engine.con.execute("SELECT count(*) FROM annotations").fetchone()[0] == 0
    assert audit_rows(fresh_engine, "annotation.add") == []


def test_a_range_that_ends_before_it_starts_and_an_unknown_figure_are_refused(fresh_engine):
    with pytest.raises(MetricsError, match=r"the last day \(2024-04-30\) is before the first \(2024-05-01\)"):
        events.add(fresh_engine, CAT, HOUSING, dt.date(2024, 5, 1), "change", "Backwards", ends=dt.date(2024, 4, 30))
    with pytest.raises(UnknownError, match="unknown metric"):
        events.add(fresh_engine, CAT, HOUSING, dt.date(2024, 5, 1), "change", "Odd", metric_key="no_such_metric")
    assert fresh_engine.con.execute("SELECT count(*) FROM annotations").fetchone()[0] == 0


def test_adding_and_removing_are_audited_and_a_removed_event_leaves_the_charts(fresh_engine):
    eng = fresh_engine
    key = events.add(eng, HEAD, HOUSING, dt.date(2024, 5, 1), "change", "New repairs rota", "Two shifts a day")
    [(user, entity, entity_id, changes)] = audit_rows(eng, "annotation.add")
    assert (user, entity, entity_id) == ("head@council.example", "annotations", key)
    assert json.loads(changes)["title"] == [None, "New repairs rota"]
    assert titles(eng, HEAD, HOUSING) == ["New repairs rota"]
    with pytest.raises(AccessDenied, match="may not remove"):
        events.remove(eng, Viewer("cc-head", "head", "contact_centre", None), key, 0)
    events.remove(eng, CAT, key, 0)
    [(user, _, entity_id, changes)] = audit_rows(eng, "annotation.remove")
    assert (user, entity_id) == ("Cat", key) and json.loads(changes)["removed_by"] == [None, "Cat"]
    assert titles(eng, HEAD, HOUSING) == []
    assert eng.con.execute("SELECT removed_by FROM annotations WHERE annotation_id = $k", {"k": key}).fetchone() == ("Cat",)
    with pytest.raises(Conflict):                                     # a second removal, from a stale page
        events.remove(eng, HEAD, key, 0)


def test_an_event_shows_on_its_scope_and_the_units_under_it_and_nowhere_else(fresh_engine):
    eng = fresh_engine
    events.add(eng, HEAD, HOUSING, dt.date(2024, 5, 1), "change", "Housing rota")
    events.add(eng, HEAD, REPAIRS, dt.date(2024, 5, 2), "external", "Repairs storm")
    events.add(eng, CAT, ORGANISATION, dt.date(2024, 5, 3), "data_issue", "Organisation outage")
    events.add(eng, CAT, CONTACT_CENTRE, dt.date(2024, 6, 1), "change", "Phone menu", ends=dt.date(2024, 6, 7))
    assert titles(eng, CAT, ORGANISATION) == ["Organisation outage"]                  # not the units' own
    assert titles(eng, HEAD, HOUSING) == ["Housing rota", "Organisation outage"]       # not its team's, not a sibling's
    assert titles(eng, HEAD, REPAIRS) == ["Housing rota", "Repairs storm", "Organisation outage"]
    assert titles(eng, ANN, CONTACT_CENTRE) == ["Organisation outage", "Phone menu"]
    # (G1, the suggestion implemented on 20 May, marks csat's charts only: see below.)
    # Ann's own chart: her team's (Phones) and everything above it — here the Contact Centre's and the organisation's.
    assert titles(eng, ANN, Scope("staff", "S1")) == ["Organisation outage", "Phone menu"]
    # A range shows on a chart that overlaps it only; a one-day event only on a chart whose span holds the day.
    assert titles(eng, ANN, CONTACT_CENTRE, Period(dt.date(2024, 6, 5), dt.date(2024, 6, 30))) == ["Phone menu"]
    assert titles(eng, ANN, CONTACT_CENTRE, MAY) == ["Organisation outage"]
    # Visible by the figures' rules: a person's chart only to them and their managers.
    with pytest.raises(AccessDenied):
        events.on_chart(eng, Viewer("Bob", "staff", "housing_repairs", "S2"), Scope("staff", "S1"), YEAR)


def test_an_event_about_one_figure_shows_on_that_figures_charts_only(fresh_engine):
    eng = fresh_engine
    events.add(eng, CAT, ORGANISATION, dt.date(2024, 5, 1), "change", "Callback script", metric_key="grade_of_service")
    assert titles(eng, CAT, ORGANISATION, metric="grade_of_service") == ["Callback script"]
    assert titles(eng, CAT, ORGANISATION, metric="calls_offered") == []
    assert titles(eng, CAT, ORGANISATION) == []      # nor on a chart of no one figure (the comments' themes)
    events.add(eng, CAT, ORGANISATION, dt.date(2024, 5, 2), "external", "Heatwave")
    assert titles(eng, CAT, ORGANISATION) == ["Heatwave"]
    assert titles(eng, CAT, ORGANISATION, metric="calls_offered") == ["Heatwave"]


def test_implemented_suggestions_appear_as_events_of_their_department(fresh_engine):
    # G1: the Phones team's suggestion, implemented 20 May 2024 ("Idea 1", what we did: "Done"), decided by the
    # Contact Centre's head: an event of the Contact Centre, on its trends and its teams'. G4 (implemented status, no
    # date) and G2/G3 (declined, new) are not events.
    eng = fresh_engine
    # It was linked to csat, the figure it should move: it marks csat's trends only.
    assert list(events.on_chart(eng, ANN, PHONES, YEAR, "grade_of_service")["annotation_id"]) == []
    marks = events.on_chart(eng, ANN, PHONES, YEAR, "csat")
    assert list(marks["annotation_id"]) == ["G1"]
    row = marks.iloc[0]
    assert (row["starts"], row["kind"], row["title"], row["source"]) == (dt.date(2024, 5, 20), "change",
                                                                         "You said: Idea 1 — we did: Done", "suggestion")
    assert row["scope_key"] == "contact_centre" and row["scope_name"] == "Contact Centre"
    assert list(events.on_chart(eng, ANN, CONTACT_CENTRE, YEAR, "csat")["annotation_id"]) == ["G1"]
    assert list(events.on_chart(eng, ANN, Scope("team", "cc_digital"), YEAR, "csat")["annotation_id"]) == ["G1"]
    assert list(events.on_chart(eng, ANN, HOUSING, YEAR, "csat")["annotation_id"]) == []
    assert list(events.on_chart(eng, ANN, ORGANISATION, YEAR, "csat")["annotation_id"]) == []
    assert list(events.on_chart(eng, ANN, PHONES, month(2024, 4), "csat")["annotation_id"]) == []   # not yet in April


def phone_calls(eng, counts: dict) -> None:
    """Answered phone calls to the Phones team, `n` on the 15th of each month (calls_offered counts them)."""
    rows = []
    for (year, mon), n in counts.items():
        for i in range(n):
            rows.append((f"x{year}{mon:02d}{i}", dt.datetime(year, mon, 15, 9, 0), dt.datetime(year, mon, 15, 9, 0, 10)))
    eng.con.executemany("INSERT INTO contacts (contact_id, channel, received_at, answered_at, abandoned, wait_seconds, "
                        "department_id, staff_id, resolved_first_contact, request_id, referred, customer_id) VALUES "
                        "(?, 'phone', ?, ?, false, 10.0, 'cc_phones', 'S1', true, NULL, false, NULL)", rows)


def test_a_change_point_re_calculates_the_spc_limits_from_its_month(fresh_engine):
    # Calls offered, January 2022 – March 2024 (27 months; the fixture's own calls are in April and May 2024):
    # 2022: 10, 12, 10, 12, … (12 points) — mean 11, every moving range 2, limits 11 ± 2.66 × 2 = 5.68 … 16.32.
    # 2023 – March 2024: 20, 22, 20, … (15 points: eight 20s, seven 22s) — mean 314 / 15, moving ranges all 2, so
    # limits 314/15 ± 5.32. The change point recorded on 1 January 2023 starts the second stretch.
    eng = fresh_engine
    months = [(2022 + (i // 12), i % 12 + 1) for i in range(27)]
    counts = {m: (10 if i % 2 == 0 else 12) if i < 12 else (20 if (i - 12) % 2 == 0 else 22) for i, m in enumerate(months)}
    phone_calls(eng, counts)
    span = Period(dt.date(2022, 1, 1), dt.date(2024, 3, 31))
    _, whole = spc.for_series(eng, SYSTEM, "calls_offered", ORGANISATION, span)
    assert len(whole.stretches) == 1                                         # nothing recorded yet
    events.add(eng, CAT, CONTACT_CENTRE, dt.date(2023, 1, 1), "change", "Second phone line", change_point=True)
    _, org = spc.for_series(eng, SYSTEM, "calls_offered", ORGANISATION, span)
    assert len(org.stretches) == 1                                           # the Contact Centre's: not the organisation's
    df, c = spc.for_series(eng, SYSTEM, "calls_offered", PHONES, span)       # the Phones team is under it
    assert [(s.start, s.end) for s in c.stretches] == [(0, 12), (12, 27)]
    first, second = c.stretches
    assert (first.mean, first.lower, first.upper) == (pytest.approx(11), pytest.approx(5.68), pytest.approx(16.32))
    assert second.mean == pytest.approx(314 / 15)
    assert (second.lower, second.upper) == (pytest.approx(314 / 15 - 5.32), pytest.approx(314 / 15 + 5.32))
    # An event that is not a change point, or about another figure, moves nothing.
    events.add(eng, CAT, ORGANISATION, dt.date(2022, 7, 1), "external", "Heatwave")
    events.add(eng, CAT, ORGANISATION, dt.date(2022, 7, 1), "change", "Other figure", metric_key="grade_of_service",
               change_point=True)
    assert len(spc.for_series(eng, SYSTEM, "calls_offered", ORGANISATION, span)[1].stretches) == 1


def test_the_chart_marks_and_numbers_the_events_and_the_list_under_it_says_them(fresh_engine, config):
    eng = fresh_engine
    events.add(eng, CAT, ORGANISATION, dt.date(2024, 5, 3), "data_issue", "Outage <3 hours", change_point=True)
    events.add(eng, HEAD, HOUSING, dt.date(2024, 5, 1), "change", "Housing rota", ends=dt.date(2024, 5, 9))
    doc = documents.department(eng, HEAD, "housing", MAY)
    [chart] = [b for b in doc.blocks if getattr(b, "build", None) is charts.trend_figure]
    fig = chart.build(chart.call[0](eng, *chart.call[1:]), *chart.using)
    assert [a.text for a in fig.layout.annotations] == ["<b>1</b>", "<b>2</b>"]
    assert fig.layout.annotations[1].hovertext == "A data issue: Outage &lt;3 hours"   # plain text, escaped
    assert [s.type for s in fig.layout.shapes] == ["rect", "line", "line"]               # the range's band, two days
    assert [s.line.dash for s in fig.layout.shapes if s.type == "line"] == ["dot", "solid"]   # the change point solid
    [table] = [b for b in doc.blocks if getattr(b, "name", "").startswith("events-")]
    assert list(table.frame["What happened"]) == ["Housing rota", "Outage <3 hours"]
    assert list(table.frame["When"]) == ["1 May 2024 – 9 May 2024", "3 May 2024"]
    assert list(table.frame["Marked for"]) == ["Housing", "The organisation"]
    assert list(table.frame["SPC limits"]) == ["", "new from here"]


def test_the_pages_show_an_event_on_the_right_scopes_only_and_a_head_marks_one(env, config):
    eng = Engine.open(env, config)
    period = eng.default_period()
    at, head = demo_sign_in("head", env, config)
    home = head.department_id
    other = next(k for k, d in config.departments.items() if d.level == "department" and k != home)
    events.add(eng, CAT, Scope("department", other), period.start, "change", "Only on the other department")
    events.add(eng, CAT, ORGANISATION, period.start, "external", "Everywhere: a heatwave")
    eng.con.close()
    at.switch_page(str(ROOT / "pages/department.py"))
    at.run()
    assert not at.exception

    def events_listed(at) -> list[str]:
        frames = [f.value for f in at.dataframe if "What happened" in f.value.columns]
        return list(frames[0]["What happened"]) if frames else []

    def chart_numbers(at) -> list[str]:
        spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
        return [a["text"] for a in spec["layout"].get("annotations", []) if a.get("hovertext")]

    before = events_listed(at)
    assert "Everywhere: a heatwave" in before and "Only on the other department" not in before
    assert len(chart_numbers(at)) == len(before)
    at.text_input(key="ev-title-" + home + "-0").input("Our new rota")
    at.checkbox(key="ev-cp-" + home + "-0").check()
    at.button(key="ev-add-" + home).click()
    at.run()
    assert not at.exception and not at.error
    assert "Our new rota" in events_listed(at)
    assert len(chart_numbers(at)) == len(before) + 1
    # The organisation's Overview shows the organisation's event, not a department's own.
    at.switch_page(str(ROOT / "pages/overview.py"))
    at.run()
    assert not at.exception
    listed = events_listed(at)
    assert "Everywhere: a heatwave" in listed and "Our new rota" not in listed
    assert "Only on the other department" not in listed
    assert not [e for e in at.expander if e.label == "Mark an event on these trends"]   # a head: not the organisation's
    check = Engine.open(env, config)
    [(user, entity)] = check.con.execute("SELECT user_name, entity FROM audit_log WHERE action = 'annotation.add' "
                                         "AND changes LIKE '%Our new rota%'").fetchall()
    assert (user, entity) == (head.user, "annotations")


def test_the_command_line_marks_lists_and_removes_events(env, config, capsys):
    from metrics.cli.main import main
    assert main(["events", "add", "--db", env, "--scope", "department:housing", "--day", "2025-11-03", "--until",
                 "2025-11-05", "--kind", "data_issue", "--title", "Survey export late", "--metric", "csat",
                 "--change-point"]) == 0
    key = capsys.readouterr().out.split()[1]
    assert main(["events", "list", "--db", env, "--scope", "team:housing_repairs", "--metric", "csat", "--json"]) == 0
    [row] = [r for r in json.loads(capsys.readouterr().out) if r["annotation_id"] == key]
    assert (row["starts"], row["ends"], row["kind"], row["scope_name"], row["change_point"]) == (
        "2025-11-03", "2025-11-05", "data_issue", "Housing", True)
    assert main(["events", "list", "--db", env, "--scope", "department:it", "--metric", "csat", "--json"]) == 0
    assert key not in capsys.readouterr().out                             # a sibling's charts do not show it
    assert main(["events", "add", "--db", env, "--day", "2025-11-03", "--kind", "party", "--title", "x"]) == 2
    assert "Kind 'party' is not accepted; choose one of: change, external, data_issue" in capsys.readouterr().err
    assert main(["events", "add", "--db", env, "--day", "3/11/2025", "--kind", "change", "--title", "x"]) == 2
    assert "--day" in capsys.readouterr().err
    assert main(["events", "remove", "--db", env, key]) == 0
    assert main(["events", "remove", "--db", env, key]) != 0              # already removed: one sentence
    assert "already removed" in capsys.readouterr().err
    eng = Engine.open(env, config)
    actions = [r[0] for r in eng.con.execute("SELECT action FROM audit_log WHERE entity_id = $k ORDER BY audit_id",
                                             {"k": key}).fetchall()]
    assert actions == ["annotation.add", "annotation.remove"]
    eng.con.close()
