"""Files the loader must refuse in one sentence — hostile spreadsheets, compressed or binary files, odd headers —
leaving the database as it was and no temporary file behind; and the problems report found where it is said.

Every spreadsheet here is a few hundred bytes of zip and XML written by hand.
"""
import dataclasses
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from metrics.catalogue.definitions import SpreadsheetLimits
from metrics.errors import MetricsError
from metrics.ingest.loader import load_file, load_upload
from metrics.store.database import connect
from tests.security.support import assert_one_sentence, table_checksums

REPO = Path(__file__).resolve().parents[2]
HEADER = ("invoice_id,supplier_id,supplier_name,local_supplier,small_business,department_id,received_at,approved_at,"
          "paid_at,amount,terms_days")
GOOD = ("I1,SUP1,Acme,true,true,finance_payables,2024-05-01 09:00:00,2024-05-02 09:00:00,2024-05-10 09:00:00,100.5,14",
        "I2,SUP2,Beta,false,false,housing_repairs,2024-05-03,2024-05-04,2024-05-20,250,30")


def _col(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


class Shared(int):
    """A cell holding the workbook's shared string number n."""


def _cell(ref: str, value) -> str:
    if isinstance(value, Shared):
        return f'<c r="{ref}" t="s"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = str(value).replace("&", "&amp;").replace("<", "&lt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet(rows: dict, dimension: str | None = "auto") -> str:
    """Worksheet XML: rows is {row number: {column number: value}}; dimension None leaves the element out."""
    body = "".join(f'<row r="{r}">' + "".join(_cell(f"{_col(c)}{r}", v) for c, v in sorted(cells.items())) + "</row>"
                   for r, cells in sorted(rows.items()))
    if dimension == "auto":
        dimension = f"A1:{_col(max(max(c) for c in rows.values()))}{max(rows)}"
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
            'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"{dim}<sheetData>{body}</sheetData></worksheet>")


def workbook(path: Path, sheet_xml: str, shared: tuple[str, ...] = ()) -> Path:
    """The smallest .xlsx openpyxl reads: content types, relationships, a workbook, one sheet (and shared strings)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                   'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                   '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
                   'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxml'
                   'formats-officedocument.spreadsheetml.worksheet+xml"/>' + ('<Override PartName="/xl/sharedStrings.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                   if shared else "") + '</Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" '
                   f'xmlns:r="{rel}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://'
                   f'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/'
                   'worksheet" Target="worksheets/sheet1.xml"/>' + (f'<Relationship Id="rId2" Type="{rel}/sharedStrings" '
                   'Target="sharedStrings.xml"/>' if shared else "") + '</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared:
            z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}">' +
                       "".join(f"<si><t>{t}</t></si>" for t in shared) + "</sst>")
    return path


def invoice_rows(*lines: str) -> dict:
    """The CSV lines as sheet rows (numbers as numbers), row 1 the header."""
    out = {}
    for r, line in enumerate((HEADER,) + lines, start=1):
        cells = {}
        for c, v in enumerate(line.split(","), start=1):
            if v != "":
                cells[c] = float(v) if v.replace(".", "", 1).isdigit() and c >= 10 else v
        out[r] = cells
    return out


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory, config):
    """A small demo database (the demo generator at scale 0.02, so checksums stay quick)."""
    from metrics.demo.build import build_demo_database
    path = tmp_path_factory.mktemp("loader") / "demo.duckdb"
    build_demo_database(path, config, scale=0.02)
    return path


@pytest.fixture
def db(demo_copy, tmp_path, config):
    path = tmp_path / "load.duckdb"
    shutil.copy(demo_copy, path)
    con = connect(path, config)
    yield con
    con.close()


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """Point the temporary folder at an empty one, to see what a load leaves behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _limits(config, **kw):
    return dataclasses.replace(config, spreadsheets=dataclasses.replace(config.spreadsheets, **kw))


# name → (how to write the file into a folder, limits to use, words the one sentence must hold)
SHEETS = {
    "declared A1:XFD1048576, cells at A1 and XFD1048576": (
        lambda d: workbook(d / "bomb.xlsx", sheet({1: {1: "invoice_id"}, 1048576: {16384: "x"}}, "A1:XFD1048576")),
        {}, ("bomb.xlsx", "XFD1048576", "column 16,384", "1,000 columns", "max_columns", "config.yaml")),
    "more rows than max_rows": (
        lambda d: workbook(d / "long.xlsx", sheet(invoice_rows(*(GOOD[1].replace("I2", f"I{i}") for i in range(9))))),
        {"max_rows": 5}, ("long.xlsx", "more than 5 data rows", "max_rows", "config.yaml")),
    "one shared string repeated past max_bytes": (     # ~6 KB unpacked, 60 × 1,000 characters once read
        lambda d: workbook(d / "wide.xlsx", sheet({1: invoice_rows()[1], **{r: {1: f"I{r}", 3: Shared(0)}
                                                                            for r in range(2, 62)}}), ("B" * 1000,)),
        {"max_bytes": 20_000}, ("wide.xlsx", "more than 20,000 bytes", "max_bytes", "config.yaml")),
    "unpacks to more than max_bytes": (
        lambda d: workbook(d / "packed.xlsx", sheet(invoice_rows(*GOOD)) + " " * 200_000),
        {"max_bytes": 100_000}, ("packed.xlsx", "unpacks to", "100,000", "max_bytes")),
    "a zip that understates what its sheet unpacks to": (
        lambda d: _understated(workbook(d / "lie.xlsx", sheet(invoice_rows(*GOOD)) + " " * 200_000)),
        {"max_bytes": 100_000}, ("lie.xlsx", "damaged")),
    "a value beyond the header": (
        lambda d: workbook(d / "beyond.xlsx", sheet({**invoice_rows(*GOOD), 3: {**invoice_rows(*GOOD)[3], 14: "x"}})),
        {}, ("beyond.xlsx", "cell N3", "beyond the header's 11 columns")),
    "random bytes named .xlsx": (
        lambda d: (d / "noise.xlsx").write_bytes(os.urandom(4000)) and d / "noise.xlsx",
        {}, ("noise.xlsx", "not an .xlsx spreadsheet", "CSV")),
    "a zip with no workbook in it": (
        lambda d: _zip(d / "empty.xlsx", {"readme.txt": "hello"}), {}, ("empty.xlsx", "damaged or incomplete")),
    "a sheet cut off mid-XML": (
        lambda d: workbook(d / "cut.xlsx", sheet(invoice_rows(*GOOD))[:-60]), {}, ("cut.xlsx", "damaged")),
    "a password-protected workbook": (
        lambda d: _ole(d / "secret.xlsx", "EncryptionInfo".encode("utf-16-le")), {}, ("secret.xlsx", "password")),
    "an old .xls renamed .xlsx": (
        lambda d: _ole(d / "old.xlsx", "Workbook".encode("utf-16-le")), {}, ("old.xlsx", ".xls", "save it as .xlsx")),
}


def _zip(path: Path, parts: dict) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return path


def _understated(path: Path) -> Path:
    """Rewrite the sheet's uncompressed size in the zip's directory as 100 bytes (a zip bomb's lie)."""
    import struct
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        n = struct.unpack("<H", data[at + 28:at + 30])[0]
        if data[at + 46:at + 46 + n] == b"xl/worksheets/sheet1.xml":
            data[at + 24:at + 28] = struct.pack("<I", 100)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path


def _ole(path: Path, marker: bytes) -> Path:
    """An OLE2 compound file's signature, as an encrypted .xlsx or an .xls starts, and a directory name."""
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + marker + b"\0" * 3000)
    return path


