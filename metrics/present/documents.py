"""What each printable page shows, as a Document (metrics.present.document), for one viewer and set of choices.

The page draws the document (widgets.render) and so does its PDF (metrics.present.pdf), the command line's
`report` and every digest: one builder per page, so the paper says what the screen says. Every figure comes from
the views the page always used, through `view(func, viewer, *args)` — the page passes its cache (app_cache.view),
everyone else computes directly — so access and suppression are the viewer's own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.periods import Period
from metrics.errors import AccessDenied, MetricsError
from metrics.features import chain, demand, peers, spc
from metrics.formatting import direction_words, format_cell, format_date, format_period, format_value, is_missing
from metrics.formatting import plain as _plain
from metrics.present import charts, views
from metrics.present.doc_parts import (Choices, cards_block, direct, freshness, new_document, period_filters,
                                       events_block, praise_block, today, trend_block, trend_filters, trend_period,
                                       who)
from metrics.present.document import Chart, Columns, Document, Figures, Heading, Note, Slot, Table
from metrics.present.unit_documents import pack, the_chain, voice
from metrics.voice import lists, praise, suggestions

__all__ = ["Choices", "PAGES", "build", "check_scope", "direct", "freshness", "trend_period", "overview", "department",
           "my_contribution", "you_said", "benchmarks", "definitions", "the_chain", "voice", "pack"]


def overview(eng, viewer: Viewer, period: Period, grain: str = "month", choices: Choices = Choices(),
             view: Callable | None = None) -> Document:
    """The organisation's headline figures, shared goals, departments at a glance, trends."""
    view = view or direct(eng)
    headline = eng.config.page("overview", "headline")
    trend = choices.trend_of(headline)
    doc = new_document(eng, viewer, "overview", "Overview",
               f"The whole organisation · {format_period(period)} · compared with {format_period(period.previous())}",
               {"Scope": "The whole organisation", **period_filters(period, grain, **trend_filters(eng, trend, choices.spc)),
                "Departments": views.GRID_ORDERS.get(choices.grid, views.GRID_ORDERS["structure"])})
    doc.add(cards_block(eng, view, viewer, ORGANISATION, period, headline), Slot("what-moved"))
    goals = view(views.goal_table, viewer, ORGANISATION, period)
    doc.add(Heading("Shared goals"), Chart(charts.goal_bars, (views.goal_table, viewer, ORGANISATION, period)),
            Table(goals[list(views.GOAL_COLUMNS)], "shared-goals"))
    if demand.enabled(eng):
        s = view(demand.summary, viewer, period)
        doc.add(Heading("Failure demand: the calls our delays caused"), Note(demand.in_words(eng, s, period), "info"))
        if s["contacts"]:
            doc.add(Chart(charts.failure_demand_figure, (demand.summary, viewer, period),
                          ({k: d.name for k, d in eng.config.departments.items()},)))
    doc.add(Heading("Which department holds each goal back"),
            Note("Where most of the misses customers felt sat this period."),
            Table(view(views.holds_back_table, viewer, period), "holds-back"))
    names = {k: d.name for k, d in eng.config.departments.items()}
    doc.add(Heading("Where late outcomes waited longest"),
            Note(f"Each late outcome ({', '.join(eng.config.chain.late_outcomes.values())}) counts for the department "
                 "that held it longest across its hand-offs — see *The chain*."))
    if view(chain.attribution, viewer, period).empty:
        doc.add(Note("No late outcomes in this period."))
    else:
        doc.add(Chart(charts.attribution_figure, (chain.attribution, viewer, period), (names,)))
    order = choices.grid if choices.grid in views.GRID_ORDERS else "structure"
    hm = view(views.heatmap, viewer, period, order)
    shown = {"name": "Department", "label": "Measure", "formatted": "Figure", "word": "Status"}
    if order == "concern":
        hm = hm.assign(variation=[spc.VARIATION_WORDS[v] if not is_missing(v) else "" if is_missing(x) else spc.TOO_SHORT_WORDS
                                  for v, x in zip(hm["variation"], hm["value"])])
        shown["variation"] = "Variation (SPC)"
    doc.add(Heading("Departments at a glance"), Slot("grid"),
            Chart(charts.heatmap_figure, (views.heatmap, viewer, period, order)),
            Table(hm[list(shown)].rename(columns=shown), "departments"))
    doc.add(Heading("Trends"), Slot("trend"), trend_block(eng, viewer, trend, ORGANISATION, period, grain, choices.spc),
            events_block(eng, view, viewer, trend, ORGANISATION, period, choices.spc), Slot("events"))
    return doc


