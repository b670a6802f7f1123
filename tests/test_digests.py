"""Subscriptions and digests through a real SMTP server on loopback (aiosmtpd, tests/test_outbox.py's), on the
hand-worked fixture (tests/fixture.sql).

Worked by hand from the fixture:
- The head of Housing's weekly digest of the Department page, sent on Monday 20 May 2024, covers Mon 13 – Sun 19 May.
  Customers' comments that week: F12 'Thanks Bob' (16 May) for Housing's repairs team, F11 'Thanks Ann' (15 May) for
  the contact centre's phones team — another department's, so not in Housing's digest. Bob (S2) works in Housing but
  is managed by Cat (S3) of the contact centre, not by the head: the survey answer F4 (17 May, due 21 May) waiting on
  him is listed for the head as waiting on "a colleague", for Cat as waiting on Bob.
- Ann's (S1) monthly digest of My contribution, sent on 3 June, covers May 2024: her calls answered within 20 s are
  c1 and c5 of c1 c2 c5 → 2/3 = 66.7 %; her customer's compliment 'Thanks Ann' (F11, 15 May).
"""
import dataclasses
import datetime as dt
import subprocess

import pytest

from metrics.access import Viewer
from metrics.catalogue.definitions import MailSettings
from metrics.errors import AccessDenied, MetricsError
from metrics.catalogue.scope import Scope
from metrics.compute.periods import Period
from metrics.deliver import digests
from metrics.features import outbox
from metrics.present import documents, pdf
from tests.test_outbox import smtp  # noqa: F401 — the SMTP server on loopback

HEAD = Viewer("head@council.example", "head", "housing", None)
ANN = Viewer("Ann", "staff", "cc_phones", "S1")
CAT = Viewer("Cat", "executive", "contact_centre", "S3")
MONDAY = dt.date(2024, 5, 20)
NOW = dt.datetime(2024, 5, 20, 7, 0)


@pytest.fixture
def mailing(fresh_engine, smtp):  # noqa: F811
    fresh_engine.config = dataclasses.replace(fresh_engine.config, mail=MailSettings(
        "127.0.0.1", smtp[0], "none", sender="cx@council.example", dashboard_url="https://cx.council.example"))
    return fresh_engine


def pdf_text(data: bytes) -> str:
    assert data[:5] == b"%PDF-"
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


def parts(message):
    """The e-mail's text, HTML and attached PDF."""
    text = html = pdf = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/plain":
            text = part.get_payload(decode=True).decode()
        elif kind == "text/html":
            html = part.get_payload(decode=True).decode()
        elif kind == "application/pdf":
            pdf = part.get_payload(decode=True), part.get_filename()
    return text, html, pdf


def test_the_heads_weekly_digest_holds_their_department_and_nobody_elses(mailing, smtp):
    _, sink, _, _ = smtp
    digests.subscribe(mailing, HEAD, "department", "weekly", 0, "department:housing", at=NOW)
    [queued] = digests.run(mailing, MONDAY, NOW)
    assert mailing.con.execute("SELECT period_start, period_end FROM digests_sent").fetchall() == [
        (dt.date(2024, 5, 13), dt.date(2024, 5, 19))]
    assert outbox.deliver(mailing.con, mailing.config, NOW).sent == [queued["message_id"]]
    [(to, message)] = sink.received
    assert to == [HEAD.user] and message["Subject"] == "Housing: 13 May 2024 to 19 May 2024"
    text, html, (data, name) = parts(message)
    assert name == "department-housing-2024-05-13_2024-05-19.pdf"
    shown = pdf_text(data)
    assert "Scope Housing" in shown and "Period 13 May 2024 to 19 May 2024" in shown
    assert "Thanks Bob" in shown                             # Housing's customers' comment that week
    assert "Thanks Ann" not in shown                         # the contact centre's
    assert "Unhappy customer to follow up Repairs a colleague 17 May 2024" in shown      # not managed by the head
    assert "Repairs Bob 17 May" not in shown
    # ... while his manager's copy of the same page names him (so the line above can fail).
    cats = documents.build(mailing, CAT, "department", Scope("department", "housing"), Period(MONDAY - dt.timedelta(7),
                                                                                               MONDAY - dt.timedelta(1)))
    assert "Unhappy customer to follow up Repairs Bob 17 May 2024" in pdf_text(pdf.render(mailing, cats))
    assert "Unsubscribe" in html and " ".join(message["List-Unsubscribe"].split()).startswith("<https://cx.council.example/?unsubscribe=")
    # Nothing twice for the same period: a second run that day (or later that week) queues nothing.
    assert digests.run(mailing, MONDAY, NOW) == []
    assert digests.run(mailing, MONDAY + dt.timedelta(days=3), NOW) == []


def test_a_staff_members_digest_holds_their_own_figures_and_the_pdf_its_filters(mailing, smtp):
    _, sink, _, _ = smtp
    digests.subscribe(mailing, ANN, "my-contribution", "monthly", 3, at=NOW)
    [queued] = digests.run(mailing, dt.date(2024, 6, 3), NOW)
    outbox.deliver(mailing.con, mailing.config, NOW)
    [(to, message)] = sink.received
    assert to == ["ann@x"]
    text, html, (data, _) = parts(message)
    shown = pdf_text(data)
    assert "My contribution" in shown and "Period May 2024" in shown and "Ann (you)" in shown
    assert "66.7 %" in shown and "Thanks Ann" in shown
    assert "Period: May 2024" in text                        # the filters in the e-mail too


