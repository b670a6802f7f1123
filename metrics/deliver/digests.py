"""Subscriptions and digests: a page (or a committee pack) for a scope, e-mailed on a cadence to people who do not
log in, each rendered as its recipient.

- A person subscribes themselves; a head or an executive may subscribe someone they manage (the digest is still
  rendered as the recipient: their access, suppression and own figures — never the subscriber's).
- Cadences: `weekly` on a weekday (the Monday–Sunday week before that day), `monthly` on a day 1–28 (the calendar
  month before it), `after_load` (the last full month in the data, once per load).
- `run` (from `python -m metrics digest run`, cron or a systemd timer) queues what is due in the outbox: an HTML
  e-mail with the key figures and a link to the page, the PDF attached, and a one-click unsubscribe link (also in
  the List-Unsubscribe header). Each subscription is sent once per period (digests_sent), and a period is not due
  until data for it is loaded, so a late load delays a digest instead of sending an empty one.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import jinja2
import pandas as pd

from metrics import access
from metrics.access import Viewer
from metrics.catalogue.scope import Scope, parse_scope
from metrics.compute.periods import Period, add_months
from metrics.errors import AccessDenied, MetricsError
from metrics.features import owners, outbox
from metrics.formatting import format_date
from metrics.present import documents, pdf
from metrics.store import writes

CADENCES = ("weekly", "monthly", "after_load")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MANAGERS = ("head", "executive")             # the roles that may subscribe the people they manage


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    user_id: str
    email: str
    page: str
    scope: Scope | None
    cadence: str
    day: int | None
    token: str


def describe(page: str, cadence: str, day: int | None, scope_name: str | None = None) -> str:
    """A subscription in words: 'Overview, weekly on Monday' / 'Department (Housing), monthly on day 3'."""
    title = documents.PAGES[page].title if page in documents.PAGES else page
    when = {"weekly": lambda: f"weekly on {WEEKDAYS[day]}", "monthly": lambda: f"monthly on day {day}",
            "after_load": lambda: "after each load"}[cadence]()
    return f"{title}{f' ({scope_name})' if scope_name else ''}, {when}"


def _recipient(cur, eng, viewer: Viewer, staff_id: str | None) -> tuple[Viewer, str]:
    """Who the digest goes to, as a Viewer, and their address: the viewer, or someone they manage."""
    if staff_id is None or staff_id == viewer.staff_id:
        who = viewer
    else:
        if viewer.role not in MANAGERS or viewer.staff_id is None or \
                staff_id not in access.line_below(cur, viewer.staff_id):
            raise AccessDenied(f"{viewer.user} may not subscribe {staff_id}: heads and executives may subscribe the "
                               "people they manage (in their line), and nobody else")
        eng.authorize(viewer, Scope("staff", staff_id), records=False)
        row = cur.execute("SELECT user_id, role, department_id FROM users WHERE staff_id = $s AND active",
                          {"s": staff_id}).fetchone()
        if row:
            who = Viewer(row[0], row[1], row[2], staff_id)
        else:
            person = cur.execute("SELECT name, department_id FROM staff WHERE staff_id = $s AND active",
                                 {"s": staff_id}).fetchone()
            if person is None or eng.config.auth_mode != "demo":
                raise MetricsError(f"{staff_id} has no active account to receive a digest: an administrator adds "
                                   "one on the Users page")
            who = Viewer(person[0], "staff", person[1], staff_id)
    address = owners.address(cur, who)
    if address is None:
        raise MetricsError(f"{who.user} has no e-mail address (neither the user name nor the staff record's e-mail): "
                           "add one on the Users page or in the staff export")
    return who, address


def team(eng, viewer: Viewer) -> pd.DataFrame:
    """The people a head or an executive may subscribe (everyone active below them in the line): staff_id, name."""
    if viewer.role not in MANAGERS or viewer.staff_id is None:
        return pd.DataFrame({"staff_id": [], "name": []})
    with eng.cursor() as cur:
        below = sorted(access.line_below(cur, viewer.staff_id))
        return cur.execute("SELECT staff_id, name FROM staff WHERE active AND list_contains($ids, staff_id) "
                           "ORDER BY name, staff_id", {"ids": below}).df()


def subscribe(eng, viewer: Viewer, page: str, cadence: str, day: int | None = None, scope_text: str | None = None,
              staff_id: str | None = None, at: dt.datetime | None = None) -> str:
    """A new subscription (audited): `page` for the viewer (or for `staff_id`, someone they manage), on `cadence`.
    One sentence and nothing written for an unknown page or cadence, a day out of range, a scope the recipient may
    not see, or a recipient the viewer does not manage."""
    if cadence not in CADENCES:
        raise MetricsError(f"cadence {cadence!r} is not one of {', '.join(CADENCES)}")
    if cadence == "weekly" and (day is None or not 0 <= day <= 6):
        raise MetricsError("a weekly digest needs a weekday: 0 (Monday) to 6 (Sunday)")
    if cadence == "monthly" and (day is None or not 1 <= day <= 28):
        raise MetricsError("a monthly digest needs a day of the month from 1 to 28 (every month has it)")
    if cadence == "after_load":
        day = None
    scope = parse_scope(scope_text, eng.config) if scope_text else None
    documents.check_scope(page, scope)
    at = at or writes.now(eng.config)
    sub_id, token = writes.new_id("SU"), secrets.token_urlsafe(24)
    with writes.transaction(eng.con, viewer) as cur:
        who, address = _recipient(cur, eng, viewer, staff_id)
        if scope is not None:
            eng.authorize(who, scope, records=False)
        if page == "my-contribution" and who.staff_id is None:
            raise MetricsError("My contribution is for people with a staff record")
        cur.execute("INSERT INTO subscriptions (subscription_id, user_id, role, department_id, staff_id, email, page, "
                    "scope_kind, scope_key, cadence, day, token, created_by, created_at) VALUES ($i, $u, $r, $d, $s, "
                    "$e, $p, $k, $key, $c, $day, $t, $by, $at)",
                    {"i": sub_id, "u": who.user, "r": who.role, "d": who.department_id, "s": who.staff_id,
                     "e": address, "p": page, "k": scope.kind if scope else None, "key": scope.key if scope else None,
                     "c": cadence, "day": day, "t": token, "by": viewer.user, "at": at})
        writes.audit(cur, viewer, at, "subscription.add", "subscriptions", sub_id,
                     {"recipient": [None, who.user], "page": [None, page], "scope": [None, str(scope) if scope else None],
                      "cadence": [None, cadence], "day": [None, day]})
    return sub_id


def mine(eng, viewer: Viewer) -> pd.DataFrame:
    """The active subscriptions the viewer receives or made for someone."""
    return eng.read_store("SELECT subscription_id, user_id, email, page, scope_kind, scope_key, cadence, day, "
                          "created_by, created_at FROM subscriptions WHERE active AND (user_id = $u OR created_by = $u) "
                          "ORDER BY created_at, subscription_id", {"u": viewer.user})


def end(eng, viewer: Viewer, subscription_id: str, at: dt.datetime | None = None) -> None:
    """End a subscription the viewer receives or made (audited; what was sent stays in the log)."""
    at = at or writes.now(eng.config)
    with writes.transaction(eng.con, viewer) as cur:
        row = cur.execute("SELECT user_id, created_by FROM subscriptions WHERE subscription_id = $i AND active",
                          {"i": subscription_id}).fetchone()
        if row is None or viewer.user not in row:
            raise MetricsError(f"no active subscription {subscription_id!r} of yours")
        _end(cur, viewer, subscription_id, at)


def _end(cur, actor: Viewer, subscription_id: str, at: dt.datetime) -> None:
    cur.execute("UPDATE subscriptions SET active = false, ended_at = $t, version = version + 1 "
                "WHERE subscription_id = $i", {"t": at, "i": subscription_id})
    writes.audit(cur, actor, at, "subscription.end", "subscriptions", subscription_id, {"active": [True, False]})


def unsubscribe(eng, token: str, at: dt.datetime | None = None) -> str:
    """The one-click link: end the subscription the token belongs to, with no sign-in (the token is its only key).
    Returns what was ended, in words; an unknown or used token gets one sentence."""
    at = at or writes.now(eng.config)
    with writes.transaction(eng.con) as cur:
        row = cur.execute("SELECT subscription_id, user_id, page, cadence, day, active FROM subscriptions "
                          "WHERE token = $t", {"t": str(token)}).fetchone()
        if row is None:
            raise MetricsError("this unsubscribe link is not one of ours: it may have been cut short — open it from "
                               "the e-mail again, or end the digest on the Alerts page")
        if not row[5]:
            return f"You were already unsubscribed from {describe(row[2], row[3], row[4])}."
        _end(cur, Viewer(f"{row[1]} (unsubscribe link)", "system"), row[0], at)
    return f"You will get no more e-mails for {describe(row[2], row[3], row[4])}."


def due_period(cadence: str, day: int | None, today: dt.date, last_load: str | None = None,
               default: Period | None = None) -> tuple[str, Period] | None:
    """The period a subscription's next digest covers on `today`, with its key (see the module docstring)."""
    if cadence == "weekly":
        sent_on = today - dt.timedelta(days=(today.weekday() - day) % 7)
        start = sent_on - dt.timedelta(days=7)
        period = Period(start, sent_on - dt.timedelta(days=1))
    elif cadence == "monthly":
        sent_on = today.replace(day=day) if today.day >= day else add_months(today.replace(day=1), -1).replace(day=day)
        first = add_months(sent_on.replace(day=1), -1)
        period = Period(first, sent_on.replace(day=1) - dt.timedelta(days=1))
    else:
        if default is None or last_load is None:
            return None
        return f"{default.start}/{default.end}@{last_load}", default
    return f"{period.start}/{period.end}", period


