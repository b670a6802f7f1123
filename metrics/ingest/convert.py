"""The SQL of a load: reading a file as text, converting it by its profile, and finding every problem.

Values from the profile (map keys and values, constants, drop reasons, formats) are bound parameters;
source column names are quoted here; `expr` and `drop.when` are checked by metrics.catalogue.sqlexpr against the
file's header (and, for a drop, the converted target columns too) and rendered from the checked tree:
no text of a profile is pasted into SQL.
"""
from __future__ import annotations

from metrics.catalogue import sqlexpr
from metrics.catalogue.definitions import Config
from metrics.ingest.profiles import Column, Profile, where
from metrics.sql import ident

# (later column, earlier column): a row where later < earlier is wrong.
ORDER = {"requests": (("due_at", "created_at"), ("closed_at", "created_at"), ("first_response_at", "created_at")),
         "contacts": (("answered_at", "received_at"),), "handoffs": (("responded_at", "handed_at"),),
         "invoices": (("approved_at", "received_at"), ("paid_at", "received_at")),
         "suggestions": (("decided_at", "submitted_at"),)}
STAFF_COLUMNS = ("staff_id", "to_staff_id", "from_staff_id", "manager_id", "follow_up_by")
SQL_TYPES = {"varchar": "VARCHAR", "integer": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN",
             "timestamp": "TIMESTAMP", "date": "DATE"}


def quote_name(name: str) -> str:
    """Quote any source column name (headers may hold spaces, '+', quotes)."""
    return '"' + name.replace('"', '""') + '"'


class _Binder:
    def __init__(self, prefix: str = "p") -> None:
        self.values: dict = {}
        self.prefix = prefix

    def __call__(self, value) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def source_sql(profile: Profile, path: str) -> tuple[str, dict]:
    """A relation over the file with every column as text (not materialised)."""
    b = _Binder("r")
    if profile.format == "parquet":
        return f"(SELECT COLUMNS(*)::VARCHAR FROM read_parquet({b(path)}))", b.values
    encoding = profile.encoding.lower().replace("_", "-")
    options = (f"delim = {b(profile.delimiter)}, quote = {b(profile.quote)}, header = {b(profile.header)}, "
               f"skip = {b(profile.skip_rows)}, encoding = {b(encoding)}, all_varchar = true, strict_mode = true, "
               "null_padding = false")
    return f"read_csv({b(path)}, {options})", b.values


def keeps_source(c: Column) -> bool:
    """Whether _stage keeps the source text beside the value (needed where conversion can fail)."""
    return c.source is not None and (c.type != "varchar" or bool(c.map))


def _source(c: Column, b: _Binder) -> str:
    raw = quote_name(c.source)
    if c.map:                     # exported names carry non-breaking and doubled spaces
        raw = f"replace({raw}, chr(160), ' ')"
    text = f"nullif(trim({raw}), '')"
    if c.null_if:
        text = f"CASE WHEN {text} IN ({', '.join(b(v) for v in c.null_if)}) THEN NULL ELSE {text} END"
    return text


def _typed(x: str, c: Column, b: _Binder) -> str:
    if c.type in ("timestamp", "date") and c.formats:
        parsed = f"coalesce({', '.join(f'try_strptime({x}, {b(f)})' for f in c.formats)})"
        return parsed if c.type == "timestamp" else f"CAST({parsed} AS DATE)"
    return f"try_cast({x} AS {SQL_TYPES[c.type]})"


def _mapped(src: str, c: Column, b: _Binder) -> str:
    if not c.map:
        return src
    src = f"regexp_replace({src}, '\\s+', ' ', 'g')"     # 'PTS\u00a0 - X' matches 'PTS - X'
    whens = " ".join(f"WHEN {b(k)} THEN {b(str(v).lower() if isinstance(v, bool) else str(v))}" for k, v in c.map.items())
    default = "NULL" if c.default is None else b(str(c.default))
    return f"CASE {src} {whens} ELSE {default} END"


