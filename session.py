"""Streamlit side of signing in and the controls every page shares (kept apart from metrics/).

The signed-in Viewer lives in st.session_state on the server; in password mode the session is also
a row in the database (an opaque token, only its hash stored) that expires and is revoked at sign-out.
"""
from __future__ import annotations

import streamlit as st

import app_cache
from metrics import access
from metrics.access import Viewer
from metrics.compute.periods import GRAINS, Period, parse_date, within
from metrics.errors import MetricsError
from metrics.store import accounts

KEY, TOKEN, ACTING = "viewer", "session_token", "acting_as"


def engine():
    """The process's engine, or a clear message and stop."""
    try:
        return app_cache.engine()
    except MetricsError as exc:
        st.error(str(exc))
        st.stop()


def viewer() -> Viewer | None:
    """The signed-in viewer (or the persona an administrator is acting as), checking expiry."""
    v = st.session_state.get(KEY)
    if v is None:
        return None
    token = st.session_state.get(TOKEN)
    if token is not None:
        eng = engine()
        try:
            fresh = accounts.resume_session(eng.con.cursor(), token, idle_minutes=eng.config.session_idle_minutes)
        except MetricsError as exc:
            sign_out()
            st.session_state["signed_out_reason"] = str(exc)
            return None
        if fresh != v:                 # the account changed (role, department, staff record): use it now
            st.session_state[KEY] = v = fresh
            if not v.is_admin:
                st.session_state.pop(ACTING, None)
    return st.session_state.get(ACTING) or v


def signed_in_user() -> Viewer | None:
    """The real signed-in user (not the persona being acted as)."""
    return st.session_state.get(KEY)


def require_viewer() -> Viewer:
    """First line of every page: the viewer, or a prompt to sign in and stop (pages are served by URL too)."""
    v = viewer()
    if v is None:
        st.warning(st.session_state.pop("signed_out_reason", None) or "Please sign in to see this page.")
        st.markdown("[Go to sign-in](/)")
        st.stop()
    return v


def require_admin(page: str) -> Viewer:
    """First line of an administrators' page: the viewer, or one sentence and stop (the menu is not the gate)."""
    v = require_viewer()
    if not v.is_admin:
        st.warning(f"The {page} page is for administrators.")
        st.stop()
    return v


def sign_in(v: Viewer, token: str | None = None) -> None:
    st.session_state[KEY], st.session_state[TOKEN] = v, token
    st.session_state.pop(ACTING, None)
    st.session_state.pop("signed_out_reason", None)


def sign_out() -> None:
    token = st.session_state.pop(TOKEN, None)
    if token is not None:
        try:
            accounts.end_session(engine().con.cursor(), token)
        except MetricsError:
            pass
    for k in (KEY, ACTING):
        st.session_state.pop(k, None)


def nothing_loaded(eng, v) -> str:
    """What a page says while the sources whose days make the periods (config organisation.periods_from) are empty."""
    who = "load one on the Data page" if v is not None and v.is_admin else "an administrator loads one on the Data page"
    tables = list(dict.fromkeys(eng.config.sources[k].table for k in eng.config.organisation.periods_from))
    named = tables[0] if len(tables) == 1 else f"{', '.join(tables[:-1])} or {tables[-1]}"
    return (f"No {named} loaded yet, so there are no figures to show: periods start from the first of those exports "
            f"(your telephony or contact log, service requests, feedback, invoices) — {who}. Staff and the other "
            "exports follow the same way.")


def period_controls(eng, page: str, grain_default: str = "month") -> tuple[Period, str]:
    """Period and grain pickers in the sidebar, kept in the URL so a view can be shared. With nothing loaded
    yet, the page (titled `page`) says what is missing and stops."""
    qp = st.query_params
    if eng.data_range() is None:                 # a new organisation's empty database: say what is missing, not why
        st.title(page)
        st.info(nothing_loaded(eng, viewer()), icon=":material/upload_file:")
        st.stop()
    default = eng.default_period()
    try:
        start = parse_date(qp.get("from", default.start.isoformat()), "from")
        end = parse_date(qp.get("to", default.end.isoformat()), "to")
        period = Period(start, end)
    except MetricsError as exc:
        st.sidebar.warning(f"{exc}; showing {default} instead.")
        period = default
    rng = eng.data_range()
    lo, hi = (rng if rng else (default.start, default.end))
    period, note = within(period, lo, hi, default)
    if note:
        st.sidebar.warning(f"{note[:1].upper()}{note[1:]}.")
    picked = st.sidebar.date_input("Period", (period.start, period.end), min_value=lo, max_value=hi,
                                   format="YYYY-MM-DD")
    if isinstance(picked, (tuple, list)) and len(picked) == 2:
        period = Period(picked[0], picked[1])
    grain = qp.get("grain", grain_default)
    grain = st.sidebar.selectbox("Trend by", GRAINS, index=GRAINS.index(grain if grain in GRAINS else grain_default))
    qp["from"], qp["to"], qp["grain"] = period.start.isoformat(), period.end.isoformat(), grain
    return period, grain


def department_picker(eng, viewer) -> str:
    """The department a page shows: executives and administrators choose (kept in the URL), others get their own."""
    units = [k for k, d in eng.config.departments.items() if d.level == "department"]
    own = access.home_unit(eng.config, viewer)
    if viewer.picks_any_department or own not in units:
        wanted = st.query_params.get("department", own if own in units else units[0])
        key = st.sidebar.selectbox("Department", units, index=units.index(wanted) if wanted in units else 0,
                                   format_func=lambda k: eng.config.departments[k].name)
    else:
        key = own
    st.query_params["department"] = key
    return key
