"""Pages under hostile or unlucky use (Streamlit AppTest on a copy of the demo database): view-as is read-only,
a shared link from another time does not break a page, and a write lost to someone else's says so."""
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import app_cache
from metrics.voice import cases
from metrics.compute.engine import Engine
from metrics.present.personas import demo_personas
from tests.security.support import assert_one_sentence, table_checksums
from tests.test_pages import signed_in

ROOT = Path(__file__).resolve().parent.parent.parent
PAGES = {"executive": ("overview", "department", "my_contribution", "voice", "chain", "benchmark", "ideas", "you_said",
                       "definitions"),
         "staff": ("department", "my_contribution", "voice", "chain", "ideas", "you_said", "definitions")}


def sign_in(role: str) -> AppTest:
    """The dashboard signed in as the demo persona of `role` (tests/test_pages.py's sign-in)."""
    return signed_in(role, os.environ["CX_DB"], app_cache.engine().config)[0]


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(str(ROOT / f"pages/{page}.py"))
    at.run()
    assert not at.exception, (page, [e.message for e in at.exception])
    return at


def view_as(at: AppTest, label: str) -> None:
    """What the sidebar's View as box does (dashboard.py): AppTest re-runs only the page after the first
    navigation, so the persona is put where the dashboard puts it."""
    from metrics.access import viewing_as
    import session
    persona = next(p.viewer for p in demo_personas(app_cache.engine()) if p.label.startswith(label))
    at.session_state[session.ACTING] = viewing_as(persona, at.session_state[session.KEY])


PERIOD_PAGES = {"overview", "department", "my_contribution", "voice", "chain"}     # pages with the period picker
WRITE_LABELS = {"Assign", "Acknowledge", "Record follow-up", "Resolve", "Reopen", "Share with the team", "Send thanks",
                "Submit the idea", "Mark as under review", "Record the decision"}


@pytest.mark.parametrize("persona", ["Executive", "Head of department", "Staff member"])
def test_view_as_disables_every_write_control_and_says_why(env, persona):
    at = sign_in("admin")
    view_as(at, persona)
    seen = 0
    for page in ("department", "voice", "ideas", "my_contribution"):
        open_page(at, page)
        for b in at.button:
            if b.label in WRITE_LABELS:
                seen += 1
                assert b.disabled, (page, b.label)
                assert "is viewing as" in b.help and "read-only" in b.help, (page, b.label, b.help)
    assert seen >= 2          # at least Send thanks and Submit the idea (records stay hidden, so no case controls)


def test_view_as_shows_no_records_or_individual_figures_the_admin_may_not_see(env):
    at = sign_in("admin")
    view_as(at, "Head of department")
    open_page(at, "department")
    texts = " ".join(i.value for i in at.info)
    assert "visible to the department concerned" in texts
    view_as(at, "Staff member")
    open_page(at, "my_contribution")
    shown = [e.value for e in at.error] + [i.value for i in at.info] + [w.value for w in at.warning]
    assert any("view-as shows that role's pages and shared figures" in t for t in shown), shown
    assert not at.metric


@pytest.mark.parametrize("role", list(PAGES))
@pytest.mark.parametrize("dates", [("2022-06-01", "2023-01-31"), ("2019-01-01", "2019-02-01"),
                                   ("2031-01-01", "2031-12-31"), ("2025-12-31", "2024-01-01"), ("0001-01-01", "9999-12-31"),
                                   ("2024-02-30", "x"), ("", "")])
def test_a_link_with_a_period_outside_the_data_never_breaks_a_page(env, role, dates):
    at = sign_in(role)
    for page in PAGES[role]:
        at.query_params.update({"from": dates[0], "to": dates[1]})      # a page writes the period it shows back
        open_page(at, page)
        assert at.title, page
        notes = [w.value for w in at.sidebar.warning]
        if page in PERIOD_PAGES and dates[0] and dates[0] != "2024-02-30":
            assert notes, (page, dates)
            assert_one_sentence(notes[0], "showing")


