"""Business rules for cases: filing, numbering, routing, the life cycle and its records.

Each public function is one step a person takes: it checks that this user may take
it now, changes the case, and writes the timeline event. Services flush, never commit:
the request (or command) that called them commits once, so every step is one
transaction, and a refusal (``TransitionRefused``) leaves nothing behind.

One module per concern; callers import from here:

- ``catalogue``: tracking numbers, the category tree, districts, departments, routing;
- ``filing``: the filing step behind ``cases.filing``'s door;
- ``rules``: who may take which step now, the shared checks, the timeline line;
- ``lifecycle``: the steps that change the state (``cases.workflow.TRANSITIONS``);
- ``records``: the steps that record without changing it (``cases.workflow.RECORDS``);
- ``actions``: ``perform``, the case page's single door.
"""

from cases.services.actions import ActionInput, perform
from cases.services.catalogue import (
    active_departments,
    districts,
    leaf_categories,
    local_now,
    next_case_number,
    route_department,
)
from cases.services.filing import CONTACT_CHANNELS, CaseRequest, file_case, record_filing_contact
from cases.services.lifecycle import (
    accept_case,
    answer_at_intake,
    close_case,
    dispatch_case,
    merge_case,
    not_accept_case,
    reopen_case,
    reply_to_case,
    request_information,
    resume_case,
    return_case,
    send_back_to_redo,
    sign_for_case,
    transfer_case,
    withdraw_case,
)
from cases.services.records import (
    MAX_EXTENSION_DAYS,
    add_assisting_departments,
    add_internal_note,
    claim_case,
    classify_case,
    decide_extension,
    link_cases,
    request_extension,
    supervise_case,
    urge_case,
)
from cases.services.rules import (
    TransitionRefused,
    allowed_records,
    allowed_transitions,
    may_record,
    may_take,
    record_event,
    touch,
)

__all__ = [
    "CONTACT_CHANNELS",
    "MAX_EXTENSION_DAYS",
    "ActionInput",
    "CaseRequest",
    "TransitionRefused",
    "accept_case",
    "active_departments",
    "add_assisting_departments",
    "add_internal_note",
    "allowed_records",
    "allowed_transitions",
    "answer_at_intake",
    "claim_case",
    "classify_case",
    "close_case",
    "decide_extension",
    "dispatch_case",
    "districts",
    "file_case",
    "leaf_categories",
    "link_cases",
    "local_now",
    "may_record",
    "may_take",
    "merge_case",
    "next_case_number",
    "not_accept_case",
    "perform",
    "record_event",
    "record_filing_contact",
    "reopen_case",
    "reply_to_case",
    "request_extension",
    "request_information",
    "resume_case",
    "return_case",
    "route_department",
    "send_back_to_redo",
    "sign_for_case",
    "supervise_case",
    "touch",
    "transfer_case",
    "urge_case",
    "withdraw_case",
]
