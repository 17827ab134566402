"""The demo city's people: the published demo logins, a handler and a head in every
department, and clients (citizens and enterprises) with fictional names and numbers.

Phone numbers are 139 0000 xxxx: well-formed, clearly not anyone's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from citizens.models import Client, ClientKind, SizeTier
from portal.auth.passwords import hash_password
from portal.db import db
from portal.models import Department, District, Role, User

DEMO_PASSWORD = "Demo-2026"  # noqa: S105 (published demo credential)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    name: str
    department: str | None = None


# The logins the README and the tests name: keep them as they are.
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

# A handler and a head for every other department: (department, handler, head).
DEPARTMENT_STAFF = (
    ("housing", "周文斌", "吴国栋"),
    ("transport", "郑海涛", "冯建华"),
    ("police", "何振宇", "韩卫东"),
    ("environment", "许静怡", "曹立军"),
    ("hrss", "邓丽君", "彭国庆"),
    ("market", "曾晓东", "萧志远"),
    ("water", "田雨辰", "董建设"),
    ("health", "袁思琪", "潘德明"),
    ("education", "蒋雅婷", "蔡永红"),
    ("civil", "余秀兰", "杜长青"),
    ("emergency", "程浩然", "魏安平"),
    ("services", "苏婉清", "叶正峰"),
)
# More people at the service centre, so intake is not one person's work.
EXTRA_STAFF = (DemoUser("clerk2", Role.CLERK, "黄丽萍"),)


def staff_specs() -> tuple[DemoUser, ...]:
    """Every demo staff login besides ``DEMO_USERS``: department staff and more clerks."""
    specs: list[DemoUser] = []
    for code, handler, head in DEPARTMENT_STAFF:
        specs.append(DemoUser(f"{code}-handler", Role.HANDLER, handler, code))
        specs.append(DemoUser(f"{code}-head", Role.DEPARTMENT_HEAD, head, code))
    return tuple(specs) + EXTRA_STAFF


CITIZEN_NAMES = (
    "王芳", "李娜", "张敏", "刘洋", "陈静", "杨磊", "黄丽", "赵军", "吴涛", "周婷",
    "徐明", "孙强", "马超", "朱琳", "胡斌", "郭晶", "何平", "高峰", "林燕", "罗勇",
    "欧阳雪", "安晓", "白玉兰", "邱志华", "谢婉婷", "宋佳", "唐亮", "冯雪梅",
)
ENTERPRISES = (
    ("福州榕城餐饮管理有限公司", "陈海", "餐饮", SizeTier.SMALL),
    ("闽江建设工程有限公司", "林振华", "建筑业", SizeTier.MEDIUM),
    ("三坊七巷文化旅游有限公司", "黄婷", "文化旅游", SizeTier.SMALL),
    ("福州东南物业服务有限公司", "吴刚", "物业服务", SizeTier.MEDIUM),
)


def demo_phone(n: int) -> str:
    """The ``n``th fictional mobile number: 139 0000 xxxx."""
    return f"1390000{n:04d}"


@dataclass
class People:
    users: dict[str, User]
    clients: list[Client]  # the demo accounts' clients first: citizen, enterprise

    def handler_of(self, department: Department) -> User:
        return self.users["handler" if department.code == "urban" else f"{department.code}-handler"]

    def account_of(self, client: Client) -> User | None:
        for username in ("citizen", "enterprise"):
            if self.users[username].client is client:
                return self.users[username]
        return None


def load_people(
    departments: dict[str, Department], districts: list[District], rng: random.Random
) -> People:
    """The demo logins, department staff and clients (one password hash for all)."""
    password_hash = hash_password(DEMO_PASSWORD)
    users: dict[str, User] = {}
    for spec in DEMO_USERS + staff_specs():
        client = None
        if spec.role == Role.CITIZEN:
            client = Client(kind=ClientKind.CITIZEN, name=spec.name, phone=demo_phone(0),
                            email=f"{spec.username}@example.com", district=districts[0])
        elif spec.role == Role.ENTERPRISE:
            client = Client(kind=ClientKind.ENTERPRISE, name="福州闽江科技有限公司",
                            contact_person=spec.name, phone="059187654321",
                            size_tier=SizeTier.SMALL, industry="软件和信息技术服务",
                            district=districts[1])
        users[spec.username] = User(
            username=spec.username,
            password_hash=password_hash,
            role=spec.role,
            display_name=spec.name,
            department=departments[spec.department] if spec.department else None,
            client=client,
            email=f"{spec.username}@example.gov.cn" if client is None else (
                f"{spec.username}@example.com"
            ),
        )
    db.session.add_all(users.values())
    clients = [users["citizen"].client, users["enterprise"].client]
    for n, name in enumerate(CITIZEN_NAMES, start=1):
        clients.append(Client(kind=ClientKind.CITIZEN, name=name, phone=demo_phone(n),
                              district=rng.choice(districts)))
    for n, (name, contact, industry, tier) in enumerate(ENTERPRISES, start=101):
        clients.append(Client(kind=ClientKind.ENTERPRISE, name=name, contact_person=contact,
                              phone=demo_phone(n), industry=industry, size_tier=tier,
                              district=rng.choice(districts)))
    db.session.add_all(clients)
    db.session.flush()
    return People(users, clients)