def department(eng, viewer: Viewer, key: str, period: Period, grain: str = "month", choices: Choices = Choices(),
               view: Callable | None = None) -> Document:
    """A department's goals, the internal service it gives and receives, what waits, what customers say."""
    view = view or direct(eng)
    if key not in eng.config.departments:
        raise MetricsError(f"unknown department '{key}': choose one of {', '.join(eng.config.departments)}")
    scope = Scope("department", key)
    eng.authorize(viewer, scope, records=False)
    headline = eng.config.page("department", "headline")
    trend = choices.trend_of(headline)
    name = eng.config.departments[key].name
    doc = new_document(eng, viewer, "department", name,
               f"{format_period(period)} · compared with {format_period(period.previous())}",
               {"Scope": name, **period_filters(period, grain, **trend_filters(eng, trend, choices.spc))})
    doc.add(Slot("flash"))
    if access.may(eng.authorize, viewer, scope, records=True):
        doc.add(Heading("What customers praised"), praise_block(view, viewer, scope, period, key))
    doc.add(cards_block(eng, view, viewer, scope, period, headline), Slot("what-moved"))
    doc.add(Heading("Our part in the shared goals"),
            Note(chain.words_for(eng, view(chain.attribution, viewer, period), key, period), "info"),
            Table(view(views.department_contribution, viewer, key, period), f"{key}-goals"))
    doc.add(Columns((
        (Heading("Service we give colleagues"),
         cards_block(eng, view, viewer, scope, period, eng.config.page("department", "internal_given"), 2)),
        (Heading("Service we receive"),
         cards_block(eng, view, viewer, scope, period, eng.config.page("department", "internal_received"), 1)))))
    if demand.enabled(eng):
        doc.add(Heading("Calls our delays caused"), Note(view(demand.unit_words, viewer, key, period), "info"))
        try:
            calls = view(demand.calls_caused, viewer, scope, period)
            if len(calls):
                doc.add(Note("Customers who contacted us again about something waiting with us, newest first: each "
                             "call is one we could have saved by getting the first one done.", "text"),
                        Table(calls, f"{key}-calls-caused"))
        except AccessDenied:
            doc.add(Note("The calls themselves are listed for the department concerned and executives.", "info"))
    try:
        wait, words = view(views.waiting_list, viewer, scope, period.end)
        doc.add(Heading("Waiting on us"), Note(words))
        if len(wait):
            doc.add(Table(wait, f"{key}-waiting"))
        doc.add(Heading("What customers said about us"),
                Table(view(lists.feedback_comments, viewer, scope, period), f"{key}-comments"), Slot("records"))
    except AccessDenied:
        doc.add(Note("Customers' comments and the records behind the figures are visible to the department concerned "
                     "and to executives.", "info"))
    since = Period(period.start, max(period.end, today(eng)))
    feed = view(praise.feed, viewer, key, since)
    thanks = [Note(f"Since {format_date(since.start)}.")]
    if feed.empty:
        thanks.append(Note("No thanks recorded in this period."))
    for r in feed.head(8).itertuples():
        thanks.append(Note(f":material/volunteer_activism: **{_plain(r.from_name)}** thanked **{_plain(r.to_name)}** "
                           f"for *{_plain(r.value)}* · {format_date(r.given_at)}", "text"))
        thanks.append(Note(_plain(format_cell(r.message, ""))))
    doc.add(Heading("Thanks between colleagues"), Columns((tuple(thanks), (Slot("thanks"),)), (3, 2)))
    doc.add(Heading("Trend"), Slot("trend"), trend_block(eng, viewer, trend, scope, period, grain, choices.spc),
            events_block(eng, view, viewer, trend, scope, period, choices.spc), Slot("events"))
    return doc


