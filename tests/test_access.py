"""Access matrix: every role × scope × kind of data → allowed or refused, as the product rules say.

Fixture people (tests/fixture.sql): S3 Cat heads the Contact Centre and manages S1 Ann (cc_phones)
and S2 Bob (housing_repairs). Rules: unit figures are shared with everyone signed in; a person's
figures go to them and the managers above them (and executives); records and verbatim comments go
to the department concerned and to executives; administrators see no individual figures.

The whole matrix runs twice: on DuckDB, and with the Spark backend computing the figures from the
Parquet export of the same fixture database (access is enforced in the metrics layer, for every engine).
"""
import datetime as dt

import pytest

from metrics.compute import records
from metrics.voice import lists
from metrics.access import Viewer
from metrics.errors import AccessDenied
from metrics.compute.periods import month
from metrics.catalogue.scope import Scope

MAY = month(2024, 5)
VIEWERS = {
    "executive": Viewer("exec", "executive", "customer_digital", None),
    "head_cc": Viewer("cat", "head", "contact_centre", "S3"),
    "staff_s1": Viewer("ann", "staff", "cc_phones", "S1"),
    "staff_s2": Viewer("bob", "staff", "housing_repairs", "S2"),
    "admin": Viewer("adm", "admin", "people", None),
}
SCOPES = {"org": Scope("organisation"), "dir_place": Scope("directorate", "place"),
          "contact_centre": Scope("department", "contact_centre"), "housing": Scope("department", "housing"),
          "cc_phones": Scope("team", "cc_phones"), "S1": Scope("staff", "S1"), "S2": Scope("staff", "S2"),
          "S3": Scope("staff", "S3")}
UNITS = {"org", "dir_place", "contact_centre", "housing", "cc_phones"}

# Who may see a person's figures (hand-written from the rules above).
PEOPLE = {"executive": {"S1", "S2", "S3"}, "head_cc": {"S1", "S2", "S3"}, "staff_s1": {"S1"},
          "staff_s2": {"S2"}, "admin": set()}
# Whose records and comments each viewer may read.
RECORDS = {"executive": set(SCOPES), "head_cc": {"contact_centre", "cc_phones", "S1", "S3"},
           "staff_s1": {"contact_centre", "cc_phones", "S1"}, "staff_s2": {"housing", "S2"}, "admin": set()}

MATRIX = [(v, s) for v in VIEWERS for s in SCOPES]


@pytest.fixture(scope="module", params=["duckdb", "spark"])
def engine(request, config, tmp_path_factory):
    """The hand-worked fixture organisation, its figures computed by DuckDB or by Spark (local)."""
    from pathlib import Path

    from metrics.compute.engine import Engine
    from metrics.store.database import connect
    from tests.conftest import with_columns
    from tests.spark_support import exported, spark_config
    con = connect(":memory:", config, create=True)
    con.execute(with_columns(con, (Path(__file__).parent / "fixture.sql").read_text(encoding="utf-8")))
    if request.param == "spark":
        eng = Engine(con, spark_config(config, exported(con, tmp_path_factory.mktemp("pq") / "fixture")))
        assert eng.spark is not None
    else:
        eng = Engine(con, config)
    yield eng
    con.close()


def allowed(call) -> bool:
    try:
        call()
        return True
    except AccessDenied:
        return False


@pytest.mark.parametrize("who, where", MATRIX)
def test_figures(engine, who, where):
    expected = where in UNITS or where in PEOPLE[who]
    got = allowed(lambda: engine.value(VIEWERS[who], "first_contact_resolution", SCOPES[where], MAY))
    assert got == expected
    got_series = allowed(lambda: engine.series(VIEWERS[who], "first_contact_resolution", SCOPES[where], MAY, "week"))
    assert got_series == expected


@pytest.mark.parametrize("who, where", MATRIX)
def test_records_and_comments(engine, who, where):
    v, s = VIEWERS[who], SCOPES[where]
    expected = where in RECORDS[who]
    assert allowed(lambda: lists.feedback_comments(engine, v, s, MAY)) == expected
    assert allowed(lambda: records.metric_records(engine, v, "grade_of_service", s, MAY)) == expected


@pytest.mark.parametrize("who, where", MATRIX)
def test_a_persons_lists(engine, who, where):
    """Thanks and waiting items of a person follow the person rule; of a unit, the records rule."""
    v, s = VIEWERS[who], SCOPES[where]
    expected = where in PEOPLE[who] if s.kind == "staff" else where in RECORDS[who]
    assert allowed(lambda: lists.thanks(engine, v, s, MAY)) == expected
    assert allowed(lambda: lists.waiting(engine, v, s, dt.date(2024, 5, 31))) == expected


# first_contact_resolution per person in May (tests/fixture.sql): Ann (S1) took c1 c2 c5 c7 and resolved
# c1 c5 c7 at first contact → 3 / 4; Bob (S2) took c6, resolved → 1 / 1; Cat (S3) took no contacts, so she has
# no row; the abandoned calls c3 c4 have no staff member.
FCR_BY_PERSON = {"S1": ("Ann", 3, 4), "S2": ("Bob", 1, 1)}


@pytest.mark.parametrize("who", list(VIEWERS))
def test_breakdown_by_person_shows_only_visible_people(engine, who):
    b = engine.breakdown(VIEWERS[who], "first_contact_resolution", Scope("organisation"), MAY, by="staff")
    got = {r.grp: (r.name, r.numerator, r.denominator) for r in b.itertuples()}
    # Exactly the people with figures whom this viewer may see: executive and the head see Ann and Bob, each
    # member of staff only themselves, an administrator nobody.
    expected = {k: v for k, v in FCR_BY_PERSON.items() if k in PEOPLE[who]}
    assert got == expected
    assert len(got) == {"executive": 2, "head_cc": 2, "staff_s1": 1, "staff_s2": 1, "admin": 0}[who]


def test_comments_never_leak_across_departments(engine):
    """Ann (contact centre) reading her department's comments gets none about housing."""
    rows = lists.feedback_comments(engine, VIEWERS["staff_s1"], SCOPES["contact_centre"], MAY)
    assert len(rows) and set(rows["department_id"]) <= {"cc_phones", "cc_digital", "cc_counter", "contact_centre"}


def test_refusal_is_one_clear_sentence(engine):
    with pytest.raises(AccessDenied, match=r"^ann may not see the individual figures of S2: a person's figures"):
        engine.value(VIEWERS["staff_s1"], "csat", SCOPES["S2"], MAY)
