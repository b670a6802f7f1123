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
from metrics.compute.periods import Period, add_months
from metrics.errors import AccessDenied, MetricsError
from metrics.features import chain, packs
from metrics.compute.target_status import status_text
from metrics.features import peers
from metrics.formatting import (direction_words, format_cell, format_date, format_datetime, format_days, format_hours,
                                format_percent, format_period, format_value, plain as _plain)
from metrics.store.writes import now
from metrics.present import charts, views
from metrics.present.document import Cards, Chart, Columns, Document, Figures, Heading, Note, Praise, Slot, Table
from metrics.voice import cases, lists, praise, suggestions, themes


def direct(eng) -> Callable:
    """A `view` that computes every call afresh (the command line, digests): func(eng, viewer, *args)."""
    return lambda func, viewer, *args: func(eng, viewer, *args)


def freshness(eng) -> str:
    """The data's range and last load in words: 'Data from 1 Jan 2023 to 31 Dec 2025 · last loaded 2 Dec 2026 04:10.'"""
    rng = eng.data_range()
    if not rng:
        return ""
    loaded = eng.last_load()
    return (f"Data from {format_date(rng[0])} to {format_date(rng[1])}"
            + (f" · last loaded {format_datetime(pd.Timestamp(loaded))}." if loaded else "."))


def trend_period(period: Period) -> Period:
    """Twelve months ending with the chosen period, for trend charts."""
    return Period(add_months(period.end.replace(day=1), -11), period.end)


def who(eng, viewer: Viewer) -> str:
    """The viewer in words, for the printed header: 'Head of department, Housing (pat@council.example)'."""
    role = viewer.role.replace("_", " ").capitalize()
    unit = eng.config.departments[viewer.department_id].name if viewer.department_id in eng.config.departments else ""
    return f"{role}{', ' + unit if unit else ''} ({viewer.user})"


def _doc(eng, viewer, page: str, title: str, subtitle: str, filters: dict) -> Document:
    return Document(page=page, title=title, subtitle=subtitle, filters=filters, synthetic=eng.synthetic(),
                    freshness=freshness(eng), viewer=who(eng, viewer))


def _period_filters(period: Period, grain: str | None = None, **more) -> dict:
    out = {"Period": format_period(period), "Compared with": format_period(period.previous())}
    if grain:
        out["Trend by"] = grain
    return {**out, **{k: v for k, v in more.items() if v}}


@dataclass(frozen=True)
class Choices:
    """What the viewer chose on the page beyond scope and period (each page reads the ones it has)."""
    trend: str | None = None          # the measure of a page's trend chart (default: the page's first headline)
    measure: str | None = None        # the chain's internal-service measure (a column of config chain.internal_service)
    status: str | None = None         # the Voice page's cases shown (metrics.voice.cases.STATUSES; default open)
    theme: str | None = None          # the Voice page's comments: one theme (config voice.themes), or every theme


