"""Hooks between rooms: a room that must act when another room changes connects here.

When a client record is merged or anonymised, the citizens room sends one of these
signals inside its own transaction; each room that holds rows about the client (cases;
the core's accounts and notifications) does its part in a receiver it connects, so no
room writes another room's tables. The factory imports each room's receivers
(``portal.register_hooks``); the core never imports a room.

Receivers flush, never commit, and may return a report (a dict of what they did, under
keys of their own) that the sender keeps, e.g. in the merge's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blinker import Namespace, Signal

from portal.privacy import mask_values

_signals = Namespace()

client_merged = _signals.signal(
    "client-merged",
    doc="""A client record was merged into another (``citizens.merge.merge_clients``).

    Sender: the surviving ``Client``; keyword arguments ``merged`` (the ``Client`` now a
    tombstone) and ``actor`` (the ``User``). Receivers move their rows from ``merged`` to
    the survivor and report what they moved.
    """,
)

client_anonymised = _signals.signal(
    "client-anonymised",
    doc="""A client is being forgotten (``citizens.privacy.anonymise_client``).

    Sender: the ``Client``; keyword arguments ``erasure`` (an ``Erasure``) and ``actor``
    (the admin ``User``). Receivers remove or mask what identifies the person in their
    rows and report what they kept.
    """,
)


@dataclass(frozen=True)
class Erasure:
    """What receivers of ``client_anonymised`` need, read before anything is erased."""

    client_id: int
    account_ids: tuple[int, ...]  # the person's web accounts
    addresses: frozenset[str]  # e-mail addresses and phones messages went to
    secrets: tuple[str, ...]  # what identifies the person, longest first

    def mask(self, text: str | None) -> str | None:
        """``text`` with every identifying value starred (staff's notes, replies, messages)."""
        return mask_values(text, self.secrets)


def send(signal: Signal, sender: Any, **kwargs: Any) -> dict[str, Any]:
    """Send ``signal`` and gather the receivers' reports into one dict."""
    report: dict[str, Any] = {}
    for _receiver, result in signal.send(sender, **kwargs):
        if result:
            report.update(result)
    return report
