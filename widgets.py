"""Small drawing helpers the pages share (Streamlit only; no figures are computed here)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import app_cache

from metrics import access
from metrics.compute import target_status
from metrics.errors import MetricsError
from metrics.features import events, moved
from metrics import formatting
from metrics.present import views
from metrics.formatting import format_date
from metrics.present import doc_parts, document as d, pdf
from metrics.store import csvsafe
from metrics.store.writes import Conflict, change_notice, read_only_reason
from metrics.voice import praise

DELTA_COLOUR = {"higher_is_better": "normal", "lower_is_better": "inverse", "neutral": "off"}


status_text = target_status.status_text        # '✔ On target' (pages/chain.py maps status columns with it)


def cards(eng, results, per_row: int = 4) -> None:
    """KPI cards: figure, change since the previous period, target, and status as icon + word (views.card_text).
    `results` are MetricResults or their CardTexts."""
    cols = st.columns(per_row)
    for i, r in enumerate(results):
        card = r if isinstance(r, views.CardText) else views.card_text(eng, r)
        with cols[i % per_row]:
            with st.container(border=True):
                st.metric(card.label, card.value, card.delta, help=card.help,
                          delta_color="off" if card.change == 0 else DELTA_COLOUR[card.direction])
                st.caption(card.status)
                if card.signal:
                    st.caption(card.signal, help="Statistical process control over the last months (NHS England's "
                               "Making Data Count): is the change real, and will the target be met as things run?")


WORDS = views.WORDS         # data column names → words people use (the CSV keeps the same words as the screen)


def _lookups(df) -> dict:
    """The names formatting.readable needs for this frame's key columns, staff names read once per data version."""
    return views.lookups(app_cache.engine(), df, lambda: app_cache.view(views.staff_names, None)) \
        if views.keyed(df) else {}


def readable(df, for_download: bool = False):
    """A frame as people read it (formatting.readable): unit keys as names, staff ids as people's names, metric
    keys as labels; on screen dates as '9 Oct 2025' and gaps as '–'."""
    return formatting.readable(df, **_lookups(df), for_download=for_download)


def table(df, name: str, columns: dict | None = None, **kwargs) -> None:
    """A table as people read it (readable) and a CSV download of what it shows — the same rows, columns and
    names, with ISO dates and empty cells for a spreadsheet — text that looks like a spreadsheet formula
    quoted (metrics.csvsafe). The grid's own toolbar download is off (client.disableDataExport in
    .streamlit/config.toml): it would write those cells unquoted.

    Args:
        df: the data, with the schema's column names (department_id, staff_id, received_at, ...).
        name: the table's name (the CSV's file name and the download button's key).
        columns: headings for data columns, beside the shared WORDS (others: formatting.heading).
    """
    words = {**WORDS, **(columns or {})}
    st.dataframe(app_cache.shown(_as_shown, df, words, names_from_data=views.keyed(df)), hide_index=True,
                 width="stretch", **kwargs)
    # Deferred: the CSV is written when someone clicks, not on every run of the page (most runs nobody does).
    st.download_button("Download CSV", lambda: csvsafe.csv_bytes(_as_shown(df, words, for_download=True)),
                       file_name=f"{name}.csv", mime="text/csv", key=f"dl-{name}", on_click="ignore")


def _as_shown(df, words: dict, for_download: bool = False):
    """The table's frame as shown (or downloaded): readable, with its headings."""
    return views.as_shown(df, words, _lookups(df), for_download)


plain = formatting.plain       # text from people or data files, shown literally in Markdown

# --- writing from a page: one wrapper, so every form reports the same way ---------------------
FLASH = "flash_message"


def locked(viewer) -> dict:
    """Keyword arguments for every write control: disabled, with the reason, while an administrator views as
    someone (the metrics layer refuses such writes in any case)."""
    return {"disabled": True, "help": read_only_reason(viewer)} if viewer.read_only else {}


def act(done: str, fn, *args, _reset: str | None = None, _refresh=None, **kwargs) -> bool:
    """Run a metrics write; on success remember `done` for the next run and rerun, else show the one-sentence error.

    Nothing is written when the metrics function refuses (it checks, then commits in one transaction), and
    the form keeps what was typed so it can be corrected. `_reset` names a form generation counter
    (form_generation) that is moved on success, so the next run shows an empty form. `_refresh` is called
    after a success or a conflict, to forget the record version the person had opened.
    """
    try:
        fn(*args, **kwargs)
    except Conflict as exc:
        if _refresh:
            _refresh()
        st.error(str(exc), icon=":material/sync_problem:")
        return False
    except MetricsError as exc:
        st.error(str(exc), icon=":material/error:")
        return False
    if _refresh:
        _refresh()
    if _reset:
        st.session_state[_reset] = st.session_state.get(_reset, 0) + 1
    st.session_state[FLASH] = done
    st.rerun()
    return True


