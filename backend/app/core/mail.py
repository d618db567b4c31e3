"""Outgoing mail over SMTP (SMTP_URL, MAIL_FROM): smtp:// uses STARTTLS when the server offers
it, smtps:// TLS from the first byte; credentials come from the URL."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_S = 20


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


def _send(smtp_url: str, sender: str, mail: Mail) -> None:
    parts = urlsplit(smtp_url)
    host = parts.hostname or "localhost"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.text)
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if parts.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, parts.port or 465, timeout=SMTP_TIMEOUT_S, context=context)
    else:
        smtp = smtplib.SMTP(host, parts.port or 587, timeout=SMTP_TIMEOUT_S)
    with smtp:
        smtp.ehlo()
        if parts.scheme == "smtp" and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


async def send_mail(*, smtp_url: str, sender: str, mail: Mail) -> bool:
    """Send one message; False (and a log line without the address or content) when the
    server cannot be reached or refuses it."""
    try:
        await asyncio.to_thread(_send, smtp_url, sender, mail)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("mail not sent", extra={"error": type(exc).__name__})
        return False
    return True
