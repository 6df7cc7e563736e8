"""Sending one delivery over its channel: e-mail (Django's backend), webhook (signed JSON POST) or an
Apprise service. Each attempt is bounded in time (CERTMATE_NOTIFY_TIMEOUT_SECONDS); webhooks and
Apprise go out under the egress rule without following redirects.

What the remote end says is untrusted: only its status code is kept, with a short reason of our own
words; the target URL is redacted from any error text.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus

import requests
from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from apps.certificates.untrusted import one_line
from apps.notifications.kinds import ChannelKind
from apps.notifications.messages import Message
from apps.notifications.models import Delivery, NotificationChannel
from apps.notifications.targets import APPRISE_SCHEMES, apprise_scheme, apprise_service, target_redact
from apps.notifications.webhook_payload import signed_request
from certmate.egress import deadline, guarded, redirects_refused, refusal_in, resolve, session

_STATUS = re.compile(r"\berror=(\d{3})\b")
# The socket timeout says "did not answer in time"; the deadline, a moment later, cuts a receiver that
# trickles its answer byte by byte.
DEADLINE_SLACK = 1


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    response_code: int | None = None
    error: str = ""
    retry: bool = False  # worth another attempt (5xx, timeout, unreachable); False: failed for good


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "unknown status"


def _answered(code: int, who: str) -> Outcome:
    if 200 <= code < 300:
        return Outcome(True, code)
    if 300 <= code < 400:
        return Outcome(False, code, f"{who} answered {code} {_reason(code)}: redirects are not followed", retry=False)
    return Outcome(False, code, f"{who} answered {code} {_reason(code)}", retry=code >= 500 or code in (408, 429))


def _failed(exc: BaseException, channel: NotificationChannel, who: str) -> Outcome:
    refused = refusal_in(exc)
    if refused is not None:
        return Outcome(False, None, f"{who} refused by the platform's egress rule: {refused}", retry=False)
    if isinstance(exc, requests.Timeout | socket.timeout | TimeoutError):
        text = f"{who} did not answer in time"
    elif isinstance(exc, requests.ConnectionError | ConnectionError | OSError):
        text = f"{who} could not be reached ({type(exc).__name__})"
    else:
        text = f"{who}: {type(exc).__name__}: {exc}"
    return Outcome(False, None, target_redact(text, channel.target), retry=True)


def send_email(delivery: Delivery, message: Message) -> Outcome:
    channel = delivery.channel
    if not channel.recipients:
        return Outcome(False, None, "the channel has no recipients: add at least one address", retry=False)
    connection = get_connection(timeout=settings.CERTMATE_NOTIFY_TIMEOUT_SECONDS)
    mail = EmailMessage(
        subject=f"[certmate] {message.title}",
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(channel.recipients),
        headers={"X-Certmate-Event": delivery.notice.kind, "X-Certmate-Delivery": str(delivery.delivery_id)},
        connection=connection,
    )
    try:
        mail.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        text = f"the mail server refused every recipient (SMTP {', '.join(map(str, codes))})"
        return Outcome(False, codes[0] if codes else None, text, retry=all(code < 500 for code in codes))
    except smtplib.SMTPResponseException as exc:
        return Outcome(
            False, exc.smtp_code, f"the mail server answered SMTP {exc.smtp_code}", retry=exc.smtp_code < 500
        )
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, None, f"the mail server could not be reached ({type(exc).__name__})", retry=True)
    return Outcome(True, 250)


def send_webhook(delivery: Delivery, message: Message) -> Outcome:
    channel = delivery.channel
    body, headers = signed_request(delivery, message, channel.secret)
    timeout = settings.CERTMATE_NOTIFY_TIMEOUT_SECONDS
    try:
        with deadline(timeout + DEADLINE_SLACK), session() as http:
            response = http.post(channel.target, data=body, headers=headers, timeout=timeout, allow_redirects=False)
            code = response.status_code
            response.close()  # its body is never read: remote output is not kept
    except Exception as exc:
        return _failed(exc, channel, "the webhook")
    return _answered(code, "the webhook")


class _AppriseLog(logging.Handler):
    """The warnings Apprise logs in this thread while it sends: they carry the status code it got."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.codes: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.codes.extend(int(code) for code in _STATUS.findall(record.getMessage()))


@contextmanager
def _apprise_watched():
    handler = _AppriseLog()
    logger = logging.getLogger("apprise")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _apprise_destination_check(url: str) -> None:
    """For a service whose URL names its server: resolve it and check every address now, so a refusal
    says so (Apprise itself only logs "connection error"); the connection is checked again when made."""
    if not APPRISE_SCHEMES.get(apprise_scheme(url)):
        return
    parts = requests.utils.urlparse(url)
    resolve(parts.hostname or "", parts.port or 443)


def send_apprise(delivery: Delivery, message: Message) -> Outcome:
    channel = delivery.channel
    service = apprise_service(channel.target)
    if service is None:
        return Outcome(False, None, "the Apprise URL is no longer accepted: set the channel's target again")
    timeout = settings.CERTMATE_NOTIFY_TIMEOUT_SECONDS
    # A tenant's ?cto=/?rto= cannot stretch an attempt beyond the platform's bound (deadline() cuts it anyway).
    service.socket_connect_timeout = min(float(service.socket_connect_timeout), timeout)
    service.socket_read_timeout = min(float(service.socket_read_timeout), timeout)
    try:
        with guarded(), redirects_refused(), deadline(timeout + DEADLINE_SLACK), _apprise_watched() as log:
            _apprise_destination_check(channel.target)
            sent = service.notify(body=message.text, title=message.title)
    except Exception as exc:
        return _failed(exc, channel, "the service")
    if sent:
        return Outcome(True, log.codes[-1] if log.codes else None)
    if log.codes:
        return _answered(log.codes[-1], "the service")
    return Outcome(
        False,
        None,
        f"the {apprise_scheme(channel.target)}:// service could not be reached or refused the notification",
        retry=True,
    )


SENDERS = {ChannelKind.EMAIL: send_email, ChannelKind.WEBHOOK: send_webhook, ChannelKind.APPRISE: send_apprise}


def send(delivery: Delivery, message: Message) -> Outcome:
    """One attempt of ``delivery``; never raises for what the remote end does."""
    outcome = SENDERS[delivery.channel.kind](delivery, message)
    return Outcome(outcome.delivered, outcome.response_code, one_line(outcome.error), outcome.retry)
