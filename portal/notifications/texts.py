"""What the messages say: the one registry of message texts, placeholders, rendering.

Every message the portal sends has its text here, per language, event and channel. The
texts are data, not gettext strings: a message goes out in the *recipient's* language,
whatever the language of the request that caused it. The core's own texts are the
account messages (``ACCOUNT_EVENTS``, fixed). A room adds the events admins may reword
with a ``MessageTemplate`` row (the cases room: case events, ``cases.notification_texts``)
through ``register_event`` and the placeholders those texts use through
``register_placeholders``; the message-texts page lists what the rooms registered.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from portal import placeholders
from portal.errors import DomainError
from portal.notifications.models import MessageChannel

log = logging.getLogger(__name__)

LOCALES = ("zh_CN", "en")

# Messages about the account itself: e-mail (and inbox) or, for the phone code, SMS.
ACCOUNT_EVENTS = ("password_reset", "verify_email", "deletion_refused", "verify_phone")

# The registry of events admins may reword, in the order rooms register them: the label
# shown to admins and the channels the event is told on (its texts join DEFAULT_TEXTS).
EVENT_LABELS: dict[str, str] = {}
EVENT_CHANNELS: dict[str, tuple[MessageChannel, ...]] = {}
# Placeholders the rewordable texts may use, with the help shown next to the editor.
PLACEHOLDER_HELP: dict[str, str] = {}


def register_event(
    event: str,
    label: str,
    channels: tuple[MessageChannel, ...],
    texts: Mapping[str, Mapping[str, str]],
) -> None:
    """Add an event admins may reword: ``texts`` per locale (subject, body, sms)."""
    EVENT_LABELS[event] = label
    EVENT_CHANNELS[event] = channels
    for locale in LOCALES:
        DEFAULT_TEXTS[locale][event] = dict(texts[locale])


def register_placeholders(help_texts: Mapping[str, str]) -> None:
    """Add placeholders (name → what it says) that rewordable texts may use."""
    PLACEHOLDER_HELP.update(help_texts)


def placeholder_names() -> tuple[str, ...]:
    return tuple(PLACEHOLDER_HELP)


def channels_for(event: str) -> tuple[MessageChannel, ...]:
    return EVENT_CHANNELS[event]


def normalise_locale(locale: str | None) -> str:
    """``zh_CN`` or ``en``: the two languages messages are written in."""
    return "en" if locale and locale.lower().startswith("en") else "zh_CN"


# --- the built-in texts -----------------------------------------------------------
# Per language and event: e-mail (and inbox) subject and body, or the short SMS. The
# rooms' events join these (``register_event``).

ZH_SIGNATURE = "【民众服务平台】"
EN_SIGNATURE = "— Citizen Service Portal"
_ZH, _EN = ZH_SIGNATURE, EN_SIGNATURE

DEFAULT_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "zh_CN": {
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
    return placeholders.fill(template, {**dict.fromkeys(PLACEHOLDER_HELP, ""), **values})


def render(template: Text, values: Mapping[str, str], fallback: Text) -> Text:
    """Fill ``template``; if an admin's text cannot be filled, fill ``fallback`` instead."""
    try:
        return Text(fill(template.subject, values), fill(template.body, values))
    except DomainError as error:
        log.warning("message template cannot be filled (%s); using the built-in text", error)
        return Text(fill(fallback.subject, values), fill(fallback.body, values))
