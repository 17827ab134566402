"""Demo data: a small city's departments, service catalogue, districts, staff and requests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from cases.models import Case, CaseEvent, CaseReply, CaseStatus, CaseType, Category, Channel
from cases.services import next_case_number
from citizens.models import Client, ClientKind
from portal.auth.services import hash_password
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
            )
            db.session.add(leaf)
            leaves.append((leaf, titles))

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
        now - timedelta(minutes=rng.randint(10, 90 * 24 * 60)) for _ in range(case_count)
    )
    zone = ZoneInfo("Asia/Shanghai")
    clerk = users["clerk"]
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
            filed_by=account or clerk,
            created_at=filed_at,
            updated_at=filed_at,
        )
        db.session.add(case)
        _add_history(case, rng, filed_at, now, clerk)
    db.session.flush()


def _add_history(case: Case, rng: random.Random, filed_at, now, clerk: User) -> None:
    """Give older cases a believable timeline: some replied, many closed."""
    db.session.add(
        CaseEvent(case=case, actor=case.filed_by, action="file", to_status=CaseStatus.SUBMITTED,
                  created_at=filed_at)
    )
    age_days = (now - filed_at).days
    roll = rng.random()
    if age_days < 2 or roll < 0.25:
        return
    replied_at = filed_at + timedelta(hours=rng.randint(2, 72))
    body = rng.choice(REPLIES)
    db.session.add(CaseReply(case=case, author=clerk, body=body, created_at=replied_at))
    db.session.add(
        CaseEvent(case=case, actor=clerk, action="reply", from_status=CaseStatus.SUBMITTED,
                  to_status=CaseStatus.REPLIED, note=body, created_at=replied_at)
    )
    case.status, case.replied_at, case.updated_at = CaseStatus.REPLIED, replied_at, replied_at
    if roll < 0.45 or replied_at > now - timedelta(days=1):
        return
    closed_at = min(replied_at + timedelta(hours=rng.randint(1, 48)), now)
    db.session.add(
        CaseEvent(case=case, actor=clerk, action="close", from_status=CaseStatus.REPLIED,
                  to_status=CaseStatus.CLOSED, created_at=closed_at)
    )
    case.status, case.closed_at, case.updated_at = CaseStatus.CLOSED, closed_at, closed_at
