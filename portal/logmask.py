"""Masking personal numbers in every log line.

Search forms put phones, ID numbers and e-mail addresses into URLs (``/clients?q=...``),
and URLs reach the access log; a careless message may carry one too. ``MaskingFilter``
rewrites each record's message (its ``msg`` and ``args`` merged into one text) and its
traceback text, so a handler that has it writes none of them in full:

- mainland mobile numbers (11 digits starting with 1, with or without +86) → ``139****5678``
- 18-character resident ID numbers and unified social credit codes → ``110**********1234``
- e-mail local parts (also ``%40``-encoded) → ``w***@example.org``

``install_log_masking`` puts it on handlers: the root logger's in ``create_app``,
gunicorn's access and error logs through ``gunicorn.conf.py``.
"""

from __future__ import annotations

import logging
import re

_SEP = r"(?:[-\s+]|%20)?"  # a space or dash inside a number, also URL-encoded
MOBILE_RE = re.compile(
    rf"(?<![0-9A-Za-z])(?:(?:\+|%2B|00)?86{_SEP})?(1\d{{2}}){_SEP}\d{{4}}{_SEP}(\d{{4}})(?!\d)",
    re.IGNORECASE,
)
# A resident ID number (17 digits and a check digit or X) or a credit code (GB 32100:
# 2 code characters, a 6-digit area code, 10 code characters), any letter case.
ID_RE = re.compile(
    r"(?<![0-9A-Za-z])(\d{17}[\dX]|[0-9A-HJ-NP-RT-UW-Y]{2}\d{6}[0-9A-HJ-NP-RT-UW-Y]{10})"
    r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)
EMAIL_RE = re.compile(
    r"(?<![\w.%+-])([\w.+-]|%[0-9A-F]{2})+(@|%40)(?=[\w-]+(\.[\w-]+)+)", re.IGNORECASE
)


def _email(match: re.Match[str]) -> str:
    return f"{match.group(0)[:1]}***{match.group(2)}"


def mask_text(text: str) -> str:
    """``text`` with every phone, ID number or credit code and e-mail name masked."""
    if not text:
        return text
    text = ID_RE.sub(lambda m: f"{m.group(1)[:3]}{'*' * 11}{m.group(1)[-4:]}", text)
    text = MOBILE_RE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    return EMAIL_RE.sub(_email, text)


class MaskingFilter(logging.Filter):
    """Masks the record in place; never drops one."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format: leave it to the handler to report
            return True
        record.msg, record.args = mask_text(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def install_log_masking(*loggers: logging.Logger) -> None:
    """Put one ``MaskingFilter`` on every handler of ``loggers`` (default: the root logger)."""
    for logger in loggers or (logging.getLogger(),):
        for handler in logger.handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())
