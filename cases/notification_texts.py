"""What case messages say: the case events, their placeholders and built-in texts.

Registered in the notifications registry (``portal.notifications.texts``) when this
module is imported, so admins may reword them on the message-texts page. Client events
go by e-mail, SMS and inbox, in the client's language; the staff events and their texts
are ``cases.staff_texts``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from cases.staff_texts import (
    STAFF_CHANNELS,
    STAFF_EVENTS,
    STAFF_LABELS,
    STAFF_PLACEHOLDER_HELP,
    STAFF_TEXTS,
)
from portal.notifications.models import MessageChannel
from portal.notifications.texts import (
    EN_SIGNATURE,
    ZH_SIGNATURE,
    register_event,
    register_placeholders,
)

ZH, EN = ZH_SIGNATURE, EN_SIGNATURE

# Events told to the client (the staff's: ``cases.staff_texts.STAFF_EVENTS``).
CLIENT_EVENTS = (
    "accept", "dispatch", "reply", "request_info", "close", "not_accept", "rating_reminder",
    "rectify",
)
__all__ = ["CLIENT_CHANNELS", "CLIENT_EVENTS", "STAFF_CHANNELS", "STAFF_EVENTS", "TEXTS"]

CLIENT_CHANNELS = (MessageChannel.EMAIL, MessageChannel.SMS, MessageChannel.INBOX)

EVENT_LABELS = {
    "accept": _l("Request accepted"),
    "dispatch": _l("Request passed to a department"),
    "reply": _l("Request answered"),
    "request_info": _l("More information asked of the client"),
    "close": _l("Request closed"),
    "not_accept": _l("Request not accepted"),
    "rating_reminder": _l("Reminder to rate an answer"),
    "rectify": _l("Request handled again after a bad rating"),
    **STAFF_LABELS,
}

PLACEHOLDER_HELP = {
    "client_name": _l("the client's name"),
    "recipient_name": _l("the name of the person the message goes to"),
    "number": _l("the tracking number"),
    "title": _l("the request's title"),
    "status": _l("the request's status"),
    "deadline": _l("the running deadline"),
    "reply": _l("the latest public reply"),
    "note": _l("the reason, question or added information of this step"),
    "track_url": _l("the public progress page"),
    "rate_url": _l("the rating link of the latest answer (no sign-in needed)"),
    "case_url": _l("the case page (staff)"),
    **STAFF_PLACEHOLDER_HELP,
}

# Per language and event: e-mail (and inbox) subject and body, and the short SMS.
TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "zh_CN": {
        "accept": {
            "subject": "您的诉求 {number} 已受理",
            "body": "{client_name}，您好：您反映的“{title}”（编号 {number}）已受理，"
            "我们将尽快交有关部门办理。查询办理进度请访问 {track_url} 。" + ZH,
            "sms": ZH + "您的诉求 {number} 已受理，查询进度请访问 {track_url}",
        },
        "dispatch": {
            "subject": "您的诉求 {number} 已转交承办部门",
            "body": "{client_name}，您好：您反映的“{title}”（编号 {number}）已转交承办部门办理，"
            "办理结果将及时答复您。查询办理进度请访问 {track_url} 。" + ZH,
            "sms": ZH + "您的诉求 {number} 已转交承办部门办理，查询进度请访问 {track_url}",
        },
        "reply": {
            "subject": "您的诉求 {number} 已答复",
            "body": "{client_name}，您好：您反映的“{title}”已有答复：{reply} "
            "欢迎访问 {rate_url} 对答复进行评价（无需登录）。"
            "查询办理进度请访问 {track_url} 。" + ZH,
            "sms": ZH + "您的诉求 {number} 已答复，请访问 {track_url} 查看答复内容，"
            "欢迎访问 {rate_url} 进行评价。",
        },
        "request_info": {
            "subject": "您的诉求 {number} 需要补充信息",
            "body": "{client_name}，您好：承办部门办理您反映的“{title}”时，"
            "需要您补充以下信息：{note} 请登录平台补充，补充前办理时限暂停计算。"
            "查询办理进度请访问 {track_url} 。" + ZH,
            "sms": ZH + "您的诉求 {number} 需要补充信息，请登录平台查看并补充：{track_url}",
        },
        "close": {
            "subject": "您的诉求 {number} 已办结",
            "body": "{client_name}，您好：您反映的“{title}”已办结，感谢您的反映。"
            "欢迎访问 {rate_url} 对办理情况进行评价。" + ZH,
            "sms": ZH + "您的诉求 {number} 已办结，欢迎访问 {rate_url} 进行评价。",
        },
        "not_accept": {
            "subject": "您的诉求 {number} 未予受理",
            "body": "{client_name}，您好：很抱歉，您反映的“{title}”未予受理，原因：{note} "
            "如有疑问，请拨打 12345 热线咨询。详情请访问 {track_url} 。" + ZH,
            "sms": ZH + "很抱歉，您的诉求 {number} 未予受理，原因请访问 {track_url} 查看。",
        },
        "rating_reminder": {
            "subject": "请对诉求 {number} 的办理情况进行评价",
            "body": "{client_name}，您好：您反映的“{title}”（编号 {number}）已有答复，"
            "您还没有评价。欢迎访问 {rate_url} 对办理情况进行评价（无需登录），"
            "您的评价将帮助我们改进工作。" + ZH,
            "sms": ZH + "您的诉求 {number} 已答复，欢迎访问 {rate_url} 对办理情况进行评价。",
        },
        "rectify": {
            "subject": "您的诉求 {number} 已安排限期整改",
            "body": "{client_name}，您好：我们已收到您对诉求“{title}”（编号 {number}）的评价，"
            "并已要求承办单位限期整改，整改时限为 {deadline}。整改完成后将再次答复您，"
            "届时欢迎您再次评价。查看进度：{track_url}" + ZH,
            "sms": ZH + "您的诉求 {number} 已安排限期整改，时限 {deadline}，完成后将再次答复您。",
        },
    },
    "en": {
        "accept": {
            "subject": "Your request {number} has been accepted",
            "body": "Dear {client_name}, your request “{title}” (number {number}) has been "
            "accepted and will be passed to the department responsible as soon as possible. "
            "Follow its progress at {track_url} . " + EN,
            "sms": "Citizen Service Portal: your request {number} has been accepted. "
            "Progress: {track_url}",
        },
        "dispatch": {
            "subject": "Your request {number} is with the department responsible",
            "body": "Dear {client_name}, your request “{title}” (number {number}) has been "
            "passed to the department responsible, which will reply to you. "
            "Follow its progress at {track_url} . " + EN,
            "sms": "Citizen Service Portal: your request {number} is with the department "
            "responsible. Progress: {track_url}",
        },
        "reply": {
            "subject": "Your request {number} has been answered",
            "body": "Dear {client_name}, your request “{title}” has been answered: {reply} "
            "Please rate the answer at {rate_url} (no sign-in needed). "
            "Follow its progress at {track_url} . " + EN,
            "sms": "Citizen Service Portal: your request {number} has been answered. "
            "Read the answer at {track_url} and rate it at {rate_url}",
        },
        "request_info": {
            "subject": "More information needed for your request {number}",
            "body": "Dear {client_name}, to handle your request “{title}” the department needs "
            "more information from you: {note} Please sign in to the portal to add it; the "
            "deadline is paused until you do. Follow its progress at {track_url} . " + EN,
            "sms": "Citizen Service Portal: your request {number} needs more information. "
            "Please sign in to add it: {track_url}",
        },
        "close": {
            "subject": "Your request {number} is closed",
            "body": "Dear {client_name}, your request “{title}” is now closed. Thank you for "
            "contacting us. You can rate how it was handled at {rate_url} . " + EN,
            "sms": "Citizen Service Portal: your request {number} is closed. "
            "Rate how it was handled at {rate_url}",
        },
        "not_accept": {
            "subject": "Your request {number} was not accepted",
            "body": "Dear {client_name}, we are sorry: your request “{title}” was not accepted, "
            "for this reason: {note} If you have questions, call the 12345 hotline. "
            "Details at {track_url} . " + EN,
            "sms": "Citizen Service Portal: we are sorry, your request {number} was not "
            "accepted. See why at {track_url}",
        },
        "rating_reminder": {
            "subject": "Please rate how your request {number} was handled",
            "body": "Dear {client_name}, your request “{title}” (number {number}) has been "
            "answered and you have not rated it yet. Please rate how it was handled at "
            "{rate_url} (no sign-in needed); your rating helps us do better. " + EN,
            "sms": "Citizen Service Portal: your request {number} has been answered. "
            "Please rate how it was handled at {rate_url}",
        },
        "rectify": {
            "subject": "Your request {number} is being handled again",
            "body": "Dear {client_name}, thank you for rating the answer to your request "
            "“{title}” (number {number}). The department has been asked to put it right by "
            "{deadline}; you will get a new answer, and may rate it again. Progress: "
            "{track_url} " + EN,
            "sms": "Citizen Service Portal: your request {number} is being handled again, "
            "to be answered by {deadline}.",
        },
    },
}


for _locale, _texts in STAFF_TEXTS.items():
    TEXTS[_locale].update(_texts)


def register() -> None:
    register_placeholders(PLACEHOLDER_HELP)
    for event, label in EVENT_LABELS.items():
        channels = STAFF_CHANNELS if event in STAFF_EVENTS else CLIENT_CHANNELS
        register_event(event, label, channels, {loc: TEXTS[loc][event] for loc in TEXTS})


register()
