"""Free text from forms (metrics.store.writes.text): invisible and layout-breaking characters refused by Unicode
category, real markup and script/data links refused, a lone "<" accepted — each refusal one sentence that says
what, where and what is accepted, and nothing written."""
import pytest

from metrics.voice import cases, praise

from metrics.store import writes
from metrics.errors import MetricsError
from tests.security.support import assert_one_sentence, table_checksums
from tests.test_cases import BOB

# What people really write, and the value kept (stripped at both ends, nothing else changed).
ACCEPTED = [
    ("a<b", "a<b"),
    ("x < y", "x < y"),
    ("I <3 the new form", "I <3 the new form"),
    ("5 <10 and 3>2", "5 <10 and 3>2"),
    ("a</b", "a</b"),
    ("Missing data: the form was blank", "Missing data: the form was blank"),
    ("The metadata: fine", "The metadata: fine"),
    ("  Thanks,\n\tthe repairs team  ", "Thanks,\n\tthe repairs team"),
    ("Line one\r\nLine two", "Line one\r\nLine two"),
    ("Café, naïve, Zoë — “quoted” ‘text’ … 10 % off", "Café, naïve, Zoë — “quoted” ‘text’ … 10 % off"),
    ("Great service ❤️ 👍🏽", "Great service ❤️ 👍🏽"),
    ("مرحبا شكرا", "مرحبا شكرا"),                     # right-to-left script itself is fine; overrides are not
    ("= sign and + and - and @ are plain text here", "= sign and + and - and @ are plain text here"),
]


def test_plain_text_is_kept_as_typed():
    assert [writes.text(typed, "Message", 500) for typed, _ in ACCEPTED] == [kept for _, kept in ACCEPTED]


CHARACTER = "remove it and write plain text"       # what every character refusal says is accepted
MARKUP = "a lone < as in a < b is fine"             # what every markup refusal says is accepted
REFUSED = [
    # bidirectional overrides and isolates (category Cf)
    ("pay \u202eeulav", ("invisible formatting character", "U+202E RIGHT-TO-LEFT OVERRIDE", "at character 5", CHARACTER)),
    ("a\u202ab", ("invisible formatting character", "U+202A LEFT-TO-RIGHT EMBEDDING", "at character 2", CHARACTER)),
    ("a\u202bb", ("invisible formatting character", "U+202B", "at character 2", CHARACTER)),
    ("a\u202cb", ("invisible formatting character", "U+202C POP DIRECTIONAL FORMATTING", "at character 2", CHARACTER)),
    ("a\u202db", ("invisible formatting character", "U+202D LEFT-TO-RIGHT OVERRIDE", "at character 2", CHARACTER)),
    ("a\u2066b", ("invisible formatting character", "U+2066 LEFT-TO-RIGHT ISOLATE", "at character 2", CHARACTER)),
    ("a\u2067b", ("invisible formatting character", "U+2067 RIGHT-TO-LEFT ISOLATE", "at character 2", CHARACTER)),
    ("a\u2068b", ("invisible formatting character", "U+2068 FIRST STRONG ISOLATE", "at character 2", CHARACTER)),
    ("a\u2069b", ("invisible formatting character", "U+2069 POP DIRECTIONAL ISOLATE", "at character 2", CHARACTER)),
    # zero-width characters and the byte-order mark (Cf)
    ("pass\u200bword", ("invisible formatting character", "U+200B ZERO WIDTH SPACE", "at character 5", CHARACTER)),
    ("a\u200cb", ("invisible formatting character", "U+200C ZERO WIDTH NON-JOINER", "at character 2", CHARACTER)),
    ("a\u200db", ("invisible formatting character", "U+200D ZERO WIDTH JOINER", "at character 2", CHARACTER)),
    ("a\u2060b", ("invisible formatting character", "U+2060 WORD JOINER", "at character 2", CHARACTER)),
    ("a\ufeffb", ("invisible formatting character", "U+FEFF ZERO WIDTH NO-BREAK SPACE", "at character 2", CHARACTER)),
    # line and paragraph separators (Zl, Zp) and NEL (Cc)
    ("a\u2028b", ("line separator", "U+2028", "at character 2", CHARACTER)),
    ("a\u2029b", ("paragraph separator", "U+2029", "at character 2", CHARACTER)),
    ("a\x85b", ("control character", "U+0085", "at character 2", CHARACTER)),
    # other control characters (Cc), private use (Co), unassigned (Cn), a lone surrogate (Cs)
    ("a\x00b", ("control character", "U+0000", "at character 2", CHARACTER)),
    ("a\x1b[31mred", ("control character", "U+001B", "at character 2", CHARACTER)),
    ("a\x7fb", ("control character", "U+007F", "at character 2", CHARACTER)),
    ("a\ue000b", ("private-use character", "U+E000", "at character 2", CHARACTER)),
    ("a\u0378b", ("unassigned character", "U+0378", "at character 2", CHARACTER)),
    ("a\ud800b", ("lone surrogate", "U+D800", "at character 2", CHARACTER)),
    ("<scr\u200bipt>", ("invisible formatting character", "U+200B", "at character 5", CHARACTER)),
    # real markup
    ("<script>alert(1)</script>", ("markup", "'<script>aler'", MARKUP)),
    ("see <script", ("markup", "'<script'", MARKUP)),
    ("<img src=x onerror=alert(1)>", ("markup", "'<img src=x o'", MARKUP)),
    ("<img src=x", ("markup", "'<img src=x'", MARKUP)),
    ("bold</b>", ("markup", "'</b>'", MARKUP)),
    ("<b>bold</b>", ("markup", "'<b>bold</b>'", MARKUP)),
    ("<!-- hidden -->", ("markup", "'<!-- hidden '", MARKUP)),
    ("<svg/onload=alert(1)>", ("markup", "'<svg/onload='", MARKUP)),
    ("<a href='x'>here</a>", ("markup", "<a href='x'>", MARKUP)),
    ("<?php echo 1 ?>", ("markup", "'<?php echo 1'", MARKUP)),
    # script and data links, also with the tabs and line breaks URL parsers drop
    ("javascript:alert(1)", ("markup", "'javascript:a'", MARKUP)),
    ("java\tscript:alert(1)", ("markup", "'javascript:a'", MARKUP)),
    ("click JAVA\nSCRIPT:x", ("markup", "'JAVASCRIPT:x'", MARKUP)),
    ("vbscript:msgbox(1)", ("markup", "'vbscript:msg'", MARKUP)),
    ("data:text/html,<b>x", ("markup", "'data:text/ht'", MARKUP)),
    ("data: text/html;base64,PHNjcmlwdD4=", ("markup", "'data: text/h'", MARKUP)),
    ("data:,alert(1)", ("markup", "'data:,alert('", MARKUP)),
]


