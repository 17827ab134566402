"""How well smart intake learns where requests belong (issue 15): our model against the
plain baseline (jieba + TF-IDF + LinearSVC) on the same time split.

    .venv/bin/python bench/intake_accuracy.py                      # generated history
    .venv/bin/python bench/intake_accuracy.py --cases 600 --seed 7
    .venv/bin/python bench/intake_accuracy.py --csv history.csv --level 1

``--csv``: a file in the import format (``flask cases import``): a header with at least
``title,description,category,filed_at``; ``category`` is a path (``城乡建设/物业管理``),
read at ``--level`` (1: the first level, default). Without a file, an uneven history of
``--cases`` messages over seven first-level classes is generated (the spread of a real
provincial message catalogue: 城乡建设 most, 交通运输 least), with shared filler words,
neighbouring classes' words slipping in, some topics that only appear late, a few wrong
labels and the chatter long messages carry. Both models train on the older 80 % and are
tested on the newest 20 %;
the catalogue's words (the class names, and a few keywords with ``--keywords``) join
our model's training as the portal's catalogue would. No database, no web app.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

# Run as a script, bench/ would come first on the path and bench/http.py would shadow the
# standard library's http: the repository root goes first, bench/ off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cases.smart_intake.features import CatalogueEntry, request_text  # noqa: E402
from cases.smart_intake.training import Example, compare  # noqa: E402

# Share of each first-level class in a real provincial catalogue's messages.
CLASSES = {
    "城乡建设": 2009, "劳动和社会保障": 1969, "教育文体": 1589, "商贸旅游": 1215,
    "环境保护": 938, "卫生计生": 877, "交通运输": 613,
}
TOPICS = {
    "城乡建设": ("物业管理", "小区停车位", "电梯故障", "房屋漏水", "违章搭建", "拆迁补偿",
                 "安置房", "公租房申请", "房产证办理", "开发商延期交房", "老旧小区改造",
                 "燃气管道", "供水停水", "路灯不亮", "下水道堵塞", "棚户区改造", "维修基金",
                 "业主委员会", "市政道路施工", "城管执法", "占道经营"),
    "劳动和社会保障": ("拖欠工资", "社保缴费", "养老保险", "失业保险金", "劳动合同",
                       "工伤认定", "退休待遇", "医保报销", "农民工工资", "人才引进补贴",
                       "职称评定", "灵活就业", "社保卡", "劳动仲裁", "加班费", "事业单位招聘",
                       "公务员考试", "最低工资", "住房公积金", "辞退赔偿"),
    "教育文体": ("学校收费", "入学划片", "教师待遇", "幼儿园学位", "课外补习",
                 "校车安全", "学生减负", "中考政策", "体育场馆开放", "图书馆", "学区房",
                 "民办学校", "教师编制", "高考加分", "义务教育", "文化活动", "广场舞",
                 "电视信号", "校园食堂"),
    "商贸旅游": ("景区门票", "导游强制购物", "商家欺诈", "预付卡退费", "快递丢件",
                 "虚假宣传", "价格欺诈", "网购纠纷", "酒店服务", "旅行社", "传销",
                 "菜市场管理", "加油站", "超市过期食品", "夜市摊位", "消费维权", "电信资费"),
    "环境保护": ("噪音扰民", "工地夜间施工", "油烟污染", "河道污染", "垃圾焚烧",
                 "工厂排污", "空气异味", "粉尘污染", "养殖场臭味", "污水直排", "环评",
                 "固体废物", "黑臭水体", "秸秆焚烧", "辐射基站"),
    "卫生计生": ("医院收费", "医生态度", "疫苗接种", "计划生育", "生育登记",
                 "独生子女补贴", "医疗事故", "药品价格", "乡村医生", "住院押金",
                 "社区卫生服务中心", "二孩政策", "挂号难", "食品卫生", "诊所无证行医"),
    "交通运输": ("公交线路", "出租车拒载", "网约车", "道路拥堵", "驾照考试",
                 "客运班车", "地铁建设", "红绿灯设置", "高速收费", "停车收费",
                 "共享单车", "货车超载", "道路破损", "公路养护"),
}
# Things each class's messages are about, and what people say of them (shared by all
# classes): "电梯" + "收费" makes a topic no training message may have held verbatim.
HEADS = {
    "城乡建设": ("电梯", "楼盘", "物业", "车库", "外墙", "管网", "安置小区", "商品房", "围墙",
                 "化粪池", "小区绿化", "楼顶", "自来水"),
    "劳动和社会保障": ("工资", "社保", "养老金", "退休金", "公积金", "工龄", "劳务派遣",
                       "用工单位", "低保", "就业补助", "人社局"),
    "教育文体": ("学校", "学生", "老师", "幼儿园", "学籍", "课本", "校服", "体育馆", "教育局",
                 "培训机构", "考场", "毕业证"),
    "商贸旅游": ("景区", "商场", "门店", "会员卡", "团购", "旅游团", "外卖平台", "商户",
                 "酒店", "快递公司"),
    "环境保护": ("排污口", "烟囱", "搅拌站", "养猪场", "化工厂", "河水", "废气", "噪声",
                 "垃圾站", "鱼塘"),
    "卫生计生": ("医院", "卫生院", "医生", "护士", "药店", "病床", "孕检", "出生证",
                 "新农合", "体检中心"),
    "交通运输": ("公交车", "站台", "出租车", "客车", "货车", "路口", "公路", "高速路口",
                 "驾校", "车站"),
}
TAILS = ("收费不合理", "乱收费", "不作为", "管理混乱", "拖欠", "纠纷", "补贴没发", "扰民",
         "不规范", "安全问题", "服务差", "审批慢", "被投诉", "违规")
# Words every message may hold, whatever it is about.
FILLER = ("小区", "居民", "市民", "街道", "社区", "多次", "投诉", "反映", "没有回复", "村里",
          "单位", "政策", "规定", "费用", "安全隐患", "影响生活", "老人", "孩子", "工作人员",
          "公司", "管理", "监管", "落实", "标准", "补贴", "申请", "办理")
# Classes whose words slip into each other's messages.
NEIGHBOURS = {
    "城乡建设": ("环境保护", "交通运输"), "环境保护": ("城乡建设",),
    "劳动和社会保障": ("卫生计生", "教育文体"), "卫生计生": ("劳动和社会保障",),
    "教育文体": ("劳动和社会保障",), "商贸旅游": ("卫生计生", "交通运输"),
    "交通运输": ("城乡建设",),
}
LATE_TOPICS = {  # topics people only begin to write about in the newest months
    "卫生计生": ("核酸检测", "疫情防控"), "劳动和社会保障": ("复工补贴",),
    "商贸旅游": ("口罩价格",), "教育文体": ("网课",),
}
PLACES = ("A市", "A1区", "A2区", "A3区", "A4区", "A5区", "A6区", "A7县", "西地省", "K8县")
TITLES = ("{place}{topic}问题", "关于{place}{topic}的投诉", "{place}{topic}何时解决？",
          "{place}{extra}{topic}", "咨询{topic}的{extra}", "{topic}{extra}请求处理")
BODIES = (
    "我是{place}的{who}，{topic}{filler1}，{filler2}至今没有解决，{slip}希望尽快处理。",
    "{place}{filler1}{topic}，{slip}{filler2}，请相关部门给个说法。",
    "尊敬的领导：{who}反映{place}{topic}和{topic2}，{filler1}{slip}，{filler2}。",
    "{topic}的事已经{days}天了，{filler1}，{slip}{filler2}，恳请帮助。",
)
# What long messages say around the matter itself, whatever it is.
CHATTER = (
    "我们已经多次打电话反映过这个情况", "相关单位一直互相推诿没有人管",
    "给我们的生活带来了极大的不便",
    "希望领导能够高度重视", "请尽快派人到现场查看", "这种情况已经持续了很长时间",
    "周边很多居民都有意见", "作为一名普通市民我感到非常无奈", "恳请政府部门给予答复",
    "之前在网上留言也没有得到回复", "真心希望问题能得到妥善解决", "我们家里有老人和小孩",
    "街道和社区说他们也没有办法", "请问这种情况归哪个部门管理", "谢谢领导在百忙之中查看我的留言",
    "如果再不解决我们只能继续上访", "附近的商户和群众都深受其害", "希望有关部门依法依规处理",
)
WHO = ("业主", "家长", "职工", "村民", "市民", "消费者", "患者家属", "司机", "退休老人")


def generate(count: int, seed: int) -> list[tuple[str, str, datetime]]:
    """An uneven history of ``count`` messages over a year: (text, label, filed_at)."""
    rng = random.Random(seed)
    names, weights = list(CLASSES), list(CLASSES.values())
    start = datetime(2019, 1, 1)
    rows = []
    for i in range(count):
        label = rng.choices(names, weights)[0]
        filed_at = start + timedelta(minutes=int(i * 525600 / count) + rng.randint(0, 60))
        late = i > count * 0.75
        topics = TOPICS[label] + (LATE_TOPICS.get(label, ()) * 3 if late else ())
        topic, topic2 = rng.choice(topics), rng.choice(TOPICS[label])
        if rng.random() < 0.5:
            topic = rng.choice(HEADS[label]) + rng.choice(TAILS)
        slip = ""
        if rng.random() < 0.4:
            other = rng.choice(NEIGHBOURS[label])
            slip = rng.choice(TOPICS[other] + HEADS[other]) + "也有问题，"
        values = dict(place=rng.choice(PLACES), topic=topic, topic2=topic2, slip=slip,
                      who=rng.choice(WHO), filler1=rng.choice(FILLER),
                      filler2=rng.choice(FILLER), extra=rng.choice(FILLER),
                      days=rng.randint(3, 300))
        title = rng.choice(TITLES).format(**values)
        chatter = "，".join(rng.sample(CHATTER, rng.randint(2, 5)))
        body = rng.choice(BODIES).format(**values) + chatter + "。"
        if rng.random() < 0.05:  # filed under the wrong class and never corrected
            label = rng.choice(names)
        rows.append((request_text(title, body), label, filed_at))
    return rows


def read_csv(path: Path, level: int) -> list[tuple[str, str, datetime]]:
    """(text, label at ``level``, filed_at) of each row of an import-format CSV."""
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            parts = [p.strip() for p in (row.get("category") or "").split("/") if p.strip()]
            if not parts or not (row.get("title") or row.get("description")):
                continue
            stamp = (row.get("filed_at") or "").strip().replace("/", "-")
            try:
                filed_at = datetime.fromisoformat(stamp)
            except ValueError:
                continue
            label = "/".join(parts[:level])
            rows.append((request_text(row.get("title", ""), row.get("description", "")),
                         label, filed_at))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, help="history in the import format")
    parser.add_argument("--level", type=int, default=1, help="category level (1: the first)")
    parser.add_argument("--cases", type=int, default=400, help="generated messages")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--keywords", action="store_true",
                        help="give the generated catalogue a few keywords per class")
    args = parser.parse_args()
    rows = read_csv(args.csv, args.level) if args.csv else generate(args.cases, args.seed)
    labels = sorted({label for _, label, _ in rows})
    catalogue = []
    for label in labels:
        words = TOPICS.get(label, ())[:4] if args.keywords and not args.csv else ()
        catalogue.append(CatalogueEntry(label, tuple(label.split("/")), words))
    source = args.csv or f"generated (seed {args.seed})"
    print(f"history: {source}, {len(rows)} messages, {len(labels)} classes at level "
          f"{args.level}")
    started = time.perf_counter()
    result = compare([Example(t, label, at) for t, label, at in rows], catalogue)
    print(f"trained on {result.trained} (up to {result.split_at:%Y-%m-%d %H:%M}), "
          f"tested on the newest {result.tested} ({time.perf_counter() - started:.1f} s)")
    for name, ev in (("baseline (jieba, TF-IDF, LinearSVC)", result.baseline),
                     ("smart intake model", result.model)):
        print(f"{name:38} top-1 {ev.top1:.3f} top-3 {ev.top3:.3f}")
    print("per class (model top-1 on the test slice):")
    for label, figures in sorted(result.model.per_label.items(), key=lambda x: -x[1]["cases"]):
        print(f"  {label:12} {figures['cases']:4d} cases  top-1 {figures['top1']:.3f}")
    print(f"top-1 {result.model.top1:.3f} top-3 {result.model.top3:.3f}")


if __name__ == "__main__":
    main()
