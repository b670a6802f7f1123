"""Set up (first run): the only page of a server started on an organisation's config file that does not exist yet
(`make run CONFIG=ours.yaml`). It writes that file and the organisation's database through the same code as
`python -m metrics init` (metrics/features/setup.py): its name and calendar, its units from a departments CSV, which
of them stands for each department the catalogue names, its people from a staff CSV, and a first administrator.
Only someone with the set-up code (in a file beside the config, and in the server's log) can do it."""
import logging
import tempfile
import zoneinfo
from pathlib import Path

import streamlit as st

import app_cache
from metrics.catalogue import organisation
from metrics.errors import MetricsError
from metrics.features import setup

target = Path(app_cache.config_path())
database = Path(app_cache.database_override() or setup.default_database(target))
code = setup.setup_code(target)
app_cache.log_setup_code(target, code)
base = organisation.read_base(app_cache.CONFIG_PATH)
catalogue = {d["key"]: d["name"] for d in organisation.walk(base.get("departments") or [])}

st.title("Set up your organisation")
st.caption(f"This server has no organisation yet. Creating it writes {target} and an empty database {database}; "
           "nothing is written until every part below is right. The same as `python -m metrics init` (README: "
           "\"Setting up your organisation\").")
given = st.text_input("Set-up code", type="password",
                      help=f"In {setup.setup_code_path(target)} on the server, and in the server's log.")

st.subheader("1. The organisation")
name = st.text_input("Name", placeholder="e.g. Testville City Council")
zones = sorted(zoneinfo.available_timezones())
left, mid, right = st.columns(3)
zone = left.selectbox("Time zone", zones, index=zones.index("Europe/London"))
country = mid.text_input("Country (ISO code, for public holidays)", value="GB", max_chars=2)
region = right.text_input("Region (optional, e.g. ENG)", max_chars=6)


def saved(upload, folder: str) -> Path | None:
    if upload is None:
        return None
    path = Path(folder) / Path(upload.name).name
    path.write_bytes(upload.getvalue())
    return path


with tempfile.TemporaryDirectory(prefix="cx-setup-") as folder:
    st.subheader("2. Its departments and teams")
    st.caption("A CSV with the columns key, name, parent, front_line: one row per directorate, department or team "
               "(three levels at most), parent empty for a top-level unit, front_line yes or no.")
    departments = saved(st.file_uploader("Departments CSV", type=["csv"], key="departments"), folder)
    units = None
    if departments is not None:
        try:
            units = list(organisation.walk(organisation.read_departments(departments)))
        except MetricsError as exc:
            st.error(str(exc).replace(str(departments), departments.name))
    if units:
        st.success(f"{len(units)} units: {', '.join(u['name'] for u in units[:8])}{' …' if len(units) > 8 else ''}")
        keys = [u["key"] for u in units]
        unit_name = {u["key"]: f"{u['name']} ({u['key']})" for u in units}
        st.caption("The shipped metric catalogue names some departments (a metric's owner, the chain's front door, "
                   "where feedback naming no department goes, the departments each shared goal counts). Say which of "
                   "yours stands for each.")
        key_map = {}
        cols = st.columns(3)
        for i, key in enumerate(organisation.named_departments(base)):
            chosen = cols[i % 3].selectbox(f"{catalogue.get(key, key)} ({key})", keys, key=f"map-{key}",
                                           index=keys.index(key) if key in keys else None,
                                           placeholder="choose one of your units", format_func=unit_name.get)
            if chosen:
                key_map[key] = chosen

    st.subheader("3. Its people (optional: also later, on the Data page)")
    st.caption("A CSV with the staff table's columns: staff_id, name, email, department_id, manager_id, active, "
               "started_on, left_on (and assigned_from, the day their current team and manager took effect).")
    staff = saved(st.file_uploader("Staff CSV", type=["csv"], key="staff"), folder)

    st.subheader("4. The first administrator")
    st.caption("People then sign in with a password (argon2-hashed in the database); the administrator adds the "
               "other accounts on the Users page.")
    left, right = st.columns(2)
    user = left.text_input("User name (e-mail)")
    display = right.text_input("Display name (optional)")
    password = left.text_input("Password", type="password")
    again = right.text_input("Password again", type="password")

    if st.button("Create the organisation", type="primary", disabled=not units):
        try:
            setup.check_setup_code(target, given)
            if not name.strip():
                raise MetricsError("give the organisation's name")
            if password != again:
                raise MetricsError("the two passwords differ; type the same one twice")
            missing = [k for k in organisation.named_departments(base) if k not in key_map]
            if missing:
                raise MetricsError("say which of your units stands for " + ", ".join(catalogue.get(k, k) for k in missing))
            made = setup.create(app_cache.CONFIG_PATH,
                                setup.Organisation(name.strip(), zone, country.strip().upper(), region.strip() or None),
                                departments, key_map, target, database, staff=staff,
                                admin=setup.Administrator(user, password, display or None))
        except MetricsError as exc:
            st.error(str(exc).replace(folder + "/", ""))
        except Exception:      # a bug, not the input: one sentence here, the traceback in the server's log
            logging.getLogger(__name__).exception("set-up failed")
            st.error("The organisation could not be created because of an unexpected failure (logged on the server); "
                     "nothing was written.")
        else:
            setup.setup_code_path(target).unlink(missing_ok=True)      # used: it opens nothing any more
            st.success(f"Created {name.strip()}: {made.units} units, {made.staff} staff. Sign in as {user.strip().lower()} "
                       "and load your first export on the Data page.")
            st.button("Go to sign-in", type="primary")      # the rerun finds the config and shows the sign-in page
