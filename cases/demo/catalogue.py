"""The demo city's reference data: departments, districts, the category tree with its
deadlines and routing rules, and reply templates.

Every branch of the tree has an "other" (其他) leaf, and the tree has a top-level one:
those stay with the service centre (no routing rule), which answers or dispatches them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.models import Category, ReplyTemplate, RoutingRule, TimeUnit
from portal.db import db
from portal.models import Department, District

DEPARTMENTS = [
    ("urban", "城市管理局", "Urban Management Bureau"),
    ("housing", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("transport", "交通运输局", "Transport Bureau"),
    ("police", "公安局", "Public Security Bureau"),
    ("environment", "生态环境局", "Ecology and Environment Bureau"),
    ("hrss", "人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("market", "市场监督管理局", "Market Supervision Administration"),
    ("water", "水务集团", "Water Utility"),
    ("health", "卫生健康委员会", "Health Commission"),
    ("education", "教育局", "Education Bureau"),
    ("civil", "民政局", "Civil Affairs Bureau"),
    ("emergency", "应急管理局", "Emergency Management Bureau"),
    ("services", "政务服务管理局", "Government Services Administration"),
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


@dataclass(frozen=True)
class Leaf:
    """A category cases are filed under: its deadlines and the titles people write."""

    code: str
    zh: str
    en: str
    sign_hours: int = 4
    reply_days: int = 10
    titles: tuple[str, ...] = ()
    department: str | None = None  # another department than the branch's


@dataclass(frozen=True)
class Branch:
    code: str
    zh: str
    en: str
    department: str | None
    leaves: tuple[Leaf, ...]


def other(branch: str, titles: tuple[str, ...]) -> Leaf:
    """The branch's "other": routed by hand at the service centre."""
    return Leaf(f"{branch}.other", "其他", "Other", titles=titles)