def conversion_sql(profile: Profile, target_cols: dict, relation: str, header: list[str]) -> tuple[str, dict]:
    """SQL creating _stage straight from the file `relation` (whose columns are `header`): _row (data row
    number), _drop (reason or NULL), each target column converted, and _src_<col> where conversion can fail.

    The columns are converted in an inner SELECT and the drops evaluated over its result, so a `drop.when`
    may use the converted target columns (`closed_at < created_at`) as well as the file's own columns (a
    name that is both means the converted column). Raises ExpressionError (one sentence) for an `expr` or
    `drop.when` the checker refuses.
    """
    b = _Binder()
    inner = ["row_number() OVER () AS _row"]
    outer = ["_row"]
    file_cols = {h: h for h in header}
    # An `expr` may also use the converted target columns (`closed_at - created_at`) that the file does not have
    # under that name (a file column of the same name means the file's): such an expr is computed in the outer
    # SELECT, over the inner one's converted values, and may not use another such expr.
    in_file = {h.lower() for h in header}
    late_names = {c.target: c.target for c in profile.columns if c.target.lower() not in in_file}
    plain = {c.target for c in profile.columns if c.expr is None}
    late, passed_through = {}, {}
    for i, c in enumerate(profile.columns):
        if c.target not in target_cols:
            raise ValueError(f"column {c.target} is not in table {profile.table}")
        if c.constant is not None:
            value = f"try_cast({b(str(c.constant).lower() if isinstance(c.constant, bool) else str(c.constant))} AS {SQL_TYPES[c.type]})"
            source = "CAST(NULL AS VARCHAR)"
        elif c.expr is not None:
            key = where(profile.name, f"columns.{c.target}.expr")
            checked = sqlexpr.check(c.expr, key, [*header, *late_names])
            used = {n.lower() for n in checked.columns} - in_file
            if not used:
                sql = sqlexpr.render(checked, file_cols, key)
                value, source = f"try_cast(({sql}) AS {SQL_TYPES[c.type]})", "CAST(NULL AS VARCHAR)"
            else:
                other = sorted(t for t in late_names if t.lower() in used and t not in plain)
                if other:
                    raise sqlexpr.ExpressionError(key, f"uses {', '.join(other)}, itself an expression over converted "
                                                       "columns; write it over the file's columns or the others")
                for n in checked.columns:
                    if n.lower() in in_file:
                        passed_through.setdefault(n, f"_file{len(passed_through)}")
                names = {**passed_through, **{t: t for t in late_names if t.lower() in used}}
                late[c.target] = f"try_cast(({sqlexpr.render(checked, names, key)}) AS {SQL_TYPES[c.type]})"
                continue
        else:
            source = _source(c, b)
            value = source if c.type == "varchar" and not c.map else _typed(_mapped(source, c, b), c, b)
        inner.append(f"{value} AS {ident(c.target)}")
        outer.append(ident(c.target))
        if keeps_source(c):
            inner.append(f"{source} AS {ident('_src_' + c.target)}")
            outer.append(ident("_src_" + c.target))
    # In a drop, a target column's name means its converted value; the file's other columns are passed
    # through the inner SELECT under names of their own (_raw0, ...), so no header can shadow anything.
    targets = {c.target: c.target for c in profile.columns}
    names = {**{h: f"_raw{i}" for i, h in enumerate(header) if h.lower() not in {t.lower() for t in targets}},
             **targets}
    whens, passed = [], {}
    for i, d in enumerate(profile.drops):
        key = where(profile.name, f"drop[{i}].when")
        checked = sqlexpr.check(d.when, key, [*targets, *(h for h in header if names.get(h) != h)])
        for col in checked.columns:
            real = next(n for n in names if n.lower() == col.lower())
            if real in late:
                raise sqlexpr.ExpressionError(key, f"uses {real}, an expression over converted columns; write the "
                                                   "drop over the columns that expression uses")
            if names[real] not in targets:
                passed[real] = names[real]
        whens.append(f"WHEN ({sqlexpr.render(checked, names, key)}) THEN {b(d.reason)}")
    inner += [f"{quote_name(h)} AS {ident(alias)}" for h, alias in passed.items()]
    inner += [f"{quote_name(h)} AS {ident(alias)}" for h, alias in passed_through.items()]
    outer += [f"{sql} AS {ident(target)}" for target, sql in late.items()]
    outer.insert(1, f"CASE {' '.join(whens)} END AS _drop" if whens else "CAST(NULL AS VARCHAR) AS _drop")
    return (f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT {', '.join(outer)} FROM "
            f"(SELECT {', '.join(inner)} FROM {relation})"), b.values