def form_generation(name: str) -> tuple[str, int]:
    """The counter key and current generation of a form (widget keys include it; see act)."""
    key = f"gen-{name}"
    return key, st.session_state.get(key, 0)


def opened_version(kind: str, key: str, current: int):
    """The version of a record this person opened (kept until they act, so a change by someone else in between
    is caught), and the function that forgets it after a save or a conflict."""
    opened = st.session_state.setdefault(f"opened-{kind}", {})
    return opened.setdefault(key, int(current)), lambda: opened.pop(key, None)


def left_list(picker: str, kind: str, ids: list) -> str | None:
    """The record this person had open (under picker `picker`, its version remembered by opened_version) when it
    has left the list since without their saving anything: someone else acted on it. Returns it, or None."""
    gone = st.session_state.get(picker)
    if gone is None or gone in ids or gone not in st.session_state.get(f"opened-{kind}", {}):
        return None
    return gone


def changed_warning(eng, table: str, record_key: str, what: str) -> None:
    """Say that a record changed under the person who had it open, by whom and when (writes.change_notice)."""
    st.warning(change_notice(eng.con, table, record_key, what), icon=":material/sync_problem:")


def stale(eng, table: str, record_key: str, what: str, opened: int, current: int) -> bool:
    """Warn when the record changed since this person opened it; True if it did."""
    if int(opened) == int(current):
        return False
    changed_warning(eng, table, record_key, what)
    return True


def flash() -> None:
    """Show the message left by the last successful write, once."""
    if msg := st.session_state.pop(FLASH, None):
        st.success(msg, icon=":material/check_circle:")


def praise_block(eng, viewer, scope, period, name: str, per_row: int = 3, limit: int = 12) -> None:
    """Positive first: customers' praise naming the scope, with a 'Share with the team' button for heads."""
    df = app_cache.view(praise.praise, viewer, scope, period, limit)
    if df.empty:
        st.caption("No compliments or high scores with comments in this period.")
        return
    cols = st.columns(per_row)
    for i, r in enumerate(df.head(per_row).itertuples()):
        with cols[i], st.container(border=True):
            who = f" · {plain(r.person)}" if isinstance(r.person, str) else ""
            st.markdown(f":material/favorite: **{'Compliment' if r.kind == 'compliment' else 'High score'}**"
                        f" · {format_date(r.received_at)}{who}")
            st.markdown(f"“{plain(r.comment)}”")
            if r.shared_with_staff:
                st.caption("Shared with the team.")
            elif access.may_decide_for(eng.config, viewer, r.department_id):
                if st.button("Share with the team", key=f"share-{name}-{r.feedback_id}", **locked(viewer)):
                    act("Shared with the team: it now counts toward compliments shared.", praise.share, eng, viewer,
                        r.feedback_id, int(r.version))
    if len(df) > per_row:
        with st.expander(f"{len(df) - per_row} more"):
            table(df.iloc[per_row:][["received_at", "kind", "person", "comment", "shared_with_staff"]].rename(
                columns={"person": "About", "shared_with_staff": "Shared"}), f"praise-{name}")


def thank_form(eng, viewer, name: str) -> None:
    """Thank a colleague or a team against one of the organisation's values."""
    if viewer.staff_id is None:
        return
    people = app_cache.view(praise.colleagues, viewer)          # read once per data version
    teams = [k for k, d in eng.config.departments.items() if d.level != "directorate"]
    gen_key, gen = form_generation(f"thanks-{name}")
    name = f"{name}-{gen}"
    with st.form(f"thanks-{name}"):
        st.markdown("**Thank a colleague or a team**")
        kind = st.radio("Thank", ["A colleague", "A team"], horizontal=True, key=f"thanks-kind-{name}")
        person = st.selectbox("Colleague", people["staff_id"], key=f"thanks-person-{name}", index=None,
                              format_func=dict(zip(people["staff_id"], people["name"])).get)
        team = st.selectbox("Team", teams, index=None, key=f"thanks-team-{name}",
                            format_func=lambda k: eng.config.departments[k].name)
        value = st.selectbox("For which of our values", eng.config.voice.values, key=f"thanks-value-{name}")
        message = st.text_area("Message", max_chars=None, key=f"thanks-msg-{name}",
                               help=f"Plain text, at most {praise.MESSAGE_MAX} characters.")
        if st.form_submit_button("Send thanks", type="primary", **locked(viewer)):
            to_staff = person if kind == "A colleague" else None
            to_team = team if kind == "A team" else None
            if to_staff is None and to_team is None:
                st.error(f"Choose {'a colleague' if kind == 'A colleague' else 'a team'} to thank.")
            else:
                act("Thanks sent: they will see it on their page.", praise.give, eng, viewer, value, message,
                    to_staff_id=to_staff, to_department_id=to_team, _reset=gen_key)


