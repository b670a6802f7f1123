"""E-mail through a real SMTP server on loopback (aiosmtpd, started here): an alert is e-mailed to its owner once;
with the server stopped mid-run the messages stay queued with the error in one sentence, wait out the back-off, and
are delivered once the server is back — none lost, none twice; a refused recipient holds up nobody else."""
import dataclasses
import datetime as dt
import email

import pytest
from aiosmtpd.controller import Controller

from metrics.catalogue.definitions import MailSettings
from metrics.features import alerts, outbox
from tests.perf.streamlit_server import free_port
from tests.test_alerts import AS_OF, HEAD, NOW, eng  # noqa: F401 — the alerts fixture: Housing at 70 % so far


class Sink:
    """An SMTP server's handler keeping every message; it refuses recipients at nobody@."""

    def __init__(self):
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    port, sink = free_port(), Sink()
    servers = []

    def start():
        c = Controller(sink, hostname="127.0.0.1", port=port)
        c.start()
        servers.append(c)

    def stop():
        servers.pop().stop()
    start()
    yield port, sink, start, stop
    for c in servers:
        c.stop()


@pytest.fixture
def mailing(eng, smtp):  # noqa: F811
    port = smtp[0]
    eng.config = dataclasses.replace(eng.config, mail=MailSettings("127.0.0.1", port, "none", sender="cx@council.example"))
    return eng


def outbox_rows(eng):
    return eng.read_store("SELECT recipient, attempts, next_attempt_at, last_error, sent_at FROM outbox ORDER BY queued_at")


def test_an_alert_is_e_mailed_to_its_owner_once(mailing, smtp):
    _, sink, _, _ = smtp
    alerts.add_rule(mailing, HEAD, "sla_attainment", "department:housing", "projected_miss", at=NOW)
    [fired] = alerts.evaluate(mailing, AS_OF, NOW)
    done = outbox.deliver(mailing.con, mailing.config, NOW)
    assert len(done.sent) == 1 and not done.failed
    [(to, message)] = sink.received
    assert to == [HEAD.user] and message["From"] == "cx@council.example"
    assert message["Subject"] == "Alert: Promises kept on customer requests"
    assert fired["message"] in message.get_payload(decode=True).decode()
    assert outbox.deliver(mailing.con, mailing.config, NOW + dt.timedelta(hours=1)).sent == []   # sent once
    assert alerts.evaluate(mailing, AS_OF, NOW + dt.timedelta(hours=1)) == []                    # quiet time
    assert len(sink.received) == 1


def test_the_server_stopped_mid_run_loses_nothing_and_sends_nothing_twice(mailing, smtp):
    _, sink, start, stop = smtp
    alerts.add_rule(mailing, HEAD, "sla_attainment", "department:housing", "projected_miss", at=NOW)
    alerts.add_rule(mailing, HEAD, "sla_attainment", "department:housing", "off_target", at=NOW)
    assert len(alerts.evaluate(mailing, AS_OF, NOW)) == 2
    stop()
    done = outbox.deliver(mailing.con, mailing.config, NOW)
    assert done.sent == [] and len(done.failed) == 2
    rows = outbox_rows(mailing)
    assert rows["attempts"].tolist() == [1, 1] and rows["sent_at"].isna().all()
    assert rows["next_attempt_at"].tolist() == [NOW + dt.timedelta(minutes=5)] * 2        # retry_minutes: 5
    assert all("could not be reached" in e for e in rows["last_error"])
    assert "2 not sent, kept to retry" in done.summary()
    start()
    assert outbox.deliver(mailing.con, mailing.config, NOW + dt.timedelta(minutes=1)).sent == []   # not due yet
    stop()
    outbox.deliver(mailing.con, mailing.config, NOW + dt.timedelta(minutes=6))                  # down again
    rows = outbox_rows(mailing)
    assert rows["next_attempt_at"].tolist() == [NOW + dt.timedelta(minutes=6 + 10)] * 2      # doubled: 10 min
    start()
    done = outbox.deliver(mailing.con, mailing.config, NOW + dt.timedelta(minutes=20))
    assert len(done.sent) == 2 and not done.failed
    assert outbox.deliver(mailing.con, mailing.config, NOW + dt.timedelta(hours=2)).sent == []
    assert len(sink.received) == 2 and [to for to, _ in sink.received] == [[HEAD.user], [HEAD.user]]
    assert outbox_rows(mailing)["last_error"].isna().all()


def test_a_refused_recipient_waits_and_the_others_are_sent(mailing, smtp):
    _, sink, _, _ = smtp
    with mailing.con.cursor() as cur:
        outbox.queue(cur, mailing.config, "alert", "A1", "nobody@council.example", "s", "t",    # tried first
                     now=NOW - dt.timedelta(minutes=1))
        outbox.queue(cur, mailing.config, "alert", "A2", HEAD.user, "s", "t", now=NOW)
        assert outbox.queue(cur, mailing.config, "alert", "A2", HEAD.user, "s", "t", now=NOW) is None   # once
    done = outbox.deliver(mailing.con, mailing.config, NOW)
    assert len(done.sent) == 1 and len(done.failed) == 1
    [error] = done.failed.values()
    assert error.startswith(f"the mail server 127.0.0.1:{smtp[0]} refused the recipient nobody@council.example (550")
    assert [to for to, _ in sink.received] == [[HEAD.user]]


def test_a_missing_password_is_one_sentence_and_nothing_is_lost(mailing, monkeypatch):
    monkeypatch.delenv("CX_SMTP_PASSWORD", raising=False)
    mailing.config = dataclasses.replace(mailing.config, mail=dataclasses.replace(mailing.config.mail, user="cx"))
    with mailing.con.cursor() as cur:
        outbox.queue(cur, mailing.config, "alert", "A1", HEAD.user, "s", "t", now=NOW)
    done = outbox.deliver(mailing.con, mailing.config, NOW)
    assert list(done.failed.values()) == ["the mail password is not set: put it in the environment variable "
                                          "CX_SMTP_PASSWORD (mail.password_env), never in the config"]
    assert outbox_rows(mailing)["sent_at"].isna().all()


def test_the_dashboard_sends_the_outbox_in_the_background(mailing, smtp, monkeypatch):
    import time

    import app_cache
    monkeypatch.setattr(app_cache, "POST_SECONDS", 0.1)
    monkeypatch.setattr(app_cache, "_postman", {})
    with mailing.con.cursor() as cur:
        outbox.queue(cur, mailing.config, "alert", "A1", HEAD.user, "Alert", "text", now=NOW)
    stop = app_cache.start_postman(mailing)
    try:
        assert app_cache.start_postman(mailing) is stop                   # once per process
        deadline = time.time() + 10
        while not smtp[1].received and time.time() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert [to for to, _ in smtp[1].received] == [[HEAD.user]]
