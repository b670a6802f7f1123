"""A mapping profile's `expr` / `drop.when`, and config.yaml's expressions, are parsed and checked, never pasted.

Every hostile expression is refused twice: by parse_profile (one sentence naming the profile and the key),
and by load_file when a Profile skipped parse_profile — nothing in the demo database changes either way.
"""
import dataclasses
import shutil

import pytest
import yaml

from metrics.catalogue.parse import load_config
from metrics.errors import ConfigError, MetricsError
from metrics.ingest.loader import load_file
from metrics.ingest.profiles import parse_profile
from metrics.store.database import connect
from tests.security.support import assert_one_sentence, table_checksums

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$not-a-real-hash"
ROWS = "id,date,comment,outcome\nF1,2024-05-01 09:00:00,fine,ok\nF2,2024-05-02 10:00:00,slow,PHANTOM\n"
KEYS = {"expr": "columns.comment.expr", "drop": "drop[0].when"}

# (expression, words the sentence must hold besides the profile and the key, refused before the file is seen)
HOSTILE = {
    "password hashes": ("(SELECT string_agg(user_id || ':' || password_hash, ' ') FROM users)", ("subquery",), True),
    "read_text": ("read_text('/etc/passwd')", ("read_text",), True),
    "drop closes its CASE": ("outcome = 'x') THEN 'a' END; DROP TABLE staff; SELECT (1", ("expression",), True),
    "read_csv": ("read_csv('/etc/passwd')", ("read_csv",), True),
    "read_parquet": ("read_parquet('/tmp/x.parquet')", ("read_parquet",), True),
    "read_blob": ("read_blob('/etc/passwd')", ("read_blob",), True),
    "glob": ("glob('/etc/*')", ("glob",), True),
    "query": ("query('SELECT password_hash FROM users')", ("query",), True),
    "query_table": ("query_table('users')", ("query_table",), True),
    "sql_auto_complete": ("sql_auto_complete('SELECT')", ("sql_auto_complete",), True),
    "getenv": ("getenv('HOME')", ("getenv",), True),
    "current_setting": ("current_setting('home_directory')", ("current_setting",), True),
    "line comment": ("comment -- and the rest", ("comments",), True),
    "nested comment": ("/* a /* b */ (SELECT 1) */ comment", ("comments",), True),
    "statement after": ("1; DROP TABLE staff", ("more than one statement",), True),
    "quote breaker": ("x')", ("never closed",), True),
    "quote breaker and more": ("comment') OR (SELECT count(*) FROM staff) > 0 OR ('", ("not one SQL expression",),
                               True),
    "backslash is not an escape": ("'\\' || (SELECT password_hash FROM users) || '\\'", ("subquery",), True),
    "escape string": ("E'\\'' || (SELECT 1) || ''", ("escape",), True),
    "dollar quoting": ("$$x$$ || comment", ("dollar",), True),
    "star": ("*", ("'*'",), True),
    "subquery in IN": ("id IN (SELECT staff_id FROM staff)", ("IN takes a list",), True),
    "exists": ("EXISTS (SELECT 1 FROM users)", ("subquery",), True),
    "unknown function": ("frobnicate(comment)", ("frobnicate",), True),
    "aggregate": ("string_agg(comment, ',')", ("string_agg",), True),
    "lambda over a list": ("list_transform(['a', 'b'], x -> x || comment)", ("list_transform",), True),
    "COPY": ("COPY staff TO '/tmp/staff.csv'", ("COPY",), True),
    "ATTACH": ("ATTACH '/tmp/other.duckdb' AS other", ("ATTACH",), True),
    "PRAGMA": ("PRAGMA database_list", ("PRAGMA",), True),
    "SET": ("SET threads = 1", ("SET",), True),
    "parameter": ("$1", ("parameter",), True),
    "another table's column": ("users.password_hash", ("another table",), True),
    "unknown column": ("password_hash", ("unknown column", "password_hash", "comment"), False),
}


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory, config):
    """A demo database for the corpus (the demo generator at a small scale, so that proving every table
    unchanged after each of the ~70 cases stays quick), with a user whose password hash an attack would want."""
    from metrics.demo.build import build_demo_database
    path = tmp_path_factory.mktemp("hostile") / "demo.duckdb"
    build_demo_database(path, config, scale=0.02)
    con = connect(path, config)
    con.execute("INSERT INTO users (user_id, role, password_hash, created_at) VALUES ('a@example.org', 'admin', $h, "
                "TIMESTAMP '2024-01-01 00:00:00')", {"h": HASH})
    data = path.parent / "feedback.csv"
    data.write_text(ROWS)
    yield con, data, table_checksums(con)
    con.close()