@pytest.mark.parametrize("case", list(SHEETS))
def test_a_hostile_spreadsheet_is_refused_in_one_sentence_leaving_nothing(db, config, tmp_path, scratch, case):
    make, limits, words = SHEETS[case]
    path = make(tmp_path)
    before = table_checksums(db)
    with pytest.raises(MetricsError) as refused:
        load_file(db, _limits(config, **limits), "invoices", path, report_dir=tmp_path / "reports")
    assert_one_sentence(str(refused.value), *words)
    assert table_checksums(db) == before
    assert list(scratch.iterdir()) == []                   # no temporary CSV left behind


def test_a_sheet_declared_huge_but_holding_two_rows_loads_them(db, config, tmp_path, scratch):
    """A1:XFD1048576 declared, two invoices stored: read as the 2 rows they are, quickly, and nothing left behind."""
    path = workbook(tmp_path / "declared.xlsx", sheet(invoice_rows(*GOOD), "A1:XFD1048576"))
    r = load_file(db, config, "invoices", path)
    assert r.ok and r.inserted == 2 and r.seconds < 10
    assert db.execute("SELECT list(amount ORDER BY invoice_id) FROM invoices WHERE invoice_id IN ('I1', 'I2')"
                      ).fetchone()[0] == [100.5, 250.0]
    assert list(scratch.iterdir()) == []


