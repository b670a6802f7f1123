"""The documents of the pages about one department's service: the chain between departments, the voice of the
customer, and the committee pack (see metrics.present.documents for what a document is and who draws it)."""
from __future__ import annotations

from typing import Callable

from metrics import access
from metrics.access import Viewer
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.periods import Period
from metrics.compute.target_status import status_text
from metrics.errors import AccessDenied, MetricsError
from metrics.features import chain, demand, packs
from metrics.formatting import format_date, format_days, format_hours, format_percent, format_period, format_value
from metrics.formatting import plain as _plain
from metrics.present import charts, views
from metrics.present.doc_parts import (Choices, cards_block, direct, new_document, period_filters, praise_block,
                                       events_list,
                                       trend_period)
from metrics.present.document import Chart, Columns, Document, Figures, Heading, Note, Slot, Table
from metrics.store.writes import now
from metrics.voice import cases, lists, suggestions, themes


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
    doc = new_document(eng, viewer, "chain", "The chain",
               f"{format_period(period)} · how each department's service to colleagues, and each hand-off, reaches "
               "customers.", {"Scope": names[key], **period_filters(period),
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
    if demand.enabled(eng):
        doc.add(Heading("From a contact to a callback"),
                Note(demand.in_words(eng, view(demand.summary, viewer, period), period), "info"),
                Note("The pink stream on the right is failure demand: customers who contacted us again, from the "
                     "department whose work they were waiting on.", "text"),
                Chart(charts.sankey_figure, (demand.chain_flow, viewer, period)))
    else:
        doc.add(Heading("From a contact to a callback"), Chart(charts.sankey_figure, (chain.referral_flow, viewer, period)))
    doc.add(Columns(((Table(stages.rename(columns={"stage": "Stage", "count": "Customers",
                                                   "median_hours": "Typical wait"}), "flow-stages"),
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
    doc = new_document(eng, viewer, "pack", f"Committee pack — {name}",
               f"{format_period(period)} · compared with {format_period(period.previous())}",
               {"Scope": "The whole organisation" if org else name, **period_filters(period)})
    names = {k: d.name for k, d in eng.config.departments.items()}

    def section(key: str) -> None:
        doc.add(Heading(packs.SECTIONS[key]), Slot(f"commentary-{key}"))
        if notes.get(key):
            doc.add(Note(_plain(notes[key]), "commentary"))

    section("headline")
    doc.add(cards_block(eng, view, viewer, scope, period, eng.config.page("overview" if org else "department", "headline")))
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
        doc.add(Note("**Praise first**", "text"), praise_block(view, viewer, scope, period, "pack", limit=6))
    doc.add(cards_block(eng, view, viewer, scope, period, eng.config.page("voice", "headline")))
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
    doc = new_document(eng, viewer, "voice", f"Voice of the customer — {name}",
               f"{format_period(period)} · compared with {format_period(period.previous())}",
               {"Scope": name, **period_filters(period, grain), "Cases shown": status,
                "Comments on": "every theme" if theme is None else eng.config.voice.themes[theme].label})
    doc.add(Slot("flash"), cards_block(eng, view, viewer, scope, period, eng.config.page("voice", "headline")))
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
    if view(views.theme_trend, viewer, scope, trend_period(period), grain).empty:
        doc.add(Note("No comments in the last twelve months."))
    else:
        doc.add(Chart(charts.theme_figure, (views.theme_trend, viewer, scope, trend_period(period), grain)),
                events_list(view, viewer, scope, trend_period(period)))
    doc.add(Slot("theme"), Table(view(lists.feedback_comments, viewer, scope, period, 200, theme),
                                 f"{key}-comments-{theme or 'all'}"))
    return doc
