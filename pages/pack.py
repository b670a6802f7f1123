"""Committee pack: one PDF for a department or the organisation over a period, each section with the commentary its
head (or an executive) writes here and which is kept with the pack (metrics/features/packs.py)."""
import streamlit as st

import app_cache
import session
import widgets
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.features import packs
from metrics.present import documents

viewer = session.require_viewer()
eng = session.engine()
period, grain = session.period_controls(eng, "Committee pack")
units = [k for k, d in eng.config.departments.items() if d.level == "department"]
if viewer.picks_any_department:
    options = [None] + units
    wanted = st.query_params.get("pack")
    choice = st.sidebar.selectbox("Pack for", options, index=options.index(wanted) if wanted in options else 0,
                                  format_func=lambda k: "The whole organisation" if k is None else eng.config.departments[k].name)
    st.query_params["pack"] = choice or ""
    scope = ORGANISATION if choice is None else Scope("department", choice)
else:
    scope = packs.scope_for(eng.config, viewer, None)
doc = documents.pack(eng, viewer, scope, period, grain, view=app_cache.view)
notes = packs.commentary(eng, viewer, scope, period)


def editor(section: str):
    """The section's commentary, written here and kept with this pack (scope and period)."""
    def draw() -> None:
        if not packs.may_write(eng.config, viewer, scope):
            return
        with st.expander("Write the commentary" if not notes.get(section) else "Change the commentary"):
            text = st.text_area("Commentary", notes.get(section, ""), key=f"pack-{section}",
                                help=f"Plain text, at most {packs.COMMENTARY_MAX:,} characters; printed in the pack.")
            if st.button("Save", key=f"pack-save-{section}", **widgets.locked(viewer)):
                widgets.act("Commentary saved: it is printed with the pack.", packs.save, eng, viewer, scope, period,
                            section, text)
    return draw


widgets.flash()
widgets.render(eng, viewer, doc, {f"commentary-{k}": editor(k) for k in packs.SECTIONS},
               pdf_name=doc.file_name(period, scope.key))
