"""The access matrix over every way data leaves the metrics layer, for every kind of viewer.

The fixture organisation (tests/fixture.sql) plus, for this matrix, people written into the test below:
- S8 Hal (cc_phones) reports to S1 Ann, who reports to S3 Cat (head of the contact centre): a two-level line;
- S9 Ivy heads Housing (no manager); S10 Jo is an administrator in People who manages S11 Kim;
- five more customer surveys in May 2024 about Hal, so the contact centre has 7 answers (2 about Ann).

Exports covered: figures, series, breakdowns by unit and by person, the records behind a figure (with and
without person columns), comments, a person's and a unit's lists (thanks, waiting, the calls its delays caused and
a person's invitation to act on them), the case inbox and one case, and "view as" (an administrator's persona). The expected sets are written out by hand from the rules in
metrics/access.py's docstring.
"""
import datetime as dt

import pytest

from metrics.features import demand
from metrics.voice import cases

from metrics.compute import records
from metrics.voice import lists
from metrics.access import Viewer, viewing_as
from metrics.errors import AccessDenied
from metrics.compute.periods import month
from metrics.catalogue.scope import Scope
from tests.test_access import allowed

MAY = month(2024, 5)
EXTRA = """
INSERT INTO staff VALUES
 ('S8',  'Hal', 'hal@x', 'cc_phones', 'S1',  true, DATE '2021-01-01', NULL),
 ('S9',  'Ivy', 'ivy@x', 'housing',   NULL,  true, DATE '2021-01-01', NULL),
 ('S10', 'Jo',  'jo@x',  'people',    NULL,  true, DATE '2021-01-01', NULL),
 ('S11', 'Kim', 'kim@x', 'people',    'S10', true, DATE '2021-01-01', NULL);
INSERT INTO contacts (contact_id, channel, received_at, answered_at, abandoned, wait_seconds, department_id, staff_id,
                      resolved_first_contact, request_id, referred, customer_id) VALUES
 ('h1', 'phone', '2024-05-06 09:00', '2024-05-06 09:00:10', false, 10.0, 'cc_phones', 'S8', true,  NULL, false, 'P9'),
 ('h2', 'phone', '2024-05-06 10:00', '2024-05-06 10:00:10', false, 10.0, 'cc_phones', 'S8', false, NULL, false, 'P9'),
 ('k1', 'phone', '2024-05-06 11:00', '2024-05-06 11:00:10', false, 10.0, 'people',    'S11', true, NULL, false, 'P9');
INSERT INTO feedback (feedback_id, kind, source, received_at, department_id, staff_id, csat, comment) VALUES
 ('FH1', 'survey', 'customer', '2024-05-06 12:00', 'cc_phones', 'S8', 5, 'Hal was kind'),
 ('FH2', 'survey', 'customer', '2024-05-07 12:00', 'cc_phones', 'S8', 4, NULL),
 ('FH3', 'survey', 'customer', '2024-05-08 12:00', 'cc_phones', 'S8', 2, 'Slow'),
 ('FH4', 'survey', 'customer', '2024-05-09 12:00', 'cc_phones', 'S8', 5, NULL),
 ('FH5', 'survey', 'customer', '2024-05-13 12:00', 'cc_phones', 'S8', 3, NULL);
"""