TREE = (
    Branch("roads", "道路与路灯", "Roads and street lights", "urban", (
        Leaf("roads.lights", "路灯不亮", "Street lights out", 4, 5,
             ("{place}路灯连续多晚不亮", "{place}一排路灯白天一直亮着")),
        Leaf("roads.potholes", "道路破损", "Damaged roads", 4, 7,
             ("{place}路面坑洼影响通行", "{place}人行道地砖松动")),
        Leaf("roads.manholes", "井盖缺损", "Missing manhole covers", 2, 3,
             ("{place}井盖缺失存在安全隐患", "{place}井盖松动车辆经过响声大")),
        other("roads", ("{place}道路绿化带树木倒伏",)),
    )),
    Branch("noise", "噪声扰民", "Noise", "urban", (
        Leaf("noise.construction", "施工噪声", "Construction noise", 2, 5,
             ("{place}工地夜间施工噪音扰民", "{place}凌晨混凝土搅拌车作业")),
        Leaf("noise.business", "商业经营噪声", "Noise from businesses", 4, 5,
             ("{place}商铺高音喇叭招揽顾客", "{place}酒吧深夜音乐声过大"),
             department="environment"),
        Leaf("noise.neighbourhood", "社会生活噪声", "Neighbourhood noise", 2, 5,
             ("{place}广场舞音响声音过大", "{place}楼上住户深夜噪音"), department="police"),
        other("noise", ("{place}空调外机噪音扰民",)),
    )),
    Branch("sanitation", "环境卫生", "Sanitation and refuse", "urban", (
        Leaf("sanitation.garbage", "垃圾清运", "Refuse collection", 4, 3,
             ("{place}垃圾清运不及时", "{place}建筑垃圾乱倒")),
        Leaf("sanitation.toilets", "公厕保洁", "Public toilets", 4, 5,
             ("{place}公厕无人保洁", "{place}公厕夜间关闭")),
        Leaf("sanitation.sorting", "垃圾分类", "Waste sorting", 4, 10,
             ("咨询{place}垃圾分类投放时间", "{place}垃圾分类桶长期满溢")),
        other("sanitation", ("{place}小广告乱张贴",)),
    )),
    Branch("utilities", "供水供暖", "Water and heating", "water", (
        Leaf("utilities.outage", "停水", "Water outage", 2, 3,
             ("{place}停水未提前通知", "{place}已停水一整天")),
        Leaf("utilities.quality", "水质水压", "Water quality and pressure", 2, 5,
             ("{place}自来水水质浑浊", "{place}高层水压太低")),
        Leaf("utilities.drains", "排水管网", "Drains and sewers", 2, 5,
             ("{place}雨后积水严重", "{place}下水道堵塞污水外溢")),
        Leaf("utilities.heating", "供暖", "Heating", 2, 5,
             ("{place}小区暖气不热", "咨询{place}集中供暖开通"), department="housing"),
        other("utilities", ("咨询{place}水表更换",)),
    )),
    Branch("housing", "住房与物业", "Housing and property management", "housing", (
        Leaf("housing.property", "物业服务", "Property management", 4, 10,
             ("{place}小区物业不作为", "{place}小区物业乱收费")),
        Leaf("housing.lifts", "电梯故障", "Lift faults", 2, 5,
             ("{place}小区电梯长期故障", "{place}电梯困人后无人处理")),
        Leaf("housing.renovation", "老旧小区改造", "Old estate renovation", 4, 13,
             ("{place}老旧小区外墙脱落", "咨询{place}老旧小区加装电梯政策")),
        Leaf("housing.delivery", "商品房交付", "New-home handover", 4, 13,
             ("{place}楼盘逾期交房", "{place}新房交付质量问题")),
        other("housing", ("咨询{place}公租房申请条件",)),
    )),
    Branch("traffic", "交通与停车", "Traffic and parking", "police", (
        Leaf("traffic.signals", "信号灯与标线", "Signals and markings", 4, 5,
             ("{place}红绿灯故障", "{place}斑马线标线模糊")),
        Leaf("traffic.parking", "违章停车", "Illegal parking", 2, 3,
             ("{place}车辆长期占用消防通道", "{place}人行道违停严重")),
        Leaf("traffic.congestion", "交通拥堵", "Congestion", 4, 10,
             ("{place}早晚高峰拥堵严重", "建议{place}路口增设左转车道")),
        other("traffic", ("{place}电动车逆行多",)),
    )),
    Branch("transit", "公共交通", "Public transport", "transport", (
        Leaf("transit.bus", "公交线路", "Bus routes", 4, 10,
             ("建议{place}增设公交站点", "{place}公交车经常不按时到站")),
        Leaf("transit.taxi", "出租车与网约车", "Taxis and ride-hailing", 4, 7,
             ("{place}出租车拒载", "网约车司机绕路多收费")),
        Leaf("transit.metro", "地铁服务", "Metro service", 4, 7,
             ("地铁{place}站电梯停运", "建议地铁末班车延长运营时间")),
        other("transit", ("{place}共享单车乱停放",)),
    )),
    Branch("market", "市场监管与消费维权", "Market supervision and consumer rights", "market", (
        Leaf("market.consumer", "消费纠纷", "Consumer disputes", 4, 13,
             ("网购商品质量问题商家拒绝退货", "{place}商场售后服务差")),
        Leaf("market.prepaid", "预付卡退费", "Prepaid card refunds", 4, 13,
             ("{place}健身房倒闭无法退费", "{place}理发店预付卡无法使用")),
        Leaf("market.prices", "价格违法", "Unlawful pricing", 4, 10,
             ("{place}停车场乱收费", "{place}商户明码标价不规范")),
        other("market", ("{place}无证经营",)),
    )),
    Branch("food", "食品安全", "Food safety", "market", (
        Leaf("food.restaurants", "餐饮卫生", "Restaurant hygiene", 4, 7,
             ("{place}餐馆卫生条件差", "{place}外卖店无证经营")),
        Leaf("food.expired", "过期变质食品", "Expired food", 2, 5,
             ("在{place}超市买到过期食品", "{place}菜市场出售变质肉类")),
        other("food", ("咨询食品经营许可证办理",)),
    )),
    Branch("environment", "生态环境", "Environment and pollution", "environment", (
        Leaf("environment.air", "大气污染", "Air pollution", 4, 10,
             ("{place}工厂排放刺鼻气味", "{place}露天焚烧垃圾")),
        Leaf("environment.water", "水污染", "Water pollution", 4, 10,
             ("{place}河道发黑发臭", "{place}企业偷排污水")),
        Leaf("environment.fumes", "餐饮油烟", "Kitchen fumes", 4, 7,
             ("{place}餐饮油烟扰民", "{place}烧烤摊油烟直排")),
        other("environment", ("{place}辐射设施咨询",)),
    )),
    Branch("social", "社保与就业", "Social security and employment", "hrss", (
        Leaf("social.wages", "欠薪维权", "Unpaid wages", 4, 13,
             ("{place}工地拖欠农民工工资", "公司拖欠员工三个月工资")),
        Leaf("social.pension", "养老保险", "Pensions", 4, 3,
             ("咨询养老保险转移接续办理流程", "退休后养老金未按时发放")),
        Leaf("social.medical", "医疗保险", "Medical insurance", 4, 3,
             ("咨询异地就医备案手续", "医保报销比例咨询")),
        Leaf("social.jobs", "就业创业", "Jobs and start-ups", 4, 5,
             ("咨询创业担保贷款申请", "咨询失业保险金领取条件")),
        other("social", ("咨询职业技能培训补贴",)),
    )),
    Branch("education", "教育", "Education", "education", (
        Leaf("education.admission", "入学招生", "School admission", 4, 5,
             ("咨询{place}小学入学划片政策", "随迁子女入学材料咨询")),
        Leaf("education.fees", "教育收费", "School fees", 4, 10,
             ("{place}学校违规收取资料费", "{place}幼儿园收费过高")),
        Leaf("education.training", "校外培训", "Out-of-school tutoring", 4, 10,
             ("{place}培训机构违规开班", "{place}培训机构跑路无法退费")),
        other("education", ("{place}学校周边交通拥堵",)),
    )),
    Branch("health", "医疗卫生", "Health", "health", (
        Leaf("health.hospitals", "医疗服务", "Hospital services", 4, 10,
             ("{place}医院挂号难", "{place}社区卫生服务中心服务态度差")),
        Leaf("health.vaccines", "疫苗接种", "Vaccinations", 4, 5,
             ("咨询{place}儿童疫苗接种时间", "{place}接种点预约不上")),
        other("health", ("咨询{place}家庭医生签约",)),
    )),
    Branch("safety", "公共安全", "Public safety", "police", (
        Leaf("safety.order", "治安问题", "Public order", 2, 5,
             ("{place}夜间有人聚众闹事", "{place}小区电动车被盗")),
        Leaf("safety.fraud", "电信诈骗", "Phone and online fraud", 2, 5,
             ("接到冒充客服诈骗电话", "网上兼职刷单被骗")),
        Leaf("safety.hazards", "安全隐患", "Fire and safety hazards", 2, 3,
             ("{place}楼道堆放杂物堵塞消防通道", "{place}电动车楼道充电"),
             department="emergency"),
        other("safety", ("{place}危房存在安全隐患",)),
    )),
    Branch("services", "政务服务", "Government services", "services", (
        Leaf("services.counter", "窗口服务", "Service counters", 4, 5,
             ("{place}政务大厅排队时间长", "{place}窗口工作人员态度差")),
        Leaf("services.online", "网上办事", "Online services", 4, 5,
             ("政务服务网无法登录", "网上预约办事系统故障")),
        Leaf("services.elderly", "养老服务", "Elderly care", 4, 10,
             ("咨询{place}社区居家养老服务", "建议{place}增设老年食堂"), department="civil"),
        Leaf("services.assistance", "社会救助", "Social assistance", 4, 10,
             ("咨询{place}低保申请条件", "{place}困难家庭临时救助"), department="civil"),
        Leaf("services.praise", "表扬感谢", "Thanks and praise", 4, 10,
             ("感谢{place}社区工作人员热心帮助", "表扬{place}窗口工作人员服务周到")),
        other("services", ("咨询{place}证照办理流程",)),
    )),
)

