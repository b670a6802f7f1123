"""Data (administrators): load an export through the same loader as the command line; see and undo loads."""
import logging
from pathlib import Path

import streamlit as st

import profile_builder
import session
import widgets
from metrics.errors import MetricsError
from metrics.features import alerts
from metrics.ingest import profiles
from metrics.ingest.loader import load_upload, unload
from metrics.ingest.profiles import KEYS, load_profile

viewer = session.require_admin("Data")
eng = session.engine()
st.title("Data")
st.caption("Loads are all-or-nothing: a file is checked in full and written in one transaction, or not at all.")
widgets.flash()

st.subheader("Load an export")
choices = ["(columns named as in the schema)"] + profiles.names()
profile_name = st.selectbox("Mapping profile", choices)
try:
    profile = load_profile(profile_name) if profile_name != choices[0] else None
except MetricsError as exc:
    st.error(str(exc))
    st.stop()
default_table = profile.table if profile else "contacts"
table = st.selectbox("Table", list(KEYS), index=list(KEYS).index(default_table))
upload = st.file_uploader("File (CSV, TSV, Excel or Parquet)", type=["csv", "tsv", "txt", "xlsx", "parquet"])
dry_run = st.checkbox("Check only (write nothing)")
if upload is not None and st.button("Load", type="primary"):
    bar = st.progress(0.05, text="Reading the file…")
    steps = {"read and converted": (0.6, "Checking every row…"), "loaded in": (1.0, "Loaded."),
             "needs checking": (0.3, "Checking row by row…"), "validated": (0.8, "Writing…"), "written": (1.0, "Done.")}

    def log(message: str) -> None:
        st.write(message)
        for key, (share, text) in steps.items():
            if key in message:
                bar.progress(share, text=text)

    with st.status(f"Loading {upload.name}…", expanded=True) as status:
        try:
            result, report = load_upload(eng.con, eng.config, table, upload.name, upload.getvalue(), profile,
                                         loaded_by=viewer.user, dry_run=dry_run, log=log)
        except MetricsError as exc:
            status.update(label="Not loaded", state="error")
            st.error(str(exc))
            st.stop()
        except Exception:      # a bug, not the file: one sentence here, the traceback in the server's log
            logging.getLogger(__name__).exception("load of %s failed", upload.name)
            status.update(label="Not loaded", state="error")
            st.error(f"{upload.name} could not be loaded because of an unexpected failure (logged on the server); "
                     "nothing was written.")
            st.stop()
        status.update(label=result.summary().split("; all problems in")[0], state="complete" if result.ok else "error")
        bar.progress(1.0, text="Done." if result.ok else "Not loaded: see the problems below.")
    if result.ok:
        st.success(result.summary())
        if not dry_run and not result.skipped:
            fired = alerts.after_load(eng.con, eng.config)
            if fired:
                st.info(f"{len(fired)} alert{'s' if len(fired) != 1 else ''} fired for the people whose rules the new "
                        "data meets (their Alerts page).", icon=":material/notifications:")
    else:
        st.error(result.summary().split("; all problems in")[0])
        widgets.table(result.problems, "load-problems")
        if report:
            st.download_button("Download every problem (CSV)", report, file_name=Path(result.report).name,
                               mime="text/csv")

st.subheader("Loads")
batches = eng.read_store("SELECT batch_id, table_name, file_name, status, rows, rows_inserted, rows_updated, rows_dropped, "
                    "round(seconds, 1) AS seconds, loaded_by, loaded_at FROM load_batches ORDER BY batch_id DESC")
widgets.table(batches, "loads")
loaded = [int(b) for b in batches.loc[batches["status"] == "loaded", "batch_id"]]
if loaded:
    with st.expander("Undo a load"):
        batch = st.selectbox("Batch", loaded)
        if st.button(f"Unload batch {batch}", help="Removes exactly what the batch added and restores what it replaced."):
            try:
                r = unload(eng.con, batch)
                st.success(f"Unloaded batch {batch}: removed {r['removed']:,} rows from {r['table']}, "
                           f"restored {r['restored']:,}.")
            except MetricsError as exc:
                st.error(str(exc))

st.subheader("Build a profile")
profile_builder.render(eng, list(KEYS))
