"""Masking of personal data (ID numbers, phones) for lists, pages and logs."""

from __future__ import annotations


def mask_phone(value: str | None) -> str:
    """``13800138000`` → ``138****8000``; short numbers keep only their last two digits."""
    if not value:
        return ""
    value = value.strip()
    if len(value) >= 8:
        return f"{value[:3]}****{value[-4:]}"
    return "*" * max(len(value) - 2, 0) + value[-2:]


def mask_id_number(value: str | None) -> str:
    """An 18-character ID number keeps its first 3 and last 4 characters."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_email(value: str | None) -> str:
    """``zhangsan@example.org`` → ``z***@example.org``."""
    if not value or "@" not in value:
        return mask_phone(value)
    name, _, domain = value.partition("@")
    return f"{name[:1]}***@{domain}"


def mask_values(text: str | None, values: tuple[str, ...] | list[str]) -> str | None:
    """``text`` with each of ``values`` replaced by ``***`` (give the longest first)."""
    if not text:
        return text
    for value in values:
        text = text.replace(value, "***")
    return text