# The top-level "other" (a leaf itself) and the leaves the service centre keeps.
OTHER = Leaf("other", "其他", "Other", titles=("其他问题反映", "对{place}的意见建议"))
AT_INTAKE_LEAVES = frozenset(
    {OTHER.code, "services.praise"}
    | {leaf.code for branch in TREE for leaf in branch.leaves if leaf.code.endswith(".other")}
)

# Canned replies: per department, and citywide ones for the service centre's answers.
REPLY_TEMPLATES = {
    None: [
        ("直接答复：政策咨询", "{client_name}您好，关于您咨询的“{title}”，相关政策及办理流程可在"
         "政务服务网查询，或拨打12345热线咨询。感谢您的来电。"),
        ("直接答复：表扬转达", "{client_name}您好，您的表扬（{number}）已转达相关单位和工作人员，"
         "感谢您对我们工作的支持。"),
        ("直接答复：已告知办理渠道", "{client_name}您好，您反映的事项（{number}）已告知办理渠道，"
         "如仍有问题欢迎再次反映。"),
    ],
    "urban": [
        ("路灯已修复", "{client_name}您好，您反映的“{title}”，经现场核查，路灯线路故障已修复，"
         "现已恢复照明。感谢您的监督。"),
        ("已督促整改", "{client_name}您好，您反映的“{title}”，执法人员已到现场责令整改，"
         "我局将持续跟踪。"),
    ],
}
GENERIC_TEMPLATES = [
    ("已核实并处理", "{client_name}您好，您反映的“{title}”（{number}），经核实，"
     "相关单位已处理完毕。如仍有问题，欢迎再次反映。"),
    ("已列入计划", "{client_name}您好，您反映的“{title}”，我单位已列入工作计划，"
     "预计于{deadline}前完成，届时将另行告知。"),
]


