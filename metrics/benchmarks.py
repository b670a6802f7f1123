"""Peer benchmarks: the cohort's median figure per measure and period (more in the chain issue)."""
from __future__ import annotations

import pandas as pd

from metrics.access import Viewer
from metrics.engine import Engine


def peer_medians(engine: Engine, viewer: Viewer, source: str | None = None, cohort: str | None = None) -> pd.DataFrame:
    """Median of the peers' values per measure and period (organisations without a value left out).

    Args:
        engine: the metrics engine.
        viewer: who is asking (benchmarks are public figures: every signed-in viewer may see them).
        source: only this publication (e.g. 'Oflog adult social care').
        cohort: only this peer group (e.g. 'Unitary Authorities').
    Returns:
        source, metric_key, period, organisations, median.
    """
    return engine.query("""
        SELECT source, metric_key, period, count(value) AS organisations, median(value) AS median
        FROM benchmarks
        WHERE ($source IS NULL OR source = $source) AND ($cohort IS NULL OR cohort = $cohort)
        GROUP BY ALL ORDER BY source, metric_key, period""", {"source": source, "cohort": cohort})