ADMIN = Viewer("adm", "admin", "people", None)                  # manages nobody
ADMIN_MANAGER = Viewer("jo", "admin", "people", "S10")          # manages Kim
BASE = {
    "executive": Viewer("exec", "executive", "customer_digital", None),
    "head_cc": Viewer("cat", "head", "contact_centre", "S3"),
    "head_housing": Viewer("ivy", "head", "housing", "S9"),      # head of another department
    "staff_s1": Viewer("ann", "staff", "cc_phones", "S1"),        # manages Hal
    "staff_s8": Viewer("hal", "staff", "cc_phones", "S8"),
    "admin": ADMIN,
    "admin_manager": ADMIN_MANAGER,
}
VIEWERS = dict(BASE, **{
    "as_executive": viewing_as(BASE["executive"], ADMIN),
    "as_head_cc": viewing_as(BASE["head_cc"], ADMIN),
    "as_staff_s1": viewing_as(BASE["staff_s1"], ADMIN),
    "jo_as_executive": viewing_as(BASE["executive"], ADMIN_MANAGER),
})
SCOPES = {"org": Scope("organisation"), "dir_place": Scope("directorate", "place"),
          "contact_centre": Scope("department", "contact_centre"), "housing": Scope("department", "housing"),
          "cc_phones": Scope("team", "cc_phones"), "S1": Scope("staff", "S1"), "S2": Scope("staff", "S2"),
          "S3": Scope("staff", "S3"), "S8": Scope("staff", "S8"), "S9": Scope("staff", "S9"),
          "S11": Scope("staff", "S11")}
UNITS = {"org", "dir_place", "contact_centre", "housing", "cc_phones"}
EVERYONE = {"S1", "S2", "S3", "S8", "S9", "S11"}

# Whose individual figures each viewer may see.
PEOPLE = {"executive": EVERYONE, "head_cc": {"S1", "S2", "S3", "S8"}, "head_housing": {"S9"},
          "staff_s1": {"S1", "S8"}, "staff_s8": {"S8"}, "admin": set(), "admin_manager": {"S11"},
          "as_executive": set(), "as_head_cc": set(), "as_staff_s1": set(), "jo_as_executive": {"S11"}}
# Whose records, comments and lists each viewer may read.
RECORDS = {"executive": set(SCOPES), "head_cc": {"contact_centre", "cc_phones", "S1", "S3", "S8"},
           "head_housing": {"housing", "S9"}, "staff_s1": {"contact_centre", "cc_phones", "S1", "S8"},
           "staff_s8": {"contact_centre", "cc_phones", "S8"}, "admin": set(), "admin_manager": {"S11"},
           "as_executive": set(), "as_head_cc": set(), "as_staff_s1": set(), "jo_as_executive": {"S11"}}
MATRIX = [(v, s) for v in VIEWERS for s in SCOPES]


@pytest.fixture(scope="module")
def engine(config):
    from pathlib import Path

    from metrics.compute.engine import Engine
    from metrics.store.database import connect
    from tests.conftest import with_columns
    con = connect(":memory:", config, create=True)
    con.execute(with_columns(con, (Path(__file__).parent.parent / "fixture.sql").read_text(encoding="utf-8")))
    con.execute(with_columns(con, EXTRA))
    yield Engine(con, config)
    con.close()


@pytest.mark.parametrize("who, where", MATRIX)
def test_figures_series_and_breakdowns(engine, who, where):
    v, s = VIEWERS[who], SCOPES[where]
    expected = where in UNITS or where in PEOPLE[who]
    assert allowed(lambda: engine.value(v, "first_contact_resolution", s, MAY)) == expected
    assert allowed(lambda: engine.series(v, "first_contact_resolution", s, MAY, "week")) == expected
    if s.kind != "staff":
        b = engine.breakdown(v, "first_contact_resolution", s, MAY, by="staff")
        assert set(b["grp"]) <= PEOPLE[who]
        assert len(engine.breakdown(v, "first_contact_resolution", s, MAY, by="team")) > 0    # units: shared