def my_contribution(eng, viewer: Viewer, period: Period, grain: str = "month", choices: Choices = Choices(),
                    view: Callable | None = None, staff_id: str | None = None) -> Document:
    """My figures beside my team's, the thanks I was given, what waits on me: the viewer's own page, or (`staff_id`)
    the page of someone whose figures the viewer may see (their manager's copy)."""
    view = view or direct(eng)
    staff_id = staff_id or viewer.staff_id
    if staff_id is None:
        raise AccessDenied("My contribution is for people with a staff record")
    me = Scope("staff", staff_id)
    eng.authorize(viewer, me, records=False)
    name = view(views.staff_names, None).get(staff_id, staff_id)
    own = staff_id == viewer.staff_id
    doc = new_document(eng, viewer, "my_contribution", "My contribution" if own else f"Contribution — {name}",
               f"{viewer.user if own else name} · {format_period(period)}. "
               + ("Your figures are visible to you and your managers only." if own else
                  "These figures are visible to them and their managers only."),
               {"Scope": f"{name}{' (you)' if own else ''}", **period_filters(period)})
    doc.add(Slot("flash"), Heading("What customers said about you"), praise_block(view, viewer, me, period, "me"))
    since = Period(period.start, max(period.end, today(eng)))     # thanks given today show at once
    thanks = view(lists.thanks, viewer, me, since)
    thanks = thanks[thanks["what"] != "Compliment from a customer"]
    doc.add(Heading("Thanks from colleagues"), Note(f"Since {format_date(since.start)}."))
    if thanks.empty:
        doc.add(Note("No thanks recorded in this period."))
    for _, t in thanks.head(5).iterrows():
        doc.add(Note(f"**{t['what']}** · {format_date(t['given'])} — {_plain(format_cell(t['message'], ''))}"
                     + (f" ({_plain(t['value'])})" if format_cell(t["value"], "") else ""), "success"))
    if len(thanks) > 5:
        doc.add(Table(thanks, "my-thanks"))
    mine = view(views.personal, viewer, staff_id, period)
    doc.add(Heading("My figures beside my team's"))
    doc.add(Note("No figures about your work in this period.") if mine.empty else
            Table(mine[["Measure", "Me", "My team", "Target", "Status"]], "my-figures"))
    wait, words = view(views.waiting_list, viewer, me, period.end)
    doc.add(Heading("Waiting on me"), Note(words))
    if len(wait):
        doc.add(Table(wait, "my-waiting"))
    if demand.enabled(eng):
        doc.add(Note(view(demand.invitation, viewer, staff_id, period), "info"))
        calls = view(demand.calls_caused, viewer, me, period)
        if len(calls):
            doc.add(Table(calls, "my-calls-caused"))
    doc.add(Heading("How my work feeds our shared goals"))
    sentences = view(views.goals_in_words, viewer, staff_id, period)
    if sentences:
        doc.add(Note("\n".join(f"- {s}" for s in sentences), "text"))
    doc.add(Heading("Say thank you"), Slot("thanks"))
    return doc


def you_said(eng, viewer: Viewer | None, count: int = 20, view: Callable | None = None) -> Document:
    """You said, we did: changes made from suggestions, with the figure each was meant to move. Public: no names."""
    view = view or direct(eng)
    doc = Document(page="you_said", title="You said, we did",
                   subtitle=f"{eng.config.organisation.name}: ideas from customers and colleagues that we put into "
                   "practice, and how the figure each was meant to move changed (the 90 days before the change beside "
                   "the 90 days after).", filters={"Scope": eng.config.organisation.name, "Showing": f"the latest {count}"},
                   synthetic=eng.synthetic(), freshness=freshness(eng), viewer="anyone (a public page)")
    df = view(suggestions.you_said_we_did, None, count)
    if df.empty:
        doc.add(Note("Nothing implemented yet."))
    doc.add(Slot("count"))
    for r in df.itertuples():
        doc.add(Note(f"**You said:** {_plain(r.you_said)}\n\n**We did:** {_plain(r.we_did)}", "text"),
                Note(f"{_plain(r.department)} · {format_date(r.implemented_on)}"))
        if r.measure:
            doc.add(Note(f"{r.measure}: {r.before} before → {r.after} after" + (f" ({r.change})" if r.change else ""),
                         "text"))
    return doc


def benchmarks(eng, viewer: Viewer, metric_key: str, source: str, cohort: str | None,
               view: Callable | None = None) -> Document:
    """Our figure beside a peer cohort, per year: the cohort's median and middle half, our percentile rank."""
    view = view or direct(eng)
    label = eng.config.metrics[metric_key].label if metric_key in eng.config.metrics else metric_key
    doc = new_document(eng, viewer, "benchmarks", "Benchmarks",
               "Our figure beside a cohort of peer organisations, per year. Ranks respect each measure's direction: "
               "the best quarter of a lower-is-better measure holds the lowest values.",
               {"Scope": eng.config.organisation.name, "Publication": source, "Cohort": cohort or "All peers",
                "Measure": label})
    doc.add(Slot("measure"))
    if view(peers.benchmark, viewer, metric_key, source, cohort).empty:
        return doc.add(Note("No peer figures for this measure and cohort."))
    shown = view(views.benchmark_table, viewer, metric_key, source, cohort)
    last = shown.iloc[-1]
    doc.add(Figures(((f"Us, {last['Period']}", last["Us"], f"From {last['Our figure from'] or 'nowhere'}."),
                     ("Peer median", last["Median"], None), ("Best quarter from", last["Best quarter from"], None),
                     ("Our percentile rank", last["Percentile rank"],
                      "The share of peers we do better than (a tie counts half)."))),
            Chart(charts.benchmark_figure, (peers.benchmark, viewer, metric_key, source, cohort),
                  (eng.config.metrics.get(metric_key), label)),
            Table(shown, f"benchmark-{metric_key}"))
    return doc