# --- a page drawn from its document (metrics.present.documents), with its PDF ----------------------------------
def render(eng, viewer, doc: d.Document, slots: dict | None = None, pdf_name: str | None = None) -> None:
    """Draw a page's document: its title, subtitle, the demo mark and freshness, then each block; `slots` are the
    page's own controls (name → function drawing them) where the document leaves room. The sidebar offers the
    same document as a PDF, made only when someone asks for it."""
    st.title(doc.title)
    st.caption(doc.subtitle)
    if doc.synthetic:
        st.info("Demo data: a generated, synthetic organisation.", icon=":material/science:")
    if doc.freshness:
        st.caption(doc.freshness)
    slots = slots or {}
    _blocks(eng, viewer, doc.blocks, slots)
    if pdf.chromium() is None:
        st.sidebar.caption("PDFs need Chromium on the server (apt-get install chromium, or CX_CHROMIUM).")
        return
    st.sidebar.download_button("Download PDF", lambda: pdf_bytes(eng, doc), file_name=pdf_name or f"{doc.page}.pdf",
                               mime="application/pdf", key="dl-pdf", on_click="ignore", icon=":material/picture_as_pdf:",
                               help="This page as you see it — its scope, period and filters — as a PDF.")


def pdf_bytes(eng, doc: d.Document) -> bytes:
    """The document as a PDF, made when someone asks for it, its charts from the page's chart cache."""
    return pdf.render(eng, doc, figure=lambda c: app_cache.chart(c.build, c.call, *c.using), names=_lookups)


_TONES = {"caption": st.caption, "text": st.markdown, "info": lambda t: st.info(t, icon=":material/link:"),
          "success": lambda t: st.success(t, icon=":material/favorite:"),
          "commentary": lambda t: st.info(t, icon=":material/edit_note:")}


def _blocks(eng, viewer, blocks, slots: dict) -> None:
    for b in blocks:
        if isinstance(b, d.Heading):
            st.subheader(b.text)
        elif isinstance(b, d.Note):
            _TONES[b.tone](b.text)
        elif isinstance(b, d.Cards):
            cards(eng, b.texts, b.per_row)
        elif isinstance(b, d.Table):
            table(b.frame, b.name, b.columns)
        elif isinstance(b, d.Chart):
            st.plotly_chart(app_cache.chart(b.build, b.call, *b.using), width="stretch")
        elif isinstance(b, d.Praise):
            praise_block(eng, viewer, b.scope, b.period, b.name, limit=b.limit)
        elif isinstance(b, d.Figures):
            for col, (label, value, hint) in zip(st.columns(len(b.items)), b.items):
                col.metric(label, value, help=hint)
        elif isinstance(b, d.Columns):
            for col, part in zip(st.columns(list(b.widths) if b.widths else len(b.parts)), b.parts):
                with col:
                    _blocks(eng, viewer, part, slots)
        elif isinstance(b, d.Slot) and b.name in slots:
            slots[b.name]()


def trend_controls(eng, measures, name: str, measure_key: str | None = None) -> None:
    """A page's trend choices: the measure, and whether to draw it as an SPC chart (read by the page before it
    builds its document, from the keys `measure_key` (default NAME-trend) and NAME-spc)."""
    left, right = st.columns([3, 2])
    left.selectbox("Measure", measures, key=measure_key or f"{name}-trend", format_func=lambda k: eng.metric(k).label)
    right.toggle("Show as an SPC chart", key=f"{name}-spc",
                 help="Process limits from the last months and the special causes Making Data Count looks for: "
                      "a point beyond a limit, a run of rising or falling points, two of three close to a limit, "
                      "a run on one side of the mean.")


def grid_order(key: str) -> None:
    """How the department grid is ordered (views.GRID_ORDERS): as the organisation is arranged, or the departments
    with most special causes of concern (SPC) first, each cell with its variation icon."""
    st.radio("Order", list(views.GRID_ORDERS), key=key, horizontal=True, format_func=views.GRID_ORDERS.get,
             help="Special causes of concern: the latest month of a figure's SPC chart (24 months) shows a real "
                  "change for the worse, by Making Data Count's rules. ⬇ marks those cells, ⬆ an improvement.")


