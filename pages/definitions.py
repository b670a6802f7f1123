"""Metric definitions in the organisation's language: label, definition, owner, target."""
import session
import widgets
from metrics.present import documents

viewer = session.require_viewer()
eng = session.engine()
widgets.render(eng, viewer, documents.definitions(eng, viewer))
