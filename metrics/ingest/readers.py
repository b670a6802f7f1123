"""Reading an export as text: what kind of file it really is, a spreadsheet streamed to CSV within limits,
and every reader error as one sentence (what, where, what would be accepted).

DuckDB reads CSV and Parquet itself; a workbook is streamed here to a CSV in a folder the caller removes.
A file that is not what its name and profile say (compressed, a workbook named .csv, binary noise, an
encrypted or old-format workbook) is refused before DuckDB guesses at it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import duckdb

from metrics.catalogue.definitions import Config, SpreadsheetLimits
from metrics.errors import MetricsError
from metrics.ingest.convert import source_sql
from metrics.ingest.profiles import Profile


def is_sheet(path: Path, profile: Profile) -> bool:
    """Whether the file is read as an Excel workbook (by its profile or its name)."""
    return profile.format == "excel" or path.suffix.lower() in (".xlsx", ".xlsm")


def open_as_text(cur, path: Path, profile: Profile, config: Config,
                 scratch: Path | None) -> tuple[Path, str, dict, list[str]]:
    """The file as a relation of text columns, after refusing what it must not read.

    Args:
        cur: the load's cursor.
        path: the file.
        profile: how to read it.
        config: for the spreadsheet limits.
        scratch: a folder the caller removes, where a spreadsheet's CSV is written.
    Returns:
        (the path DuckDB reads, the relation's SQL, its parameters, the header's column names).
        Raises MetricsError with one sentence.
    """
    if is_sheet(path, profile):
        path = sheet_as_csv(path, profile, config.spreadsheets, config.path, scratch)
        profile = dataclasses.replace(profile, format="csv", delimiter=",", quote='"', encoding="utf-8", skip_rows=0)
    elif profile.format == "csv":
        refuse_non_text(path, profile)
    source, params = source_sql(profile, str(path))
    try:
        columns = [r[0] for r in cur.execute(f"DESCRIBE SELECT * FROM {source}", params).fetchall()]
    except duckdb.Error as exc:
        raise read_failure(path, profile, exc) from None
    if profile.format == "csv" and profile.header:
        refuse_repeated_header(cur, path, profile)
    return path, source, params, columns


def read_failure(path: Path, profile: Profile, exc: Exception) -> MetricsError:
    """The one sentence for a file DuckDB could not read (an interrupted export says so)."""
    cut = _cut_off(path, profile) if profile.format == "csv" else None
    return MetricsError(cut) if cut else _read_error(path, exc)


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"             # an OLE2 compound file: .xls, or an encrypted .xlsx
# What a file that is not text starts with, what it is, and what to do ({name}: the file's name).
MAGIC = ((b"\x1f\x8b", "a gzip-compressed file", "decompress it, or name it {name}.gz and the loader reads it as it is"),
         (b"\x28\xb5\x2f\xfd", "a zstd-compressed file",
          "decompress it, or name it {name}.zst and the loader reads it as it is"),
         (b"PK\x03\x04", "a zip archive", "an Excel workbook is one: name it .xlsx; otherwise unzip it and load the "
          "CSV inside"),
         (_OLE, "an old Excel .xls workbook (or a password-protected one)", "save it from Excel as .xlsx or CSV"),
         (b"PAR1", "a Parquet file", "load it with a profile whose file.format is parquet"))


def refuse_non_text(path: Path, profile: Profile) -> None:
    """Refuse, in one sentence, a file the CSV reader would misread: compressed, a workbook, or binary."""
    with open(path, "rb") as f:
        head = f.read(65536)
    if path.suffix.lower() in (".gz", ".zst"):
        return                                      # DuckDB decompresses these by their name
    for magic, what, fix in MAGIC:
        if head.startswith(magic):
            raise MetricsError(f"{path.name} is {what}, not a text (CSV) file: {fix.format(name=path.name)}")
    if profile.encoding.lower().replace("_", "-").startswith("utf-16"):
        return
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) > 16 and head[1::2].count(0) > len(head) // 4):
        raise MetricsError(f"{path.name} is UTF-16 text, but the profile says {profile.encoding}: set file.encoding "
                           "to utf-16 in the profile, or save the file as UTF-8")
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if control > len(head) * 0.05:
        raise MetricsError(f"{path.name} is not a text (CSV) file: {control:,} of its first {len(head):,} bytes are "
                           "binary data, not characters; export the data as CSV (or .xlsx) and load that")


def refuse_repeated_header(cur, path: Path, profile: Profile) -> None:
    """DuckDB renames a repeated header (amount, amount_1): refuse it instead, naming both positions."""
    source, params = source_sql(dataclasses.replace(profile, header=False), str(path))
    try:
        row = cur.execute(f"SELECT * FROM {source} LIMIT 1", params).fetchone() or ()
    except duckdb.Error:
        return                                      # the main read reports what is wrong with the file
    seen: dict[str, int] = {}
    for i, name in enumerate(row, start=1):
        if name is None or not name.strip():
            continue
        key = name.strip().lower()
        if key in seen:
            raise MetricsError(f"{path.name}: the header has the column {name.strip()!r} twice (columns {seen[key]} "
                               f"and {i}); rename or remove one of them")
        seen[key] = i


_OLE_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")


def _limit(name: str, config_path: str) -> str:
    return f"loader.spreadsheets.{name} in {config_path}"


def _workbook_refusal(path: Path, limits: SpreadsheetLimits, config_path: str) -> str | None:
    """A sentence if the file cannot be an .xlsx workbook the loader should open, else None."""
    import zipfile
    import zlib
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if head.startswith(_OLE):
        if _OLE_ENCRYPTED in head:
            return (f"{path.name} is password-protected (encrypted): open it in Excel, remove the password and save "
                    "it again, or save it as CSV")
        return f"{path.name} is an old Excel .xls workbook, not an .xlsx one: open it in Excel and save it as .xlsx or CSV"
    try:
        with zipfile.ZipFile(path) as z:
            size = sum(i.file_size for i in z.infolist())
            if size <= limits.max_bytes:       # a zip's sizes can lie: count what really unpacks, up to the limit
                size = 0
                for info in z.infolist():
                    with z.open(info) as member:
                        while size <= limits.max_bytes and (block := member.read(1 << 20)):
                            size += len(block)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
        return (f"{path.name} is not an .xlsx spreadsheet (an .xlsx file is a zip archive and this one is not, or it "
                "is damaged): save it again from Excel as .xlsx, or as CSV")
    if size > limits.max_bytes:
        return (f"{path.name} unpacks to {size:,} bytes, more than the {limits.max_bytes:,} the loader reads from a "
                f"spreadsheet ({_limit('max_bytes', config_path)}): save it as CSV, split it, or raise the limit")
    return None


def _cell_text(v) -> object:
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return "" if v is None else v


def sheet_as_csv(path: Path, profile: Profile, limits: SpreadsheetLimits, config_path: str, folder: Path) -> Path:
    """Stream a worksheet into a CSV in `folder` (flat memory), within the limits, or raise one sentence.

    Formula errors stay as their text (e.g. '#DIV/0!'), so a number column reports them instead of silently
    reading an empty cell. Rows are read as the sheet stores them — not padded to the sheet's declared
    dimension, which a 5 KB file can set to A1:XFD1048576 — then padded to the header's width; empty rows
    and columns after the last value are left out. Each limit is checked as the rows stream past.
    """
    import csv

    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import WorkSheetParser

    refusal = _workbook_refusal(path, limits, config_path)
    if refusal:
        raise MetricsError(refusal)
    damaged = (f"{path.name} cannot be read as an .xlsx spreadsheet: its contents are damaged or incomplete; save it "
               "again from Excel, or as CSV")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:
        raise MetricsError(damaged) from None
    out = folder / (path.stem + ".csv")
    row_no = 0
    try:
        try:
            ws = wb[profile.sheet] if isinstance(profile.sheet, str) else wb.worksheets[profile.sheet or 0]
        except (KeyError, IndexError):
            raise MetricsError(f"{path.name} has no sheet {profile.sheet!r} (sheets: {', '.join(wb.sheetnames)})"
                               ) from None
        # openpyxl's own iter_rows pads every row to the declared dimension; its parser yields the stored cells.
        with wb._archive.open(ws._worksheet_path) as src, open(out, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            parser = WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                                     date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
            width = first = last_written = None
            written = 0
            for row_no, cells in parser.parse():
                values = {c["column"]: c["value"] for c in cells if c["value"] not in (None, "")}
                if row_no <= profile.skip_rows or not values:
                    continue
                right = max(values)
                cell = f"{get_column_letter(min(right, 18278))}{row_no}"
                if right > limits.max_columns:
                    raise MetricsError(f"{path.name}: cell {cell} is in column {right:,}, beyond the "
                                       f"{limits.max_columns:,} columns the loader reads from a spreadsheet "
                                       f"({_limit('max_columns', config_path)}): remove what is there, or raise the limit")
                if width is None:
                    width, first, last_written = right, row_no, row_no - 1
                elif right > width:
                    raise MetricsError(f"{path.name}: cell {cell} has a value beyond the header's {width} columns "
                                       f"(A to {get_column_letter(width)}): give the column a header, or clear the cell")
                if row_no - first > limits.max_rows:
                    raise MetricsError(f"{path.name}: the sheet has more than {limits.max_rows:,} data rows (row "
                                       f"{row_no:,} has values), the most the loader reads from a spreadsheet "
                                       f"({_limit('max_rows', config_path)}): split the file, save it as CSV, or raise "
                                       "the limit")
                row = [_cell_text(values.get(c)) for c in range(1, width + 1)]
                gap = row_no - last_written - 1                 # empty rows between two with values stay rows
                written += gap * width + sum(len(str(v)) for v in row) + width
                if written > limits.max_bytes:
                    raise MetricsError(f"{path.name}: the sheet holds more than {limits.max_bytes:,} bytes of text by row "
                                       f"{row_no:,}, the most the loader reads from a spreadsheet "
                                       f"({_limit('max_bytes', config_path)}): split the file, save it as CSV, or raise "
                                       "the limit")
                w.writerows([""] * width for _ in range(gap))
                w.writerow(row)
                last_written = row_no
    except MetricsError:
        raise
    except Exception:
        near = f" near row {row_no:,}" if row_no else ""
        raise MetricsError(f"{path.name} cannot be read as an .xlsx spreadsheet: its sheet is damaged or incomplete"
                           f"{near}; save it again from Excel, or as CSV") from None
    finally:
        wb.close()
    return out


def _cut_off(path: Path, profile: Profile) -> str | None:
    """A sentence if the file ends in the middle of a row (an interrupted export), else None."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - 65536))
        tail = f.read()
        f.seek(0)
        head = f.readline()
    if tail.endswith(b"\n") or b"\n" not in tail:
        return None
    last = tail.rsplit(b"\n", 1)[1]
    delim = profile.delimiter.encode()
    if last.count(delim) < head.count(delim):
        return (f"{path.name}: the last line is cut off ({last.count(delim) + 1} of {head.count(delim) + 1} fields and "
                "no line break): the export was probably interrupted; export the file again")
    return None


