"""A page as a document: what it shows, in order, built once from the metrics layer and drawn twice — on screen by
the page (widgets.render) and on paper by metrics.present.pdf. So a PDF, a digest and the page hold the same
figures, for the same viewer, with the same access and suppression.

A document is a title, the words that say what it covers (scope, period, comparison, every filter), and a list of
blocks. Blocks are plain data; a Chart is drawn by whoever renders it (the page from its chart cache), and a Slot
marks where a page puts its own controls (a form, a picker), which are not printed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from metrics.catalogue.scope import Scope
from metrics.compute.periods import Period


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Note:
    """Words on the page. tone: caption (small print), text (a paragraph, Markdown already escaped), info, success,
    commentary (what a head wrote to go with the figures, printed as theirs)."""
    text: str
    tone: str = "caption"


@dataclass(frozen=True)
class Cards:
    """KPI cards, each a views.CardText: figure, change in words, target and status."""
    texts: tuple
    per_row: int = 4


@dataclass(frozen=True)
class Table:
    """A table as people read it (formatting.readable), its CSV named `name`; `columns` are headings beside
    the shared ones (widgets.WORDS)."""
    frame: pd.DataFrame
    name: str
    columns: dict | None = None


@dataclass(frozen=True)
class Chart:
    """build(view(*call), *using): a plotly figure from one page-data call (see app_cache.chart)."""
    build: Callable
    call: tuple
    using: tuple = ()


@dataclass(frozen=True)
class Praise:
    """Customers' praise naming the scope, positive first (metrics.voice.praise.praise, its rows in `frame`)."""
    scope: Scope
    period: Period
    name: str
    frame: pd.DataFrame
    limit: int = 12


@dataclass(frozen=True)
class Figures:
    """A row of plain figures without targets: (label, value, help) triples."""
    items: tuple


@dataclass(frozen=True)
class Columns:
    """Blocks side by side on screen (one after the other on paper)."""
    parts: tuple
    widths: tuple | None = None


@dataclass(frozen=True)
class Slot:
    """Where the page adds its own controls (forms, pickers); not part of the printed document."""
    name: str


@dataclass
class Document:
    """A page's content for one viewer and set of choices.

    Attributes:
        page: the page's key (documents.PAGES), e.g. 'overview'.
        title: the page's heading.
        subtitle: the line under it (scope, period, comparison in words).
        filters: every choice that shaped the figures, as people read it: Scope, Period, Compared with, ...
        blocks: what the page shows, in order.
        synthetic: the demo's generated data (printed as such on every page).
        freshness: the data's range and last load, in words ('' with nothing loaded).
        viewer: who it was built for, in words (printed on paper: a pack is read away from the screen).
    """
    page: str
    title: str
    subtitle: str
    filters: dict
    blocks: list = field(default_factory=list)
    synthetic: bool = False
    freshness: str = ""
    viewer: str = ""

    def add(self, *blocks: Any) -> "Document":
        self.blocks.extend(blocks)
        return self

    def blocks_of(self, kind) -> list:
        """Every block of a kind, in order, those side by side included."""
        def walk(blocks):
            for b in blocks:
                if isinstance(b, Columns):
                    for part in b.parts:
                        yield from walk(part)
                elif isinstance(b, kind):
                    yield b
        return list(walk(self.blocks))

    def cards(self) -> list:
        """Every card's text, in order (a digest's e-mail shows them as its key figures)."""
        return [t for c in self.blocks_of(Cards) for t in c.texts]

    def file_name(self, period: Period | None = None, scope_key: str | None = None) -> str:
        """A file name that says what the PDF is: page, scope and period."""
        parts = [self.page] + ([scope_key] if scope_key else []) + \
            ([f"{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}"] if period else [])
        return "-".join(parts).replace(" ", "_") + ".pdf"


def generated_at(now: dt.datetime) -> str:
    """When a PDF was generated, as printed in its footer."""
    return f"{now:%d %b %Y %H:%M}".lstrip("0")
