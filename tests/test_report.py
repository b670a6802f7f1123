"""Pages as PDFs (metrics/present/documents.py → metrics/present/pdf.py) and `python -m metrics report`.

The figures expected are worked by hand on the fixture (tests/fixture.sql, as in test_metrics_fixture.py): May 2024,
calls answered within 20 s for the organisation = c1 and c5 of the five calls offered less the 4.9 s abandon = 2/5
= 40.0 %; Ann's own (S1) = c1 c2 c5, of which c1 and c5 → 2/3 = 66.7 %. The PDF's text is read back with pdftotext
(poppler-utils), as a person's PDF reader would show it.
"""
import subprocess

import duckdb

import pytest

from metrics.access import Viewer
from metrics.catalogue.scope import Scope
from metrics.cli.main import main
from metrics.compute.periods import month
from metrics.errors import AccessDenied, MetricsError
from metrics.present import documents, pdf

MAY = month(2024, 5)
CAT = Viewer("Cat", "executive", "contact_centre", "S3")        # at the top of the fixture's line
ANN = Viewer("Ann", "staff", "cc_phones", "S1")


def text_of(data: bytes) -> str:
    """The PDF's text as pdftotext reads it, with runs of spaces as one (table columns line up with many)."""
    assert data[:5] == b"%PDF-"
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


def test_the_overview_pdf_prints_its_filters_and_the_figures(engine):
    doc = documents.build(engine, CAT, "overview", None, MAY)
    text = text_of(pdf.render(engine, doc))
    for words in ("Overview", "Scope The whole organisation", "Period May 2024", "Compared with April 2024",
                  "Trend by month", "Trend of Calls answered within 20 seconds", "Prepared for Executive",
                  "Calls answered within 20 seconds", "40.0 %", "Shared goals", "Departments at a glance",
                  "Page 1 of"):
        assert words in text, words
    assert "Demo data" not in text                        # the fixture is not the synthetic demo


def test_a_staff_members_pdf_holds_their_own_figures_and_refuses_anothers(engine):
    doc = documents.build(engine, ANN, "my-contribution", None, MAY)
    text = text_of(pdf.render(engine, doc))
    assert "My contribution" in text and "Period May 2024" in text and "Ann (you)" in text
    assert "66.7 %" in text                               # her calls answered within 20 s, 2 of 3
    with pytest.raises(AccessDenied):                     # Bob's page is not hers to print
        documents.build(engine, ANN, "my-contribution", Scope("staff", "S2"), MAY)
    cats_copy = documents.build(engine, CAT, "my-contribution", Scope("staff", "S1"), MAY)   # her manager's
    assert cats_copy.title == "Contribution — Ann"
    assert "66.7 %" in text_of(pdf.render(engine, cats_copy))


def test_the_department_pdf_shows_what_the_viewer_may_see(engine):
    doc = documents.build(engine, ANN, "department", Scope("department", "housing"), MAY)
    text = text_of(pdf.render(engine, doc))
    assert "Scope Housing" in text
    # A staff member of the contact centre is not shown Housing's customers' comments.
    assert "visible to the department concerned and to executives" in text
    with pytest.raises(MetricsError, match="unknown page"):
        documents.build(engine, ANN, "nosuch", None, MAY)


@pytest.mark.parametrize("argv, sentence", [
    (["nosuch", "--out", "{tmp}/x.pdf"], "unknown page 'nosuch': choose one of overview"),
    (["overview", "--out", "/nonexistent-folder/x.pdf"], "the folder /nonexistent-folder does not exist"),
    (["overview", "--out", "{tmp}"], "is a folder: give a file name"),
    (["my-contribution", "--scope", "staff:{other}", "--as", "staff", "--out", "{tmp}/x.pdf"],
     "may not see the individual figures of"),
    (["department", "--scope", "department:nosuch", "--out", "{tmp}/x.pdf"], "unknown department 'nosuch'"),
])
def test_report_refuses_in_one_sentence_with_exit_2(demo_db, tmp_path, capsys, argv, sentence):
    with duckdb.connect(demo_db, read_only=True) as con:       # someone outside the demo adviser's line
        other = con.execute("SELECT staff_id FROM staff WHERE department_id = 'finance' ORDER BY 1 LIMIT 1").fetchone()[0]
    argv = [a.format(tmp=tmp_path, other=other) for a in argv]
    assert main(["report", *argv, "--db", demo_db]) == 2
    err = capsys.readouterr().err
    assert sentence in err and err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.glob("*.pdf*"))              # nothing half-written


def test_report_writes_the_pdf_as_the_user_sees_it(demo_db, tmp_path, capsys):
    out = tmp_path / "overview.pdf"
    assert main(["report", "overview", "--from", "2025-06-01", "--to", "2025-06-30", "--as", "executive",
                 "--db", demo_db, "--out", str(out)]) == 0
    text = text_of(out.read_bytes())
    assert "Period June 2025" in text and "Demo data" in text and "Page 1 of" in text
    assert "wrote" in capsys.readouterr().out
