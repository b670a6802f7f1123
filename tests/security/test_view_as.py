"""'View as' only looks: every write a persona attempts is refused with one sentence and writes nothing, and the
audit trail names the person really signed in."""
import datetime as dt

import pytest

from metrics.voice import cases, suggestions, praise

from metrics.store import writes
from metrics.access import Viewer, viewing_as
from metrics.errors import AccessDenied
from tests.security.support import assert_one_sentence, table_checksums

AT = dt.datetime(2024, 6, 3, 10, 0)
ADMIN = Viewer("adm", "admin", "people", None)
EXEC = Viewer("exec", "executive", "customer_digital", None)
HEAD = Viewer("cat", "head", "contact_centre", "S3")
STAFF = Viewer("ann", "staff", "cc_phones", "S1")


def version(engine, table, key_col, key):
    return engine.read_store(f"SELECT version FROM {table} WHERE {key_col} = $k", {"k": key}).iloc[0, 0]


# Every dashboard write, as (name, call(engine, viewer)). F5 is an open housing case never followed up,
# F1 praise about Ann, G3 a new suggestion for cc_phones (see tests/fixture.sql).
WRITES = {
    "assign": lambda e, v: cases.assign(e, v, "F8", "S1", version(e, "feedback", "feedback_id", "F8"), at=AT),
    "acknowledge": lambda e, v: cases.acknowledge(e, v, "F5", version(e, "feedback", "feedback_id", "F5"), at=AT),
    "follow_up": lambda e, v: cases.follow_up(e, v, "F5", version(e, "feedback", "feedback_id", "F5"), "Called back",
                                              at=AT),
    "resolve": lambda e, v: cases.resolve(e, v, "F5", version(e, "feedback", "feedback_id", "F5"), "repairs", "Fixed",
                                          at=AT),
    "reopen": lambda e, v: cases.reopen(e, v, "F6", version(e, "feedback", "feedback_id", "F6"), "Came back", at=AT),
    "share": lambda e, v: praise.share(e, v, "F2", version(e, "feedback", "feedback_id", "F2"), at=AT),
    "thank": lambda e, v: praise.give(e, v, "Commitment", "Thank you", to_staff_id="S2", at=AT),
    "submit_idea": lambda e, v: suggestions.submit(e, v, "Shorter forms", None, "cc_phones", at=AT),
}


@pytest.mark.parametrize("persona", [EXEC, HEAD, STAFF], ids=["executive", "head", "staff"])
@pytest.mark.parametrize("action", list(WRITES))
def test_every_write_is_refused_while_viewing_as(fresh_engine, persona, action):
    before = table_checksums(fresh_engine.con)
    with pytest.raises(AccessDenied) as exc:
        WRITES[action](fresh_engine, viewing_as(persona, ADMIN))
    if persona.staff_id is None and action in ("thank", "submit_idea"):    # refused first for that (no colleague)
        assert_one_sentence(str(exc.value), "has no staff record")
    else:
        assert_one_sentence(str(exc.value), "adm is viewing as", "read-only", "nothing can be changed")
    assert table_checksums(fresh_engine.con) == before


def test_deciding_a_suggestion_is_refused_while_viewing_as(fresh_engine):
    sid = suggestions.submit(fresh_engine, HEAD, "Call-back slots", None, "cc_phones", at=AT)
    before = table_checksums(fresh_engine.con)
    v = version(fresh_engine, "suggestions", "suggestion_id", sid)
    for call in (lambda p: suggestions.review(fresh_engine, p, sid, v, at=AT),
                 lambda p: suggestions.decide(fresh_engine, p, sid, v, "implemented", "Slots added", None, at=AT)):
        with pytest.raises(AccessDenied, match="read-only"):
            call(viewing_as(EXEC, ADMIN))
    assert table_checksums(fresh_engine.con) == before


def test_the_audit_trail_names_the_real_user_even_if_a_persona_reaches_it(fresh_engine):
    """audit() is the last gate: a persona is refused there too, inside the caller's transaction."""
    before = table_checksums(fresh_engine.con)
    with pytest.raises(AccessDenied, match="adm is viewing as exec"):
        with writes.transaction(fresh_engine.con) as cur:       # no viewer given: only audit() can stop it
            writes.audit(cur, viewing_as(EXEC, ADMIN), AT, "test", "feedback", "F5", {})
    assert table_checksums(fresh_engine.con) == before
    # The same write as the executive themselves goes through and names them.
    cases.acknowledge(fresh_engine, EXEC, "F5", version(fresh_engine, "feedback", "feedback_id", "F5"), at=AT)
    row = fresh_engine.read_store("SELECT user_name, role FROM audit_log ORDER BY audit_id DESC LIMIT 1").iloc[0]
    assert (row["user_name"], row["role"]) == ("exec", "executive")


def test_a_persona_knows_who_is_really_signed_in():
    p = viewing_as(HEAD, ADMIN)
    assert p.read_only and p.actor == ADMIN and (p.user, p.role, p.staff_id) == ("cat", "head", "S3")
    assert not HEAD.read_only and HEAD.actor == HEAD
