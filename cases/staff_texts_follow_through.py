"""What staff are told about bad reviews (差评) and hot-spot alerts, in both languages.

Merged into ``cases.staff_texts.STAFF_TEXTS`` (kept apart so each module stays readable);
admins reword them on the message-texts page like the others.
"""

from __future__ import annotations

_PAGE_ZH = "办理页面：{case_url}"
_PAGE_EN = "Case page: {case_url}"

FOLLOW_THROUGH_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "zh_CN": {
        "bad_review_received": {
            "subject": "诉求 {number} 收到差评（{level}），请回访核实",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”的答复收到差评（{level}）。"
            "请在 {review_due} 前回访核实，再选择立行立改、限期整改、解释说明或申诉。" + _PAGE_ZH,
            "sms": "诉求 {number} 收到差评（{level}），请在 {review_due} 前回访核实：{case_url}",
        },
        "bad_review_overdue": {
            "subject": "诉求 {number} 的差评处理已超期",
            "body": "{recipient_name}，您好：诉求 {number}“{title}”的差评{stage}时限"
            "（{review_due}）已过，请立即处理。" + _PAGE_ZH,
            "sms": "诉求 {number} 的差评{stage}已超期（{review_due}）：{case_url}",
        },
        "bad_review_rectify": {
            "subject": "诉求 {number} 因差评限期整改",
            "body": "{recipient_name}，您好：{actor_name}决定对诉求 {number}“{title}”限期整改，"
            "要求：{note} 请在 {deadline} 前重新办理并答复。" + _PAGE_ZH,
            "sms": "诉求 {number} 因差评限期整改，请在 {deadline} 前答复：{case_url}",
        },
        "bad_review_appeal": {
            "subject": "诉求 {number} 的差评申诉待审核",
            "body": "{recipient_name}，您好：{actor_name}就诉求 {number}“{title}”的差评提出申诉，"
            "理由和证据：{note} 请审核是否认定为恶意或不实评价。" + _PAGE_ZH,
            "sms": "诉求 {number} 的差评申诉待您审核：{case_url}",
        },
        "bad_review_set_aside": {
            "subject": "诉求 {number} 的差评申诉已通过",
            "body": "{recipient_name}，您好：{actor_name}同意了诉求 {number}“{title}”的差评申诉，"
            "该评价不再计入统计，记录仍保留。意见：{note} " + _PAGE_ZH,
            "sms": "诉求 {number} 的差评申诉已通过：{case_url}",
        },
        "bad_review_appeal_refused": {
            "subject": "诉求 {number} 的差评申诉未通过",
            "body": "{recipient_name}，您好：{actor_name}未同意诉求 {number}“{title}”的差评申诉，"
            "意见：{note} 请改为立行立改、限期整改或解释说明。" + _PAGE_ZH,
            "sms": "诉求 {number} 的差评申诉未通过，请另行处理：{case_url}",
        },
        "hotspot_alert": {
            "subject": "热点预警：{district}“{category}”诉求激增",
            "body": "{recipient_name}，您好：{window}，{district}“{category}”类诉求共 {count} 件，"
            "远高于近期同期水平（约 {baseline} 件）。请研判处置，并在预警页面填写处置意见："
            "{alerts_url}",
            "sms": "热点预警：{district}“{category}”{window}诉求 {count} 件"
            "（近期约 {baseline} 件）：{alerts_url}",
        },
    },
    "en": {
        "bad_review_received": {
            "subject": "Bad review ({level}) of case {number}: verify it by a call",
            "body": "Dear {recipient_name}, the answer to case {number} “{title}” was rated "
            "{level}. Please call the client back by {review_due} to verify it, then fix it at "
            "once, rectify it by a deadline, explain, or appeal. " + _PAGE_EN,
            "sms": "Case {number} got a bad review ({level}); verify it by a call by "
            "{review_due}: {case_url}",
        },
        "bad_review_overdue": {
            "subject": "The bad review of case {number} is overdue",
            "body": "Dear {recipient_name}, the deadline ({review_due}) to {stage} the bad "
            "review of case {number} “{title}” has passed. Please deal with it now. "
            + _PAGE_EN,
            "sms": "The bad review of case {number} is overdue ({review_due}): {case_url}",
        },
        "bad_review_rectify": {
            "subject": "Case {number} to rectify after a bad review",
            "body": "Dear {recipient_name}, {actor_name} decided that case {number} “{title}” "
            "must be rectified after a bad review: {note} Please handle it again and reply "
            "by {deadline}. " + _PAGE_EN,
            "sms": "Case {number} to rectify after a bad review, reply by {deadline}: "
            "{case_url}",
        },
        "bad_review_appeal": {
            "subject": "Appeal against the bad review of case {number}",
            "body": "Dear {recipient_name}, {actor_name} appeals against the bad review of "
            "case {number} “{title}”, with this evidence: {note} Please decide whether the "
            "rating is malicious or untrue. " + _PAGE_EN,
            "sms": "An appeal against the bad review of case {number} awaits your decision: "
            "{case_url}",
        },
        "bad_review_set_aside": {
            "subject": "Appeal upheld for case {number}",
            "body": "Dear {recipient_name}, {actor_name} upheld the appeal against the bad "
            "review of case {number} “{title}”: the rating no longer counts and stays on "
            "record. Reason: {note} " + _PAGE_EN,
            "sms": "The appeal for case {number} was upheld: {case_url}",
        },
        "bad_review_appeal_refused": {
            "subject": "Appeal refused for case {number}",
            "body": "Dear {recipient_name}, {actor_name} refused the appeal against the bad "
            "review of case {number} “{title}”, for this reason: {note} Please fix it, "
            "rectify it or explain instead. " + _PAGE_EN,
            "sms": "The appeal for case {number} was refused, please handle it another way: "
            "{case_url}",
        },
        "hotspot_alert": {
            "subject": "Hot spot: {category} rising in {district}",
            "body": "Dear {recipient_name}, {count} requests of the category “{category}” were "
            "filed in {district} over {window}, far above its recent level (about {baseline} "
            "in as many days). Please look into it and acknowledge the alert with a note: "
            "{alerts_url}",
            "sms": "Hot spot: {count} “{category}” requests in {district} over {window} "
            "(about {baseline} usually): {alerts_url}",
        },
    },
}
