"""Demo data across the rooms: departments, the service catalogue, districts, staff, clients
and requests of a small city (``flask demo load``, ``flask demo logins``)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from cases.actors import Actor
from cases.calendar import load_calendar, seed_calendar
from cases.models import (
    Case,
    CaseEvent,
    CaseReply,
    CaseStatus,
    CaseType,
    Category,
    Channel,
    RoutingRule,
)
from cases.services import CONTACT_CHANNELS, next_case_number
from citizens.models import Client, ClientKind, ContactLog
from citizens.services import recount_cases
from portal.auth.passwords import hash_password
from portal.db import db, utcnow
from portal.models import Department, District, Role, User

DEMO_PASSWORD = "Demo-2026"  # noqa: S105 (published demo credential)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    name: str
    department: str | None = None


DEMO_USERS = (
    DemoUser("admin", Role.ADMIN, "系统管理员"),
    DemoUser("clerk", Role.CLERK, "王晓燕"),
    DemoUser("handler", Role.HANDLER, "李建国", "urban"),
    DemoUser("head", Role.DEPARTMENT_HEAD, "陈志强", "urban"),
    DemoUser("supervisor", Role.SUPERVISOR, "赵明华"),
    DemoUser("official", Role.OFFICIAL, "孙立新"),
    DemoUser("citizen", Role.CITIZEN, "张伟"),
    DemoUser("enterprise", Role.ENTERPRISE, "刘芳"),
)

DEPARTMENTS = [
    ("urban", "城市管理局", "Urban Management Bureau"),
    ("housing", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("transport", "交通运输局", "Transport Bureau"),
    ("environment", "生态环境局", "Ecology and Environment Bureau"),
    ("hrss", "人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("market", "市场监督管理局", "Market Supervision Administration"),
    ("water", "水务集团", "Water Utility"),
    ("health", "卫生健康委员会", "Health Commission"),
    ("education", "教育局", "Education Bureau"),
    ("civil", "民政局", "Civil Affairs Bureau"),
]

DISTRICTS = [
    ("gulou", "鼓楼区", "Gulou District"),
    ("taijiang", "台江区", "Taijiang District"),
    ("cangshan", "仓山区", "Cangshan District"),
    ("jinan", "晋安区", "Jin'an District"),
    ("mawei", "马尾区", "Mawei District"),
    ("changle", "长乐区", "Changle District"),
    ("minhou", "闽侯县", "Minhou County"),
    ("lianjiang", "连江县", "Lianjiang County"),
]

# (code, zh, en, department, [(code, zh, en, [title templates])])
CATEGORIES = [
    ("city", "城市管理", "Urban management", "urban", [
        ("city.noise", "噪声扰民", "Noise", [
            "{place}夜间施工噪音扰民", "{place}广场舞音响声音过大", "{place}商铺高音喇叭招揽顾客",
        ]),
        ("city.stalls", "占道经营", "Street vending", [
            "{place}路口流动摊贩占道经营", "{place}门口夜市占用人行道",
        ]),
        ("city.litter", "环境卫生", "Sanitation", [
            "{place}垃圾清运不及时", "{place}公厕无人保洁", "{place}建筑垃圾乱倒",
        ]),
    ]),
    ("roads", "道路交通", "Roads and traffic", "transport", [
        ("roads.potholes", "道路破损", "Potholes", [
            "{place}路面坑洼影响通行", "{place}井盖松动存在安全隐患",
        ]),
        ("roads.signals", "信号灯与标线", "Signals and markings", [
            "{place}红绿灯故障", "{place}斑马线标线模糊",
        ]),
        ("roads.bus", "公交线路", "Bus routes", [
            "建议{place}增设公交站点", "{place}公交车经常不按时到站",
        ]),
    ]),
    ("housing", "住房建设", "Housing and construction", "housing", [
        ("housing.property", "物业管理", "Property management", [
            "{place}小区物业不作为", "{place}小区电梯长期故障", "{place}小区停车位被占用",
        ]),
        ("housing.repairs", "老旧小区改造", "Old estate renovation", [
            "{place}老旧小区外墙脱落", "咨询{place}老旧小区加装电梯政策",
        ]),
    ]),
    ("env", "生态环境", "Environment", "environment", [
        ("env.air", "大气污染", "Air pollution", [
            "{place}工厂排放刺鼻气味", "{place}餐饮油烟扰民",
        ]),
        ("env.water", "水污染", "Water pollution", [
            "{place}河道发黑发臭", "{place}企业偷排污水",
        ]),
    ]),
    ("social", "社会保障", "Social security", "hrss", [
        ("social.pension", "养老保险", "Pensions", [
            "咨询养老保险转移接续办理流程", "退休后养老金未按时发放",
        ]),
        ("social.wages", "欠薪维权", "Unpaid wages", [
            "{place}工地拖欠农民工工资", "公司拖欠员工三个月工资",
        ]),
        ("social.medical", "医疗保险", "Medical insurance", [
            "咨询异地就医备案手续", "医保报销比例咨询",
        ]),
    ]),
    ("market", "市场监管", "Market supervision", "market", [
        ("market.food", "食品安全", "Food safety", [
            "{place}餐馆卫生条件差", "在{place}超市买到过期食品",
        ]),
        ("market.consumer", "消费维权", "Consumer rights", [
            "{place}健身房倒闭无法退费", "网购商品质量问题商家拒绝退货",
        ]),
    ]),
    ("utilities", "水电气暖", "Water, power and gas", "water", [
        ("utilities.water", "供水", "Water supply", [
            "{place}停水未提前通知", "{place}自来水水质浑浊", "{place}水压太低",
        ]),
    ]),
    ("public", "公共服务", "Public services", "civil", [
        ("public.elderly", "养老服务", "Elderly care", [
            "咨询{place}社区居家养老服务", "建议{place}增设老年食堂",
        ]),
        ("public.schools", "教育入学", "School admission", [
            "咨询{place}小学入学划片政策", "{place}学校周边交通拥堵",
        ]),
        ("public.praise", "表扬感谢", "Thanks and praise", [
            "感谢{place}社区工作人员热心帮助", "表扬{place}窗口工作人员服务周到",
        ]),
    ]),
]

PLACES = [
    "五一路", "八一七北路", "工业路", "杨桥路", "华林路", "六一路", "江滨大道", "福飞路",
    "金山碧水小区", "阳光城小区", "东浦新村", "温泉公园", "三坊七巷", "万达广场附近",
    "洪山桥", "火车站南广场", "湖东路", "西湖公园", "仓山万达", "学生街",
]

DESCRIPTIONS = [
    "{title}，已经持续{days}天了，附近居民反映强烈，希望相关部门尽快到现场查看处理。",
    "我是附近居民，{title}。此前向物业和社区反映过，但一直没有解决，请相关部门督促处理。",
    "{title}，每天早晚高峰特别明显，给周边群众生活带来很大不便，恳请有关部门予以解决。",
    "本人多次发现{title}的情况，担心存在安全隐患，请尽快核实并回复处理结果。",
]

REPLIES = [
    "您好，您反映的问题已转交属地街道核实处理，工作人员已到现场查看并督促整改，感谢您的监督。",
    "您好，经核实，您反映的情况属实，相关单位已完成整改。如仍有问题，欢迎再次反映。",
    "您好，关于您咨询的问题，具体办理流程及所需材料可在政务服务网查询，或拨打12345热线咨询。",
    "您好，已联系相关责任单位，承诺在五个工作日内处理完毕，后续将持续跟进。",
]

# Deadline practice (DOMAIN.md): water within 2 h to sign for, enquiries answered in 3
# working days, complaints in up to 13.
DEADLINES = {
    "utilities.water": {"sign_amount": 2, "reply_amount": 3},
    "social.pension": {"reply_amount": 3},
    "social.medical": {"reply_amount": 3},
    "public.schools": {"reply_amount": 5},
    "city.noise": {"sign_amount": 2, "reply_amount": 5},
    "market.consumer": {"reply_amount": 13},
    "social.wages": {"reply_amount": 13},
}
UNROUTED = {"public.praise", "public.elderly"}

CITIZEN_NAMES = [
    "王芳", "李娜", "张敏", "刘洋", "陈静", "杨磊", "黄丽", "赵军", "吴涛", "周婷",
    "徐明", "孙强", "马超", "朱琳", "胡斌", "郭晶", "何平", "高峰", "林燕", "罗勇",
]

CASE_TYPES_BY_WORD = {
    "咨询": CaseType.ENQUIRY, "建议": CaseType.SUGGESTION, "感谢": CaseType.PRAISE,
    "表扬": CaseType.PRAISE, "偷排": CaseType.TIPOFF,
}


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count(User.id)))


def load_demo_data(case_count: int = 300, seed: int = 2026) -> None:
    """Fill an empty database with a believable city; the caller commits."""
    rng = random.Random(seed)
    departments = {
        code: Department(code=code, name_zh=zh, name_en=en) for code, zh, en in DEPARTMENTS
    }
    db.session.add_all(departments.values())
    districts = [
        District(code=code, name_zh=zh, name_en=en, position=i)
        for i, (code, zh, en) in enumerate(DISTRICTS)
    ]
    db.session.add_all(districts)

    leaves: list[tuple[Category, list[str]]] = []
    for position, (code, zh, en, dept, children) in enumerate(CATEGORIES):
        parent = Category(
            code=code, name_zh=zh, name_en=en, department=departments[dept], position=position
        )
        db.session.add(parent)
        for child_position, (child_code, czh, cen, titles) in enumerate(children):
            leaf = Category(
                code=child_code,
                name_zh=czh,
                name_en=cen,
                parent=parent,
                department=departments[dept],
                position=child_position,
                **DEADLINES.get(child_code, {}),
            )
            db.session.add(leaf)
            leaves.append((leaf, titles))
            # Praise and elderly-care enquiries stay with the service centre (no rule).
            if child_code not in UNROUTED:
                db.session.add(RoutingRule(category=leaf, department=departments[dept]))
    # A district rule: Mawei's water supply is run by the district's own utility office.
    db.session.add(
        RoutingRule(
            category=next(leaf for leaf, _ in leaves if leaf.code == "utilities.water"),
            district=next(d for d in districts if d.code == "mawei"),
            department=departments["urban"],
        )
    )
    seed_calendar(range(utcnow().year - 1, utcnow().year + 2))

    password_hash = hash_password(DEMO_PASSWORD)
    users: dict[str, User] = {}
    for spec in DEMO_USERS:
        client = None
        if spec.role == Role.CITIZEN:
            client = Client(kind=ClientKind.CITIZEN, name=spec.name, phone="13800138000")
        elif spec.role == Role.ENTERPRISE:
            client = Client(
                kind=ClientKind.ENTERPRISE,
                name="福州闽江科技有限公司",
                contact_person=spec.name,
                phone="059187654321",
            )
        users[spec.username] = User(
            username=spec.username,
            password_hash=password_hash,
            role=spec.role,
            display_name=spec.name,
            department=departments[spec.department] if spec.department else None,
            client=client,
            email=f"{spec.username}@example.gov.cn",
        )
    db.session.add_all(users.values())

    clients = [users["citizen"].client, users["enterprise"].client]
    for name in CITIZEN_NAMES:
        clients.append(
            Client(
                kind=ClientKind.CITIZEN,
                name=name,
                phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                district=rng.choice(districts),
            )
        )
    db.session.add_all(clients)
    db.session.flush()

    now = utcnow()
    moments = sorted(
        now - timedelta(minutes=rng.randint(10, 60 * 24 * 60)) for _ in range(case_count)
    )
    zone = ZoneInfo("Asia/Shanghai")
    story = DemoStory(rng, now, users, load_calendar())
    for filed_at in moments:
        leaf, titles = rng.choice(leaves)
        title = rng.choice(titles).format(place=rng.choice(PLACES))
        case_type = next(
            (t for word, t in CASE_TYPES_BY_WORD.items() if word in title),
            rng.choice([CaseType.COMPLAINT, CaseType.HELP, CaseType.COMPLAINT]),
        )
        client = rng.choice(clients)
        account = users["citizen"] if client is clients[0] else (
            users["enterprise"] if client is clients[1] else None
        )
        case = Case(
            number=next_case_number(filed_at.astimezone(zone).year),
            type=case_type,
            channel=Channel.WEB if account else rng.choice(list(Channel)),
            status=CaseStatus.SUBMITTED,
            title=title,
            description=rng.choice(DESCRIPTIONS).format(title=title, days=rng.randint(2, 30)),
            category=leaf,
            district=rng.choice(districts),
            client=client,
            filed_by=account or users["clerk"],
            created_at=filed_at,
            updated_at=filed_at,
        )
        db.session.add(case)
        story.tell(case, filed_at, None if leaf.code in UNROUTED else leaf.department)
        db.session.add(
            ContactLog(
                client=client,
                channel=CONTACT_CHANNELS[case.channel],
                staff_id=None if account else users["clerk"].id,
                case=case,
                summary=f"{case.number} {case.title}",
                automatic=True,
                created_at=filed_at,
            )
        )
    db.session.flush()
    recount_cases()


class DemoStory:
    """Walks a demo case along the life cycle as far as its age and luck allow."""

    def __init__(self, rng: random.Random, now, users: dict[str, User], calendar) -> None:
        self.rng, self.now, self.users, self.calendar = rng, now, users, calendar

    def event(self, case: Case, actor, action, source, target, at, note=None, public=True):
        db.session.add(CaseEvent(case=case, actor=actor, actor_kind=Actor.of(actor).kind,
                                 action=action, from_status=source, to_status=target, note=note,
                                 created_at=at, is_public=public))
        case.status, case.updated_at = target or case.status, at

    def tell(self, case: Case, filed_at, department: Department | None) -> None:
        rng, now, clerk = self.rng, self.now, self.users["clerk"]
        self.event(case, case.filed_by, "file", None, CaseStatus.SUBMITTED, filed_at)
        roll = rng.random()
        if now - filed_at > timedelta(days=10):  # old cases are mostly finished
            roll = 0.45 + roll * 0.55
        if department is None:
            if roll < 0.5 or now - filed_at < timedelta(hours=4):
                return
            at = filed_at + timedelta(hours=rng.randint(1, 4))
            body = rng.choice(REPLIES)
            self.event(case, clerk, "answer", CaseStatus.SUBMITTED, CaseStatus.REPLIED, at, body)
            db.session.add(CaseReply(case=case, author=clerk, body=body, created_at=at))
            case.replied_at = at
            return
        category = case.category
        case.department, case.departments_passed = department, 1
        case.dispatched_at = filed_at
        case.sign_due_at = self.calendar.add(filed_at, category.sign_amount, category.sign_unit)
        case.reply_due_at = self.calendar.add(filed_at, category.reply_amount, category.reply_unit)
        case.due_at = case.sign_due_at
        self.event(case, None, "route", CaseStatus.SUBMITTED, CaseStatus.DISPATCHED, filed_at,
                   department.name_zh)
        handler = self.users["handler"] if department.code == "urban" else None
        signed = filed_at + timedelta(minutes=rng.randint(20, 300))
        if roll < 0.12 or signed > now:
            return
        case.signed_at, case.assignee, case.due_at = signed, handler, case.reply_due_at
        self.event(case, handler, "sign_for", CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS,
                   signed)
        if roll < 0.30:
            return
        if roll < 0.36:
            case.paused_at, case.due_at = signed + timedelta(hours=2), None
            self.event(case, handler, "request_info", CaseStatus.IN_PROGRESS, CaseStatus.WAITING,
                       case.paused_at, "请补充现场照片及具体位置。")
            return
        replied = signed + timedelta(hours=rng.randint(4, 200))
        if replied > now:
            return
        body = rng.choice(REPLIES)
        self.event(case, handler, "reply", CaseStatus.IN_PROGRESS, CaseStatus.REPLIED, replied,
                   body)
        db.session.add(CaseReply(case=case, author=handler, body=body, created_at=replied))
        case.replied_at, case.due_at = replied, None
        closed = replied + timedelta(hours=rng.randint(1, 48))
        if roll < 0.5 or closed > now:
            return
        self.event(case, clerk, "close", CaseStatus.REPLIED, CaseStatus.CLOSED, closed)
        case.closed_at = closed
