"""Users (administrators): who can sign in — add an account, disable or enable it, reset a password, change a role.

Every change goes through metrics.accounts, which checks that the signed-in administrator is still an active
administrator, writes the audit row in the same transaction and ends the sessions the change must end: a
disabled user's open pages stop on their next run. This page works while the dashboard holds the database,
when the command line (`python -m metrics users ...`) cannot.
"""
import streamlit as st

import session
import widgets
from metrics.store import accounts
from metrics.errors import MetricsError

viewer = session.require_admin("Users")
eng = session.engine()
st.title("Users")
st.caption("Disabling an account, resetting its password or changing its role ends its sessions at once. "
           "Every change is recorded in the audit log.")
mode = eng.config.auth_mode
if mode == "demo":
    st.info("Demo sign-in is on (auth.mode: demo): people pick a persona, so these accounts are not used, and only "
            "an administrator signed in with an account (password or OIDC) may change them.", icon=":material/science:")
    st.stop()
widgets.flash()
try:
    users = accounts.list_users(eng.con, viewer)
except MetricsError as exc:
    st.error(str(exc))
    st.stop()
# The staff id is what the form below takes, so it stays an id here, named as one (not shown as a name).
widgets.table(users.rename(columns={"staff_id": "Staff id"}), "users", columns={
    "user_id": "User name", "display_name": "Name", "role": "Role", "department_id": "Department",
    "active": "Active", "has_password": "Has a password", "created_at": "Created", "live_sessions": "Signed in now"})

departments = [k for k, d in eng.config.departments.items() if d.level != "directorate"]
gen_key, gen = widgets.form_generation("add-user")
with st.expander("Add a user"):
    with st.form(f"add-user-{gen}"):
        user = st.text_input("User name (their e-mail)")
        name = st.text_input("Display name", help=f"At most {accounts.DISPLAY_NAME_MAX} characters.")
        role = st.selectbox("Role", accounts.ROLES, index=accounts.ROLES.index("staff"))
        department = st.selectbox("Department", departments, index=None,
                                  format_func=lambda k: eng.config.departments[k].name,
                                  help="Leave empty to take the staff member's department.")
        staff = st.text_input("Staff id (optional)", help="Their staff record, e.g. S0123.")
        password = None
        if mode == "password":
            password = st.text_input("Initial password", type="password", autocomplete="new-password",
                                     help=f"At least {accounts.MIN_PASSWORD} characters; tell them to change it.")
        if st.form_submit_button("Add the user", type="primary"):
            widgets.act(f"Added {user.strip().lower()} ({role}).", accounts.add_user, eng.con, user, role, name,
                        department, staff, password, eng.config, actor=viewer, _reset=gen_key)

if users.empty:
    st.stop()
st.subheader("Change an account")
ids = list(users["user_id"])
pick = st.selectbox("User", ids, key="users-pick")
row = users.set_index("user_id").loc[pick]
left, right = st.columns(2)
with left:
    st.markdown(f"**{widgets.plain(row['display_name'])}** · {row['role']} · "
                f"{'active' if row['active'] else 'disabled'} · signed in now: {int(row['live_sessions'])}")
    if row["active"]:
        if st.button("Disable (ends their sessions now)", key=f"disable-{pick}"):
            widgets.act(f"Disabled {pick}: their sessions have ended.", accounts.set_active, eng.con, pick, False,
                        actor=viewer)
    elif st.button("Enable", key=f"enable-{pick}"):
        widgets.act(f"Enabled {pick}.", accounts.set_active, eng.con, pick, True, actor=viewer)
    with st.form(f"role-{pick}"):
        new_role = st.selectbox("Role", accounts.ROLES, index=accounts.ROLES.index(row["role"]))
        if st.form_submit_button("Change the role"):
            widgets.act(f"{pick} is now {new_role}; their sessions have ended.", accounts.set_role, eng.con, pick,
                        new_role, actor=viewer)
with right:
    if mode == "password":
        pw_key, pw_gen = widgets.form_generation(f"password-{pick}")
        with st.form(f"password-{pick}-{pw_gen}"):
            first = st.text_input("New password", type="password", autocomplete="new-password",
                                  help=f"At least {accounts.MIN_PASSWORD} characters.")
            again = st.text_input("The new password again", type="password", autocomplete="new-password")
            if st.form_submit_button("Reset the password"):
                if first != again:
                    st.error("The two passwords differ; nothing was changed — type the same password twice.")
                else:
                    widgets.act(f"Password reset for {pick}: their sessions have ended.", accounts.set_password,
                                eng.con, pick, first, actor=viewer, _reset=pw_key)
