"""A profile's `expr` may use the target columns as converted (a date parsed from the export's own text format), as a
`drop.when` may; a file column of the same name still means the file's. Worked by hand on three rows."""
import pytest

from metrics.catalogue.sqlexpr import ExpressionError
from metrics.ingest.loader import load_file
from metrics.ingest.profiles import load_profile

PROFILE = """
table: requests
file: {format: csv}
key: [request_id]
columns:
  request_id: {from: Ref}
  department_id: {constant: housing_repairs}
  created_at: {from: Opened, type: timestamp, formats: ["%d/%m/%Y %H:%M"]}
  closed_at: {from: Closed, type: timestamp, formats: ["%d/%m/%Y %H:%M"]}
  due_at: {expr: "created_at + INTERVAL 5 DAY", type: timestamp}
  status: {expr: "CASE WHEN closed_at IS NULL THEN 'open' ELSE 'closed' END"}
  category: {expr: "Kind || ' (' || CAST(date_diff('day', created_at, closed_at) AS VARCHAR) || ' days)'"}
drop:
  - {when: "closed_at < created_at", reason: closed before it was opened}
"""
ROWS = ("Ref,Opened,Closed,Kind\n"
        "Z1,03/06/2024 09:00,05/06/2024 10:00,Leak\n"        # closed 2 days later
        "Z2,04/06/2024 12:00,,Damp\n"                         # still open
        "Z3,06/06/2024 08:00,01/06/2024 08:00,Leak\n")        # closed before opened: dropped


def write(tmp_path, profile: str):
    (tmp_path / "p.yaml").write_text(profile)
    (tmp_path / "r.csv").write_text(ROWS)
    return load_profile(str(tmp_path / "p.yaml")), tmp_path / "r.csv"


def test_an_expression_over_converted_columns(fresh_engine, tmp_path):
    profile, csv = write(tmp_path, PROFILE)
    result = load_file(fresh_engine.con, fresh_engine.config, "requests", csv, profile=profile, loaded_by="test")
    assert (result.inserted, result.dropped) == (2, {"closed before it was opened": 1})
    got = fresh_engine.read_store("SELECT request_id, CAST(due_at AS VARCHAR) AS due, status, coalesce(category, '–') AS category FROM requests "
                                  "WHERE request_id IN ('Z1', 'Z2', 'Z3') ORDER BY request_id")
    assert got.values.tolist() == [["Z1", "2024-06-08 09:00:00", "closed", "Leak (2 days)"],
                                   ["Z2", "2024-06-09 12:00:00", "open", "–"]]


def test_an_expression_over_another_such_expression_is_one_sentence(fresh_engine, tmp_path):
    profile, csv = write(tmp_path, PROFILE.replace("created_at + INTERVAL 5 DAY", "created_at + INTERVAL 5 DAY")
                         .replace("  status: {expr:", "  priority: {expr: \"CASE WHEN due_at IS NULL THEN 'x' END\"}\n"
                                                      "  status: {expr:"))
    with pytest.raises(ExpressionError, match=r"columns\.priority\.expr.*uses due_at, itself an expression"):
        load_file(fresh_engine.con, fresh_engine.config, "requests", csv, profile=profile, loaded_by="test")
    assert fresh_engine.read_store("SELECT count(*) AS n FROM requests WHERE request_id = 'Z1'").iloc[0, 0] == 0