def test_a_resolve_lost_to_someone_else_says_so(env):
    """The head opens a case; meanwhile an executive resolves it; the head's Resolve is refused with who and when,
    and the page keeps showing that case (it used to jump silently to another)."""
    at = sign_in("head")
    open_page(at, "voice")
    pick = at.selectbox(key="case-pick").value
    eng = app_cache.engine()
    boss = next(p.viewer for p in demo_personas(eng) if p.viewer.role == "executive")
    case = cases.get(eng, boss, pick)
    cases.resolve(eng, boss, pick, int(case["version"]), next(iter(eng.config.voice.themes)), "Sorted by phone")
    before = table_checksums(eng.con)
    next(t for t in at.text_input if t.label == "Action taken").set_value("Called the customer")
    at.button(key=f"FormSubmitter:resolve-{pick}-Resolve").click()
    at.run()
    assert not at.exception
    said = [w.value for w in at.warning] + [e.value for e in at.error]
    assert any(f"Case {pick} was changed by {boss.user}" in t and "since you opened it" in t for t in said), said
    assert at.selectbox(key="case-pick").value == pick
    assert table_checksums(eng.con) == before


def test_a_decision_lost_to_someone_else_says_so(env):
    from metrics.voice import suggestions
    eng = app_cache.engine()
    head = next(p.viewer for p in demo_personas(eng) if p.viewer.role == "head")
    suggestions.submit(eng, head, "Text when the repair is booked", None, head.department_id)
    at = sign_in("head")
    open_page(at, "ideas")
    pick = at.selectbox(key="idea-pick").value
    boss = next(p.viewer for p in demo_personas(eng) if p.viewer.role == "executive")
    v = int(eng.read_store("SELECT version FROM suggestions WHERE suggestion_id = $k", {"k": pick}).iloc[0, 0])
    suggestions.decide(eng, boss, pick, v, "declined", "Not this year", None)
    at.button(key=f"FormSubmitter:decide-{pick}-Record the decision").click()
    at.run()
    assert not at.exception
    said = [w.value for w in at.warning] + [e.value for e in at.error]
    assert any(f"Suggestion {pick} was changed by {boss.user}" in t for t in said), said


def line_below(staff_id: str) -> set:
    """The person and everyone below them in the line, walked in Python from the staff table."""
    rows = app_cache.engine().read_store("SELECT staff_id, manager_id FROM staff")
    reports: dict = {}
    for sid, mgr in zip(rows["staff_id"], rows["manager_id"]):
        reports.setdefault(mgr, []).append(sid)
    seen, todo = {staff_id}, [staff_id]
    while todo:
        for r in reports.get(todo.pop(), []):
            if r not in seen:
                seen.add(r)
                todo.append(r)
    return seen


@pytest.mark.parametrize("role", ["staff", "head"])
def test_department_tables_and_csv_downloads_name_only_people_in_the_viewers_line(env, monkeypatch, role):
    """Every table on the Department page and its CSV download (what widgets.table serves) names only people
    whose figures the viewer may see: a staff member themselves, a head the people below them in the line."""
    import csv
    import io

    import streamlit as st
    served = {}
    real = st.download_button
    monkeypatch.setattr(st, "download_button", lambda label, data, **k: served.update({k.get("key"): data})
                        or real(label, data, **k))
    at = sign_in(role)
    me = next(p.viewer for p in demo_personas(app_cache.engine()) if p.viewer.role == role)
    # People are shown by name (issue 15): the names of the viewer's line, or words for nobody / someone hidden.
    staff = app_cache.engine().read_store("SELECT staff_id, name FROM staff")
    mine = {n for s, n in zip(staff["staff_id"], staff["name"]) if s in line_below(me.staff_id)} | {"–", "a colleague"}
    open_page(at, "department")
    tables = [d.value for d in at.dataframe if "Person" in d.value.columns]
    assert tables, "the Department page shows no table with a Person column"
    assert set().union(*(set(df["Person"]) for df in tables)) <= mine
    downloads = [csv.DictReader(io.StringIO((data() if callable(data) else data).decode("utf-8")))
                 for key, data in served.items() if key]
    people = {row["Person"] for rows in downloads for row in rows if "Person" in row and row["Person"]}
    assert people <= mine, people - mine
    assert len(tables) == 2 and all(len(df) for df in tables)     # what waits on us; the records behind a figure