def overview(eng, viewer: Viewer, period: Period, grain: str = "month", choices: Choices = Choices(),
             view: Callable | None = None) -> Document:
    """The organisation's headline figures, shared goals, departments at a glance, trends."""
    view = view or direct(eng)
    headline = eng.config.page("overview", "headline")
    trend = choices.trend if choices.trend in headline else headline[0]
    doc = _doc(eng, viewer, "overview", "Overview",
               f"The whole organisation · {format_period(period)} · compared with {format_period(period.previous())}",
               {"Scope": "The whole organisation", **_period_filters(period, grain, **{"Trend of": eng.metric(trend).label})})
    doc.add(_cards(eng, view, viewer, ORGANISATION, period, headline))
    goals = view(views.goal_table, viewer, ORGANISATION, period)
    doc.add(Heading("Shared goals"), Chart(charts.goal_bars, (views.goal_table, viewer, ORGANISATION, period)),
            Table(goals[list(views.GOAL_COLUMNS)], "shared-goals"))
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
    hm = view(views.heatmap, viewer, period)
    doc.add(Heading("Departments at a glance"), Chart(charts.heatmap_figure, (views.heatmap, viewer, period)),
            Table(hm[["name", "label", "formatted", "word"]].rename(columns={
                "name": "Department", "label": "Measure", "formatted": "Figure", "word": "Status"}), "departments"))
    doc.add(Heading("Trends"), Slot("trend"),
            Chart(charts.trend_figure, (views.trend, viewer, trend, ORGANISATION, trend_period(period), grain),
                  (eng.metric(trend),)))
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
    trend = choices.trend if choices.trend in headline else headline[0]
    name = eng.config.departments[key].name
    doc = _doc(eng, viewer, "department", name,
               f"{format_period(period)} · compared with {format_period(period.previous())}",
               {"Scope": name, **_period_filters(period, grain, **{"Trend of": eng.metric(trend).label})})
    doc.add(Slot("flash"))
    if access.may(eng.authorize, viewer, scope, records=True):
        doc.add(Heading("What customers praised"), _praise(view, viewer, scope, period, key))
    doc.add(_cards(eng, view, viewer, scope, period, headline))
    doc.add(Heading("Our part in the shared goals"),
            Note(chain.words_for(eng, view(chain.attribution, viewer, period), key, period), "info"),
            Table(view(views.department_contribution, viewer, key, period), f"{key}-goals"))
    doc.add(Columns((
        (Heading("Service we give colleagues"),
         _cards(eng, view, viewer, scope, period, eng.config.page("department", "internal_given"), 2)),
        (Heading("Service we receive"),
         _cards(eng, view, viewer, scope, period, eng.config.page("department", "internal_received"), 1)))))
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
    since = Period(period.start, max(period.end, _today(eng)))
    feed = view(praise.feed, viewer, key, since)
    thanks = [Note(f"Since {format_date(since.start)}.")]
    if feed.empty:
        thanks.append(Note("No thanks recorded in this period."))
    for r in feed.head(8).itertuples():
        thanks.append(Note(f":material/volunteer_activism: **{_plain(r.from_name)}** thanked **{_plain(r.to_name)}** "
                           f"for *{_plain(r.value)}* · {format_date(r.given_at)}", "text"))
        thanks.append(Note(_plain(format_cell(r.message, ""))))
    doc.add(Heading("Thanks between colleagues"), Columns((tuple(thanks), (Slot("thanks"),)), (3, 2)))
    doc.add(Heading("Trend"), Slot("trend"),
            Chart(charts.trend_figure, (views.trend, viewer, trend, scope, trend_period(period), grain),
                  (eng.metric(trend),)))
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
    doc = _doc(eng, viewer, "my_contribution", "My contribution" if own else f"Contribution — {name}",
               f"{viewer.user if own else name} · {format_period(period)}. "
               + ("Your figures are visible to you and your managers only." if own else
                  "These figures are visible to them and their managers only."),
               {"Scope": f"{name}{' (you)' if own else ''}", **_period_filters(period)})
    doc.add(Slot("flash"), Heading("What customers said about you"), _praise(view, viewer, me, period, "me"))
    since = Period(period.start, max(period.end, _today(eng)))     # thanks given today show at once
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
    doc.add(Heading("How my work feeds our shared goals"))
    sentences = view(views.goals_in_words, viewer, staff_id, period)
    if sentences:
        doc.add(Note("\n".join(f"- {s}" for s in sentences), "text"))
    doc.add(Heading("Say thank you"), Slot("thanks"))
    return doc


def _cards(eng, view, viewer, scope: Scope, period: Period, keys, per_row: int = 4) -> Cards:
    return Cards(tuple(views.card_text(eng, r) for r in view(views.cards, viewer, scope, period, keys)), per_row)


def _praise(view, viewer, scope: Scope, period: Period, name: str, limit: int = 12) -> Praise:
    return Praise(scope, period, name, view(praise.praise, viewer, scope, period, limit), limit)


def _today(eng):
    return now(eng.config).date()


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


