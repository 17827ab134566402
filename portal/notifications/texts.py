"""What the messages say: the one registry of message texts, placeholders, rendering.

Every message the portal sends (case events to clients and staff, account e-mails, the
phone code) has its text here, per language, event and channel. The texts are data, not
gettext strings: a message goes out in the *recipient's* language, whatever the language
of the request that caused it. An admin may override the text of a case event (``EVENTS``)
with a ``MessageTemplate`` row; account texts (``ACCOUNT_EVENTS``) are fixed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal import placeholders
from portal.errors import DomainError
from portal.notifications.models import MessageChannel

log = logging.getLogger(__name__)

LOCALES = ("zh_CN", "en")

# Events told to the client, and events told to the staff handling the case.
CLIENT_EVENTS = ("accept", "dispatch", "reply", "request_info", "close", "not_accept")
STAFF_EVENTS = ("client_info", "due_soon", "overdue")
EVENTS = CLIENT_EVENTS + STAFF_EVENTS  # the ones admins may reword
# Messages about the account itself: e-mail (and inbox) or, for the phone code, SMS.
ACCOUNT_EVENTS = ("password_reset", "verify_email", "deletion_refused", "verify_phone")

# Staff hear by inbox and e-mail; clients also by SMS.
CLIENT_CHANNELS = (MessageChannel.EMAIL, MessageChannel.SMS, MessageChannel.INBOX)
STAFF_CHANNELS = (MessageChannel.EMAIL, MessageChannel.INBOX)

EVENT_LABELS = {
    "accept": _l("Request accepted"),
    "dispatch": _l("Request passed to a department"),
    "reply": _l("Request answered"),
    "request_info": _l("More information asked of the client"),
    "close": _l("Request closed"),
    "not_accept": _l("Request not accepted"),
    "client_info": _l("Client added information (to staff)"),
    "due_soon": _l("Deadline near (to staff)"),
    "overdue": _l("Deadline passed (to staff)"),
}

PLACEHOLDERS = (
    "client_name",
    "recipient_name",
    "number",
    "title",
    "status",
    "deadline",
    "reply",
    "note",
    "track_url",
    "case_url",
)

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
    "case_url": _l("the case page (staff)"),
}


def channels_for(event: str) -> tuple[MessageChannel, ...]:
    return STAFF_CHANNELS if event in STAFF_EVENTS else CLIENT_CHANNELS


def normalise_locale(locale: str | None) -> str:
    """``zh_CN`` or ``en``: the two languages messages are written in."""
    return "en" if locale and locale.lower().startswith("en") else "zh_CN"


# --- the built-in texts -----------------------------------------------------------
# Per language and event: e-mail (and inbox) subject and body, and the short SMS
# (clients only: staff hear by inbox and e-mail).

_ZH = "【民众服务平台】"
_EN = "— Citizen Service Portal"

DEFAULT_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "zh_CN": {
        "accept": {
            "subject": "您的诉求 {number} 已受理",
            "body": "{client_name}，您好：您反映的“{title}”（编号 {number}）已受理，"
            "我们将尽快交有关部门办理。查询办理进度请访问 {track_url} 。" + _ZH,
            "sms": _ZH + "您的诉求 {number} 已受理，查询进度请访问 {track_url}",
        },
        "dispatch": {
            "subject": "您的诉求 {number} 已转交承办部门",
            "body": "{client_name}，您好：您反映的“{title}”（编号 {number}）已转交承办部门办理，"
            "办理结果将及时答复您。查询办理进度请访问 {track_url} 。" + _ZH,
            "sms": _ZH + "您的诉求 {number} 已转交承办部门办理，查询进度请访问 {track_url}",
        },
        "reply": {
            "subject": "您的诉求 {number} 已答复",
            "body": "{client_name}，您好：您反映的“{title}”已有答复：{reply} "
            "查询办理进度请访问 {track_url} 。" + _ZH,
            "sms": _ZH + "您的诉求 {number} 已答复，请访问 {track_url} 查看答复内容。",
        },
        "request_info": {
            "subject": "您的诉求 {number} 需要补充信息",
            "body": "{client_name}，您好：承办部门办理您反映的“{title}”时，"
            "需要您补充以下信息：{note} 请登录平台补充，补充前办理时限暂停计算。"
            "查询办理进度请访问 {track_url} 。" + _ZH,
            "sms": _ZH + "您的诉求 {number} 需要补充信息，请登录平台查看并补充：{track_url}",
        },
        "close": {
            "subject": "您的诉求 {number} 已办结",
            "body": "{client_name}，您好：您反映的“{title}”已办结，感谢您的反映。"
            "欢迎访问 {track_url} 对办理情况进行评价。" + _ZH,
            "sms": _ZH + "您的诉求 {number} 已办结，欢迎访问 {track_url} 进行评价。",
        },
        "not_accept": {
            "subject": "您的诉求 {number} 未予受理",
            "body": "{client_name}，您好：很抱歉，您反映的“{title}”未予受理，原因：{note} "
            "如有疑问，请拨打 12345 热线咨询。详情请访问 {track_url} 。" + _ZH,
            "sms": _ZH + "很抱歉，您的诉求 {number} 未予受理，原因请访问 {track_url} 查看。",
        },
        "client_info": {
            "subject": "诉求 {number} 的诉求人已补充信息",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”的诉求人已补充信息：{note} "
            "请及时继续办理。当前状态：{status}。办理页面：{case_url}",
        },
        "due_soon": {
            "subject": "诉求 {number} 即将到期",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”的办理时限为 {deadline}，"
            "即将到期，请抓紧办理。当前状态：{status}。办理页面：{case_url}",
        },
        "overdue": {
            "subject": "诉求 {number} 已超期",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”已超过办理时限（{deadline}），"
            "请立即办理。当前状态：{status}。办理页面：{case_url}",
        },
        # Account messages (placeholders: name, username, minutes, url, email, date,
        # reason, code).
        "password_reset": {
            "subject": "重设您的密码",
            "body": "{name}，您好：\n\n有人（希望是您本人）请求重设账户 {username} 的密码。"
            "请在 {minutes} 分钟内打开下面的链接设置新密码，链接只能使用一次：\n\n{url}\n\n"
            "如果不是您本人操作，请忽略此邮件，您的密码不会改变。\n" + _ZH,
        },
        "verify_email": {
            "subject": "请验证您的电子邮箱",
            "body": "{name}，您好：\n\n请打开下面的链接，确认 {email} 是您的电子邮箱：\n\n{url}\n\n"
            "如果您没有在民众服务平台登记此邮箱，请忽略此邮件。\n" + _ZH,
        },
        "deletion_refused": {
            "subject": "您的注销申请未获批准",
            "body": "{name}，您好：您于 {date} 提交的注销（删除个人信息）申请未获批准，"
            "原因：{reason} 如有疑问，请拨打 12345 热线咨询。" + _ZH,
        },
        "verify_phone": {"sms": "您的验证码为 {code}，10分钟内有效。" + _ZH},
    },
    "en": {
        "accept": {
            "subject": "Your request {number} has been accepted",
            "body": "Dear {client_name}, your request “{title}” (number {number}) has been "
            "accepted and will be passed to the department responsible as soon as possible. "
            "Follow its progress at {track_url} . " + _EN,
            "sms": "Citizen Service Portal: your request {number} has been accepted. "
            "Progress: {track_url}",
        },
        "dispatch": {
            "subject": "Your request {number} is with the department responsible",
            "body": "Dear {client_name}, your request “{title}” (number {number}) has been "
            "passed to the department responsible, which will reply to you. "
            "Follow its progress at {track_url} . " + _EN,
            "sms": "Citizen Service Portal: your request {number} is with the department "
            "responsible. Progress: {track_url}",
        },
        "reply": {
            "subject": "Your request {number} has been answered",
            "body": "Dear {client_name}, your request “{title}” has been answered: {reply} "
            "Follow its progress at {track_url} . " + _EN,
            "sms": "Citizen Service Portal: your request {number} has been answered. "
            "Read the answer at {track_url}",
        },
        "request_info": {
            "subject": "More information needed for your request {number}",
            "body": "Dear {client_name}, to handle your request “{title}” the department needs "
            "more information from you: {note} Please sign in to the portal to add it; the "
            "deadline is paused until you do. Follow its progress at {track_url} . " + _EN,
            "sms": "Citizen Service Portal: your request {number} needs more information. "
            "Please sign in to add it: {track_url}",
        },
        "close": {
            "subject": "Your request {number} is closed",
            "body": "Dear {client_name}, your request “{title}” is now closed. Thank you for "
            "contacting us. You can rate how it was handled at {track_url} . " + _EN,
            "sms": "Citizen Service Portal: your request {number} is closed. "
            "Rate how it was handled at {track_url}",
        },
        "not_accept": {
            "subject": "Your request {number} was not accepted",
            "body": "Dear {client_name}, we are sorry: your request “{title}” was not accepted, "
            "for this reason: {note} If you have questions, call the 12345 hotline. "
            "Details at {track_url} . " + _EN,
            "sms": "Citizen Service Portal: we are sorry, your request {number} was not "
            "accepted. See why at {track_url}",
        },
        "client_info": {
            "subject": "The client added information to case {number}",
            "body": "Dear {recipient_name}, the client of case {number} “{title}” has added "
            "information: {note} Please carry on handling it. Current status: {status}. "
            "Case page: {case_url}",
        },
        "due_soon": {
            "subject": "Case {number} is due soon",
            "body": "Dear {recipient_name}, case {number} “{title}” is due by {deadline}. "
            "Please deal with it before then. Current status: {status}. Case page: {case_url}",
        },
        "overdue": {
            "subject": "Case {number} is overdue",
            "body": "Dear {recipient_name}, case {number} “{title}” has passed its deadline "
            "({deadline}). Please deal with it now. Current status: {status}. "
            "Case page: {case_url}",
        },
        "password_reset": {
            "subject": "Reset your password",
            "body": "Dear {name},\n\nSomeone (we hope you) asked to reset the password of the "
            "account {username}. Open this link within {minutes} minutes to choose a new "
            "password; it works once:\n\n{url}\n\nIf it was not you, ignore this e-mail: your "
            "password stays as it is.\n" + _EN,
        },
        "verify_email": {
            "subject": "Please confirm your e-mail address",
            "body": "Dear {name},\n\nOpen this link to confirm that {email} is your e-mail "
            "address:\n\n{url}\n\nIf you did not give this address to the Citizen Service "
            "Portal, ignore this e-mail.\n" + _EN,
        },
        "deletion_refused": {
            "subject": "Your request to delete your data was refused",
            "body": "Dear {name}, your request of {date} to delete your account and personal "
            "data was refused, for this reason: {reason} If you have questions, call the 12345 "
            "hotline. " + _EN,
        },
        "verify_phone": {
            "sms": "Your verification code is {code}. It is valid for 10 minutes. "
            "[Citizen Service Portal]",
        },
    },
}


@dataclass(frozen=True)
class Text:
    """The subject (empty for SMS) and body of one message, before or after rendering."""

    subject: str
    body: str


def default_text(event: str, channel: MessageChannel, locale: str) -> Text:
    """The built-in text of ``event`` on ``channel`` in ``locale`` (inbox = e-mail)."""
    texts = DEFAULT_TEXTS[normalise_locale(locale)][event]
    if channel == MessageChannel.SMS:
        return Text("", texts["sms"])
    return Text(texts["subject"], texts["body"])


def message_text(event: str, channel: MessageChannel, locale: str, **values: object) -> Text:
    """A fixed (account) text of the registry, filled with ``values`` (plain, never parsed)."""
    text = default_text(event, channel, locale)
    return Text(placeholders.fill(text.subject, values), placeholders.fill(text.body, values))


# --- placeholders -----------------------------------------------------------------


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with its placeholders filled (see ``portal.placeholders``).

    Raises DomainError for text that is not a plain template (an unknown name, a stray
    brace, a format specification).
    """
    # Every known name may appear in every message: one the event does not know is empty.
    return placeholders.fill(template, {**dict.fromkeys(PLACEHOLDERS, ""), **values})


def render(template: Text, values: Mapping[str, str], fallback: Text) -> Text:
    """Fill ``template``; if an admin's text cannot be filled, fill ``fallback`` instead."""
    try:
        return Text(fill(template.subject, values), fill(template.body, values))
    except DomainError as error:
        log.warning("message template cannot be filled (%s); using the built-in text", error)
        return Text(fill(fallback.subject, values), fill(fallback.body, values))