@pytest.mark.parametrize("who, where", MATRIX)
def test_records_comments_and_lists(engine, who, where):
    v, s = VIEWERS[who], SCOPES[where]
    expected = where in RECORDS[who]
    assert allowed(lambda: records.metric_records(engine, v, "grade_of_service", s, MAY)) == expected
    assert allowed(lambda: lists.feedback_comments(engine, v, s, MAY)) == expected
    own_lists = where in PEOPLE[who] if s.kind == "staff" else expected
    assert allowed(lambda: lists.thanks(engine, v, s, MAY)) == own_lists
    assert allowed(lambda: lists.waiting(engine, v, s, dt.date(2024, 5, 31))) == own_lists
    assert allowed(lambda: demand.calls_caused(engine, v, s, MAY)) == expected           # failure demand's records
    if s.kind == "staff":
        assert allowed(lambda: demand.invitation(engine, v, s.key, MAY)) == expected
    elif s.kind == "organisation":          # failure-demand figures (in words): shared, like the figures
        assert allowed(lambda: demand.summary(engine, v, MAY))
    else:
        assert allowed(lambda: demand.unit_words(engine, v, s.key, MAY))


@pytest.mark.parametrize("who", list(VIEWERS))
def test_person_columns_show_only_people_the_viewer_may_see(engine, who):
    """Records of the contact centre's contacts (Ann: c1 c2 c5 c7; Hal: h1 h2): an id stays only where the
    viewer may see that person's figures; the rows themselves are all there."""
    v = VIEWERS[who]
    if "contact_centre" not in RECORDS[who]:
        return
    df = records.metric_records(engine, v, "first_contact_resolution", SCOPES["contact_centre"], MAY)
    named = set(df["staff_id"].dropna())
    assert named == {"S1", "S8"} & PEOPLE[who]
    assert {"c1", "c2", "c5", "c7", "h1", "h2"} <= set(df["contact_id"])


def test_a_staff_member_cannot_rebuild_a_colleagues_figure_from_records(engine):
    """Hal may not see Ann's first-contact resolution; before the fix her 4 contacts (3 resolved) stood in the
    records with her id beside them."""
    hal = VIEWERS["staff_s8"]
    with pytest.raises(AccessDenied):
        engine.value(hal, "first_contact_resolution", SCOPES["S1"], MAY)
    df = records.metric_records(engine, hal, "first_contact_resolution", SCOPES["contact_centre"], MAY)
    assert "S1" not in set(df["staff_id"].dropna())
    assert set(df.loc[df["staff_id"] == "S8", "contact_id"]) == {"h1", "h2"}


def test_survey_answers_of_a_small_group_are_not_shown(engine):
    """Housing has 3 CSAT answers in May (F3, F4, F5), fewer than privacy.min_group_size (5): its figure is
    suppressed, so are the answers behind it — even for its head and for executives."""
    assert engine.value(VIEWERS["executive"], "csat", SCOPES["housing"], MAY).status == "suppressed"
    for who in ("head_housing", "executive"):
        with pytest.raises(AccessDenied, match=r"there are 3, fewer than 5 \(privacy.min_group_size\)"):
            records.metric_records(engine, VIEWERS[who], "csat", SCOPES["housing"], MAY)


def test_survey_answers_name_no_one_with_fewer_answers_than_the_minimum(engine):
    """The contact centre has 7 CSAT answers (Ann 2: F1 F2; Hal 5: FH1–FH5). Cat manages both, but Ann's 2
    answers would undo the suppression of her own figure, so her id is blanked; Hal's 5 stay."""
    cat = VIEWERS["head_cc"]
    df = records.metric_records(engine, cat, "csat", SCOPES["contact_centre"], MAY)
    assert len(df) == 7
    assert set(df.loc[df["staff_id"] == "S8", "feedback_id"]) == {"FH1", "FH2", "FH3", "FH4", "FH5"}
    assert df.loc[df["feedback_id"].isin(["F1", "F2"]), "staff_id"].isna().all()
    assert set(df["department_id"]) == {"cc_phones"}           # 7 answers in the team: shown
    assert engine.value(cat, "csat", SCOPES["S1"], MAY).status == "suppressed"


