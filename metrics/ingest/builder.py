"""The profile builder (the Data page's "Build a profile"): from a sample of an export to a mapping profile in
data/mappings/, without writing YAML by hand.

It reads the sample as text with its dialect detected (DuckDB's CSV sniffer; a workbook or Parquet by its name),
lists the target table's columns with what each accepts, suggests how each is made (a file column of the same name,
the date format that reads all of its values), shows which rows a date format fails and which values a map does not
cover, and previews the converted rows and every problem through the loader itself (a dry run: nothing written).
What it saves is the same YAML the command line reads, validated by metrics.ingest.profiles first.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from metrics.catalogue.definitions import Config
from metrics.errors import MetricsError
from metrics.ingest import profiles
from metrics.ingest.loader import LoadResult, default_profile, load_upload
from metrics.ingest.profiles import KEYS, Profile, parse_profile
from metrics.ingest.readers import open_as_text, read_failure

# Formats tried, in this order, when suggesting how a date column is read (the first that reads every value wins).
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S",
                "%d/%m/%Y %H:%M", "%d/%m/%Y", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S",
                "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d-%b-%Y", "%d %b %Y", "%Y%m%d")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


@dataclass(frozen=True)
class Sample:
    """A sample export read as text: its dialect (a profile's `file` section), header and rows."""
    name: str
    file: dict                       # format, delimiter, quote, header, encoding, skip_rows (as a profile says them)
    columns: tuple[str, ...]
    rows: pd.DataFrame               # the first rows (SAMPLE_ROWS), every value text (None where empty), in order


@dataclass(frozen=True)
class Target:
    """One column of the target table, as the builder offers it."""
    name: str
    type: str                        # a profile type: varchar, integer, double, boolean, timestamp, date
    key: bool                        # part of the table's natural key (required)
    allowed: tuple[str, ...] | None  # the values it accepts, when config or the departments say


def _encoding(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    try:
        data[:1_000_000].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > 999_990:          # cut inside a character at the end of what was tried
            return "utf-8"
        return "latin-1"


def _dialect(cur, path: Path, data: bytes) -> dict:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return {"format": "excel"}
    if suffix == ".parquet":
        return {"format": "parquet"}
    encoding = _encoding(data)
    try:
        sniffed = cur.execute("SELECT Delimiter, Quote, HasHeader, SkipRows FROM sniff_csv($p, encoding = $e)",
                              {"p": str(path), "e": encoding}).fetchone()
    except duckdb.Error as exc:
        raise MetricsError(f"{path.name} could not be read as a CSV file ({str(exc).splitlines()[0]}); save it as "
                           "CSV (comma, semicolon, tab or | separated), Excel (.xlsx) or Parquet") from None
    delimiter, quote, header, skip = sniffed
    quote = quote if quote and len(quote) == 1 else '"'          # the sniffer says "(empty)" for a file with none
    return {"format": "csv", "delimiter": delimiter, "quote": quote, "header": bool(header),
            "encoding": encoding, "skip_rows": int(skip or 0)}


def _reading(file: dict, table: str = "contacts") -> Profile:
    """A profile with no columns that reads a file as `file` says (for looking at it as text)."""
    return Profile("sample", table, "", file.get("format", "csv"), file.get("delimiter", ","),
                   file.get("encoding", "utf-8"), bool(file.get("header", True)), file.get("quote", '"'),
                   int(file.get("skip_rows", 0)), file.get("sheet"), (), (), ())


SAMPLE_ROWS = 100_000           # rows of a sample examined for suggestions, formats and values (Preview reads all)


def read_sample(name: str, data: bytes, config: Config, file: dict | None = None,
                limit: int = SAMPLE_ROWS) -> Sample:
    """The sample's dialect (detected, or `file` as the person corrected it), header and first `limit` rows, all as
    text. MetricsError (one sentence) for a file that cannot be read so."""
    if not data:
        raise MetricsError(f"{name} is empty: expected a header row and data rows")
    with tempfile.TemporaryDirectory(prefix="cx-sample-") as folder:
        path = Path(folder) / (Path(name.replace("\\", "/")).name or "sample.csv")
        path.write_bytes(data)
        con = duckdb.connect()
        try:
            file = {**_dialect(con, path, data), **(file or {})}
            profile = _reading(file)
            scratch = Path(folder) / "sheet"
            scratch.mkdir()
            data_path, source, params, columns = open_as_text(con, path, profile, config, scratch)
            try:
                rows = con.execute(f"SELECT * FROM {source} LIMIT {int(limit)}", params).df()
            except duckdb.Error as exc:
                raise read_failure(data_path, profile, exc) from None
        finally:
            con.close()
    rows = rows.astype(object)
    rows = rows.where(rows.notna() & rows.apply(lambda c: c.astype(str).str.strip().ne("")), None)
    return Sample(path.name, file, tuple(columns), rows)


def targets(con, config: Config, table: str) -> list[Target]:
    """The columns a profile for `table` can make (not the dashboard's own), with type, key and accepted values."""
    if table not in KEYS:
        raise MetricsError(f"{table!r} is not a loadable table (one of {', '.join(KEYS)})")
    departments = tuple(config.departments)
    out = []
    for c in default_profile(con, table).columns:
        allowed = config.allowed_values.get((table, c.target))
        if c.target.endswith("department_id"):
            allowed = departments
        out.append(Target(c.target, c.type, c.target in KEYS[table], tuple(allowed) if allowed else None))
    return out


def _plain(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def suggest(sample: Sample, target: Target) -> dict:
    """How a target column is probably made: from the file column of the same name (case, spaces and _ aside), read
    with the first date format that reads all its values; {} when no column matches."""
    match = next((c for c in sample.columns if _plain(c) == _plain(target.name)), None)
    if match is None:
        return {}
    spec = {"from": match}
    if target.type != "varchar":
        spec["type"] = target.type
    if target.type in ("timestamp", "date"):
        found = suggest_formats(sample, match)
        if found:
            spec["formats"] = found
    return spec


def _values(sample: Sample, column: str) -> pd.Series:
    if column not in sample.columns:
        raise MetricsError(f"{sample.name} has no column {column!r} (it has: {', '.join(sample.columns[:12])})")
    return sample.rows[column]


def _fails(values: pd.Series, formats: list[str]) -> pd.Series:
    """Which of the values none of the formats reads (empty values never fail)."""
    con = duckdb.connect()
    try:
        frame = pd.DataFrame({"v": [None if pd.isna(v) else str(v).strip() for v in values]}, dtype=object)
        con.register("vals", frame)
        tries = ", ".join(f"try_strptime(v, $f{i})" for i in range(len(formats))) or "NULL"
        out = con.execute(f"SELECT v IS NOT NULL AND coalesce({tries}, NULL) IS NULL FROM vals",
                          {f"f{i}": f for i, f in enumerate(formats)}).fetchnumpy()
        return pd.Series(list(out.values())[0], index=values.index)
    finally:
        con.close()


def suggest_formats(sample: Sample, column: str) -> list[str]:
    """The first of DATE_FORMATS that reads every non-empty value of the column, as a list ([] if none does)."""
    values = _values(sample, column)
    values = values[values.notna()].drop_duplicates().head(5000)
    if values.empty:
        return []
    for fmt in DATE_FORMATS:
        if not _fails(values, [fmt]).any():
            return [fmt]
    return []


def format_failures(sample: Sample, column: str, formats: list[str], limit: int = 20) -> tuple[int, pd.DataFrame]:
    """How many rows the formats do not read, and the first `limit` of them (row as the loader numbers rows: the
    data row, from 1)."""
    values = _values(sample, column)
    bad = _fails(values, list(formats))
    shown = pd.DataFrame({"row": values.index[bad] + 1, column: values[bad]}).head(limit)
    return int(bad.sum()), shown.reset_index(drop=True)


def distinct_values(sample: Sample, column: str, limit: int = 60) -> pd.DataFrame:
    """The column's distinct values (spaces tidied as the loader tidies them), most frequent first, with their rows."""
    values = _values(sample, column).dropna().map(lambda v: re.sub(r"\s+", " ", str(v).replace("\xa0", " ")).strip())
    counts = values.value_counts()
    return pd.DataFrame({"value": counts.index, "rows": counts.to_numpy()}).head(limit)


def unmapped(sample: Sample, column: str, mapping: dict) -> pd.DataFrame:
    """The column's values the map does not list, with their rows (all of them: what a load would report)."""
    values = distinct_values(sample, column, limit=10**9)
    return values[~values["value"].isin([str(k) for k in mapping])].reset_index(drop=True)


def profile_data(table: str, description: str, file: dict, columns: dict[str, dict], drops: list[dict],
                 key: list[str] | None = None) -> dict:
    """The profile as its YAML says it (what the builder's choices amount to); empty choices left out."""
    data = {"table": table}
    if description:
        data["description"] = description
    data["file"] = {k: v for k, v in file.items() if k in ("format", "delimiter", "quote", "header", "encoding",
                                                           "skip_rows", "sheet")}
    if key:
        data["key"] = list(key)
    data["columns"] = {t: {k: v for k, v in spec.items() if v not in (None, "", [], {})} for t, spec in columns.items()}
    rules = [d for d in drops if (d.get("when") or "").strip()]
    if rules:
        data["drop"] = [{"when": d["when"].strip(), "reason": (d.get("reason") or "").strip()} for d in rules]
    return data


def check(data: dict, name: str) -> Profile:
    """The profile validated as the command line validates it (ConfigError listing every problem)."""
    return parse_profile(data, name)


def to_yaml(data: dict) -> str:
    table = data.get("table")
    return (f"# Built on the Data page (profile builder) for the table {table}; the format is described in README.md "
            "(\"Mapping profiles\").\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))


def preview(con, config: Config, data: dict, name: str, sample_name: str, sample: bytes,
            rows: int = 20) -> tuple[LoadResult, bytes | None]:
    """The sample loaded by the draft profile as a dry run: the summary, the first converted rows (result.preview)
    and every problem (the report's CSV); nothing written. ConfigError / MetricsError for a profile or file that
    cannot be used at all."""
    profile = check(data, name)
    return load_upload(con, config, profile.table, sample_name, sample, profile, loaded_by="profile builder",
                       dry_run=True, preview=rows)


def save(data: dict, name: str, folder: Path | None = None, replace: bool = False) -> Path:
    """Validate the profile and write it to folder/NAME.yaml (default data/mappings/), all or nothing. An existing
    profile of that name is replaced only when `replace` says so."""
    if not _NAME.match(name or ""):
        raise MetricsError(f"profile name {name!r} is not accepted; use lower-case letters, digits and _, starting "
                           "with a letter (e.g. boston_graffiti)")
    check(data, name)
    folder = Path(folder) if folder is not None else profiles.mappings_dir()
    path = folder / f"{name}.yaml"
    if path.exists() and not replace:
        raise MetricsError(f"a profile {name} exists already ({path}); choose another name, or replace it")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".yaml", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(to_yaml(data))
        profiles.load_profile(tmp)                   # read back as the loader will read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
