"""What staff messages say: the staff events, their labels and built-in texts.

Registered with the client events by ``cases.notification_texts`` (admins may reword
them on the message-texts page). Staff hear by inbox always, and by e-mail and SMS as
each of them chose (``users.notify_by_email``, ``users.notify_by_sms``), in their own
language. Who hears which event is ``cases.staff_alerts``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from cases.staff_texts_follow_through import FOLLOW_THROUGH_TEXTS
from portal.notifications.models import MessageChannel

# The events told to staff, in the order the message-texts page lists them.
STAFF_EVENTS = (
    "client_info",
    "due_soon",
    "overdue",
    "dispatched",
    "transferred",
    "assisting",
    "urged",
    "supervised",
    "extension_requested",
    "extension_approved",
    "extension_refused",
    "escalated",
    "returned",
    "replied",
    "sent_back",
    "bad_review_received",
    "bad_review_overdue",
    "bad_review_rectify",
    "bad_review_appeal",
    "bad_review_set_aside",
    "bad_review_appeal_refused",
    "hotspot_alert",
)

STAFF_CHANNELS = (MessageChannel.EMAIL, MessageChannel.SMS, MessageChannel.INBOX)

STAFF_LABELS = {
    "client_info": _l("Client added information (to staff)"),
    "due_soon": _l("Deadline near (to staff)"),
    "overdue": _l("Deadline passed (to staff)"),
    "dispatched": _l("Case dispatched to a department (to its staff)"),
    "transferred": _l("Case transferred to a department (to its staff)"),
    "assisting": _l("Department asked to assist (to its staff)"),
    "urged": _l("Case urged (to its handler)"),
    "supervised": _l("Case put under supervision (to its handler)"),
    "extension_requested": _l("Extension requested (to supervisors)"),
    "extension_approved": _l("Extension approved (to the handler who asked)"),
    "extension_refused": _l("Extension refused (to the handler who asked)"),
    "escalated": _l("Case escalated (to supervisors and department heads)"),
    "returned": _l("Case returned for dispatch (to the service centre)"),
    "replied": _l("Department replied (to the service centre)"),
    "sent_back": _l("Reply sent back to redo (to the handler)"),
    "bad_review_received": _l("Bad review received (to the department and supervisors)"),
    "bad_review_overdue": _l("Bad review deadline passed (to the department and supervisors)"),
    "bad_review_rectify": _l("Case to rectify after a bad review (to the department)"),
    "bad_review_appeal": _l("Appeal against a bad review (to supervisors)"),
    "bad_review_set_aside": _l("Appeal upheld, rating set aside (to the department)"),
    "bad_review_appeal_refused": _l("Appeal refused (to the department)"),
    "hotspot_alert": _l("Hot-spot alert: a category far above its baseline (to supervisors)"),
}

STAFF_PLACEHOLDER_HELP = {
    "department": _l("the lead department (staff messages)"),
    "actor_name": _l("who took the step (staff messages)"),
    "days": _l("the working days asked for (extension messages)"),
    "level": _l("the rating's stars, e.g. ★2 (bad review messages)"),
    "review_due": _l("the bad review's running deadline (bad review messages)"),
    "stage": _l("what is overdue: verifying or rectifying (bad review messages)"),
    "district": _l("the district (hot-spot alerts)"),
    "category": _l("the category (hot-spot alerts)"),
    "count": _l("the cases in the alert's window (hot-spot alerts)"),
    "baseline": _l("the cases expected in a window that long (hot-spot alerts)"),
    "window": _l("the alert's days, first to last (hot-spot alerts)"),
    "alerts_url": _l("the alerts page (hot-spot alerts)"),
}

# Why the sweep escalated a case (``cases.sweep.escalation_reason``), per language:
# the ``{note}`` of an escalation message.
ESCALATION_REASONS = {
    "zh_CN": {
        "overdue": "已超过办理时限",
        "redone": "多次发回重办",
        "departments": "多次转办",
    },
    "en": {
        "overdue": "the deadline has passed",
        "redone": "it was sent back to redo several times",
        "departments": "it passed through several departments",
    },
}
# What a bad review's overdue deadline was for (``{stage}``), per language.
BAD_REVIEW_STAGES = {
    "zh_CN": {"verifying": "回访核实", "rectifying": "限期整改"},
    "en": {"verifying": "verify it by a call", "rectifying": "rectify it"},
}
# Who took a step when no person did (routing, the sweep).
SYSTEM_NAME = {"zh_CN": "系统", "en": "the system"}

_PAGE_ZH = "办理页面：{case_url}"
_PAGE_EN = "Case page: {case_url}"

STAFF_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "zh_CN": {
        "client_info": {
            "subject": "诉求 {number} 的诉求人已补充信息",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”的诉求人已补充信息：{note} "
            "请及时继续办理。当前状态：{status}。办理页面：{case_url}",
            "sms": "诉求 {number} 的诉求人已补充信息，请及时办理：{case_url}",
        },
        "due_soon": {
            "subject": "诉求 {number} 即将到期",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”的办理时限为 {deadline}，"
            "即将到期，请抓紧办理。当前状态：{status}。办理页面：{case_url}",
            "sms": "诉求 {number} 将于 {deadline} 到期，请抓紧办理：{case_url}",
        },
        "overdue": {
            "subject": "诉求 {number} 已超期",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”已超过办理时限（{deadline}），"
            "请立即办理。当前状态：{status}。办理页面：{case_url}",
            "sms": "诉求 {number} 已超期（{deadline}），请立即办理：{case_url}",
        },
        "dispatched": {
            "subject": "新派诉求 {number} 待签收",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”已派至{department}，"
            "请在 {deadline} 前签收办理。" + _PAGE_ZH,
            "sms": "新派诉求 {number} 待{department}签收，签收时限 {deadline}：{case_url}",
        },
        "transferred": {
            "subject": "转办诉求 {number} 待签收",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”已由{actor_name}"
            "转至{department}，原因：{note} 请在 {deadline} 前签收办理。" + _PAGE_ZH,
            "sms": "转办诉求 {number} 待{department}签收，签收时限 {deadline}：{case_url}",
        },
        "assisting": {
            "subject": "请协办诉求 {number}",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”由{department}主办，"
            "请贵部门协助办理，并在办理页面填写协办意见。" + _PAGE_ZH,
            "sms": "请协办诉求 {number}（{department}主办）：{case_url}",
        },
        "urged": {
            "subject": "诉求 {number} 被催办",
            "body": "{recipient_name}，您好：{actor_name}催办了诉求 {number}“{title}”。{note} "
            "办理时限：{deadline}。当前状态：{status}。" + _PAGE_ZH,
            "sms": "诉求 {number} 被催办，请抓紧办理：{case_url}",
        },
        "supervised": {
            "subject": "诉求 {number} 已列入督办",
            "body": "{recipient_name}，您好：{actor_name}已将诉求 {number}“{title}”列入督办。"
            "{note} 办理时限：{deadline}。当前状态：{status}。" + _PAGE_ZH,
            "sms": "诉求 {number} 已列入督办，请重点办理：{case_url}",
        },
        "extension_requested": {
            "subject": "诉求 {number} 申请延期，待审批",
            "body": "{recipient_name}，您好：{department}的{actor_name}为诉求 {number}“{title}”"
            "申请延期 {days} 个工作日，理由：{note} 当前时限：{deadline}。请审批。" + _PAGE_ZH,
            "sms": "诉求 {number} 申请延期 {days} 个工作日，待您审批：{case_url}",
        },
        "extension_approved": {
            "subject": "诉求 {number} 的延期申请已批准",
            "body": "{recipient_name}，您好：您为诉求 {number}“{title}”提出的延期申请已由"
            "{actor_name}批准。{note} 新的办理时限：{deadline}。" + _PAGE_ZH,
            "sms": "诉求 {number} 的延期申请已批准，新时限 {deadline}：{case_url}",
        },
        "extension_refused": {
            "subject": "诉求 {number} 的延期申请未获批准",
            "body": "{recipient_name}，您好：您为诉求 {number}“{title}”提出的延期申请未获"
            "{actor_name}批准。{note} 办理时限仍为 {deadline}。" + _PAGE_ZH,
            "sms": "诉求 {number} 的延期申请未获批准，时限仍为 {deadline}：{case_url}",
        },
        "escalated": {
            "subject": "诉求 {number} 已升级督办",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”（{department}）已升级，"
            "原因：{note}。当前状态：{status}。" + _PAGE_ZH,
            "sms": "诉求 {number} 已升级督办（{note}）：{case_url}",
        },
        "returned": {
            "subject": "诉求 {number} 被退回，待重新派单",
            "body": "{recipient_name}，您好：{actor_name}退回了诉求 {number}“{title}”，"
            "原因：{note} 请重新派单。" + _PAGE_ZH,
            "sms": "诉求 {number} 被退回，请重新派单：{case_url}",
        },
        "replied": {
            "subject": "诉求 {number} 已答复，待办结或跟进",
            "body": "{recipient_name}，您好：{department}已答复诉求 {number}“{title}”：{reply} "
            "请审核后办结，或发回重办。" + _PAGE_ZH,
            "sms": "诉求 {number} 已答复，请审核办结：{case_url}",
        },
        "sent_back": {
            "subject": "诉求 {number} 被发回重办",
            "body": "{recipient_name}，您好：{actor_name}将诉求 {number}“{title}”的答复发回重办，"
            "原因：{note} 请重新办理并答复。" + _PAGE_ZH,
            "sms": "诉求 {number} 被发回重办，请重新办理：{case_url}",
        },
    },
    "en": {
        "client_info": {
            "subject": "The client added information to case {number}",
            "body": "Dear {recipient_name}, the client of case {number} “{title}” has added "
            "information: {note} Please carry on handling it. Current status: {status}. "
            "Case page: {case_url}",
            "sms": "The client added information to case {number}: {case_url}",
        },
        "due_soon": {
            "subject": "Case {number} is due soon",
            "body": "Dear {recipient_name}, case {number} “{title}” is due by {deadline}. "
            "Please deal with it before then. Current status: {status}. Case page: {case_url}",
            "sms": "Case {number} is due by {deadline}: {case_url}",
        },
        "overdue": {
            "subject": "Case {number} is overdue",
            "body": "Dear {recipient_name}, case {number} “{title}” has passed its deadline "
            "({deadline}). Please deal with it now. Current status: {status}. "
            "Case page: {case_url}",
            "sms": "Case {number} is overdue ({deadline}): {case_url}",
        },
        "dispatched": {
            "subject": "New case {number} to sign for",
            "body": "Dear {recipient_name}, case {number} “{title}” has been dispatched to "
            "{department}. Please sign for it by {deadline}. " + _PAGE_EN,
            "sms": "New case {number} for {department}, sign for it by {deadline}: {case_url}",
        },
        "transferred": {
            "subject": "Case {number} transferred to you, to sign for",
            "body": "Dear {recipient_name}, {actor_name} transferred case {number} “{title}” "
            "to {department}, for this reason: {note} Please sign for it by {deadline}. "
            + _PAGE_EN,
            "sms": "Case {number} transferred to {department}, sign for it by {deadline}: "
            "{case_url}",
        },
        "assisting": {
            "subject": "Please assist with case {number}",
            "body": "Dear {recipient_name}, case {number} “{title}” is led by {department}. "
            "Your department is asked to assist: please give your opinion as a note on the "
            "case page. " + _PAGE_EN,
            "sms": "Please assist with case {number} (led by {department}): {case_url}",
        },
        "urged": {
            "subject": "Case {number} was urged",
            "body": "Dear {recipient_name}, {actor_name} urged case {number} “{title}”. {note} "
            "Deadline: {deadline}. Current status: {status}. " + _PAGE_EN,
            "sms": "Case {number} was urged, please deal with it: {case_url}",
        },
        "supervised": {
            "subject": "Case {number} is under supervision",
            "body": "Dear {recipient_name}, {actor_name} put case {number} “{title}” under "
            "supervision. {note} Deadline: {deadline}. Current status: {status}. " + _PAGE_EN,
            "sms": "Case {number} is under supervision: {case_url}",
        },
        "extension_requested": {
            "subject": "Extension requested for case {number}",
            "body": "Dear {recipient_name}, {actor_name} of {department} asks for {days} more "
            "working days for case {number} “{title}”, for this reason: {note} Current "
            "deadline: {deadline}. Please decide. " + _PAGE_EN,
            "sms": "Case {number}: {days} more working days asked for, please decide: "
            "{case_url}",
        },
        "extension_approved": {
            "subject": "Extension approved for case {number}",
            "body": "Dear {recipient_name}, {actor_name} approved the extension you asked for "
            "case {number} “{title}”. {note} New deadline: {deadline}. " + _PAGE_EN,
            "sms": "Extension approved for case {number}, new deadline {deadline}: {case_url}",
        },
        "extension_refused": {
            "subject": "Extension refused for case {number}",
            "body": "Dear {recipient_name}, {actor_name} refused the extension you asked for "
            "case {number} “{title}”. {note} The deadline stays {deadline}. " + _PAGE_EN,
            "sms": "Extension refused for case {number}, deadline stays {deadline}: {case_url}",
        },
        "escalated": {
            "subject": "Case {number} has been escalated",
            "body": "Dear {recipient_name}, case {number} “{title}” ({department}) has been "
            "escalated because {note}. Current status: {status}. " + _PAGE_EN,
            "sms": "Case {number} escalated ({note}): {case_url}",
        },
        "returned": {
            "subject": "Case {number} returned, to dispatch again",
            "body": "Dear {recipient_name}, {actor_name} returned case {number} “{title}”, "
            "for this reason: {note} Please dispatch it again. " + _PAGE_EN,
            "sms": "Case {number} was returned, please dispatch it again: {case_url}",
        },
        "replied": {
            "subject": "Case {number} answered, to close or follow up",
            "body": "Dear {recipient_name}, {department} answered case {number} “{title}”: "
            "{reply} Please review it and close the case, or send it back to redo. "
            + _PAGE_EN,
            "sms": "Case {number} was answered, please review and close it: {case_url}",
        },
        "sent_back": {
            "subject": "Case {number} sent back to redo",
            "body": "Dear {recipient_name}, {actor_name} sent the reply to case {number} "
            "“{title}” back to redo, for this reason: {note} Please handle it again and "
            "reply. " + _PAGE_EN,
            "sms": "Case {number} was sent back to redo: {case_url}",
        },
    },
}

# The satisfaction loop's and the hot-spot alerts' texts live beside these.
for _locale, _events in FOLLOW_THROUGH_TEXTS.items():
    STAFF_TEXTS[_locale].update(_events)

# Every SMS carries the portal's name, as the clients' messages do.
_SMS_PREFIX = {"zh_CN": "【民众服务平台】", "en": "Citizen Service Portal: "}
for _locale, _events in STAFF_TEXTS.items():
    for _text in _events.values():
        _text["sms"] = _SMS_PREFIX[_locale] + _text["sms"]
