"""The channels a message goes out on: e-mail (SMTP) and SMS (a gateway).

E-mail goes through ``smtplib`` with a ``Message-ID`` derived from the outbox row, so a
receiving system can drop the duplicate a crash between "sent" and "marked" could cause.
SMS goes through an ``SmsGateway`` (``SMS_GATEWAY``; by default one that only logs).
A message carrying a secret (a verification code) has it masked in ``body``; the real
text is in ``sealed_body``, encrypted, opened only to hand it to a real gateway, and
erased once the message is sent or given up.
"""

from __future__ import annotations

import importlib
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol

from flask import current_app

from portal.notifications.models import MessageChannel, OutboxMessage
from portal.privacy import mask_email, mask_phone
from portal.sealing import OUTBOX, InvalidToken, unseal

log = logging.getLogger(__name__)


class PermanentDeliveryError(Exception):
    """The message can never be delivered (the address was refused): no more tries."""


# --- SMS ----------------------------------------------------------------------------


class SmsGateway(Protocol):
    """What an SMS provider's adapter offers. Raise to have the message retried later,
    ``PermanentDeliveryError`` to give up on it."""

    def send(self, phone: str, text: str) -> None: ...


class LogSmsGateway:
    """The default gateway: writes the message to the log, with the phone masked.

    It is handed the masked text of a message carrying a code: the log shows no secret.
    """

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), text)


def sms_gateway() -> SmsGateway:
    """The gateway named by ``SMS_GATEWAY`` (``package.module.Class``), else the log one."""
    path = current_app.config.get("SMS_GATEWAY")
    if not path:
        return LogSmsGateway()
    cached = current_app.extensions.get("notifications.sms_gateway")
    if cached is not None and cached[0] == path:
        return cached[1]
    module_name, _, class_name = path.replace(":", ".").rpartition(".")
    gateway = getattr(importlib.import_module(module_name), class_name)()
    current_app.extensions["notifications.sms_gateway"] = (path, gateway)
    return gateway


# --- e-mail -------------------------------------------------------------------------


def message_id_header(message: OutboxMessage) -> str:
    """A ``Message-ID`` that is the same on every attempt to send ``message``."""
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<outbox-{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"


def build_email(message: OutboxMessage) -> EmailMessage:
    """The e-mail for an outbox row: UTF-8 text, stable ``Message-ID`` and ``Date``."""
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message_id_header(message)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body, charset="utf-8")
    return email


def send_email(message: OutboxMessage) -> None:
    """Hand the e-mail to the SMTP server (``MAIL_*``); raise if it did not take it.

    A 5xx refusal of the recipient or of the message is permanent; anything else
    (no connection, 4xx "try again later", bad login) is worth another try.
    """
    config = current_app.config
    email = build_email(message)
    if config.get("MAIL_BACKEND") == "log":  # demo and development: no mail server
        log.info("e-mail %s to %s: %s", message.id, mask_email(message.address), message.subject)
        return
    smtp = smtplib.SMTP(
        config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=float(config["MAIL_TIMEOUT"])
    )
    try:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        try:
            smtp.send_message(email, to_addrs=[message.address])
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentDeliveryError(f"recipient refused: {codes}") from error
            raise
        except smtplib.SMTPDataError as error:
            if error.smtp_code >= 500:
                raise PermanentDeliveryError(f"message refused: {error.smtp_code}") from error
            raise
    finally:
        # The message is out (or not) already: a failing QUIT must not make it a retry.
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def send(message: OutboxMessage) -> None:
    """Send one message on its channel."""
    if message.channel == MessageChannel.EMAIL:
        send_email(message)
    elif message.channel == MessageChannel.SMS:
        gateway = sms_gateway()
        text = message.body
        if message.sealed_body and not isinstance(gateway, LogSmsGateway):
            try:
                text = unseal(message.sealed_body, OUTBOX)
            except InvalidToken as error:  # SECRET_KEY changed: the code is lost anyway
                raise PermanentDeliveryError("sealed text cannot be opened") from error
        gateway.send(message.address, text)
    else:  # inbox messages are written directly, never through the outbox
        raise PermanentDeliveryError(f"nothing delivers {message.channel} messages")