def test_a_sheet_without_a_dimension_is_not_ragged(db, config, tmp_path):
    """No <dimension>: rows end where their last value is; each is padded to the header's 11 columns, so an
    unpaid invoice (no approved_at, paid_at or amount, the last three columns here) reads as empty cells."""
    names = ("invoice_id", "supplier_id", "supplier_name", "local_supplier", "small_business", "department_id",
             "received_at", "terms_days", "approved_at", "paid_at", "amount")
    rows = {1: dict(enumerate(names, start=1)),
            2: dict(enumerate(("I1", "SUP1", "Acme", "true", "true", "finance_payables", "2024-05-01 09:00:00", 14,
                               "2024-05-02 09:00:00", "2024-05-10 09:00:00", 100.5), start=1)),
            3: dict(enumerate(("I3", "SUP3", "Gamma", "true", "false", "finance_payables", "2024-06-01", 30), start=1))}
    path = workbook(tmp_path / "ragged.xlsx", sheet(rows, dimension=None))
    r = load_file(db, config, "invoices", path)
    assert r.ok and r.inserted == 2, r.problems
    assert db.execute("SELECT terms_days, approved_at, paid_at, amount FROM invoices WHERE invoice_id = 'I3'"
                      ).fetchone() == (30, None, None, None)


def test_an_upload_and_its_report_leave_no_folder_behind(db, config, tmp_path, scratch):
    """The Data page's load: the upload's folder is removed whatever happens; the report comes back as bytes."""
    bad = (HEADER + "\n" + GOOD[0].replace("100.5", "lots") + "\n").encode()
    result, report = load_upload(db, config, "invoices", "C:\\exports\\it's.csv", bad, loaded_by="admin")
    assert not result.ok and result.problem_count == 1
    assert report.decode().splitlines()[0] == "row,column,value,reason"
    assert report.decode().splitlines()[1].startswith("1,amount,lots,")
    with pytest.raises(MetricsError):
        load_upload(db, config, "invoices", "noise.xlsx", os.urandom(3000))
    ok, none = load_upload(db, config, "invoices", "good.csv", (HEADER + "\n" + "\n".join(GOOD) + "\n").encode())
    assert ok.ok and ok.inserted == 2 and none is None
    assert list(scratch.iterdir()) == []


def _csv(path: Path, text: str | bytes) -> Path:
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


# name → (how to write the file, words of the one sentence)
FILES = {
    "a line longer than DuckDB's maximum": (
        lambda d: _csv(d / "long_line.csv", HEADER + "\n" + "I9," + "x" * 2_100_000 + "\n"),
        ("long_line.csv", "line 2", "bytes long", "more than the 2,000,000", "file.quote")),
    "a gzip file named .csv": (
        lambda d: _csv(d / "packed.csv", gzip.compress((HEADER + "\n" + GOOD[0] + "\n").encode())),
        ("packed.csv", "gzip-compressed", "packed.csv.gz")),
    "UTF-16 text under a UTF-8 profile": (
        lambda d: _csv(d / "wide_chars.csv", (HEADER + "\n" + GOOD[0] + "\n").encode("utf-16")),
        ("wide_chars.csv", "UTF-16", "file.encoding")),
    "random bytes": (
        lambda d: _csv(d / "noise.csv", os.urandom(5000)), ("noise.csv", "not a text (CSV) file")),
    "a header and no rows": (
        lambda d: _csv(d / "header_only.csv", HEADER + "\n"), ("header_only.csv", "header but no data rows")),
    "a column twice in the header": (
        lambda d: _csv(d / "twice.csv", HEADER + ",amount\n" + GOOD[0] + ",7\n"),
        ("twice.csv", "'amount' twice", "columns 10 and 12")),
}


@pytest.mark.parametrize("case", list(FILES))
def test_a_file_that_is_not_what_it_seems_is_refused_in_one_sentence(db, config, tmp_path, case):
    make, words = FILES[case]
    path = make(tmp_path)
    before = table_checksums(db)
    with pytest.raises(MetricsError) as refused:
        load_file(db, config, "invoices", path, report_dir=tmp_path / "reports")
    assert_one_sentence(str(refused.value), *words)
    assert "cut off" not in str(refused.value)
    assert table_checksums(db) == before


@pytest.mark.parametrize("value, words", [(-5, ("expected a whole number", "-5")), ("lots", ("'lots'",)),
                                          (True, ("True",))])
def test_the_spreadsheet_limits_are_checked_at_start_up(tmp_path, value, words):
    import yaml

    from metrics.catalogue.parse import load_config
    from metrics.errors import ConfigError
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    limits = raw.setdefault("loader", {}).setdefault("spreadsheets", {})
    limits["max_rows"], limits["max_rowz"] = value, 10
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "config.yaml")
    assert len(refused.value.errors) == 2, refused.value.errors
    bad, typo = sorted(refused.value.errors)
    assert_one_sentence(bad, "loader.spreadsheets.max_rows", *words)
    assert_one_sentence(typo, "loader.spreadsheets.max_rowz", "unknown key", "max_rows, max_columns, max_bytes")


