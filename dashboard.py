"""Entry point: page config, sign-in, and navigation built from the viewer's role."""
import streamlit as st

import app_cache
import session
from metrics import access
from metrics.access import Role
from metrics.errors import MetricsError
from metrics.deliver import digests
from metrics.present import personas
from metrics.store import accounts, writes

st.set_page_config(page_title="Customer experience", page_icon=":material/monitoring:", layout="wide")

PAGES = {  # page file → (title, icon, roles that get it)
    "pages/overview.py": ("Overview", ":material/dashboard:", {Role.EXECUTIVE, Role.HEAD, Role.ADMIN}),
    "pages/department.py": ("Department", ":material/groups:", {Role.EXECUTIVE, Role.HEAD, Role.STAFF, Role.ADMIN}),
    "pages/my_contribution.py": ("My contribution", ":material/person:", {Role.EXECUTIVE, Role.HEAD, Role.STAFF}),
    "pages/voice.py": ("Voice of the customer", ":material/forum:", {Role.EXECUTIVE, Role.HEAD, Role.STAFF}),
    "pages/chain.py": ("The chain", ":material/link:", {Role.EXECUTIVE, Role.HEAD, Role.STAFF}),
    "pages/benchmark.py": ("Benchmarks", ":material/leaderboard:", {Role.EXECUTIVE, Role.HEAD}),
    "pages/ideas.py": ("Suggestions", ":material/lightbulb:", {Role.EXECUTIVE, Role.HEAD, Role.STAFF, Role.ADMIN}),
    "pages/you_said.py": ("You said, we did", ":material/campaign:", {Role.EXECUTIVE, Role.HEAD, Role.STAFF, Role.ADMIN}),
    "pages/pack.py": ("Committee pack", ":material/description:", {Role.EXECUTIVE, Role.HEAD}),
    "pages/targets.py": ("Targets", ":material/flag:", {Role.EXECUTIVE, Role.HEAD, Role.ADMIN}),
    "pages/alerts.py": ("Alerts", ":material/notifications:", {Role.EXECUTIVE, Role.HEAD, Role.STAFF, Role.ADMIN}),
    "pages/definitions.py": ("Metric definitions", ":material/menu_book:", {Role.EXECUTIVE, Role.HEAD, Role.STAFF, Role.ADMIN}),
    "pages/data.py": ("Data", ":material/upload_file:", {Role.ADMIN}),
    "pages/users.py": ("Users", ":material/manage_accounts:", {Role.ADMIN}),
}
DEFAULT = {Role.EXECUTIVE: "pages/overview.py", Role.HEAD: "pages/department.py", Role.STAFF: "pages/my_contribution.py",
           Role.ADMIN: "pages/overview.py"}


def pages_for(viewer) -> list:
    """Only the pages this viewer may open; My contribution needs a staff record."""
    out = []
    for path, (title, icon, roles) in PAGES.items():
        if viewer.role in roles and not (path == "pages/my_contribution.py" and viewer.staff_id is None):
            out.append(st.Page(path, title=title, icon=icon, default=path == DEFAULT[viewer.role]))
    return out


def sign_in_page() -> None:
    eng = session.engine()
    st.title(eng.config.organisation.name)
    st.subheader("Sign in")
    if reason := st.session_state.pop("signed_out_reason", None):
        st.warning(reason)
    mode = eng.config.auth_mode
    if mode == "demo":
        st.info("Demo sign-in: choose whose view to see. Every persona sees only what that role may see.",
                icon=":material/science:")
        people = app_cache.view(personas.demo_personas, None)
        choice = st.radio("Sign in as", [p.label for p in people])
        if st.button("Sign in", type="primary"):
            session.sign_in(next(p.viewer for p in people if p.label == choice))
            st.rerun()
    elif mode == "password":
        with st.form("sign-in"):
            user = st.text_input("User name (e-mail)")
            password = st.text_input("Password", type="password")
            if st.form_submit_button("Sign in", type="primary"):
                try:
                    v = accounts.authenticate(eng.con.cursor(), user.strip().lower(), password)
                    session.sign_in(v, accounts.start_session(eng.con.cursor(), v.user))
                    st.rerun()
                except MetricsError as exc:
                    st.error(str(exc))
    else:
        if not st.user.is_logged_in:
            st.button("Sign in with your organisation account", on_click=st.login, type="primary")
        else:
            try:                   # a database session too, so disabling the account ends this one at once
                v = accounts.viewer_for_login(eng.con.cursor(), st.user.email)
                session.sign_in(v, accounts.start_session(eng.con.cursor(), v.user))
                st.rerun()
            except MetricsError as exc:
                st.error(str(exc))
                st.button("Sign out", on_click=st.logout)


def unsubscribe_page(token: str) -> None:
    """The one-click unsubscribe link of a digest e-mail: no sign-in, the token is the key (digests.unsubscribe)."""
    st.title("Unsubscribe")
    try:
        st.success(digests.unsubscribe(session.engine(), token), icon=":material/unsubscribe:")
    except MetricsError as exc:
        st.error(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")


def run() -> None:
    """Sign-in, the sidebar and the chosen page."""
    viewer = session.viewer()
    if viewer is None:
        # Signed out: the sign-in page, and the public "You said, we did" (no personal data on it).
        st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:", default=True),
                       st.Page("pages/you_said.py", title="You said, we did", icon=":material/campaign:")]).run()
    else:
        me = session.signed_in_user()
        with st.sidebar:
            st.markdown(f"**{me.user}** · {me.role}")
            if me.is_admin:
                people = app_cache.view(personas.demo_personas, None)
                labels = ["(myself)"] + [p.label for p in people if not p.viewer.is_admin]
                acting = st.selectbox("View as", labels, key="view-as", help="See the pages as that role does: read-only, and without "
                                      "individual figures, records or comments you may not see yourself.")
                persona = next((p.viewer for p in people if p.label == acting), None)
                st.session_state[session.ACTING] = access.viewing_as(persona, me) if persona else None
                viewer = session.viewer()
                if viewer is None:             # the session ended meanwhile: back to sign-in
                    st.rerun()
            if st.button("Sign out"):
                session.sign_out()
                st.rerun()
        if viewer is not None and viewer.read_only:
            st.info(writes.read_only_reason(viewer) + ".", icon=":material/visibility:")
        try:
            st.navigation(pages_for(viewer)).run()
        except MetricsError as exc:        # e.g. the Spark cluster went away: one sentence, not a traceback
            st.error(str(exc))


if app_cache.needs_setup():         # started on an organisation's config that does not exist yet: set it up first
    st.navigation([st.Page("pages/setup.py", title="Set up", icon=":material/domain_add:", default=True)]).run()
else:
    with app_cache.page_run(session.engine()):
        app_cache.maybe_warm_up()
        app_cache.start_postman(session.engine())
        if token := st.query_params.get("unsubscribe"):
            st.navigation([st.Page(lambda: unsubscribe_page(token), title="Unsubscribe", url_path="unsubscribe",
                                   default=True)]).run()
        else:
            run()
    app_cache.freeze_heap()
