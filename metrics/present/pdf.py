"""A page's document (metrics.present.document) as a PDF: HTML printed by headless Chromium.

Why Chromium: the charts are the page's own plotly figures, drawn by plotly.js into SVG, so on paper they are
vectors (sharp at any zoom, text selectable and found by pdftotext); Chromium prints the tables with their headings
repeated on each page and page numbers in the footer. A PDF library would need every chart rasterised first.

What is printed: the title and subtitle; a box with every filter that shaped the figures (scope, period,
comparison, trend measure, ...), who it was prepared for, the data's freshness and, for the demo, the synthetic-data
mark; then each block as the page shows it. Every page's header repeats the title and the demo mark, its footer
the generated time and "Page n of N". Charts use a white template with a palette whose colours differ in
lightness, and lines that differ in dash, so they read in greyscale.

Chromium: CX_CHROMIUM, else `chromium` (Debian's) or `chromium-browser` on the PATH, else Playwright's own.
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import queue
import shutil
import tempfile
import threading
from typing import Callable

import jinja2
import plotly
import plotly.graph_objects as go
from markdown_it import MarkdownIt

from metrics.errors import MetricsError
from metrics.present import document as d
from metrics.present import views
from metrics.store import writes

ROWS_PRINTED = 60              # a longer table prints its first rows and says how many more the CSV holds
PAGE_WIDTH_PX = 700            # A4 less its margins, in CSS pixels
_GREYSCALE_SAFE = ["#0b3c68", "#e69f00", "#56b4e9", "#222222", "#009e73", "#cc79a7", "#999999", "#d55e00"]
_DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
_MD = MarkdownIt("commonmark", {"html": False})        # people's text arrives escaped; raw HTML is never passed on


def chromium() -> str | None:
    """The Chromium to print with, or None for Playwright's own (see the module docstring)."""
    if os.environ.get("CX_CHROMIUM"):
        return os.environ["CX_CHROMIUM"]
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _markdown(text: str) -> str:
    text = text.replace(":material/volunteer_activism:", "").replace(":material/favorite:", "")
    return _MD.render(text)


def _for_paper(fig: go.Figure) -> dict:
    """The figure as printed (a copy: the page's cached figure stays as it is), as plotly.js takes it."""
    fig = go.Figure(fig)
    fig.update_layout(template="plotly_white", width=PAGE_WIDTH_PX, colorway=_GREYSCALE_SAFE,
                      font={"size": 11, "color": "#111"}, paper_bgcolor="white", plot_bgcolor="white")
    for i, trace in enumerate(fig.data):
        if trace.type == "scatter" and getattr(trace, "line", None) is not None and trace.line.dash is None:
            trace.line.dash = _DASHES[i % len(_DASHES)]
    return json.loads(fig.to_json())


