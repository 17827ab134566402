"""History imports (issue 15): ``flask cases import`` and ``import-categories`` through
Flask's CliRunner: good files (CSV, Excel), bad rows, re-imports, category creation, the
words of states and types, dates, and bulk writing without a query per row."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import event, func, select

from cases.imports.models import CaseImport
from cases.imports.runner import PLACEHOLDER_CLIENT
from cases.models import Case, CaseReply, CaseStatus, CaseType, Category, Channel
from cases.reports.models import DailyCaseTotal, MonthlyCaseTotal
from cases.satisfaction.models import Rating
from citizens.models import Client, ClientKind
from portal.db import db
from portal.models import ChangeRecord
from tests.factories import World

HEADER = ["title", "description", "category", "department", "district", "type", "channel",
          "filed_at", "closed_at", "status", "reply", "rating", "name", "phone"]
GOOD = [
    ["路灯不亮", "小区门口路灯坏了", "城市管理/噪声扰民", "城市管理局", "鼓楼区", "投诉",
     "12345热线",
     "2020-01-06 12:09:38", "2020-01-08 10:00:00", "已办结", "已修复。", "非常满意", "张三",
     "13900001111"],
    ["道路坑洼", "路面破损", "城市管理/道路破损", "", "台江区", "enquiry", "web",
     "2020-01-07T09:00:00+08:00", "", "replied", "已安排维修。", "", "", ""],
    ["施工噪声", "夜间施工", "城市管理", "", "", "建议", "", "2021-03-01 08:30:00Z", "",
     "办理中", "", "", "", ""],
    ["无人诉求", "匿名来电", "城市管理/噪声扰民", "", "", "", "", "2020-02-01", "2020-02-03",
     "closed", "", "", "", ""],
]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run_cli(app: Flask, tmp_path: Path, data: bytes, *args: str, name="history.csv",
            command="import"):
    path = tmp_path / name
    path.write_bytes(data)
    return app.test_cli_runner().invoke(args=["cases", command, str(path), *args])


def imported(app: Flask) -> list[Case]:
    with app.app_context():
        cases = db.session.scalars(
            select(Case).where(Case.import_id.is_not(None)).order_by(Case.id)).all()
        db.session.expunge_all()
        return cases


def test_good_csv_makes_cases_clients_replies_ratings(database: Flask, world: World,
                                                      tmp_path: Path):
    app = database
    with app.app_context():  # the clerk already knows 张三 by phone
        known = Client(kind=ClientKind.CITIZEN, name="张三", phone="13900001111")
        db.session.add(known)
        db.session.commit()
        known_id = known.id
    result = run_cli(app, tmp_path, csv_bytes(GOOD))
    assert result.exit_code == 0, result.output
    assert "created 4" in result.output
    cases = imported(app)
    assert len(cases) == 4
    first, second, third, fourth = cases
    # Chinese labels and English values alike; numbers by the year filed.
    assert (first.status, first.type, first.channel) == (
        CaseStatus.CLOSED, CaseType.COMPLAINT, Channel.PHONE)
    assert first.number == "2020-000001" and third.number == "2021-000001"
    assert first.created_at == datetime(2020, 1, 6, 4, 9, 38, tzinfo=UTC)  # Shanghai → UTC
    assert first.closed_at == first.replied_at == datetime(2020, 1, 8, 2, tzinfo=UTC)
    assert first.due_at is None and first.client_id == known_id
    assert first.department_id == world.urban.id and first.district_id == world.gulou.id
    assert second.created_at == datetime(2020, 1, 7, 1, tzinfo=UTC)  # zone given
    assert (second.status, second.type, second.channel) == (
        CaseStatus.REPLIED, CaseType.ENQUIRY, Channel.WEB)
    assert second.department_id == world.transport.id  # the category's department
    assert third.created_at == datetime(2021, 3, 1, 8, 30, tzinfo=UTC)  # Z
    assert third.status == CaseStatus.IN_PROGRESS and third.type == CaseType.SUGGESTION
    assert third.due_at is not None and third.due_at > third.created_at  # its clock runs
    assert fourth.created_at == datetime(2020, 1, 31, 16, tzinfo=UTC)  # a date alone
    assert len({c.import_key for c in cases}) == 4
    with app.app_context():
        replies = db.session.scalars(select(CaseReply).order_by(CaseReply.id)).all()
        assert [(r.case_id, r.body, r.is_public) for r in replies] == [
            (first.id, "已修复。", True), (second.id, "已安排维修。", True)]
        assert replies[0].created_at == first.replied_at
        rating = db.session.scalar(select(Rating))
        assert (rating.case_id, rating.level, rating.reply_id) == (first.id, 5, replies[0].id)
        placeholder = db.session.get(Client, second.client_id)
        assert placeholder.name == PLACEHOLDER_CLIENT and placeholder.phone is None
        assert third.client_id == fourth.client_id == placeholder.id  # one, shared
        assert db.session.get(Client, known_id).case_count == 1
        imp = db.session.scalar(select(CaseImport))
        assert (imp.status, imp.total_rows, imp.created_rows, imp.skipped_rows) == (
            "done", 4, 4, 0)
        # The search index and the reports follow: change feed rows and daily totals.
        fed = set(db.session.scalars(select(ChangeRecord.entity_id).where(
            ChangeRecord.entity == "case")))
        assert {c.id for c in cases} <= fed
        assert db.session.scalar(select(func.count()).select_from(ChangeRecord).where(
            ChangeRecord.entity == "case_reply")) == 2
        total = db.session.scalar(select(DailyCaseTotal.received).where(
            DailyCaseTotal.day == date(2020, 1, 6)))
        assert total == 1
        assert db.session.scalar(select(func.sum(MonthlyCaseTotal.received)).where(
            MonthlyCaseTotal.month == date(2020, 1, 1))) == db.session.scalar(
            select(func.sum(DailyCaseTotal.received)).where(
                DailyCaseTotal.day >= date(2020, 1, 1), DailyCaseTotal.day < date(2020, 2, 1)))




def test_excel_file_imports_the_same(database: Flask, world: World, tmp_path: Path):
    app = database
    rows = [list(r) for r in GOOD[:2]]
    rows[0][7] = datetime(2020, 1, 6, 12, 9, 38)  # an Excel date cell: local time
    rows[0][11] = 4
    result = run_cli(app, tmp_path, xlsx_bytes(rows), name="history.xlsx")
    assert result.exit_code == 0, result.output
    cases = imported(app)
    assert len(cases) == 2
    assert cases[0].created_at == datetime(2020, 1, 6, 4, 9, 38, tzinfo=UTC)
    with app.app_context():
        assert db.session.scalar(select(Rating.level)) == 4


def test_bad_rows_are_listed_and_nothing_is_imported(database: Flask, world: World, tmp_path: Path):
    app = database
    bad = [
        GOOD[0],
        ["", "无标题", "城市管理", "", "", "", "", "", "", "", "", "", "", ""],
        ["标题", "描述", "不存在/分类", "", "", "", "", "", "", "", "", "", "", ""],
        ["标题", "描述", "城市管理", "", "", "", "", "2020-13-45", "", "", "", "", "", ""],
        ["标题", "描述", "城市管理", "", "", "", "", "", "", "归档", "", "", "", ""],
        ["标题", "描述", "城市管理", "", "", "", "", "2020-02-02", "2020-01-01", "", "", "", "",
         ""],
        ["标题", "描述", "城市管理", "", "", "", "", "", "", "", "", "9", "", ""],
    ]
    result = run_cli(app, tmp_path, csv_bytes(bad))
    assert result.exit_code != 0
    assert "nothing was imported" in result.output
    with app.app_context():
        imp = db.session.scalar(select(CaseImport))
        assert imp.status == "failed" and imp.error_count == 6
        assert [e["line"] for e in imp.errors] == [3, 4, 5, 6, 7, 8]
        assert all(e["reason"] for e in imp.errors)
        assert "不存在/分类" in imp.errors[1]["reason"]
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
        assert db.session.scalar(select(func.count()).select_from(Client)) == 0
        assert db.session.scalar(select(func.count()).select_from(DailyCaseTotal)) == 0


def test_importing_twice_makes_nothing_twice(database: Flask, world: World, tmp_path: Path):
    app = database
    assert run_cli(app, tmp_path, csv_bytes(GOOD)).exit_code == 0
    again = run_cli(app, tmp_path, csv_bytes(GOOD + [GOOD[0]]))
    assert again.exit_code == 0, again.output
    assert len(imported(app)) == 4
    with app.app_context():
        second = db.session.scalars(select(CaseImport).order_by(CaseImport.id)).all()[-1]
        assert (second.created_rows, second.skipped_rows, second.processed_rows) == (0, 5, 5)


def test_create_categories_makes_missing_paths(database: Flask, world: World, tmp_path: Path):
    app = database
    rows = [["物业问题", "电梯坏了", "城乡建设/物业管理/电梯", "交通运输局", "", "", "",
             "2020-01-01", "", "", "", "", "", ""]]
    refused = run_cli(app, tmp_path, csv_bytes(rows))
    assert refused.exit_code != 0 and "城乡建设/物业管理/电梯" in refused.output
    result = run_cli(app, tmp_path, csv_bytes(rows), "--create-categories")
    assert result.exit_code == 0, result.output
    with app.app_context():
        top = db.session.scalar(select(Category).where(Category.name_zh == "城乡建设"))
        middle = db.session.scalar(select(Category).where(Category.name_zh == "物业管理"))
        leaf = db.session.scalar(select(Category).where(Category.name_zh == "电梯"))
        assert top.parent_id is None and middle.parent_id == top.id
        assert leaf.parent_id == middle.id and leaf.department_id == world.transport.id
        case = db.session.scalar(select(Case))
        assert case.category_id == leaf.id


def test_category_tree_import(database: Flask, world: World, tmp_path: Path):
    app = database
    header = ["category", "department", "keywords", "name_en"]
    rows = [["城市管理/噪声扰民", "", "噪音 施工", "Noise"],
            ["交通/停车/违章停车", "交通运输局", "停车", "Illegal parking"],
            ["交通/公交", "transport", "", ""]]
    result = run_cli(app, tmp_path, csv_bytes(rows, header), command="import-categories")
    assert result.exit_code == 0, result.output
    with app.app_context():
        noise = db.session.get(Category, world.noise.id)
        assert noise.keywords == "噪音 施工"
        parking = db.session.scalar(select(Category).where(Category.name_zh == "违章停车"))
        assert parking.name_en == "Illegal parking" and parking.department_id == world.transport.id
        assert parking.parent.name_zh == "停车" and parking.parent.parent.name_zh == "交通"
        imp = db.session.scalar(select(CaseImport))
        assert (imp.kind, imp.status, imp.created_rows) == ("categories", "done", 4)
    bad = run_cli(app, tmp_path, csv_bytes([["a/b/c/d", "", "", ""], ["x", "无此部门", "", ""]],
                                           header), command="import-categories")
    assert bad.exit_code != 0
    assert "line 2" in bad.output and "line 3" in bad.output


def test_many_rows_take_no_query_per_row(database: Flask, world: World, tmp_path: Path):
    app = database

    def statements(n: int, offset: int) -> int:
        rows = [[f"问题{offset + i}", "描述", "城市管理/噪声扰民", "", "鼓楼区", "", "",
                 f"2019-0{1 + i % 9}-0{1 + i % 9} 10:00:00", "", "closed", "已办结",
                 str(1 + i % 5), f"市民{i}", f"139{offset + i:08d}"] for i in range(n)]
        path = tmp_path / f"many{n}.csv"
        path.write_bytes(csv_bytes(rows))
        count = 0

        def counted(*_args):
            nonlocal count
            count += 1

        with app.app_context():
            engine = db.engine
        event.listen(engine, "after_execute", counted)
        try:
            result = app.test_cli_runner().invoke(args=["cases", "import", str(path)])
        finally:
            event.remove(engine, "after_execute", counted)
        assert result.exit_code == 0, result.output
        return count

    small = statements(20, 0)
    large = statements(1500, 100000)
    assert large <= small + 5, (small, large)
    assert len(imported(app)) == 1520


def test_a_failure_while_writing_takes_everything_back(database: Flask, world: World,
                                                        tmp_path: Path, monkeypatch):
    from cases.imports import runner

    app = database
    calls = {"n": 0}
    real = runner.write_chunk

    def failing(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kw)

    monkeypatch.setattr(runner, "CHUNK", 2)
    monkeypatch.setattr(runner, "write_chunk", failing)
    result = run_cli(app, tmp_path, csv_bytes(GOOD))
    assert result.exit_code != 0 and calls["n"] == 2
    with app.app_context():
        imp = db.session.scalar(select(CaseImport))
        assert imp.status == "failed" and imp.errors[0]["line"] == 0
        for model in (Case, CaseReply, Rating):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
        assert not db.session.scalar(select(func.sum(DailyCaseTotal.received)))
        assert not db.session.scalar(select(func.sum(MonthlyCaseTotal.received)))
        assert db.session.scalar(select(func.count()).select_from(Client).where(
            Client.name == "张三")) == 0
        assert set(db.session.scalars(select(ChangeRecord.op).where(
            ChangeRecord.entity == "case"))) >= {"delete"}


def test_a_stalled_import_is_resumed_without_duplicates(database: Flask, world: World,
                                                         tmp_path: Path):
    from datetime import timedelta

    from cases.imports.runner import RUNNING, pick_up_pending, run_import
    from portal.db import utcnow

    app = database
    path = tmp_path / "stalled.csv"
    path.write_bytes(csv_bytes(GOOD))
    with app.app_context():  # a run that wrote the first two rows, then its process died
        imp = CaseImport(kind="cases", file_name="stalled.csv", status=RUNNING,
                         started_at=utcnow() - timedelta(hours=2), stored_path=str(path))
        db.session.add(imp)
        db.session.commit()
        run_import(imp, csv_bytes(GOOD[:2]))
        path.write_bytes(csv_bytes(GOOD))  # (a finished run deletes its stored file)
        imp.status, imp.stored_path = RUNNING, str(path)
        imp.started_at = utcnow() - timedelta(hours=2)
        db.session.commit()
        assert pick_up_pending() == [imp.id]
        imp = db.session.get(CaseImport, imp.id)
        assert (imp.status, imp.created_rows, imp.skipped_rows) == ("done", 4, 0)
        assert db.session.scalar(select(func.count()).select_from(Case)) == 4


def test_other_systems_words_for_channels_states_and_types(database: Flask):
    """A hotline platform's export says 电话 and 办结, not the portal's own labels."""
    from cases.imports.words import enum_words
    from cases.models import CaseStatus, CaseType, Channel

    with database.app_context():
        channels = enum_words(Channel, tuple(Channel))
        statuses = enum_words(CaseStatus, tuple(CaseStatus))
        types = enum_words(CaseType, tuple(CaseType))
    assert channels["电话"] is channels["12345热线"] is channels["phone"] is Channel.PHONE
    assert channels["微信"] is Channel.MOBILE and channels["来访"] is Channel.WALK_IN
    assert statuses["办结"] is statuses["已办结"] is CaseStatus.CLOSED
    assert types["投诉"] is CaseType.COMPLAINT and types["咨询类"] is CaseType.ENQUIRY