def what_moved(eng, viewer, keys, scope, period, name: str) -> None:
    """'What moved these figures': for a chosen card, its change against the previous period split by the groups
    below the scope (metrics.features.moved: rate and mix effects that add up to the change)."""
    with st.expander("What moved these figures"):
        left, right = st.columns([3, 2])
        key = left.selectbox("Figure", keys, key=f"moved-{name}", format_func=lambda k: eng.metric(k).label)
        ways = dict(moved.splits(eng, key, scope))
        by = right.selectbox("Split by", list(ways), key=f"moved-by-{name}", format_func=ways.get) if ways else None
        try:
            e = app_cache.view(moved.explain, viewer, key, scope, period, by)
        except MetricsError as exc:
            st.caption(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            return
        st.markdown(plain(e.words))
        if e.parts:
            metric = eng.metric(key)
            rows = [{"Group": p.name, "Change": formatting.format_delta(metric, p.total),
                     "From its own rate": formatting.format_delta(metric, p.rate) if e.kind == "ratio" else "",
                     "From its share": formatting.format_delta(metric, p.mix) if e.kind == "ratio" else ""}
                    for p in e.parts]
            if abs(e.not_shown) > 1e-12:
                rows.append({"Group": "Groups not shown (too small, or not yours to see), together",
                             "Change": formatting.format_delta(metric, e.not_shown), "From its own rate": "",
                             "From its share": ""})
            table(pd.DataFrame(rows), f"moved-{name}-{key}")


def events_form(eng, viewer, scope, metric_key: str, period, spc: bool, name: str) -> None:
    """Under a trend: mark an event on the trends of the page's scope, or take one off (heads for their department
    and its teams, executives for any; metrics.features.events checks it again and audits each change)."""
    flash()
    if not events.may_write(eng.config, viewer, scope):
        return
    where = "the organisation" if scope.kind == "organisation" else eng.config.departments[scope.key].name
    label = eng.metric(metric_key).label
    with st.expander("Mark an event on these trends"):
        gen_key, gen = form_generation(f"events-{name}")
        st.caption(f"It shows on every trend of {where} and of the units under it, numbered as in the list above. "
                   "Plain text only.")
        left, right = st.columns(2)
        kinds = eng.config.annotations.kinds
        starts = left.date_input("The day it happened", value=period.end, key=f"ev-day-{name}-{gen}",
                                 format="DD/MM/YYYY")
        ends = right.date_input("Last day (empty for one day)", value=None, key=f"ev-end-{name}-{gen}",
                                format="DD/MM/YYYY")
        kind = left.selectbox("Kind", list(kinds), key=f"ev-kind-{name}-{gen}", format_func=lambda k: kinds[k])
        about = right.radio("About", ("every", "this"), key=f"ev-about-{name}-{gen}", horizontal=True,
                            format_func=lambda a: f"Every figure of {where}" if a == "every" else f"{label} only")
        title = st.text_input("What happened", key=f"ev-title-{name}-{gen}", max_chars=events.TITLE_MAX)
        detail = st.text_area("Detail (optional)", key=f"ev-detail-{name}-{gen}", max_chars=events.DETAIL_MAX)
        change = st.checkbox("A change point: re-calculate the SPC limits from this day", key=f"ev-cp-{name}-{gen}")
        if st.button("Mark it", key=f"ev-add-{name}", **locked(viewer)):
            act("Marked: it shows on the trends now.", events.add, eng, viewer, scope, starts, kind, title, detail,
                ends, metric_key if about == "this" else None, change, _reset=gen_key)
    marks = app_cache.view(events.on_chart, viewer, scope, doc_parts.trend_span(eng, period, spc), metric_key)
    own = marks[(marks["source"] != events.FROM_SUGGESTION) & (marks["scope_kind"] == scope.kind)
                & (marks["scope_key"] == (scope.key or ""))]
    if own.empty:
        return
    with st.expander("Take an event off these trends"):
        numbers = {r.annotation_id: n for n, r in enumerate(marks.itertuples(), start=1)}
        rows = {r["annotation_id"]: r for r in own.to_dict("records")}
        pick = st.selectbox("Event", list(own["annotation_id"]), key=f"ev-pick-{name}",
                            format_func=lambda i: f"{numbers[i]} · {events.words(rows[i])}")
        version = int(rows[pick]["version"])
        if st.button("Take it off", key=f"ev-remove-{name}", **locked(viewer)):
            act("Taken off the trends (the audit trail keeps it).", events.remove, eng, viewer, pick, version)