def _active(cur, demo: bool) -> list[tuple[Subscription, Viewer]]:
    rows = cur.execute(f"""SELECT s.subscription_id, s.user_id, s.email, s.page, s.scope_kind, s.scope_key, s.cadence,
                                  s.day, s.token, {owners.COLUMNS.format(t='s')}
                           FROM subscriptions s {owners.JOIN.format(t='s')}
                           WHERE s.active AND {owners.CURRENT}
                           ORDER BY s.created_at, s.subscription_id""", {"demo": demo}).fetchall()
    return [(Subscription(r[0], r[1], r[2], r[3], Scope(r[4], r[5]) if r[4] else None, r[6], r[7], r[8]),
             Viewer(user=r[1], role=r[9], department_id=r[10], staff_id=r[11])) for r in rows]


_EMAIL = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!doctype html>
<html lang="en"><body style="font-family: Arial, sans-serif; color: #111; max-width: 640px">
<h2 style="margin-bottom: 2px">{{ doc.title }}</h2>
<div style="color: #333">{{ doc.subtitle }}</div>
{% if doc.synthetic %}<p><b>Demo data: a generated, synthetic organisation.</b></p>{% endif %}
<table style="margin: 8px 0; border-collapse: collapse">
{% for k, v in doc.filters.items() %}<tr><td style="padding: 1px 10px 1px 0"><b>{{ k }}</b></td><td>{{ v }}</td></tr>{% endfor %}
</table>
{% if cards %}<table style="border-collapse: collapse; width: 100%">
<tr><th align="left" style="border-bottom: 1px solid #999">Measure</th><th align="left" style="border-bottom: 1px solid #999">Figure</th>
<th align="left" style="border-bottom: 1px solid #999">Change</th><th align="left" style="border-bottom: 1px solid #999">Status</th></tr>
{% for c in cards %}<tr><td style="padding: 3px 8px 3px 0">{{ c.label }}</td><td><b>{{ c.value }}</b></td>
<td>{{ c.delta or "–" }}</td><td>{{ c.status }}</td></tr>{% endfor %}
</table>{% endif %}
<p>The whole page is attached as a PDF. <a href="{{ link }}">Open it in the dashboard</a>.</p>
<p style="font-size: 12px; color: #555">You get this because of a subscription: {{ what }}.
<a href="{{ unsubscribe }}">Unsubscribe</a> (one click, no sign-in).</p>
</body></html>""")


def _text(doc, cards, link: str, unsubscribe: str, what: str) -> str:
    lines = [doc.title, doc.subtitle, ""] + [f"{k}: {v}" for k, v in doc.filters.items()] + [""]
    lines += [f"- {c.label}: {c.value}" + (f" ({c.delta})" if c.delta else "") + f" — {c.status}" for c in cards]
    return "\n".join(lines + ["", f"The whole page is attached as a PDF. Open it in the dashboard: {link}", "",
                              f"You get this because of a subscription: {what}. Unsubscribe: {unsubscribe}"])


def run(eng, today: dt.date | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Queue every digest that is due on `today` (default: the organisation's today) in the outbox; what was queued.

    A digest whose recipient may no longer see its scope is not sent (and not recorded, so it goes once access is
    back); one that cannot be printed stops the run with that sentence, nothing half-queued."""
    now = now or writes.now(eng.config)
    today = today or now.date()
    rng = eng.data_range()
    if rng is None:
        return []
    mail = eng.config.mail
    base = mail.dashboard_url if mail else "http://localhost:8501"
    done = []
    with eng.cursor() as cur:
        subs = _active(cur, eng.config.auth_mode == "demo")
    for sub, who in subs:
        due = due_period(sub.cadence, sub.day, today, eng.last_load() or f"data to {rng[1]}", eng.default_period())
        if due is None:
            continue
        key, period = due
        if period.start > rng[1]:
            continue                              # nothing loaded for it yet: due once the data reaches it
        with eng.cursor() as cur:
            if cur.execute("SELECT 1 FROM digests_sent WHERE subscription_id = $i AND period_key = $k",
                           {"i": sub.subscription_id, "k": key}).fetchone():
                continue
        try:
            doc = documents.build(eng, who, sub.page, sub.scope, period)
        except AccessDenied:
            continue
        spec = documents.PAGES[sub.page]
        scope_key = sub.scope.key if sub.scope else None
        data = pdf.render(eng, doc, now=now)
        link = f"{base}/{spec.path}?from={period.start}&to={period.end}" + \
            (f"&department={scope_key}" if scope_key else "")
        unsubscribe_url = f"{base}/?unsubscribe={sub.token}"
        what = describe(sub.page, sub.cadence, sub.day, doc.filters.get("Scope") if spec.scoped else None)
        cards = doc.cards()
        subject = f"{doc.title}: {format_date(period.start)} to {format_date(period.end)}"
        with writes.transaction(eng.con) as cur:
            message = outbox.queue(cur, eng.config, "digest", f"{sub.subscription_id}:{key}", sub.email, subject,
                                   _text(doc, cards, link, unsubscribe_url, what),
                                   _EMAIL.render(doc=doc, cards=cards, link=link, unsubscribe=unsubscribe_url, what=what),
                                   now=now, attachment=(doc.file_name(period, scope_key), data),
                                   unsubscribe_url=unsubscribe_url)
            cur.execute("INSERT INTO digests_sent (subscription_id, period_key, period_start, period_end, message_id, "
                        "queued_at) VALUES ($i, $k, $s, $e, $m, $t)",
                        {"i": sub.subscription_id, "k": key, "s": period.start, "e": period.end, "m": message, "t": now})
        done.append({"subscription_id": sub.subscription_id, "recipient": sub.email, "page": sub.page,
                     "period": str(period), "message_id": message, "pdf_bytes": len(data)})
    return done


def sent_log(eng, viewer: Viewer | None = None) -> pd.DataFrame:
    """What was sent (or waits to be), newest first: the viewer's own, or everyone's for the command line."""
    where = "" if viewer is None else "WHERE s.user_id = $u OR s.created_by = $u "
    return eng.read_store(f"""SELECT d.queued_at, s.email, s.page, d.period_start, d.period_end, o.sent_at, o.attempts,
                                     o.last_error
                              FROM digests_sent d JOIN subscriptions s USING (subscription_id)
                              LEFT JOIN outbox o ON o.message_id = d.message_id
                              {where}ORDER BY d.queued_at DESC, s.email""", {"u": viewer.user} if viewer else {})
