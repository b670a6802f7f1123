"""The outbox: every e-mail is queued in the database first and sent by a delivery run, so none is lost or sent twice.

- `queue` records a message once for what it is about (kind, ref, recipient): queuing it again does nothing.
- `deliver` sends every message that is due through config's `mail` server (STARTTLS, SSL or plain; the password
  from the environment variable `mail.password_env`). A message that cannot be sent — the server down or refusing
  the connection, the sign-in refused, the recipient refused — stays queued with the error in one sentence and its
  next try after a back-off: `mail.retry_minutes` after the first failure, doubled after each, at most
  `mail.max_retry_minutes`. A later run delivers it. When the server cannot be reached at all, the run stops there
  (every message still due waits for the next try) instead of knocking once per message.
"""
from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage

from metrics.catalogue.definitions import Config, MailSettings
from metrics.errors import MetricsError
from metrics.store import writes


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)          # message ids
    failed: dict[str, str] = field(default_factory=dict)   # message id → the error in one sentence

    def summary(self) -> str:
        text = f"sent {len(self.sent)}"
        if self.failed:
            first = next(iter(self.failed.values()))
            text += f"; {len(self.failed)} not sent, kept to retry ({first})"
        return text


def queue(cur, config: Config, kind: str, ref: str, recipient: str, subject: str, text: str,
          html: str | None = None, now: dt.datetime | None = None, attachment: tuple[str, bytes] | None = None,
          unsubscribe_url: str | None = None) -> str | None:
    """Queue a message (inside the caller's transaction); None when this kind, ref and recipient is queued already.
    `attachment` is (file name, PDF bytes); `unsubscribe_url` goes in the List-Unsubscribe header."""
    now = now or writes.now(config)
    if cur.execute("SELECT 1 FROM outbox WHERE kind = $k AND ref = $r AND recipient = $to",
                   {"k": kind, "r": ref, "to": recipient}).fetchone():
        return None
    message_id = writes.new_id("MS")
    cur.execute("INSERT INTO outbox (message_id, kind, ref, recipient, subject, body_text, body_html, queued_at, "
                "next_attempt_at, attachment_name, attachment, unsubscribe_url) VALUES ($m, $k, $r, $to, $s, $t, $h, "
                "$now, $now, $an, $a, $u)",
                {"m": message_id, "k": kind, "r": ref, "to": recipient, "s": subject, "t": text, "h": html,
                 "now": now, "an": attachment[0] if attachment else None, "a": attachment[1] if attachment else None,
                 "u": unsubscribe_url})
    return message_id


def _connect(mail: MailSettings) -> smtplib.SMTP:
    if mail.security == "ssl":
        server = smtplib.SMTP_SSL(mail.host, mail.port, timeout=20, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(mail.host, mail.port, timeout=20)
        if mail.security == "starttls":
            server.starttls(context=ssl.create_default_context())
    if mail.user:
        password = os.environ.get(mail.password_env)
        if password is None:
            server.close()
            raise MetricsError(f"the mail password is not set: put it in the environment variable "
                               f"{mail.password_env} (mail.password_env), never in the config")
        server.login(mail.user, password)
    return server


def _message(mail: MailSettings, row) -> EmailMessage:
    _, recipient, subject, text, html, name, attachment, unsubscribe = row
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = mail.sender, recipient, subject
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment is not None:
        msg.add_attachment(bytes(attachment), maintype="application", subtype="pdf", filename=name)
    return msg


def _sentence(mail: MailSettings, exc: Exception, recipient: str) -> str:
    where = f"the mail server {mail.host}:{mail.port}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reason = next(iter(exc.recipients.values()))
        return f"{where} refused the recipient {recipient} ({code} {reason.decode(errors='replace')})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"{where} refused the sign-in of {mail.user} ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where} answered {exc.smtp_code} {exc.smtp_error.decode(errors='replace')}"
    if isinstance(exc, MetricsError):
        return str(exc)
    return f"{where} could not be reached ({type(exc).__name__}: {exc})"


def _connection_lost(exc: Exception) -> bool:
    """Whether the connection itself went (not one message refused): smtplib's errors are OSErrors too."""
    return isinstance(exc, smtplib.SMTPServerDisconnected) or (isinstance(exc, OSError) and
                                                                not isinstance(exc, smtplib.SMTPException))


def _failed(con, config: Config, message_id: str, error: str, now: dt.datetime) -> None:
    mail = config.mail
    with writes.transaction(con) as cur:
        attempts = cur.execute("UPDATE outbox SET attempts = attempts + 1 WHERE message_id = $m RETURNING attempts",
                               {"m": message_id}).fetchone()[0]
        wait = min(mail.retry_minutes * 2 ** (attempts - 1), mail.max_retry_minutes)
        cur.execute("UPDATE outbox SET last_error = $e, next_attempt_at = $n WHERE message_id = $m",
                    {"e": error, "n": now + dt.timedelta(minutes=wait), "m": message_id})


def deliver(con, config: Config, now: dt.datetime | None = None) -> Delivery:
    """Send every queued message that is due (see the module docstring); what was sent and what waits."""
    done = Delivery()
    mail = config.mail
    if mail is None:
        return done
    now = now or writes.now(config)
    due = con.execute("SELECT message_id, recipient, subject, body_text, body_html, attachment_name, attachment, "
                      "unsubscribe_url FROM outbox WHERE sent_at IS NULL "
                      "AND next_attempt_at <= $now ORDER BY queued_at, message_id", {"now": now}).fetchall()
    if not due:
        return done
    try:
        server = _connect(mail)
    except (OSError, smtplib.SMTPException, MetricsError) as exc:
        for row in due:                       # nothing reached the server: every message waits for the next try
            done.failed[row[0]] = _sentence(mail, exc, row[1])
            _failed(con, config, row[0], done.failed[row[0]], now)
        return done
    try:
        for row in due:
            try:
                server.send_message(_message(mail, row))
            except (OSError, smtplib.SMTPException) as exc:
                done.failed[row[0]] = _sentence(mail, exc, row[1])
                _failed(con, config, row[0], done.failed[row[0]], now)
                if _connection_lost(exc):
                    for rest in due[due.index(row) + 1:]:      # the connection is gone: the rest wait too
                        done.failed[rest[0]] = done.failed[row[0]]
                        _failed(con, config, rest[0], done.failed[row[0]], now)
                    break
                continue
            with writes.transaction(con) as cur:
                cur.execute("UPDATE outbox SET sent_at = $t, attempts = attempts + 1, last_error = NULL "
                            "WHERE message_id = $m", {"t": now, "m": row[0]})
            done.sent.append(row[0])
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return done
