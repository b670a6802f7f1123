"""`python -m metrics bench pdf`: the time to print each printable page to PDF (metrics/present/pdf.py), as the
demo persona it is for — building the document, drawing its charts, the first print (Chromium started, plotly.js
loaded) and the median of three prints once the printer is warm, the charts drawn already as the page's chart cache
has them — with pages and size, on the configured database."""
from __future__ import annotations

import json
import re
import statistics
import time

from metrics.catalogue.definitions import Config
from metrics.catalogue.scope import ORGANISATION
from metrics.compute.engine import Engine
from metrics.errors import MetricsError
from metrics.present import documents, pdf
from metrics.present.document import Chart
from metrics.present.personas import demo_personas

# page → the demo role it is printed for (and the scope, when it is not the persona's own)
FOR = (("overview", "executive", None), ("department", "head", None), ("chain", "head", None),
       ("pack", "executive", ORGANISATION), ("pack", "head", None), ("you-said", "executive", None),
       ("my-contribution", "staff", None))


def bench_pdf(config: Config, repeats: int = 3) -> list[dict]:
    eng = Engine.open(config.database_path, config, figure_store="saved")
    people = {p.viewer.role: p.viewer for p in demo_personas(eng)}
    if not {"executive", "head", "staff"} <= set(people):
        raise MetricsError("bench pdf prints as the demo's personas: build the demo first (make demo)")
    period, rows = eng.default_period(), []
    for page, role, scope in FOR:
        t = time.perf_counter()
        doc = documents.build(eng, people[role], page, scope, period)
        built = time.perf_counter() - t
        t = time.perf_counter()
        drawn = {id(b): pdf.draw(eng, b) for b in doc.blocks_of(Chart)}
        charts = time.perf_counter() - t
        times, data = [], b""
        for _ in range(repeats + 1):
            t = time.perf_counter()
            data = pdf.render(eng, doc, figure=lambda c: drawn[id(c)])
            times.append(time.perf_counter() - t)
        rows.append({"page": page, "as": role, "scope": str(scope) if scope else "own", "build_s": round(built, 3), "charts_s": round(charts, 3),
                     "first_print_s": round(times[0], 3), "warm_print_s": round(statistics.median(times[1:]), 3),
                     "pages": len(re.findall(rb"/Type\s*/Page[^s]", data)), "kb": round(len(data) / 1024)})
    return rows


def print_pdf(rows: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'page':<16} {'as':<10} {'scope':<14} {'build s':>8} {'charts s':>9} {'1st print s':>12} {'warm print s':>13} "
          f"{'warm/1st':>9} {'pages':>6} {'KB':>6}")
    for r in rows:
        print(f"{r['page']:<16} {r['as']:<10} {r['scope']:<14} {r['build_s']:>8.2f} {r['charts_s']:>9.2f} {r['first_print_s']:>12.2f} "
              f"{r['warm_print_s']:>13.2f} {r['warm_print_s'] / r['first_print_s']:>9.2f} {r['pages']:>6} {r['kb']:>6}")