@dataclass
class Catalogue:
    departments: dict[str, Department]
    districts: list[District]
    leaves: dict[str, tuple[Category, Leaf]]


def load_catalogue() -> Catalogue:
    """Departments, districts, the category tree, routing rules and reply templates."""
    departments = {
        code: Department(code=code, name_zh=zh, name_en=en) for code, zh, en in DEPARTMENTS
    }
    db.session.add_all(departments.values())
    districts = [
        District(code=code, name_zh=zh, name_en=en, position=i)
        for i, (code, zh, en) in enumerate(DISTRICTS)
    ]
    db.session.add_all(districts)
    leaves: dict[str, tuple[Category, Leaf]] = {}
    for position, branch in enumerate(TREE):
        parent = Category(code=branch.code, name_zh=branch.zh, name_en=branch.en,
                          department=departments.get(branch.department), position=position)
        db.session.add(parent)
        for child_position, leaf in enumerate(branch.leaves):
            department = departments[leaf.department or branch.department]
            leaves[leaf.code] = (_leaf(leaf, parent, department, child_position), leaf)
    leaves[OTHER.code] = (_leaf(OTHER, None, None, len(TREE)), OTHER)
    for code, (category, _spec) in leaves.items():
        if code not in AT_INTAKE_LEAVES:
            db.session.add(RoutingRule(category=category, department=category.department))
    # A district's own rule: in Mawei illegal parking goes to the urban management bureau.
    db.session.add(RoutingRule(
        category=leaves["traffic.parking"][0],
        district=next(d for d in districts if d.code == "mawei"),
        department=departments["urban"],
    ))
    for code, templates in REPLY_TEMPLATES.items():
        for title, body in templates:
            db.session.add(ReplyTemplate(department=departments.get(code), title=title, body=body))
    for department in departments.values():
        for title, body in GENERIC_TEMPLATES:
            db.session.add(ReplyTemplate(department=department, title=title, body=body))
    db.session.flush()
    return Catalogue(departments, districts, leaves)


def _leaf(
    leaf: Leaf, parent: Category | None, department: Department | None, position: int
) -> Category:
    category = Category(
        code=leaf.code, name_zh=leaf.zh, name_en=leaf.en, parent=parent,
        department=department, position=position,
        sign_amount=leaf.sign_hours, sign_unit=TimeUnit.HOURS,
        reply_amount=leaf.reply_days, reply_unit=TimeUnit.DAYS,
    )
    db.session.add(category)
    return category
