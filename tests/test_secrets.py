"""Secrets stay out of the database and the logs: the SMS code is stored masked (the real
text sealed, erased once delivered), and every log line has personal numbers masked."""

from __future__ import annotations

import io
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from sqlalchemy import select

from portal.db import db
from portal.logmask import MaskingFilter, install_log_masking
from portal.notifications.delivery import PermanentDeliveryError, deliver_due
from portal.notifications.models import InboxMessage, OutboxMessage, OutboxStatus
from tests.conftest import submit

CODE = "654321"
PHONE = "13912345678"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fixed_code(monkeypatch):
    """The next phone code is ``CODE``, so a test can look for it anywhere."""
    monkeypatch.setattr(
        "citizens.phone_verification.secrets", SimpleNamespace(randbelow=lambda n: int(CODE))
    )


class RecordingGateway:
    """An SMS gateway named by ``SMS_GATEWAY`` that keeps what it is given."""

    sent: list[tuple[str, str]] = []
    refuse = False

    def send(self, phone: str, text: str) -> None:
        if RecordingGateway.refuse:
            raise PermanentDeliveryError("number refused")
        RecordingGateway.sent.append((phone, text))


def stored_text(app) -> list[str]:
    """Every column of every outbox and inbox row, as text."""
    with app.app_context():
        rows = [*db.session.scalars(select(OutboxMessage)), *db.session.scalars(
            select(InboxMessage))]
        return [str(getattr(row, c.key)) for row in rows for c in row.__table__.columns]


def ask_for_code(client) -> None:
    response = submit(client, "/account", {}, action="/account/verify-phone")
    assert response.status_code == 302


def test_the_code_is_stored_and_logged_only_masked(
    client, database, login_as, fixed_code, monkeypatch, caplog
):
    monkeypatch.setitem(database.config, "NOTIFY_INLINE", True)  # the log gateway sends it
    login_as("citizen", phone=PHONE)
    with caplog.at_level(logging.DEBUG):
        ask_for_code(client)
    assert "SMS to 139****5678" in caplog.text and "******" in caplog.text
    assert CODE not in caplog.text and PHONE not in caplog.text
    assert not any(CODE in text for text in stored_text(database))
    with database.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == OutboxStatus.SENT and message.sealed_body is None


@pytest.mark.parametrize("refuse", [False, True])
def test_delivery_sends_the_real_code_then_erases_it(
    client, database, login_as, fixed_code, monkeypatch, refuse
):
    monkeypatch.setitem(database.config, "SMS_GATEWAY", "tests.test_secrets.RecordingGateway")
    monkeypatch.setattr(RecordingGateway, "sent", [])
    monkeypatch.setattr(RecordingGateway, "refuse", refuse)
    login_as("citizen", phone=PHONE)
    ask_for_code(client)
    with database.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.sealed_body and CODE not in message.sealed_body
        assert CODE not in message.body and "******" in message.body
        counts = deliver_due()
    assert (counts.sent, counts.failed) == ((0, 1) if refuse else (1, 0))
    if not refuse:
        [(phone, text)] = RecordingGateway.sent
        assert phone == PHONE and CODE in text and "******" not in text
    with database.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.sealed_body is None
    assert not any(CODE in text for text in stored_text(database))


def masked(message: str, *args) -> str:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, message, args, None)
    assert MaskingFilter().filter(record)
    return record.getMessage()


def test_the_log_filter_masks_phones_id_numbers_and_email_names():
    assert masked("GET /intake/new?q=13912345678") == "GET /intake/new?q=139****5678"
    assert masked("client %s called from %s", 7, "+86 139 1234 5678") == (
        "client 7 called from 139****5678"
    )
    line = masked("search %s / %s / %s", "11010519491231002X", "91350100M000100Y43",
                  "wang.wu@example.org")
    assert line == "search 110***********002X / 913***********0Y43 / w***@example.org"
    assert masked("/clients?q=wang.wu%40example.org") == "/clients?q=w***%40example.org"
    # Nothing else changes: case numbers, times, short numbers.
    assert masked("case 2026-000123 took %d ms", 1234) == "case 2026-000123 took 1234 ms"


def test_the_root_handlers_and_gunicorn_logs_are_masked(capsys):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_log_masking()
        logging.getLogger("portal.test").warning("lookup %s", PHONE)
    finally:
        root.removeHandler(handler)
    assert stream.getvalue() == "lookup 139****5678\n"

    # gunicorn.conf.py's logger class masks the access log gunicorn writes.
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("accesslog", "-")
    logger = settings["logger_class"](config)
    try:
        logger.access_log.info(config.access_log_format, {
            "h": "127.0.0.1", "l": "-", "u": "-", "t": "[30/Nov/2026:06:50:32 +0000]",
            "r": "GET /clients?q=13912345678&id=11010519491231002X HTTP/1.1", "s": "200",
            "b": "2", "f": "http://x/requests?q=13800138000", "a": "curl/7.88.1",
        })
    finally:
        for log in (logger.error_log, logger.access_log):
            for h in list(log.handlers):
                log.removeHandler(h)
    out = capsys.readouterr().out
    assert "GET /clients?q=139****5678&id=110***********002X HTTP/1.1" in out
    assert "q=138****8000" in out and PHONE not in out