def test_a_nul_byte_in_text_is_a_problem_with_its_row_and_column(db, config, tmp_path):
    """Through the fast path (a plain CSV in the schema's names) and the general one, the same problem."""
    path = _csv(tmp_path / "nul.csv", (HEADER + "\n" + GOOD[0].replace("Acme", "Ac\0me") + "\n" + GOOD[1] + "\n").encode())
    before = table_checksums(db)
    for dry_run in (False, True):           # a dry run skips the fast path
        r = load_file(db, config, "invoices", path, dry_run=dry_run, report_dir=tmp_path)
        assert not r.ok and r.problem_count == 1 and r.batch_id is None
        p = r.problems.iloc[0]
        assert (p["row"], p["column"]) == (1, "supplier_name") and "NUL byte" in p["reason"]
        assert_one_sentence(p["reason"], "NUL")
    assert table_checksums(db) == before


def test_the_problems_report_is_written_beside_the_file_even_with_a_quote_in_its_name(db, config, tmp_path,
                                                                                       monkeypatch):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    folder = tmp_path / "o'brien's exports"
    folder.mkdir()
    path = _csv(folder / "it's.csv", HEADER + "\n" + GOOD[0].replace("100.5", "lots") + "\n")
    r = load_file(db, config, "invoices", path)
    assert not r.ok and Path(r.report) == folder / "it's.problems.csv"
    assert Path(r.report).read_text().splitlines()[1].startswith("1,amount,lots,")
    assert f"all problems in {folder / 'it'}'s.problems.csv" in r.summary() and list(elsewhere.iterdir()) == []


def test_the_problems_report_goes_to_the_temporary_folder_when_the_files_folder_cannot_be_written(
        db, config, tmp_path, scratch, monkeypatch):
    folder = tmp_path / "read-only"
    folder.mkdir()
    path = _csv(folder / "bad.csv", HEADER + "\n" + GOOD[0].replace("100.5", "lots") + "\n")
    real_mkdir = Path.mkdir

    def mkdir(self, *a, **kw):              # the tests run as root, for whom no folder is read-only
        if self == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *a, **kw)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    r = load_file(db, config, "invoices", path)
    assert Path(r.report) == scratch.resolve() / "bad.problems.csv" and Path(r.report).exists()
    assert str(scratch.resolve() / "bad.problems.csv") in r.summary() and not (folder / "bad.problems.csv").exists()


def _cli(*args, cwd=REPO):
    env = {**os.environ, "CX_DEBUG": ""}
    return subprocess.run([sys.executable, "-m", "metrics", *args], capture_output=True, text=True, cwd=cwd, env=env)


def test_cli_a_malformed_spreadsheet_exits_with_one_sentence(demo_copy, tmp_path):
    db = tmp_path / "cli.duckdb"
    shutil.copy(demo_copy, db)
    bad = workbook(tmp_path / "o'brien.xlsx", sheet(invoice_rows(*GOOD))[:-60])
    (tmp_path / "noise.xlsx").write_bytes(os.urandom(3000))
    for path, words in ((bad, ("o'brien.xlsx", "damaged")), (tmp_path / "noise.xlsx", ("not an .xlsx spreadsheet",))):
        out = _cli("load", "invoices", str(path), "--db", str(db))
        assert out.returncode == 2, out.stderr
        assert "Traceback" not in out.stderr and "unexpected" not in out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
        assert_one_sentence(lines[0][len("error: "):], *words)


def test_cli_a_file_with_a_quote_in_its_name_keeps_its_problems_report(demo_copy, tmp_path):
    db = tmp_path / "cli.duckdb"
    shutil.copy(demo_copy, db)
    path = _csv(tmp_path / "it's.csv", HEADER + "\n" + GOOD[0].replace("100.5", "lots") + "\n")
    out = _cli("load", "invoices", str(path), "--db", str(db))          # run from the repository, not beside the file
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and "unexpected" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert_one_sentence(last, "it's.csv", "1 problem", "nothing was written", str(tmp_path / "it's.problems.csv"))
    assert (tmp_path / "it's.problems.csv").read_text().splitlines()[1].startswith("1,amount,lots,")
    assert not (REPO / "it's.problems.csv").exists()


def test_the_problems_report_carries_no_live_formula(db, config, tmp_path):
    """A bad value that a spreadsheet would run (an amount of '=HYPERLINK(...)') is reported, quoted with a
    leading apostrophe in the CSV report (metrics.csvsafe, OWASP)."""
    import csv
    path = _csv(tmp_path / "formula.csv", HEADER + "\n" + GOOD[0].replace("100.5", '=HYPERLINK("http://x.example")') + "\n")
    r = load_file(db, config, "invoices", path, report_dir=tmp_path)
    assert not r.ok
    rows = list(csv.DictReader(open(r.report, encoding="utf-8", newline="")))
    assert [(row["row"], row["column"], row["value"]) for row in rows] == [
        ("1", "amount", "'=HYPERLINK(\"http://x.example\")")]
