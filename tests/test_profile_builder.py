"""The profile builder's steps (metrics/ingest/builder.py), each checked against a second computation with the csv
module and datetime: the dialect and rows of a sample, the date format suggested and the rows it fails, the distinct
values and those a map leaves out, the preview (a dry run: nothing written) and saving a profile the loader reads."""
import collections
import csv
import datetime as dt
from pathlib import Path

import pytest

from metrics.errors import ConfigError, MetricsError
from metrics.ingest import builder
from metrics.ingest.profiles import load_profile
from metrics.store.database import connect

EXPORT = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "boston-311-graffiti-2015" / \
    "graffiti_removal_2015.csv"
US = "%m/%d/%Y %I:%M:%S %p"


@pytest.fixture(scope="module")
def raw():
    with open(EXPORT, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def con(config, tmp_path_factory):
    """An organisation's empty database (the demo's departments)."""
    c = connect(tmp_path_factory.mktemp("builder") / "empty.duckdb", config, create=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def sample(config):
    return builder.read_sample(EXPORT.name, EXPORT.read_bytes(), config)


def test_a_sample_is_read_with_its_dialect_and_every_row(sample, raw):
    assert sample.file == {"format": "csv", "delimiter": ",", "quote": '"', "header": True, "encoding": "utf-8",
                           "skip_rows": 0}
    assert len(sample.rows) == len(raw)
    assert list(sample.columns[1:]) == list(raw[0])[1:]       # the first header is empty: DuckDB names it
    assert sample.rows["CASE_ENQUIRY_ID"].tolist() == [r["CASE_ENQUIRY_ID"] for r in raw]
    assert sample.rows["CLOSED_DT"].isna().sum() == sum(1 for r in raw if not r["CLOSED_DT"].strip())


def test_a_semicolon_latin_1_file_with_a_title_line_is_detected(config, tmp_path):
    text = "Export of 2024\nref;opened;team\nA1;03.01.2024;Straßen\nA2;04.01.2024;Parks\nA3;05.01.2024;Parks\n"
    s = builder.read_sample("x.csv", text.encode("latin-1"), config)
    assert (s.file["delimiter"], s.file["encoding"], s.file["skip_rows"], s.file["header"]) == (";", "latin-1", 1, True)
    assert s.columns == ("ref", "opened", "team")
    assert s.rows["team"].tolist() == ["Straßen", "Parks", "Parks"]
    assert builder.suggest_formats(s, "opened") == ["%d.%m.%Y"]


def test_the_suggested_format_reads_every_value_and_failures_are_the_rows_it_does_not(sample, raw):
    assert builder.suggest_formats(sample, "OPEN_DT") == [US]
    failed, shown = builder.format_failures(sample, "OPEN_DT", [US])
    assert failed == 0 and shown.empty
    iso = "%Y-%m-%d %H:%M:%S"
    expected = [i + 1 for i, r in enumerate(raw) if r["CLOSED_DT"].strip()]     # every non-empty value fails ISO
    failed, shown = builder.format_failures(sample, "CLOSED_DT", [iso], limit=5)
    assert failed == len(expected)
    assert shown["row"].tolist() == expected[:5]
    assert shown["CLOSED_DT"].tolist() == [raw[i - 1]["CLOSED_DT"] for i in expected[:5]]
    for r in raw:                                  # the second computation agrees the US format reads them all
        dt.datetime.strptime(r["OPEN_DT"], US)


def test_distinct_values_and_what_a_map_leaves_out(sample, raw):
    counts = collections.Counter(r["Department"] for r in raw if r["Department"].strip())
    values = builder.distinct_values(sample, "Department")
    assert dict(zip(values["value"], values["rows"])) == dict(counts)
    assert values["rows"].tolist() == sorted(counts.values(), reverse=True)
    left = builder.unmapped(sample, "Department", {"PROP": "street_cleansing", "INFO": "cc_digital"})
    assert dict(zip(left["value"], left["rows"])) == {k: v for k, v in counts.items() if k not in ("PROP", "INFO")}


def test_a_target_is_suggested_from_a_column_of_the_same_name(config, con, tmp_path):
    s = builder.read_sample("c.csv", b"Contact ID,Received At,channel\nC1,2024-01-02 09:00:00,phone\n", config)
    found = {t.name: builder.suggest(s, t) for t in builder.targets(con, config, "contacts")}
    assert found["contact_id"] == {"from": "Contact ID"}
    assert found["received_at"] == {"from": "Received At", "type": "timestamp", "formats": ["%Y-%m-%d %H:%M:%S"]}
    assert found["channel"] == {"from": "channel"}
    assert found["answered_at"] == {}
    channel = next(t for t in builder.targets(con, config, "contacts") if t.name == "channel")
    assert channel.allowed == tuple(config.allowed_values[("contacts", "channel")])


SHIPPED_LIKE = {"request_id": {"from": "CASE_ENQUIRY_ID"},
                "created_at": {"from": "OPEN_DT", "type": "timestamp", "formats": [US]},
                "closed_at": {"from": "CLOSED_DT", "type": "timestamp", "formats": [US]},
                "status": {"from": "CASE_STATUS", "map": {"Closed": "closed", "Open": "open"}},
                "department_id": {"from": "Department", "map": {"INFO": "cc_digital"}, "default": "street_cleansing"}}


def test_the_preview_converts_and_reports_without_writing(config, con, sample, raw):
    data = builder.profile_data("requests", "", sample.file, SHIPPED_LIKE, [])
    before = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    result, _ = builder.preview(con, config, data, "trial", EXPORT.name, EXPORT.read_bytes(), rows=3)
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == before
    assert result.ok and result.dry_run and result.inserted == len(raw)
    assert result.preview["request_id"].tolist() == [r["CASE_ENQUIRY_ID"] for r in raw[:3]]
    assert result.preview["created_at"].tolist() == [dt.datetime.strptime(r["OPEN_DT"], US) for r in raw[:3]]
    # A map that leaves a value out: every such row is a problem, counted as the csv module counts them.
    broken = {**SHIPPED_LIKE, "status": {"from": "CASE_STATUS", "map": {"Closed": "closed"}}}
    result, report = builder.preview(con, config, builder.profile_data("requests", "", sample.file, broken, []),
                                     "trial", EXPORT.name, EXPORT.read_bytes())
    assert not result.ok
    assert result.problem_count == sum(1 for r in raw if r["CASE_STATUS"] == "Open")
    assert report is not None


def test_a_saved_profile_is_the_yaml_the_loader_reads(config, sample, tmp_path):
    data = builder.profile_data("requests", "311 requests", sample.file, SHIPPED_LIKE,
                                [{"when": "closed_at < created_at", "reason": "closed before opened"}])
    path = builder.save(data, "boston_test", folder=tmp_path)
    assert path == tmp_path / "boston_test.yaml"
    p = load_profile(str(path))
    assert (p.table, p.description, p.key) == ("requests", "311 requests", ("request_id",))
    assert {c.target: c.source for c in p.columns} == {t: s["from"] for t, s in SHIPPED_LIKE.items()}
    assert [(d.when, d.reason) for d in p.drops] == [("closed_at < created_at", "closed before opened")]
    with pytest.raises(MetricsError, match="exists already"):
        builder.save(data, "boston_test", folder=tmp_path)
    builder.save({**data, "description": "again"}, "boston_test", folder=tmp_path, replace=True)
    assert load_profile(str(path)).description == "again"


@pytest.mark.parametrize("name, change, words", [
    ("Boston 311", {}, "profile name 'Boston 311' is not accepted"),
    ("ok_name", {"columns": {"request_id": {"from": "X", "constant": "1"}}}, "give exactly one of from"),
    ("ok_name", {"columns": {"request_id": {"from": "X"}, "created_at": {"from": "Y", "type": "time"}}},
     "'time' is not one of"),
])
def test_a_profile_that_would_not_load_is_not_saved(config, sample, tmp_path, name, change, words):
    data = {**builder.profile_data("requests", "", sample.file, SHIPPED_LIKE, []), **change}
    with pytest.raises((MetricsError, ConfigError), match=words):
        builder.save(data, name, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_workbook_sample_is_read_from_its_cells(config):
    import io

    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Ref", "Opened", "Team"], ["A1", "2024-01-03 10:00:00", "Parks"], ["A2", "2024-01-04 11:00:00", None]):
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    s = builder.read_sample("cases.xlsx", data.getvalue(), config)
    assert s.file == {"format": "excel"} and s.columns == ("Ref", "Opened", "Team")
    assert s.rows.to_dict("records") == [{"Ref": "A1", "Opened": "2024-01-03 10:00:00", "Team": "Parks"},
                                         {"Ref": "A2", "Opened": "2024-01-04 11:00:00", "Team": None}]
    assert builder.suggest_formats(s, "Opened") == ["%Y-%m-%d %H:%M:%S"]


def test_a_file_that_is_not_text_is_one_sentence(config):
    with pytest.raises(MetricsError, match="is not a text"):
        builder.read_sample("x.csv", b"\x00\x01\x02binary", config)


def test_a_long_sample_is_examined_from_its_first_rows(config, raw):
    s = builder.read_sample(EXPORT.name, EXPORT.read_bytes(), config, limit=100)
    assert s.rows["CASE_ENQUIRY_ID"].tolist() == [r["CASE_ENQUIRY_ID"] for r in raw[:100]]