def _raw(key: str, text: str) -> dict:
    columns = {"feedback_id": {"from": "id"}, "kind": {"constant": "survey"}, "source": {"constant": "customer"},
               "received_at": {"from": "date", "type": "timestamp"}, "department_id": {"constant": "cx_insight"},
               "comment": {"expr": text} if key == "expr" else {"from": "comment"}}
    raw = {"table": "feedback", "columns": columns}
    if key == "drop":
        raw["drop"] = [{"when": text, "reason": "hostile"}]
    return raw


def _unchecked(key: str, text: str):
    """The same profile built without parse_profile's checks: the loader must refuse it on its own."""
    safe = parse_profile(_raw(key, "comment" if key == "expr" else "outcome = 'x'"), "hostile")
    if key == "expr":
        cols = tuple(dataclasses.replace(c, expr=text) if c.target == "comment" else c for c in safe.columns)
        return dataclasses.replace(safe, columns=cols)
    return dataclasses.replace(safe, drops=(dataclasses.replace(safe.drops[0], when=text),))


@pytest.mark.parametrize("key", list(KEYS))
@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_expression_is_refused_in_one_sentence_and_changes_nothing(demo_copy, config, key, case):
    con, data, before = demo_copy
    text, words, at_parse = HOSTILE[case]
    if at_parse:
        with pytest.raises(ConfigError) as refused:
            parse_profile(_raw(key, text), "hostile")
        assert_one_sentence(str(refused.value), "profile hostile", KEYS[key], *words)
    with pytest.raises(MetricsError) as refused:
        load_file(con, config, "feedback", data, _unchecked(key, text))
    assert_one_sentence(str(refused.value), "profile hostile", KEYS[key], *words)
    assert HASH not in str(refused.value)
    assert table_checksums(con) == before


