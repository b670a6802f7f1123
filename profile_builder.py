"""The Data page's profile builder: a sample export in, a mapping profile (data/mappings/NAME.yaml) out.

The page side only: every step — reading the sample, suggesting, checking formats and maps, previewing, saving —
is metrics.ingest.builder, the same validation and loader the command line uses."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import streamlit as st

import widgets
from metrics.errors import MetricsError
from metrics.ingest import builder, profiles

NOT_HERE, COLUMN, CONSTANT, EXPRESSION = "not in this file", "a column of the file", "a constant", "an expression"
WAYS = (NOT_HERE, COLUMN, CONSTANT, EXPRESSION)
DELIMITERS = {",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "bar |"}
ENCODINGS = ("utf-8", "latin-1", "utf-16")
SHOWN_VALUES = 60            # values listed for mapping (the most frequent); the rest are counted as unmapped


def _sample(upload, config, file: dict | None):
    """The sample read once per file and dialect (kept in the session, not re-read on every widget change)."""
    data = upload.getvalue()
    key = (hashlib.sha256(data).hexdigest(), tuple(sorted((file or {}).items())))
    kept = st.session_state.get("builder-sample-read")
    if kept is None or kept[0] != key:
        kept = (key, builder.read_sample(upload.name, data, config, file))
        st.session_state["builder-sample-read"] = kept
    return kept[1], data


def _dialect(sample) -> dict | None:
    """The dialect as detected, with the person's corrections; None when they changed nothing."""
    file = sample.file
    if file["format"] != "csv":
        st.caption(f"Read as {file['format']}.")
        return None
    cols = st.columns(4)
    delimiter = cols[0].selectbox("Separator", list(DELIMITERS), format_func=DELIMITERS.get,
                                  index=list(DELIMITERS).index(file["delimiter"]) if file["delimiter"] in DELIMITERS else 0)
    encoding = cols[1].selectbox("Encoding", ENCODINGS, index=ENCODINGS.index(file["encoding"])
                                 if file["encoding"] in ENCODINGS else 0)
    skip = cols[2].number_input("Lines before the header", 0, 100, int(file["skip_rows"]))
    header = cols[3].checkbox("First row is the header", bool(file["header"]))
    changed = {k: v for k, v in {"delimiter": delimiter, "encoding": encoding, "skip_rows": int(skip),
                                 "header": header}.items() if v != file[k]}
    return changed or None


def _map(sample, target, source: str) -> tuple[dict, object]:
    """The value map for one column: each distinct value (most frequent first) given what it becomes; the values
    left unmapped shown; what everything else becomes."""
    values = builder.distinct_values(sample, source, limit=SHOWN_VALUES)
    mapping = {}
    cols = st.columns(3)
    for i, (value, rows) in enumerate(zip(values["value"], values["rows"])):
        label = f"{target.name}: {value} ({rows:,} rows) →"
        where = cols[i % 3]
        key = f"b-{target.name}-map-{source}-{value}"
        if target.allowed:
            same = next((a for a in target.allowed if a.lower() == str(value).lower()), None)
            chosen = where.selectbox(label, target.allowed, key=key, placeholder="(not mapped)",
                                     index=target.allowed.index(same) if same else None)
        else:
            chosen = where.text_input(label, key=key).strip() or None
        if chosen is not None:
            mapping[str(value)] = chosen
    left = builder.unmapped(sample, source, mapping)
    default = None
    if not left.empty:
        st.warning(f"Not mapped: {', '.join(f'{v} ({n:,} rows)' for v, n in zip(left['value'][:10], left['rows'][:10]))}"
                   f"{' …' if len(left) > 10 else ''}. A load reports these rows as problems unless everything else "
                   "becomes one value.", icon=":material/warning:")
        label = f"{target.name}: everything else becomes"
        if target.allowed:
            default = st.selectbox(label, target.allowed, index=None, placeholder="(nothing: report them)",
                                   key=f"b-{target.name}-default-{source}")
        else:
            default = st.text_input(label, key=f"b-{target.name}-default-{source}").strip() or None
    return mapping, default