def _long_line(path: Path, limit: int) -> tuple[int, int]:
    """The number and length in bytes of the first line longer than `limit` (read in blocks)."""
    line, length = 1, 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            start = 0
            while (end := block.find(b"\n", start)) >= 0:
                length += end - start
                if length > limit:
                    return line, length
                line, length, start = line + 1, 0, end + 1
            length += len(block) - start
    return line, length


def _read_error(path: Path, exc: Exception) -> MetricsError:
    """DuckDB's reader message as one sentence: its reason and line, without the echoed row and settings."""
    text = str(exc)
    lines = [re.sub(r"^[A-Za-z ]*Error: ", "", ln.strip()) for ln in text.splitlines() if ln.strip()]
    first = lines[0] if lines else type(exc).__name__
    at = re.match(r"CSV Error on Line: (\d+)", first)
    size = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:\s*(\d+)", text)
    if size:      # DuckDB's sniffer calls that line 1 wherever it is: find it
        line, length = _long_line(path, int(size.group(1)))
        return MetricsError(f"{path.name} cannot be read as the profile describes: line {line:,} is {length:,} bytes "
                            f"long, more than the {int(size.group(1)):,} a line may have; check the profile's "
                            "file.delimiter and file.quote (a quote that never closes joins lines together), or that "
                            "this is a CSV file")
    detail = next((ln for ln in lines[1:] if not ln.startswith(("Original Line", "Possible", "file =", "LINE "))), "")
    reason = f"line {at.group(1)}: {detail.rstrip('.')}" if at and detail else first.rstrip(".")
    hint = ""
    if "unicode" in text.lower():
        hint = "; the file is not UTF-8: set file.encoding in the profile (e.g. latin-1) or save it as UTF-8"
    elif "expected" in text.lower() and "column" in text.lower():
        hint = "; a row has the wrong number of fields (a truncated last line, or the wrong delimiter)"
    shown = reason if len(reason) <= 200 else reason[:199] + "…"
    return MetricsError(f"{path.name} cannot be read as the profile describes: {shown}{hint}")