def test_only_managers_subscribe_others_and_only_people_they_manage(mailing):
    with pytest.raises(AccessDenied):
        digests.subscribe(mailing, ANN, "my-contribution", "weekly", 0, staff_id="S2", at=NOW)   # a peer
    with pytest.raises(AccessDenied):
        digests.subscribe(mailing, HEAD, "my-contribution", "weekly", 0, staff_id="S1", at=NOW)  # not in their line
    sub = digests.subscribe(mailing, CAT, "my-contribution", "weekly", 0, staff_id="S1", at=NOW)   # Ann's manager
    row = mailing.con.execute("SELECT user_id, email, created_by FROM subscriptions WHERE subscription_id = $i",
                              {"i": sub}).fetchone()
    assert row == ("Ann", "ann@x", "Cat")                    # rendered as, and sent to, Ann
    for bad, words in ((dict(page="nosuch", cadence="weekly", day=0), "unknown page"),
                       (dict(page="overview", cadence="daily"), "cadence 'daily'"),
                       (dict(page="overview", cadence="weekly", day=7), "weekday"),
                       (dict(page="overview", cadence="monthly", day=31), "from 1 to 28"),
                       (dict(page="overview", cadence="weekly", day=0, scope_text="department:housing"), "takes no scope")):
        with pytest.raises(MetricsError, match=words):
            digests.subscribe(mailing, CAT, at=NOW, **bad)
    audited = mailing.con.execute("SELECT count(*) FROM audit_log WHERE action = 'subscription.add'").fetchone()[0]
    assert audited == 1


def test_the_unsubscribe_link_ends_the_subscription_in_one_click(mailing, smtp):
    _, sink, _, _ = smtp
    digests.subscribe(mailing, HEAD, "department", "weekly", 0, "department:housing", at=NOW)
    digests.run(mailing, MONDAY, NOW)
    outbox.deliver(mailing.con, mailing.config, NOW)
    token = sink.received[0][1]["List-Unsubscribe"].split("unsubscribe=")[1].strip().rstrip(">")
    assert digests.unsubscribe(mailing, token) == ("You will get no more e-mails for Department, weekly on Monday.")
    assert "already unsubscribed" in digests.unsubscribe(mailing, token)
    with pytest.raises(MetricsError, match="not one of ours"):
        digests.unsubscribe(mailing, "made-up")
    assert digests.run(mailing, MONDAY + dt.timedelta(days=7), NOW + dt.timedelta(days=7)) == []


def test_the_server_stopped_mid_run_delivers_every_digest_once_it_is_back(mailing, smtp):
    _, sink, start, stop = smtp
    digests.subscribe(mailing, HEAD, "department", "weekly", 0, "department:housing", at=NOW)
    digests.subscribe(mailing, ANN, "department", "weekly", 0, "department:contact_centre", at=NOW)
    queued = digests.run(mailing, MONDAY, NOW)
    assert len(queued) == 2
    stop()
    failed = outbox.deliver(mailing.con, mailing.config, NOW)
    assert not failed.sent and set(failed.failed) == {q["message_id"] for q in queued}
    assert "could not be reached" in next(iter(failed.failed.values()))
    start()
    assert digests.run(mailing, MONDAY, NOW) == []               # still queued: not rendered again
    later = outbox.deliver(mailing.con, mailing.config, NOW + dt.timedelta(minutes=10))   # after the 5-minute back-off
    assert sorted(later.sent) == sorted(q["message_id"] for q in queued)
    assert sorted(to[0] for to, _ in sink.received) == ["ann@x", HEAD.user]
    assert outbox.deliver(mailing.con, mailing.config, NOW + dt.timedelta(hours=2)).sent == []
    log = digests.sent_log(mailing)
    assert len(log) == 2 and log["sent_at"].notna().all()


def test_an_after_load_digest_goes_once_per_load(mailing):
    """After each load: the last full month in the data (the fixture's: its data ends 30 May 2024, so April), once
    per load — a second run queues nothing until data arrives again."""
    digests.subscribe(mailing, CAT, "overview", "after_load", at=NOW)
    [first] = digests.run(mailing, MONDAY, NOW)
    assert mailing.con.execute("SELECT period_start, period_end FROM digests_sent").fetchall() == [
        (dt.date(2024, 4, 1), dt.date(2024, 4, 30))]
    assert digests.run(mailing, MONDAY, NOW) == []
    mailing.con.execute("INSERT INTO load_batches (batch_id, table_name, file_name, checksum, rows, loaded_at, "
                        "loaded_by, status) VALUES (1, 'contacts', 'x.csv', 'abc', 0, TIMESTAMP '2024-05-21 06:00', "
                        "'test', 'loaded')")
    [second] = digests.run(mailing, MONDAY + dt.timedelta(days=1), NOW + dt.timedelta(days=1))
    assert second["message_id"] != first["message_id"]
    assert digests.run(mailing, MONDAY + dt.timedelta(days=1), NOW + dt.timedelta(days=1)) == []