def problems_sql(profile: Profile, target_cols: dict, config: Config) -> tuple[str, dict]:
    """A query of every problem in _stage: row, column, value, reason (dropped rows are not checked)."""
    b = _Binder()
    t = profile.table
    q: list[str] = []

    checks: list[str] = []      # row-level checks, all evaluated in one pass over _stage

    def add(column: str, value: str, cond: str, reason: str) -> None:
        checks.append(f"CASE WHEN {cond} THEN {{'column': {b(column)}, 'value': CAST({value} AS VARCHAR), "
                      f"'reason': CAST({reason} AS VARCHAR)}} END")

    made = {c.target for c in profile.columns}
    for c in profile.columns:
        col, src = ident(c.target), ident("_src_" + c.target)
        if c.map:
            src = f"regexp_replace({src}, '\\s+', ' ', 'g')"
        if c.type == "varchar":      # DuckDB keeps a NUL byte inside text; it is never meant to be there
            add(c.source or c.target, f"replace({col}, chr(0), '\\0')", f"strpos({col}, chr(0)) > 0",
                b("contains a NUL byte (character 0), which text may not hold: remove it, or export the file again"))
        if not keeps_source(c):
            continue
        if c.map and c.default is None:
            known = ", ".join(list(c.map)[:8])
            add(c.source, src, f"{src} IS NOT NULL AND {src} NOT IN ({', '.join(b(k) for k in c.map)})",
                f"'value is not one the profile maps (' || {b(known)} || ')'")
        what = f"a {c.type}" + (f" in the format {' or '.join(c.formats)}" if c.formats else
                                 " (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)" if c.type in ("timestamp", "date") else "")
        add(c.source, src, f"{src} IS NOT NULL AND {col} IS NULL" +
            (f" AND {src} IN ({', '.join(b(k) for k in c.map)})" if c.map and c.default is None else ""),
            f"{b('not ' + what)}")
    for name, info in target_cols.items():
        if info[2] == "NO" and name != "batch_id":
            if name not in made and info[4] is not None:
                continue                                   # a default fills it
            if name not in made:
                q.append(f"SELECT 0, {b(name)}, CAST(NULL AS VARCHAR), {b('required column is not made by the profile')}")
            else:   # a value that failed to convert is reported once, as such
                src = ident("_src_" + name) if any(c.target == name and keeps_source(c) for c in profile.columns) else "NULL"
                add(name, "NULL", f"{ident(name)} IS NULL AND {src} IS NULL", b("required value is missing"))
    for name in made:
        col = ident(name)
        if name.endswith("department_id"):
            add(name, col, f"{col} IS NOT NULL AND {col} NOT IN (SELECT unnest({b(list(config.departments))}))",
                "'unknown department ' || " + col + " || ' (map it in the profile or add it to config.yaml)'")
        if name in STAFF_COLUMNS or (t == "suggestions" and name == "submitted_by"):
            own = f" AND {col} NOT IN (SELECT staff_id FROM _stage WHERE staff_id IS NOT NULL)" if t == "staff" else ""
            add(name, col, f"{col} IS NOT NULL AND {col} NOT IN (SELECT staff_id FROM staff){own}",
                b("unknown staff member (load staff first, or map it)"))
        if (t, name) in config.allowed_values:                 # config: loader.allowed_values
            allowed = config.allowed_values[(t, name)]
            add(name, col, f"{col} IS NOT NULL AND {col} NOT IN ({', '.join(b(v) for v in allowed)})",
                b(f"not one of {', '.join(allowed)}"))
        if (t, name) in config.ranges:                         # config: loader.ranges
            lo, hi = config.ranges[(t, name)]
            add(name, col, f"{col} IS NOT NULL AND ({col} < {b(lo)} OR {col} > {b(hi)})", b(f"outside {lo}–{hi}"))
    for later, earlier in ORDER.get(t, ()):
        if later in made and earlier in made:
            add(later, ident(later), f"{ident(later)} < {ident(earlier)}", b(f"{later} is before {earlier}"))
    if checks:
        q.append(f"SELECT _row AS row, p['column'] AS \"column\", p['value'] AS value, p['reason'] AS reason FROM "
                 f"(SELECT _row, unnest(list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL)) AS p "
                 f"FROM _stage WHERE _drop IS NULL)")
    key = ", ".join(ident(k) for k in profile.key)
    on = " AND ".join(f"d.{ident(k)} IS NOT DISTINCT FROM s.{ident(k)}" for k in profile.key)
    q.append(f"SELECT s._row, {b(', '.join(profile.key))}, CAST(concat_ws('|', {', '.join('s.' + ident(k) for k in profile.key)}) AS VARCHAR), "
             f"'duplicate key: also on row ' || d.first_row FROM _stage s JOIN (SELECT {key}, min(_row) AS first_row "
             f"FROM _stage WHERE _drop IS NULL GROUP BY ALL HAVING count(*) > 1) d ON {on} "
             f"WHERE s._drop IS NULL AND s._row <> d.first_row")
    return " UNION ALL ".join(q), b.values
