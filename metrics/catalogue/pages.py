"""The `pages:` section of config.yaml: which metrics each page shows, in order.

Like a BI tool's dashboard file naming its measures: an organisation changes what its Overview leads with
here, without code. Each page has fixed parts (the places on the page that show a list of figures); each
part lists metric keys from the catalogue.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any

from metrics.catalogue.definitions import Metric
from metrics.catalogue.reader import Reader

# The parts of each page that show a list of metrics (what each part is, in words, for error messages).
PAGE_PARTS = {
    "overview": {"headline": "the headline cards (also the measures its trend offers)",
                 "heatmap": "the columns of the department heatmap"},
    "department": {"headline": "the headline cards (also the figures and trends it offers)",
                   "internal_given": "internal service the department gives",
                   "internal_received": "internal service the department receives"},
    "voice": {"headline": "the closing-the-loop cards"},
    "my_contribution": {"headline": "a person's own figures beside their team's"},
}


def pages(r: Reader, raw: Any, metrics: dict[str, Metric]) -> MappingProxyType:
    """Every page and part, each a tuple of known metric keys (every part must be given; [] shows none)."""
    top = r.mapping(raw, "pages", tuple(PAGE_PARTS), tuple(PAGE_PARTS))
    out = {}
    for page, parts in PAGE_PARTS.items():
        m = r.mapping(top.get(page) or {}, f"pages.{page}", tuple(parts), tuple(parts)) if page in top else {}
        found = {}
        for part, what in parts.items():
            p = f"pages.{page}.{part}"
            keys = m.get(part, [])
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                r.error(p, f"expected a list of metric keys for {what}, e.g. [csat, sla_attainment]")
                keys = []
            for i, k in enumerate(keys):
                if k not in metrics:
                    close = [x for x in metrics if k[:4] in x][:5] or list(metrics)[:5]
                    r.error(f"{p}[{i}]", f"unknown metric {k!r} (did you mean: {', '.join(close)}?)")
            found[part] = tuple(k for k in keys if k in metrics)
        out[page] = MappingProxyType(found)
    return MappingProxyType(out)