def definitions(eng, viewer: Viewer | None, view: Callable | None = None) -> Document:
    """Every measure in the organisation's language: label, key, definition, owner, target, direction."""
    rows = [{"Measure": m.label, "Key": m.key, "Definition": m.description,
             "Owner": eng.config.departments[m.owner].name,
             "Target": format_value(m, m.default_target.target if m.default_target else None),
             "Direction": direction_words(m.direction)}
            for m in eng.config.metrics.values()]
    doc = Document(page="definitions", title="Metric definitions",
                   subtitle="Every figure on every page is computed from these definitions, the same way for everyone.",
                   filters={"Scope": eng.config.organisation.name, "Measures": f"{len(rows)} in the catalogue"},
                   synthetic=eng.synthetic(), freshness=freshness(eng), viewer=who(eng, viewer) if viewer else "")
    return doc.add(Table(pd.DataFrame(rows), "metric-definitions"))


# --- every printable page, for `python -m metrics report`, digests and the pages' Download PDF -----------------
@dataclass(frozen=True)
class Printable:
    key: str            # what the command line and subscriptions call it
    title: str
    takes: tuple        # the scope kinds it may be given (none: its scope is fixed, or the viewer's own)
    path: str           # the page's address in the dashboard (digests link to it)
    build: Callable

    @property
    def scoped(self) -> bool:
        """Whether it shows a department chosen by the viewer."""
        return "department" in self.takes


PAGES = {p.key: p for p in (
    Printable("overview", "Overview", (), "overview", lambda eng, v, scope, period, grain, choices, view:
              overview(eng, v, period, grain, choices, view)),
    Printable("department", "Department", ("department",), "department",
              lambda eng, v, scope, period, grain, choices, view:
              department(eng, v, scope.key, period, grain, choices, view)),
    Printable("chain", "The chain", ("department",), "chain", lambda eng, v, scope, period, grain, choices, view:
              the_chain(eng, v, scope.key, period, grain, choices, view)),
    Printable("voice", "Voice of the customer", ("department",), "voice",
              lambda eng, v, scope, period, grain, choices, view: voice(eng, v, scope.key, period, grain, choices, view)),
    Printable("pack", "Committee pack", ("organisation", "department"), "pack",
              lambda eng, v, scope, period, grain, choices, view: pack(eng, v, scope, period, grain, choices, view)),
    Printable("you-said", "You said, we did", (), "you_said", lambda eng, v, scope, period, grain, choices, view:
              you_said(eng, v, 20, view)),
    Printable("definitions", "Metric definitions", (), "definitions",
              lambda eng, v, scope, period, grain, choices, view: definitions(eng, v, view)),
    Printable("my-contribution", "My contribution", ("staff",), "my_contribution",
              lambda eng, v, scope, period, grain, choices, view:
              my_contribution(eng, v, period, grain, choices, view, scope.key if scope else None)),
)}


def check_scope(page: str, scope: Scope | None) -> None:
    """Refuse, in one sentence, a scope the page does not take (an unknown page too)."""
    if page not in PAGES:
        raise MetricsError(f"unknown page '{page}': choose one of {', '.join(PAGES)}")
    spec = PAGES[page]
    if scope is not None and scope.kind not in spec.takes:
        takes = " or ".join({"department": "department:KEY", "organisation": "org", "staff": "staff:ID"}[k]
                            for k in spec.takes)
        raise MetricsError(f"the {spec.title} page takes no scope" if not takes else
                           f"the {spec.title} page is for {takes}, not {scope}")


def build(eng, viewer: Viewer, page: str, scope: Scope | None, period: Period, grain: str = "month",
          choices: Choices = Choices(), view: Callable | None = None) -> Document:
    """The document of page `page` (a PAGES key) for the viewer: unknown pages, scopes and access refused in one sentence."""
    check_scope(page, scope)
    spec = PAGES[page]
    if scope is None and spec.takes == ("department",):
        home = access.home_unit(eng.config, viewer)
        if home is None:
            raise MetricsError(f"the {spec.title} page needs a department: give --scope department:KEY")
        scope = Scope("department", home)
    return spec.build(eng, viewer, scope, period, grain, choices, view)