def test_organisation_answers_keep_rows_but_blank_small_groups(engine):
    """Organisation-wide figures are never suppressed: the 10 answers are listed, but the teams and people with
    fewer than 5 answers are not named (housing_repairs 3, Ann 2, Bob 2); cc_phones (7) and Hal (5) are."""
    df = records.metric_records(engine, VIEWERS["executive"], "csat", SCOPES["org"], MAY)
    assert len(df) == 10
    assert set(df["staff_id"].dropna()) == {"S8"}
    assert set(df["department_id"].dropna()) == {"cc_phones"}
    assert df.loc[df["feedback_id"].isin(["F3", "F4", "F5"]), "department_id"].isna().all()


@pytest.mark.parametrize("who", ["head_cc", "staff_s1", "staff_s8", "executive"])
def test_waiting_lists_name_only_visible_people(engine, who):
    """Callbacks H1–H3 wait on Bob (S2) in housing_repairs; an executive sees his id, others in his line only."""
    v = VIEWERS[who]
    df = lists.waiting(engine, v, SCOPES["org"] if who == "executive" else SCOPES["contact_centre"],
                         dt.date(2024, 5, 31))
    assert set(df["staff_id"].dropna()) <= PEOPLE[who]


@pytest.mark.parametrize("who, unit, expected", [
    ("head_cc", "contact_centre", True), ("staff_s8", "contact_centre", True), ("head_housing", "contact_centre", False),
    ("head_housing", "housing", True), ("admin", "housing", False), ("admin", "people", False),
    ("as_head_cc", "contact_centre", False), ("executive", "housing", True), ("as_executive", "housing", False)])
def test_inbox(engine, who, unit, expected):
    v = VIEWERS[who]
    assert allowed(lambda: cases.inbox(engine, v, unit, "all", dt.datetime(2024, 6, 1))) == expected


def test_an_administrator_reads_no_department_records_not_even_their_own(engine):
    """The administrator sits in People: before the fix authorize_records took that as their home unit."""
    with pytest.raises(AccessDenied):
        lists.feedback_comments(engine, ADMIN, Scope("department", "people"), MAY)
    with pytest.raises(AccessDenied):
        records.metric_records(engine, ADMIN_MANAGER, "grade_of_service", Scope("department", "people"), MAY)
    assert len(records.metric_records(engine, ADMIN_MANAGER, "grade_of_service", SCOPES["S11"], MAY)) == 1


def test_view_as_refusal_says_why(engine):
    with pytest.raises(AccessDenied, match=r"^adm is viewing as ann: view-as shows that role's pages and shared "
                                           r"figures, but not individual figures"):
        engine.value(VIEWERS["as_staff_s1"], "first_contact_resolution", SCOPES["S1"], MAY)


def test_only_administrators_view_as_and_only_other_roles():
    with pytest.raises(AccessDenied, match="only administrators may"):
        viewing_as(BASE["staff_s8"], BASE["head_cc"])
    with pytest.raises(AccessDenied, match="persona of another role only"):
        viewing_as(ADMIN_MANAGER, ADMIN)


def test_comments_keep_their_words_but_not_the_scores_of_a_small_group(engine):
    """Housing's May comments: F3 'Slow' (CSAT 2) is one of 3 survey answers in housing_repairs, so its score is
    blank; the complaints' words stay. The contact centre's cc_phones has 7 answers: F1 'Great' keeps its 5."""
    cat, ivy = VIEWERS["head_cc"], VIEWERS["head_housing"]
    housing = lists.feedback_comments(engine, ivy, SCOPES["housing"], MAY)
    slow = housing[housing["comment"] == "Slow"]
    assert len(slow) == 1 and slow[["csat", "nps"]].isna().all(axis=None)
    assert {"Again", "No news"} <= set(housing["comment"])
    cc = lists.feedback_comments(engine, cat, SCOPES["contact_centre"], MAY)
    assert cc.loc[cc["comment"] == "Great", "csat"].tolist() == [5]
    org = lists.feedback_comments(engine, VIEWERS["executive"], SCOPES["org"], MAY)
    assert org.loc[org["comment"] == "Slow", "csat"].isna().tolist() == [True, False]    # F3 blank, FH3 (cc) shown