@pytest.mark.parametrize("typed, words", REFUSED, ids=[repr(t)[1:-1][:30] for t, _ in REFUSED])
def test_hostile_text_is_refused_in_one_sentence(typed, words):
    with pytest.raises(MetricsError) as refused:
        writes.text(typed, "Message", 500)
    assert_one_sentence(str(refused.value), "Message", *words)


@pytest.mark.parametrize("typed", ["Thanks \u202eeulav", "Thanks\u200b", "Thanks\u2028for that", "Thanks, see vbscript:msgbox(1)"])
def test_a_refused_thanks_writes_nothing(fresh_engine, typed):
    before = table_checksums(fresh_engine.con)
    with pytest.raises(MetricsError) as refused:
        praise.give(fresh_engine, BOB, "Commitment", typed, to_staff_id="S1")      # S1: Ann, a colleague
    assert_one_sentence(str(refused.value), "Message")
    assert table_checksums(fresh_engine.con) == before


def test_a_refused_case_follow_up_writes_nothing(fresh_engine):
    # A complaint about Bob's Repairs team (as in tests/test_cases.py), so Bob may follow it up; his note carries a
    # right-to-left override 13th.
    fresh_engine.con.execute("""INSERT INTO feedback (feedback_id, kind, source, received_at, department_id, comment,
                                customer_id) VALUES ('F20', 'complaint', 'customer', '2024-05-03 16:00', 'housing_repairs',
                                'The leak is back', 'P1')""")
    version = int(fresh_engine.read_store("SELECT version FROM feedback WHERE feedback_id = 'F20'").iloc[0, 0])
    before = table_checksums(fresh_engine.con)
    with pytest.raises(MetricsError) as refused:
        cases.follow_up(fresh_engine, BOB, "F20", version, "Called back \u202e and fixed")
    assert_one_sentence(str(refused.value), "What you told the customer", "U+202E", "at character 13")
    assert table_checksums(fresh_engine.con) == before
