"""The demo's knowledge base: a few published answers to what people often ask, and one
draft waiting for review, so ``/help`` and the suggestions while filing have something
to show. Written as staff would: a clerk writes, a supervisor publishes."""

from __future__ import annotations

from datetime import datetime, timedelta

from cases.demo.catalogue import Catalogue
from cases.demo.people import People
from cases.knowledge.models import KnowledgeAnswer
from portal.db import db

# (category code, title, body, published?)
ANSWERS = (
    ("roads.lights", "路灯不亮找哪个部门？",
     "城市道路路灯由城市管理局负责维护。请在“我要反映”中选择“道路与路灯 › 路灯不亮”，"
     "写明路名、最近的门牌号或路灯杆编号，一般 5 个工作日内修复。小区内部路灯由物业负责。",
     True),
    ("housing.lifts", "小区电梯频繁故障怎么办？",
     "电梯困人请立即拨打电梯内的应急电话或 110。电梯经常故障的，先向物业反映并保留记录；"
     "物业不处理的，可在本平台选择“住房与物业 › 电梯故障”反映，"
     "住房和城乡建设局会督促维保单位检修。",
     True),
    ("noise.construction", "夜间施工噪声扰民如何反映？",
     "晚上 10 点至次日 6 点，除抢修、抢险等情况外，禁止在居民区附近进行产生噪声的施工。"
     "请写明施工地点、时间段和施工单位（如能看到），城市管理局会到现场核查。",
     True),
    ("social.pension", "如何查询养老保险缴费记录？",
     "可通过当地人社部门网站、手机应用或社保服务窗口查询个人养老保险缴费记录，"
     "带上身份证即可打印。记录有误的，请在本平台选择“社会保障与就业 › 养老保险”反映。",
     True),
    ("utilities.drains", "下雨后路面积水严重怎么办？",
     "道路积水多由雨水口堵塞引起，请写明积水路段和大致范围，水务部门会安排疏通。"
     "积水较深时请绕行，不要涉水驾车。",
     True),
    ("market.prepaid", "预付卡商家关门跑路怎么维权？",
     "请保留预付卡、消费记录和商家信息，向市场监督管理局投诉；涉嫌诈骗的，请同时向公安机关报案。",
     False),
)


def load_answers(catalogue: Catalogue, people: People, now: datetime) -> None:
    """The answers, published a few days apart (the last one still a draft in review)."""
    writer, reviewer = people.users["clerk"], people.users["supervisor"]
    for n, (code, title, body, published) in enumerate(ANSWERS):
        category, _leaf = catalogue.leaves[code]
        db.session.add(KnowledgeAnswer(
            title=title, body=body, locale="zh_CN", category=category,
            status="published" if published else "review",
            author=writer,
            reviewed_by=reviewer if published else None,
            published_at=now - timedelta(days=30 - 4 * n) if published else None,
        ))