def the_chain(eng, viewer: Viewer, key: str, period: Period, grain: str = "month", choices: Choices = Choices(),
              view: Callable | None = None) -> Document:
    """The service departments give each other, the customer's path to a callback, where late outcomes waited
    longest, and how local suppliers are paid — seen from department `key`."""
    view = view or direct(eng)
    if key not in eng.config.departments:
        raise MetricsError(f"unknown department '{key}': choose one of {', '.join(eng.config.departments)}")
    names = {k: d.name for k, d in eng.config.departments.items()}
    rules = eng.config.chain            # the metrics metrics.features.chain computes the page from (config `chain:`)
    measures = rules.internal_service   # matrix column → metric
    column = choices.measure if choices.measure in measures else next(iter(measures))
    doc = _doc(eng, viewer, "chain", "The chain",
               f"{format_period(period)} · how each department's service to colleagues, and each hand-off, reaches "
               "customers.", {"Scope": names[key], **_period_filters(period),
                              "Service measure": eng.metric(measures[column]).label})
    doc.add(Note(chain.words_for(eng, view(chain.attribution, viewer, period), key, period), "info"))
    doc.add(Heading("Service between departments"), Slot("measure"))
    matrix = view(chain.internal_matrix, viewer, period)
    if matrix.empty:
        doc.add(Note("No internal requests in this period."))
    else:
        doc.add(Chart(charts.matrix_figure, (chain.internal_matrix, viewer, period),
                      (column, eng.metric(measures[column]), names)))

        def readable(df):
            """The matrix rows as people read them: department names, figures in their metric's format."""
            out = df.copy()
            for col in ("provider", "requester"):
                out[col] = out[col].map(lambda k: names.get(k, k))
            for col, mkey in measures.items():
                out[col] = [format_value(eng.metric(mkey), v) for v in out[col]]
            return out.astype({"requests": "Int64", "declined": "Int64"})

        shown = {c: eng.metric(measures[c]).label if c in measures else c.capitalize() for c in chain.matrix_columns(eng)}
        lead = eng.metric(next(iter(measures.values())))

        def side(rows, other: str, other_word: str, title: str, empty: str, name: str) -> tuple:
            if rows.empty:
                return Note(title, "text"), Note(empty)
            return Note(title, "text"), Table(rows[[other] + list(shown)].rename(columns={other: other_word, **shown}), name)

        mine = readable(chain.worst_first(eng, matrix[matrix["provider"] == key]))
        held = readable(chain.worst_first(eng, matrix[matrix["requester"] == key]))
        doc.add(Columns((
            side(mine, "requester", "Asked by", f"**Colleagues {names[key]} lets down most** (as a provider, worst first "
                 f"on {lead.label.lower()})", f"{names[key]} gave no internal service in this period.", f"{key}-as-provider"),
            side(held, "provider", "Provided by", f"**Providers who hold {names[key]} up** (as an internal customer)",
                 f"{names[key]} asked no other department for anything in this period.", f"{key}-as-requester"))))
        declines = view(chain.decline_reasons, viewer, period).copy()
        for col in ("provider", "requester"):
            declines[col] = declines[col].map(lambda k: names.get(k, k))
        doc.add(Note("**Why colleagues' requests were declined**", "text"), Table(declines.rename(columns={
            "provider": "Provided by", "requester": "Asked by", "reason": "Reason", "declined": "Declined"}), "declines"))
    flow = view(chain.referral_flow, viewer, period)
    stages = flow["stages"].assign(median_hours=[format_hours(h) for h in flow["stages"]["median_hours"]])
    doc.add(Heading("From a contact to a callback"), Chart(charts.sankey_figure, (chain.referral_flow, viewer, period)),
            Columns(((Table(stages.rename(columns={"stage": "Stage", "count": "Customers", "median_hours": "Typical wait"}),
                            "flow-stages"),
                      Note(f"Typical wait: to be answered at the {names[rules.front_door]}; from referral to callback "
                           "for callbacks.")),
                     (Table(flow["by_department"].assign(department=flow["by_department"]["department"].map(names)).rename(
                         columns={"department": "Department", "referred": "Referred",
                                  "within_1_day": "Called back in a working day", "later": "Called back later",
                                  "not_returned": "Not called back yet"}), "flow-by-department"),)), (2, 3)))
    try:
        waiting = view(chain.waiting_for_callback, viewer, key, period.end)
        doc.add(Note(f"**Customers waiting for a callback from {names[key]}** at the end of {format_date(period.end)}: "
                     f"{len(waiting):,}", "text"),
                Table(waiting.assign(to_department_id=waiting["to_department_id"].map(names)).rename(columns={
                    "contact_id": "Contact", "customer_id": "Customer", "handed_at": "Referred", "due_at": "Due",
                    "to_department_id": "Team", "officer": "Officer"}), f"{key}-waiting-callback"))
    except AccessDenied:
        doc.add(Note("The customers waiting are listed for the department concerned and executives."))
    att = view(chain.attribution, viewer, period)
    doc.add(Heading("Where late outcomes waited longest"))
    if att.empty:
        doc.add(Note("No late outcomes in this period."))
    else:
        doc.add(Chart(charts.attribution_figure, (chain.attribution, viewer, period), (names,)),
                Table(att.assign(department=att["department"].map(lambda k: names.get(k, k)),
                                 share=[format_percent(v) for v in att["share"]]).rename(columns={
                    "department": "Department", "kind": "Late outcome", "waited_longest": "Waited longest there",
                    "of_all": "Of all", "share": "Share"}), "late-attribution"),
                Note("Each late outcome's time is split across its hand-off stages; it counts for the department that "
                     "held it longest (a tie goes to the department that had it first)."))
    sup = view(chain.supplier_payments, viewer, period).copy()
    sup["department"] = sup["department"].map(lambda k: names.get(k, k))
    for col, mkey in rules.supplier_payments.items():      # each figure in its metric's format
        sup[col] = [format_value(eng.metric(mkey), v) for v in sup[col]]
    for col in ("registration_days", "approval_stage_days", "payment_days"):
        sup[col] = [format_days(v) for v in sup[col]]
    for col in ("within_terms_status", "local_small_status"):
        sup[col] = sup[col].map(status_text)
    doc.add(Heading("Paying suppliers"), Table(sup.rename(columns={
        "department": "Approving department", "invoices_paid": "Invoices paid", "within_terms": "Paid within terms",
        "within_terms_status": "Status", "local_small_paid": "Local small: paid",
        "local_small_within_terms": "Local small: within terms", "local_small_status": "Local small: status",
        "days_to_approve": "Typical days to approve", "paid_late": "Paid late", "registration_days": "To register",
        "approval_stage_days": "With the approver", "payment_days": "Approval to payment"}), "supplier-payments"))
    local, every = (eng.metric(rules.supplier_payments[c]) for c in ("local_small_within_terms", "within_terms"))
    if local.default_target and every.default_target:
        doc.add(Note(f"Local small businesses have a stricter target: {format_percent(local.default_target.target)} "
                     f"paid within terms (all suppliers: {format_percent(every.default_target.target)})."))
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
    doc = _doc(eng, viewer, "benchmarks", "Benchmarks",
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


def pack(eng, viewer: Viewer, scope: Scope | None, period: Period, grain: str = "month", choices: Choices = Choices(),
         view: Callable | None = None) -> Document:
    """The committee pack (metrics.features.packs) for the organisation or a department: each section's figures as
    the viewer may see them, with the commentary kept for this scope and period."""
    view = view or direct(eng)
    scope = packs.scope_for(eng.config, viewer, scope)
    if scope.kind not in ("organisation", "department"):
        raise MetricsError("a committee pack is for the organisation or a department: give --scope org or "
                           "department:KEY")
    eng.authorize(viewer, scope, records=False)
    org = scope.kind == "organisation"
    name = eng.config.organisation.name if org else eng.config.departments[scope.key].name
    notes = packs.commentary(eng, viewer, scope, period)
    doc = _doc(eng, viewer, "pack", f"Committee pack — {name}",
               f"{format_period(period)} · compared with {format_period(period.previous())}",
               {"Scope": "The whole organisation" if org else name, **_period_filters(period)})
    names = {k: d.name for k, d in eng.config.departments.items()}

    def section(key: str) -> None:
        doc.add(Heading(packs.SECTIONS[key]), Slot(f"commentary-{key}"))
        if notes.get(key):
            doc.add(Note(_plain(notes[key]), "commentary"))

    section("headline")
    doc.add(_cards(eng, view, viewer, scope, period, eng.config.page("overview" if org else "department", "headline")))
    section("goals")
    if org:
        goals = view(views.goal_table, viewer, ORGANISATION, period)
        doc.add(Table(goals[list(views.GOAL_COLUMNS)], "shared-goals"),
                Note("**Which department holds each goal back**", "text"),
                Table(view(views.holds_back_table, viewer, period), "holds-back"))
    else:
        doc.add(Table(view(views.department_contribution, viewer, scope.key, period), f"{scope.key}-goals"))
    section("chain")
    att = view(chain.attribution, viewer, period)
    if not org:
        doc.add(Note(chain.words_for(eng, att, scope.key, period), "info"))
        att = att[att["department"] == scope.key]             # what waited longest with us
    if att.empty:
        doc.add(Note("No late outcomes in this period."))
    else:
        doc.add(Table(att.assign(department=att["department"].map(lambda k: names.get(k, k)),
                                 share=[format_percent(v) for v in att["share"]]).rename(columns={
                    "department": "Department", "kind": "Late outcome", "waited_longest": "Waited longest there",
                    "of_all": "Of all", "share": "Share"}), "late-attribution"))
    section("voice")
    if org or access.may(eng.authorize, viewer, scope, records=True):
        doc.add(Note("**Praise first**", "text"), _praise(view, viewer, scope, period, "pack", limit=6))
    doc.add(_cards(eng, view, viewer, scope, period, eng.config.page("voice", "headline")))
    trend = view(themes.theme_trend, viewer, scope, period, grain)
    if len(trend):
        by_theme = trend.groupby("theme", as_index=False)[["comments", "negative"]].sum() \
            .sort_values(["comments", "theme"], ascending=[False, True])
        by_theme["negative_share"] = [format_percent(n / c) for n, c in zip(by_theme["negative"], by_theme["comments"])]
        doc.add(Note("**What customers talk about**", "text"), Table(by_theme.rename(columns={
            "theme": "Theme", "comments": "Comments", "negative": "Unhappy", "negative_share": "Share unhappy"}),
            "themes"))
    section("you_said")
    done = view(suggestions.you_said_we_did, None, 50, period, None if org else scope.key)
    if done.empty:
        doc.add(Note("No suggestions were put into practice in this period."))
    for r in done.itertuples():
        doc.add(Note(f"**You said:** {_plain(r.you_said)} — **we did:** {_plain(r.we_did)} "
                     f"({format_date(r.implemented_on)})"
                     + (f". {r.measure}: {r.before} before → {r.after} after" if r.measure else ""), "text"))
    return doc


def voice(eng, viewer: Viewer, key: str, period: Period, grain: str = "month", choices: Choices = Choices(),
          view: Callable | None = None) -> Document:
    """Voice of the customer for a department: its closing-the-loop figures, the unhappy customers to follow up
    (status `choices.status`), the themes customers talk about and their words (theme `choices.theme`)."""
    view = view or direct(eng)
    if key not in eng.config.departments:
        raise MetricsError(f"unknown department '{key}': choose one of {', '.join(eng.config.departments)}")
    scope = Scope("department", key)
    name = eng.config.departments[key].name
    status = choices.status if choices.status in cases.STATUSES else cases.STATUSES[0]
    theme = choices.theme if choices.theme in eng.config.voice.themes else None
    doc = _doc(eng, viewer, "voice", f"Voice of the customer — {name}",
               f"{format_period(period)} · compared with {format_period(period.previous())}",
               {"Scope": name, **_period_filters(period, grain), "Cases shown": status,
                "Comments on": "every theme" if theme is None else eng.config.voice.themes[theme].label})
    doc.add(Slot("flash"), _cards(eng, view, viewer, scope, period, eng.config.page("voice", "headline")))
    if not access.may(eng.authorize, viewer, scope, records=True):
        return doc.add(Note("The cases and customers' comments are visible to the department concerned and to "
                            "executives.", "info"))
    today = cases.judged_at(now(eng.config))          # "overdue now" is the same all day (cases.judged_at)
    counts = view(cases.summary, viewer, key, today)
    bd = cases.business_days(eng)
    doc.add(Heading("Unhappy customers to follow up"),
            Figures((("Open cases", f"{counts['open']:,}", None),
                     ("Awaiting follow-up", f"{counts['awaiting_follow_up']:,}", None),
                     ("Overdue now", f"{counts['overdue']:,}", f"Not followed up within {bd} working days of receipt."))),
            Slot("status"))
    inbox = view(cases.inbox, viewer, key, status, today, 200)
    shown = inbox.assign(overdue=inbox["overdue"].map({True: "⚠ Overdue", False: ""}))[
        ["case_id", "overdue", "status", "kind", "received_at", "due", "theme_label", "assignee", "comment"]].rename(
        columns={"case_id": "Case", "overdue": "Overdue", "status": "Status", "kind": "Kind", "received_at": "Received",
                 "due": "Follow up by", "theme_label": "Theme", "assignee": "With", "comment": "In their words"})
    # Overdue cases come first and carry the marker "⚠ Overdue" (a cell style per row cost a fifth of the page's time).
    doc.add(Table(shown, f"{key}-cases-{status}"),
            Note(f"{len(inbox):,} {status} case{'s' if len(inbox) != 1 else ''}"
                 + (" shown (the first 200)" if len(inbox) == 200 else "") + "; overdue first, then oldest first."),
            Slot("case"))
    doc.add(Heading("What customers talk about"))
    if view(themes.theme_trend, viewer, scope, trend_period(period), grain).empty:
        doc.add(Note("No comments in the last twelve months."))
    else:
        doc.add(Chart(charts.theme_figure, (themes.theme_trend, viewer, scope, trend_period(period), grain)))
    doc.add(Slot("theme"), Table(view(lists.feedback_comments, viewer, scope, period, 200, theme),
                                 f"{key}-comments-{theme or 'all'}"))
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