def _column(sample, target, suggested: dict) -> dict:
    """One target column: how it is made, with what the choice needs (column, formats, map, constant, expression)."""
    with st.container(border=True):
        heading = f"**{target.name}** · {target.type}" + (" · key (required)" if target.key else "")
        if target.allowed and not target.name.endswith("department_id"):
            heading += f" · one of {', '.join(target.allowed)}"
        st.markdown(heading)
        left, right = st.columns([1, 2])
        way = left.selectbox(f"How {target.name} is made", WAYS, index=1 if suggested else 0, key=f"b-{target.name}-way")
        if way == NOT_HERE:
            return {}
        if way == CONSTANT:
            if target.allowed:
                value = right.selectbox(f"{target.name} for every row", target.allowed, key=f"b-{target.name}-constant")
            else:
                value = right.text_input(f"{target.name} for every row", key=f"b-{target.name}-constant")
            return {"constant": value, "type": target.type}
        if way == EXPRESSION:
            expr = right.text_input(f"Expression for {target.name}", key=f"b-{target.name}-expr",
                                    help="One SQL expression over the file's columns (quote odd names: \"Case ID\") "
                                    "and the other converted columns, e.g. coalesce(closed_at, due_at)")
            return {"expr": expr, "type": target.type}
        columns = list(sample.columns)
        source = right.selectbox(f"Column for {target.name}", columns, key=f"b-{target.name}-from",
                                 index=columns.index(suggested["from"]) if suggested.get("from") in columns else None,
                                 placeholder="choose a column")
        if source is None:
            return {}
        spec = {"from": source, "type": target.type}
        if target.type in ("timestamp", "date"):
            guess = "; ".join(builder.suggest_formats(sample, source))
            text = st.text_input(f"Date format of {source} for {target.name} (several: separate with ;)", guess,
                                 key=f"b-{target.name}-formats-{source}",
                                 help="strftime codes: %Y-%m-%d %H:%M:%S, %d/%m/%Y, %m/%d/%Y %I:%M:%S %p, …")
            formats = [f.strip() for f in text.split(";") if f.strip()]
            failed, rows = builder.format_failures(sample, source, formats)
            if formats and failed:
                st.warning(f"{failed:,} rows of {source} are not in the format {' or '.join(formats)}; the first:",
                           icon=":material/warning:")
                st.dataframe(rows, hide_index=True)
            elif not formats:
                st.caption("No format that reads every value was found; without one, values must be ISO dates "
                           "(YYYY-MM-DD HH:MM:SS).")
            spec["formats"] = formats
        elif target.type == "varchar" and st.checkbox(f"Map the values of {source} for {target.name}",
                                                      value=bool(target.allowed), key=f"b-{target.name}-mapping-{source}"):
            spec["map"], spec["default"] = _map(sample, target, source)
        return spec


def render(eng, table_names: list[str]) -> None:
    st.caption("Upload a sample of an export (a few thousand rows is plenty), say how each column of the table is "
               "made, preview the converted rows and every problem, and save it as a profile in "
               f"{profiles.mappings_dir()} — then load whole files with it above or with `python -m metrics load`.")
    upload = st.file_uploader("Sample of the export (CSV, TSV, Excel or Parquet)", key="builder-upload",
                              type=["csv", "tsv", "txt", "xlsx", "parquet"])
    if upload is None:
        return
    try:
        sample, data = _sample(upload, eng.config, st.session_state.get("builder-file"))
    except MetricsError as exc:
        st.error(str(exc))
        return
    changed = _dialect(sample)
    if changed != st.session_state.get("builder-file"):
        st.session_state["builder-file"] = changed
        st.rerun()
    first = " (the first ones: Preview checks every row)" if len(sample.rows) >= builder.SAMPLE_ROWS else ""
    st.caption(f"{len(sample.rows):,} rows{first}, {len(sample.columns)} columns: {', '.join(sample.columns)}")
    st.dataframe(sample.rows.head(10), hide_index=True)

    table = st.selectbox("Table it loads into", table_names, key="builder-table",
                         index=table_names.index("requests") if "requests" in table_names else 0)
    targets = builder.targets(eng.con.cursor(), eng.config, table)
    columns = {}
    for target in targets:
        spec = _column(sample, target, builder.suggest(sample, target))
        if spec:
            columns[target.name] = {k: v for k, v in spec.items() if not (k == "type" and v == "varchar")}
    with st.expander("Rows to leave out (optional)"):
        st.caption("Each rule is one SQL condition over the file's columns and the converted ones, with the reason "
                   "counted in the load's summary, e.g. closed_at < created_at.")
        drops = []
        for i in range(int(st.number_input("Rules", 0, 10, 0, key="builder-rules"))):
            a, b = st.columns([2, 1])
            drops.append({"when": a.text_input(f"Rule {i + 1}: leave a row out when", key=f"b-drop-{i}-when"),
                          "reason": b.text_input(f"Rule {i + 1}: reason", key=f"b-drop-{i}-reason")})

    stem = re.sub(r"[^a-z0-9_]+", "_", Path(upload.name).stem.lower()).strip("_") or "profile"
    left, right = st.columns(2)
    name = left.text_input("Profile name", value=stem if stem[0].isalpha() else f"p_{stem}", key="builder-name")
    description = right.text_input("Description", key="builder-description",
                                   placeholder="e.g. City 311 requests → requests")
    draft = builder.profile_data(table, description, {**sample.file}, columns, drops)
    with st.expander("The profile as YAML"):
        st.code(builder.to_yaml(draft), language="yaml")
    preview, save = st.columns([1, 3])
    if preview.button("Preview", key="builder-preview"):
        try:
            result, report = builder.preview(eng.con, eng.config, draft, name, upload.name, data)
        except MetricsError as exc:
            st.error(str(exc))
        else:
            (st.success if result.ok else st.error)(result.summary().split("; all problems in")[0])
            if result.preview is not None:
                st.dataframe(result.preview, hide_index=True)
            if not result.ok:
                st.dataframe(result.problems, hide_index=True)
                if report:
                    st.download_button("Download every problem (CSV)", report, key="builder-report",
                                       file_name=f"{Path(upload.name).stem}.problems.csv", mime="text/csv")
    replace = st.checkbox("Replace a profile of the same name", key="builder-replace")
    if save.button("Save the profile", type="primary", key="builder-save"):
        try:
            path = builder.save(draft, name, replace=replace)
        except MetricsError as exc:
            st.error(str(exc))
        else:             # rerun, so the profile is offered under "Load an export" at once
            st.session_state[widgets.FLASH] = f"Saved {path}. Choose {name} under Mapping profile to load a file with it."
            st.rerun()