def test_sql_inside_a_string_literal_is_only_text(demo_db, tmp_path, config):
    """'); DROP TABLE staff; -- written as a string is a value like any other: it loads as the comment, and a
    drop comparing the converted (trimmed) comment with it drops exactly the row that holds it."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    con = connect(path, config)
    before = table_checksums(con)
    data = tmp_path / "feedback.csv"
    data.write_text("id,date,comment,outcome\nZ1,2024-05-01 09:00:00,fine,ok\n"
                    "Z2,2024-05-02 10:00:00,\"  '); DROP TABLE staff; --  \",ok\n")
    literal = "'''); DROP TABLE staff; --'"          # the SQL spelling of the 24 characters '); DROP TABLE staff; --
    r = load_file(con, config, "feedback", data, parse_profile(_raw("expr", literal), "literal"))
    assert r.ok and r.inserted == 2
    assert con.execute("SELECT list(comment ORDER BY feedback_id) FROM feedback WHERE feedback_id IN ('Z1', 'Z2')"
                       ).fetchone()[0] == ["'); DROP TABLE staff; --"] * 2
    data2 = tmp_path / "feedback2.csv"
    data2.write_text(data.read_text().replace("Z1", "Y1").replace("Z2", "Y2"))
    # `comment` in the drop is the converted column: the file's text with the two spaces either side trimmed.
    r = load_file(con, config, "feedback", data2, parse_profile(_raw("drop", f"comment = {literal}"), "literal"))
    assert r.ok and r.inserted == 1 and r.dropped == {"hostile": 1}
    assert con.execute("SELECT list(feedback_id) FROM feedback WHERE feedback_id LIKE 'Y%'").fetchone()[0] == ["Y1"]
    changed = {t for t, h in table_checksums(con).items() if h != before.get(t)}
    assert changed == {"feedback", "load_batches"}           # staff and every other table as they were
    con.close()


def test_a_drop_may_use_the_converted_target_columns(demo_copy, config, tmp_path):
    """closed_at < created_at compares the converted timestamps (DuckDB's binder refused this before);
    the file's own columns stay usable beside them."""
    con, _, before = demo_copy
    data = tmp_path / "requests.csv"
    data.write_text("id,opened,closed,team\n"
                    "Q1,05/01/2024 09:00,05/03/2024 09:00,finance_payables\n"       # closed two days later: kept
                    "Q2,05/02/2024 10:00,05/01/2024 08:00,finance_payables\n"       # closed before it opened: dropped
                    "Q3,05/02/2024 10:00,05/02/2024 11:00,skip\n")                  # the file's own column: dropped
    raw = {"table": "requests", "columns": {
        "request_id": {"from": "id"}, "status": {"constant": "closed"},
        "created_at": {"from": "opened", "type": "timestamp", "formats": ["%m/%d/%Y %H:%M"]},
        "closed_at": {"from": "closed", "type": "timestamp", "formats": ["%m/%d/%Y %H:%M"]},
        "department_id": {"expr": "CASE WHEN team = 'skip' THEN 'finance_payables' ELSE team END"}},
        "drop": [{"when": "closed_at < created_at", "reason": "closed before it was opened"},
                 {"when": "team = 'skip'", "reason": "marked skip"}]}
    r = load_file(con, config, "requests", data, parse_profile(raw, "orders"), dry_run=True)
    assert r.ok and r.rows_read == 3 and r.inserted == 1
    assert r.dropped == {"closed before it was opened": 1, "marked skip": 1}
    raw["drop"][0]["when"] = "closed_at < opened_at"
    with pytest.raises(ConfigError) as refused:
        load_file(con, config, "requests", data, parse_profile(raw, "orders"), dry_run=True)
    assert_one_sentence(str(refused.value), "profile orders", "drop[0].when", "unknown column 'opened_at'",
                        "closed_at", "created_at", "opened", "team")
    assert table_checksums(con) == before


CONFIG_CASES = {   # key path in config.yaml → hostile text, words of the reason
    ("metrics", "avg_speed_of_answer", "filter"): ("NOT abandoned OR (SELECT count(*) FROM users) > 0", "subquery"),
    ("metrics", "avg_speed_of_answer", "expr"): ("wait_seconds + length(getenv('HOME'))", "getenv"),
    ("sources", "feedback", "derived", "negative"): ("read_text('/etc/passwd') IS NOT NULL", "read_text"),
    ("sources", "phone_calls", "filter"): ("channel = 'phone' -- the rest is ignored", "comments"),
    ("metrics", "grade_of_service", "numerator", "filter"): ("NOT abandoned; DROP TABLE staff", "more than one"),
    ("sources", "requests", "derived", "external"): ("requester_department_id IS NULL AND $1", "parameter"),
}


@pytest.mark.parametrize("keys", list(CONFIG_CASES), ids=".".join)
def test_a_hostile_config_expression_is_refused_at_start_up_naming_its_key(tmp_path, keys):
    raw = yaml.safe_load(open("config.yaml", encoding="utf-8"))
    node = raw
    for k in keys[:-1]:
        node = node[k]
    assert keys[-1] in node                                  # the case edits a key that exists
    text, words = CONFIG_CASES[keys]
    node[keys[-1]] = text
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    key = ".".join(keys)
    hits = [e for e in refused.value.errors if e.startswith(f"{key}: ")]
    assert len(refused.value.errors) == 1 and len(hits) == 1, refused.value.errors
    assert_one_sentence(hits[0], key, words)
