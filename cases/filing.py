"""The one door into filing, whatever the channel: web, clerk intake, later API, Open311, import.

``file_request`` takes data, never the web request, so it runs in any app context (a
worker, a command, an API handler). In one transaction (flushed, never committed) it
finds or makes the client (the clients room's service), files the case
(``cases.services.file_case``: number, first event, the contact-log line, routing, the
tracking code) and stores the attachments.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from werkzeug.datastructures import FileStorage

from cases.actors import Actor, Who
from cases.attachments import store_attachments
from cases.models import Attachment, Case
from cases.services import CaseRequest, file_case

# The module, not its names: it resolves even while citizens.services is half-imported
# (citizens.queries imports cases.models, whose package imports the views, which import us).
from citizens import services as client_services
from citizens.models import Client

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Filing:
    """What the door hands back: the case, whose it is, and the code shown once."""

    case: Case
    client: Client
    tracking_code: str
    attachments: list[Attachment] = field(default_factory=list)


def file_request(
    request: CaseRequest,
    *,
    actor: Who,
    client: Client | int | None = None,
    new_client: client_services.ClientDetails | None = None,
    files: Sequence[FileStorage] = (),
) -> Filing:
    """File ``request`` for ``client`` (a record or its id), else for a client made from
    ``new_client``; ``request.channel`` says how it reached us, ``actor`` who filed it.

    Raises ``DomainError`` (a bad category, district, client detail or file) with nothing
    kept once the caller rolls back; files already written are removed then too.
    """
    who = Actor.of(actor)
    asker = client_services.client_for_filing(client, new_client)
    case = file_case(asker, who, request)
    stored = store_attachments(case, who.user, list(files)) if files else []
    log.info("case %s filed through the door (%s, %s)", case.number, request.channel.value,
             who.kind)
    return Filing(case=case, client=asker, tracking_code=case.issued_tracking_code,
                  attachments=stored)
