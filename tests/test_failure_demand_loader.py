"""The bank call-centre profile gives each call a reason from the export's own service type (`type`), so failure
demand can be counted: a code the profile does not map, and a reason config does not know, are reported row by row
and nothing is written.

Every expected figure is counted here from the raw file with the csv module and the mapping written out below
(the profile's mapping, stated once more by hand), and classed with config.yaml's `demand` section read as plain
YAML — never taken from the loader's or the view's output.
"""
import collections
import csv
from pathlib import Path

import pytest
import yaml

from metrics.errors import MetricsError
from metrics.ingest.loader import load_file
from metrics.ingest.profiles import load_profile
from metrics.store.database import connect

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT.parent / "shared" / "data" / "external"          # as tests/test_ingest_real.py finds the real exports
BANK = EXT / "anonymous-bank-callcentre-1999-02" / "data_anonymous_bank_february.txt"
PROFILE = ROOT / "data" / "mappings" / "bank_callcentre.yaml"

# The export's service type → the organisation's reason (data/mappings/bank_callcentre.yaml says why).
MAPPING = {"PS": "enquiry", "PE": "enquiry", "IN": "enquiry", "NE": "enquiry", "NW": "new_request",
           "TT": "callback_chase"}
DEMAND = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["demand"]
UNMAPPED = "value is not one the profile maps (PS, PE, IN, NE, NW, TT)"   # the map's codes, in the profile's order


def raw_rows(path=BANK):
    """The file's data rows as dicts, each with its data-row number (1 = the first line after the header)."""
    with open(path, newline="", encoding="utf-8") as f:
        return [dict(r, _row=i) for i, r in enumerate(csv.DictReader(f, delimiter="\t"), start=1)]


def kept(rows):
    """The rows the profile keeps: it drops PHANTOM outcomes (unexplained records)."""
    return [r for r in rows if r["outcome"] != "PHANTOM"]


def served(r) -> bool:
    return r["outcome"] == "AGENT" and int(r["ser_time"]) > 0


def fresh(tmp_path, config):
    return connect(tmp_path / "demand.duckdb", config, create=True)


def nothing_written(con):
    assert con.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM load_batches WHERE status = 'loaded'").fetchone()[0] == 0


