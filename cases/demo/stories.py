"""What the demo's requests say and how their stories go: places, texts, the fates a
request may meet (its steps) and how likely each is at a given age, and the usual delays."""

from __future__ import annotations

PLACES = (
    "五一路", "八一七北路", "工业路", "杨桥路", "华林路", "六一路", "江滨大道", "福飞路",
    "金山碧水小区", "阳光城小区", "东浦新村", "温泉公园", "三坊七巷", "万达广场附近",
    "洪山桥", "火车站南广场", "湖东路", "西湖公园", "仓山万达", "学生街",
)
DESCRIPTIONS = (
    "{title}，已经持续{days}天了，附近居民反映强烈，希望相关部门尽快到现场查看处理。",
    "我是附近居民，{title}。此前向物业和社区反映过，但一直没有解决，请相关部门督促处理。",
    "{title}，每天早晚高峰特别明显，给周边群众生活带来很大不便，恳请有关部门予以解决。",
    "本人多次发现{title}的情况，担心存在安全隐患，请尽快核实并回复处理结果。",
)
REPLIES = (
    "您好，您反映的问题已转交属地街道核实处理，工作人员已到现场查看并督促整改，感谢您的监督。",
    "您好，经核实，您反映的情况属实，相关单位已完成整改。如仍有问题，欢迎再次反映。",
    "您好，关于您咨询的问题，具体办理流程及所需材料可在政务服务网查询，或拨打12345热线咨询。",
    "您好，已联系相关责任单位，承诺在五个工作日内处理完毕，后续将持续跟进。",
)
NOTES = {
    "answer": "您好，您反映的事项已记录并告知办理渠道，可拨打12345热线或登录政务服务网办理。",
    "not_accept": "诉求内容属于司法程序处理范围，已告知通过法律途径解决。",
    "request_info": "请补充现场照片及具体位置。",
    "extension": "需协调多个单位现场勘查，申请延期。",
    "urge": "群众再次来电催问，请加快办理。",
    "supervise": "多次反映未解决，列入督办。",
    "redo": "答复未解决群众实际问题，请重新办理。",
    "return": "经核实，该事项不属于本单位职责范围，请重新派单。",
    "withdraw": "问题已自行解决。",
}
# Where a returned case goes instead (the department the clerk picks next).
REDISPATCH = {"urban": "housing", "housing": "urban", "police": "urban", "transport": "police"}

# What happens to a dispatched case (after filing and dispatch), step by step.
DEPARTMENT_FATES: dict[str, tuple[str, ...]] = {
    "dispatched": (),
    "in_progress": ("sign_for",),
    "urged": ("sign_for", "urge"),
    "supervised": ("sign_for", "supervise", "urge"),
    "waiting": ("sign_for", "request_info"),
    "resumed": ("sign_for", "request_info", "resume", "reply", "close"),
    "extension_pending": ("sign_for", "extension"),
    "extension_decided": ("sign_for", "extension", "decide_extension", "reply", "close"),
    "replied": ("sign_for", "reply"),
    "closed": ("sign_for", "reply", "close"),
    "redo": ("sign_for", "reply", "redo", "reply", "close"),
    "returned": ("return", "dispatch", "sign_for", "reply", "close"),
    "withdrawn": ("sign_for", "withdraw"),
}
# What happens to a request the service centre keeps (no routing rule).
INTAKE_FATES: dict[str, tuple[str, ...]] = {
    "submitted": (),
    "accepted": ("accept",),
    "answered": ("accept", "answer"),
    "answered_closed": ("answer", "close"),
    "not_accepted": ("not_accept",),
}
# (age in days below which, weights): fates of routed requests, then of intake's.
ROUTED_WEIGHTS = (
    (1, {"dispatched": 3, "in_progress": 4, "waiting": 1, "replied": 1}),
    (7, {"in_progress": 4, "urged": 1, "waiting": 1, "extension_pending": 1, "supervised": 1,
         "replied": 3, "closed": 4}),
    (20, {"closed": 12, "replied": 2, "extension_decided": 1, "redo": 1, "returned": 1,
          "resumed": 1, "urged": 1, "withdrawn": 1}),
    (99, {"closed": 16, "redo": 1, "extension_decided": 1, "returned": 1, "resumed": 1,
          "replied": 1, "withdrawn": 1}),
)
INTAKE_WEIGHTS = (
    (0.5, {"submitted": 2, "accepted": 1}),
    (3, {"submitted": 1, "accepted": 1, "answered": 2, "dispatch": 2}),
    (99, {"answered_closed": 5, "dispatch": 4, "answered": 1, "not_accepted": 1}),
)
# Fates the demo always shows, newest requests first; the overdue one is weeks old.
SHOWCASE = ("submitted", "dispatched", "accepted", "in_progress", "waiting", "submitted",
            "extension_pending", "supervised", "replied", "dispatched", "urged", "answered")
OVERDUE = "urged"

# Working minutes from the previous step to this one: (low, high).
DELAYS = {
    "accept": (10, 90), "dispatch": (15, 120), "answer": (30, 240), "not_accept": (30, 240),
    "sign_for": (10, 150), "urge": (480, 1440), "supervise": (480, 960),
    "request_info": (60, 480), "resume": (480, 1440), "extension": (960, 1920),
    "decide_extension": (60, 480), "close": (60, 960), "redo": (60, 480),
    "return": (30, 240), "withdraw": (480, 1440),
}
