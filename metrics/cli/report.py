"""`python -m metrics report PAGE --scope ... --from ... --to ... --as USER --out FILE.pdf`: a page as a PDF, as
USER sees it (their access, suppression and own figures), from the same document the page draws
(metrics/present/documents.py)."""
from __future__ import annotations

import os
import tempfile
import time

from metrics.catalogue.definitions import Config
from metrics.catalogue.scope import parse_scope
from metrics.cli.common import open_engine, period, viewer
from metrics.errors import MetricsError
from metrics.present import documents, pdf
from metrics.present.personas import demo_personas


def _writable(out: str) -> str:
    """The output path, refused in one sentence before any work when it cannot be written."""
    folder = os.path.dirname(os.path.abspath(out))
    if os.path.isdir(out):
        raise MetricsError(f"--out {out} is a folder: give a file name, e.g. {os.path.join(out, 'overview.pdf')}")
    if not os.path.isdir(folder):
        raise MetricsError(f"--out {out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(out) and not os.access(out, os.W_OK)):
        raise MetricsError(f"--out {out}: this account may not write there; choose a folder you may write to")
    return out


def _viewer(args, eng):
    """--as USER: an account; with demo sign-in also a demo persona by its role word (executive, head, staff, admin)."""
    if eng.config.auth_mode == "demo" and args.as_user:
        for p in demo_personas(eng):
            if p.viewer.role == args.as_user.strip().lower() or p.label.split(" — ")[0].lower() == args.as_user.lower():
                return p.viewer
    return viewer(args, eng)


def cmd_report(args, config: Config) -> None:
    out = _writable(args.out)
    scope = parse_scope(args.scope, config) if args.scope else None
    documents.check_scope(args.page, scope)          # an unknown page or a scope it does not take, before any work
    eng = open_engine(args, config)
    who = _viewer(args, eng)
    started = time.perf_counter()
    doc = documents.build(eng, who, args.page, scope, period(args, eng), args.grain)
    data = pdf.render(eng, doc)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(out)), suffix=".pdf.part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    print(f"wrote {out}: {doc.title}, {doc.filters.get('Period')}, as {doc.viewer} "
          f"({len(data) / 1024:,.0f} KB in {time.perf_counter() - started:.1f} s)")


def add_parser(sub, common, db) -> None:
    r = sub.add_parser("report", parents=[common, db], help="a page as a PDF, as a user sees it",
                       description="Print a page (its figures, tables and charts, with its scope, period and filters) "
                       "to a PDF, as USER sees it. Needs Chromium (Debian's chromium, or CX_CHROMIUM).")
    r.add_argument("page", metavar="PAGE", help=f"one of: {', '.join(documents.PAGES)}")
    r.add_argument("--scope", help="department:KEY for the department page (default: the user's own)")
    r.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: the last full month in the data)")
    r.add_argument("--to", dest="end", help="last day, YYYY-MM-DD, included")
    r.add_argument("--grain", default="month", choices=("day", "week", "month", "quarter", "year"),
                   help="the trend charts' buckets (default: month)")
    r.add_argument("--as", dest="as_user", metavar="USER",
                   help="the user it is for (their access applies); with demo sign-in also executive, head, staff")
    r.add_argument("--out", required=True, help="the PDF file to write")