def report_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(int(r["row"]), r["column"], r["value"], r["reason"]) for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def loaded(config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("demand")
    con = connect(folder / "bank.duckdb", config, create=True)
    result = load_file(con, config, "contacts", BANK, profile=load_profile("bank_callcentre"), report_dir=folder)
    yield con, result
    con.close()


def test_the_file_is_the_one_the_profile_was_written_for():
    rows = raw_rows()
    assert len(rows) == 33_344                                       # SOURCE.md
    assert {r["type"] for r in rows} == set(MAPPING)                 # every code the file uses is mapped


def test_contacts_per_reason_equal_the_files_own_count(loaded):
    con, result = loaded
    assert result.ok and result.batch_id is not None, result.problems
    rows = kept(raw_rows())
    expected = collections.Counter(MAPPING[r["type"]] for r in rows)
    got = dict(con.execute("SELECT reason, count(*) FROM contacts GROUP BY reason").fetchall())
    assert got == dict(expected)
    assert sum(got.values()) == len(rows)                            # every kept call has a reason, none is NULL


def test_handle_seconds_is_the_service_time_of_served_calls(loaded):
    con, _ = loaded
    rows = kept(raw_rows())
    total = sum(int(r["ser_time"]) for r in rows if served(r))
    n = sum(served(r) for r in rows)
    got_total, got_n, got_null = con.execute("SELECT sum(handle_seconds), count(handle_seconds), "
                                             "count(*) - count(handle_seconds) FROM contacts").fetchone()
    assert (got_total, got_n, got_null) == (total, n, len(rows) - n)
    # Not served means no handling time, not zero: an abandoned call's stray ser_time is not counted.
    assert con.execute("SELECT count(*) FROM contacts WHERE handle_seconds <= 0").fetchone()[0] == 0
    stray = [r for r in rows if r["outcome"] == "HANG" and int(r["ser_time"]) > 0]
    assert stray, "the file has abandoned calls with a service time (the case the profile's expr guards)"
    per_reason = collections.defaultdict(int)
    for r in rows:
        if served(r):
            per_reason[MAPPING[r["type"]]] += int(r["ser_time"])
    got = dict(con.execute("SELECT reason, sum(handle_seconds) FROM contacts GROUP BY reason").fetchall())
    assert got == dict(per_reason)


def test_contact_demand_classes_the_calls_by_configs_classes(loaded):
    con, _ = loaded
    rows = kept(raw_rows())
    expected = collections.Counter()
    for r in rows:
        reason = MAPPING[r["type"]]
        cls = DEMAND["reasons"][reason]
        expected[(reason, cls, DEMAND["classes"][cls]["failure"])] += 1
    got = con.execute("SELECT reason, demand_class, failure, count(*) FROM contact_demand GROUP BY ALL").fetchall()
    assert {(a, b, c): n for a, b, c, n in got} == dict(expected)
    # In words: the call-back calls are chasing (failure demand), every other call is value demand.
    tt = sum(r["type"] == "TT" for r in rows)
    assert dict(((a, b, c), n) for a, b, c, n in got if a == "callback_chase") == {("callback_chase", "chasing", True): tt}
    assert sum(n for a, b, c, n in got if (b, c) == ("value", False)) == len(rows) - tt


def test_codes_the_profile_does_not_map_are_reported_row_by_row(tmp_path, config):
    """A copy of the export with five calls' `type` changed: XX on the first, a middle and the last data row, `tt`
    (lower case) on the first kept call-back request, and XX on the first PHANTOM row. The four kept rows are
    reported; the PHANTOM row is dropped by the profile before any check (and counted as dropped)."""
    lines = BANK.read_bytes().split(b"\r\n")
    assert lines[-1] == b""                                          # the file ends with CRLF
    header = lines[0].decode().split("\t")
    col_type, col_outcome = header.index("type"), header.index("outcome")
    fields = [line.decode().split("\t") for line in lines[1:-1]]     # fields[i] is data row i + 1
    kept_at = [i for i, f in enumerate(fields) if f[col_outcome] != "PHANTOM"]
    changes = {kept_at[0]: "XX", kept_at[len(kept_at) // 2]: "XX", kept_at[-1]: "XX",
               next(i for i in kept_at if fields[i][col_type] == "TT"): "tt",
               next(i for i, f in enumerate(fields) if f[col_outcome] == "PHANTOM"): "XX"}
    assert len(changes) == 5
    for i, code in changes.items():
        fields[i][col_type] = code
    copy = tmp_path / "bank_unknown_codes.txt"
    copy.write_bytes(b"\r\n".join([lines[0], *("\t".join(f).encode() for f in fields), b""]))

    expected = sorted((i + 1, "type", code, UNMAPPED) for i, code in changes.items()
                      if fields[i][col_outcome] != "PHANTOM")
    assert len(expected) == 4 and ("tt" in {e[2] for e in expected})
    con = fresh(tmp_path, config)
    r = load_file(con, config, "contacts", copy, profile=load_profile("bank_callcentre"), report_dir=tmp_path)
    assert not r.ok and r.batch_id is None
    assert r.problem_count == 4
    assert [tuple(p) for p in r.problems[["row", "column", "value", "reason"]].values.tolist()] == expected
    assert sorted(report_rows(r.report)) == expected
    phantoms = sum(f[col_outcome] == "PHANTOM" for f in fields)
    assert r.dropped == {"unexplained record (PHANTOM)": phantoms}
    nothing_written(con)
    con.close()


def test_a_reason_config_does_not_know_is_refused(tmp_path, config):
    """A profile mapping PS (regular banking) to `small_talk`, which is not among config's demand.reasons: the
    profile is wrong in one place, so the load is refused with one sentence naming the map entry, the value and the
    reasons config accepts, before any row is read; nothing is written."""
    text = PROFILE.read_text(encoding="utf-8")
    assert text.count("      PS: enquiry\n") == 1
    bad = tmp_path / "bank_small_talk.yaml"
    bad.write_text(text.replace("      PS: enquiry\n", "      PS: small_talk\n"), encoding="utf-8")
    assert "small_talk" not in DEMAND["reasons"]
    con = fresh(tmp_path, config)
    with pytest.raises(MetricsError) as info:
        load_file(con, config, "contacts", BANK, profile=load_profile(str(bad)), report_dir=tmp_path)
    assert str(info.value) == (
        "profile bank_small_talk: columns.reason.map.PS gives 'small_talk', which is not one of the values "
        f"contacts.reason accepts ({', '.join(DEMAND['reasons'])}); change the map, or add the value to config.yaml")
    nothing_written(con)
    con.close()