_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<style>
  @page { size: A4; margin: 16mm 12mm 16mm 12mm; }
  * { box-sizing: border-box; }
  body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9.5pt; color: #111; margin: 0; }
  h1 { font-size: 18pt; margin: 0 0 2pt 0; }
  h2 { font-size: 12.5pt; margin: 14pt 0 4pt 0; border-bottom: 1px solid #999; padding-bottom: 2pt;
       break-after: avoid; }
  .subtitle { color: #333; margin-bottom: 6pt; }
  .filters { border: 1px solid #555; padding: 5pt 8pt; margin: 6pt 0 8pt 0; }
  .filters table { border: none; width: auto; }
  .filters td { border: none; padding: 1pt 10pt 1pt 0; }
  .filters td:first-child { font-weight: bold; }
  .demo { border: 2px dashed #000; padding: 3pt 6pt; font-weight: bold; margin: 4pt 0; }
  .small { color: #333; font-size: 8.5pt; }
  .cards { display: grid; gap: 6pt; margin: 6pt 0; }
  .card { border: 1px solid #777; padding: 5pt 7pt; break-inside: avoid; }
  .card .label { font-size: 8.5pt; color: #333; }
  .card .value { font-size: 16pt; font-weight: bold; }
  .card .delta, .card .status { font-size: 8.5pt; }
  table { border-collapse: collapse; width: 100%; margin: 4pt 0; font-size: 8pt; }
  thead { display: table-header-group; }
  th { text-align: left; background: #e8e8e8; border: 1px solid #999; padding: 2pt 4pt; }
  td { border: 1px solid #bbb; padding: 2pt 4pt; vertical-align: top; }
  tr { break-inside: avoid; }
  .note-info, .note-success, .note-commentary { border-left: 3pt solid #555; padding: 2pt 6pt; margin: 4pt 0; background: #f2f2f2; }
  .note-commentary { border-left-width: 5pt; border-left-style: double; }
  .quote { border: 1px solid #999; padding: 4pt 6pt; margin: 4pt 0; break-inside: avoid; }
  .chart { break-inside: avoid; margin: 4pt 0; }
  .figures { display: flex; gap: 12pt; margin: 6pt 0; }
  .figures div { border: 1px solid #777; padding: 4pt 8pt; }
  p { margin: 2pt 0; }
</style>
<h1>{{ doc.title }}</h1>
<div class="subtitle">{{ doc.subtitle }}</div>
{% if doc.synthetic %}<div class="demo">Demo data: a generated, synthetic organisation.</div>{% endif %}
<div class="filters"><table>
{% for k, v in doc.filters.items() %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}
<tr><td>Prepared for</td><td>{{ doc.viewer }}</td></tr>
<tr><td>Generated</td><td>{{ generated }}</td></tr>
{% if doc.freshness %}<tr><td>Data</td><td>{{ doc.freshness }}</td></tr>{% endif %}
</table></div>
{{ body | safe }}""")

_FOOTER = """<div style="font-size:7pt; width:100%; margin:0 12mm; display:flex; justify-content:space-between;
 font-family: 'DejaVu Sans', Arial, sans-serif;"><span>{title} · generated {generated}</span>
 <span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>"""
_HEADER = """<div style="font-size:7pt; width:100%; margin:0 12mm; font-family: 'DejaVu Sans', Arial, sans-serif;">
 {title}{demo}</div>"""


def _esc(text) -> str:
    return jinja2.utils.markupsafe.escape(str(text))


def _printed(blocks) -> list:
    """The blocks that go on paper: no Slots (a page's own controls), and no heading left with nothing under it
    (e.g. 'Say thank you', whose section is a form)."""
    kept = [b for b in blocks if not isinstance(b, d.Slot)]
    return [b for i, b in enumerate(kept)
            if not (isinstance(b, d.Heading) and (i + 1 == len(kept) or isinstance(kept[i + 1], d.Heading)))]


def _blocks(blocks, figure: Callable, names: Callable, figures: list) -> list[str]:
    out = []
    for b in _printed(blocks):
        if isinstance(b, d.Heading):
            out.append(f"<h2>{_esc(b.text)}</h2>")
        elif isinstance(b, d.Note):
            body = _markdown(b.text)
            if b.tone == "commentary":
                body = f"<b>Commentary</b>{body}"
            out.append(f'<div class="small">{body}</div>' if b.tone == "caption" else
                       f'<div class="note-{b.tone}">{body}</div>')
        elif isinstance(b, d.Cards):
            out.append(_cards(b))
        elif isinstance(b, d.Table):
            out.append(_table(b, names))
        elif isinstance(b, d.Chart):
            figures.append(_for_paper(figure(b)))
            out.append(f'<div class="chart" id="chart-{len(figures) - 1}"></div>')
        elif isinstance(b, d.Praise):
            out.append(_praise(b))
        elif isinstance(b, d.Figures):
            out.append('<div class="figures">' + "".join(
                f"<div><div class='small'>{_esc(label)}</div><b>{_esc(value)}</b></div>" for label, value, _ in b.items)
                + "</div>")
        elif isinstance(b, d.Columns):
            for part in b.parts:
                out.extend(_blocks(part, figure, names, figures))
    return out


def _cards(b: d.Cards) -> str:
    per_row = min(b.per_row, 4) if b.per_row > 1 else 2
    items = []
    for c in b.texts:
        items.append(f'<div class="card"><div class="label">{_esc(c.label)}</div><div class="value">{_esc(c.value)}'
                     f'</div><div class="delta">{_esc(c.delta or "no previous figure")}</div>'
                     f'<div class="status">{_esc(c.status)}</div>'
                     + (f'<div class="status">{_esc(c.signal)}</div>' if c.signal else "") + '</div>')
    return f'<div class="cards" style="grid-template-columns: repeat({per_row}, 1fr)">{"".join(items)}</div>'


def _table(b: d.Table, names: Callable) -> str:
    df = views.as_shown(b.frame, {**views.WORDS, **(b.columns or {})}, names(b.frame))
    if df.empty:
        return '<div class="small">No rows.</div>'
    shown = df.head(ROWS_PRINTED).astype(str)
    html = shown.to_html(index=False, escape=True, border=0, na_rep="–")
    if len(df) > ROWS_PRINTED:
        html += (f'<div class="small">The first {ROWS_PRINTED:,} of {len(df):,} rows; the page\'s CSV download '
                 f'({_esc(b.name)}.csv) has them all.</div>')
    return html


def _praise(b: d.Praise) -> str:
    df = b.frame
    if df is None or df.empty:
        return '<div class="small">No compliments or high scores with comments in this period.</div>'
    out = []
    for r in df.itertuples():
        about = f" · {_esc(r.person)}" if isinstance(r.person, str) else ""
        kind = "Compliment" if r.kind == "compliment" else "High score"
        out.append(f'<div class="quote"><b>{kind}</b> · {_esc(r.received_at.strftime("%d %b %Y").lstrip("0"))}{about}'
                   f'<br>“{_esc(r.comment)}”</div>')
    return "".join(out)


def html(doc: d.Document, figure: Callable, names: Callable, now: dt.datetime) -> tuple[str, list[dict]]:
    """The document as printed: its HTML (styles included, no scripts) and its charts as plotly.js takes them (each
    drawn into the element chart-N)."""
    figures: list = []
    body = "\n".join(_blocks(doc.blocks, figure, names, figures))
    return _TEMPLATE.render(doc=doc, body=body, generated=d.generated_at(now)), figures


def draw(eng, chart: d.Chart) -> go.Figure:
    """A Chart block's figure, its data computed afresh (the page passes its chart cache instead)."""
    return chart.build(chart.call[0](eng, *chart.call[1:]), *chart.using)


def render(eng, doc: d.Document, figure: Callable | None = None, names: Callable | None = None,
           now: dt.datetime | None = None) -> bytes:
    """The document as PDF bytes (a few tenths of a second once the printer is warm; see Printer).

    Args:
        eng: the engine (draws charts and names people when `figure` and `names` are not given).
        doc: what to print.
        figure: Chart block → plotly figure (the page passes its chart cache); default: drawn from the engine.
        names: frame → the names formatting.readable needs (default views.lookups).
        now: the generated time printed (default: the organisation's clock).
    """
    figure = figure or (lambda c: draw(eng, c))
    names = names or (lambda df: views.lookups(eng, df))
    now = now or writes.now(eng.config)
    body, figures = html(doc, figure, names, now)
    demo = " · Demo data: synthetic" if doc.synthetic else ""
    header = _HEADER.format(title=_esc(doc.title), demo=demo)
    footer = _FOOTER.format(title=_esc(doc.title), generated=_esc(d.generated_at(now)))
    return PRINTER.print(doc.title, body, figures, header, footer)


class Printer:
    """One headless Chromium per process, on a thread of its own (Playwright's sync objects belong to the thread
    that made them, and may not run on one with an event loop, as a page's deferred download does), with a tab that
    has loaded plotly.js once: loading it costs 1.6 s of a 2-core machine, drawing a page's charts into it a tenth
    of that. Jobs queue; the browser is closed after IDLE_SECONDS without one and started again when needed."""
    IDLE_SECONDS = 300

    def __init__(self):
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def print(self, title: str, body: str, figures: list, header: str, footer: str) -> bytes:
        done: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="pdf-printer", daemon=True)
                self._thread.start()
            self._jobs.put((done, title, body, figures, header, footer))
        return done.result()

    def _run(self) -> None:
        from playwright.sync_api import Error as PlaywrightError, sync_playwright  # noqa: PLC0415 (PDFs only)
        try:
            with sync_playwright() as p:
                browser = tab = None
                while True:
                    try:
                        job = self._jobs.get(timeout=self.IDLE_SECONDS)
                    except queue.Empty:
                        with self._lock:
                            if self._jobs.empty():
                                self._thread = None
                                break
                        continue
                    done = job[0]
                    try:
                        if browser is None or not browser.is_connected():
                            browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
                            tab = browser.new_page()
                            tab.goto(f"file://{_shell()}", wait_until="load")
                        done.set_result(_print_job(tab, *job[1:]))
                    except PlaywrightError as exc:
                        browser = None
                        done.set_exception(_failure(exc))
                if browser is not None:
                    browser.close()
        except PlaywrightError as exc:
            while not self._jobs.empty():
                self._jobs.get()[0].set_exception(_failure(exc))
            with self._lock:
                self._thread = None


PRINTER = Printer()
_DRAW = """async ([title, body, figures]) => {
    document.title = title;
    document.getElementById('doc').innerHTML = body;
    for (let i = 0; i < figures.length; i++) {
        await Plotly.newPlot(document.getElementById('chart-' + i), figures[i].data, figures[i].layout,
                             {staticPlot: true, displayModeBar: false});
    }
}"""


def _print_job(tab, title: str, body: str, figures: list, header: str, footer: str) -> bytes:
    tab.evaluate(_DRAW, [title, body, figures])
    return tab.pdf(format="A4", print_background=True, display_header_footer=True, header_template=header,
                   footer_template=footer, margin={"top": "16mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})


def _shell() -> str:
    """The printer tab's page: plotly.js (the plotly package's own copy) and an empty element for the document."""
    path = os.path.join(tempfile.gettempdir(), f"cx-print-shell-{os.getpid()}.html")
    if not os.path.exists(path):
        js = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f'<!doctype html><html lang="en"><head><meta charset="utf-8"><script src="file://{js}">'
                    '</script></head><body><div id="doc"></div></body></html>')
    return path


def _failure(exc: Exception) -> MetricsError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return MetricsError(f"the PDF could not be printed: Chromium failed ({first}); install Debian's chromium "
                        "(apt-get install chromium) or set CX_CHROMIUM to a Chromium's path")
