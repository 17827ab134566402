"""History imports (issue 15) through HTTP: the admin list and upload, the import's page
and its progress JSON, bad files refused with a 4xx, the work after the response (inline,
in a thread, or picked up later), and who may use the pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cases.imports.models import CaseImport
from cases.imports.runner import pick_up_pending, wait_for
from cases.models import Case
from portal.db import db
from tests.conftest import csrf_token
from tests.factories import World
from tests.test_history_import import GOOD, csv_bytes, xlsx_bytes

URL = "/admin/imports"


def upload(client: FlaskClient, data: bytes, name: str = "history.csv", **fields):
    token = csrf_token(client, URL)
    from io import BytesIO

    form = {"csrf_token": token, "kind": "cases", "file": (BytesIO(data), name), **fields}
    return client.post(URL, data=form, content_type="multipart/form-data")


def last_import(app: Flask) -> CaseImport:
    with app.app_context():
        imp = db.session.scalars(select(CaseImport).order_by(CaseImport.id.desc())).first()
        db.session.expunge_all()
        return imp


def count_cases(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


@pytest.fixture
def admin(database: Flask, login_as, world: World):
    database.config["IMPORT_RUN"] = "inline"
    yield login_as("admin")
    database.config["IMPORT_RUN"] = "thread"


def test_upload_runs_and_shows_progress(database: Flask, client: FlaskClient, admin, world):
    page = client.get(URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'name="create_categories"' in html
    response = upload(client, csv_bytes(GOOD))
    assert response.status_code == 302
    imp = last_import(database)
    assert response.headers["Location"].endswith(f"{URL}/{imp.id}")
    assert imp.status == "done" and imp.created_rows == 4 and imp.stored_path is None
    assert imp.created_by_id == admin.id
    progress = client.get(f"{URL}/{imp.id}/progress").get_json()
    assert progress == {"id": imp.id, "status": "done", "total_rows": 4, "processed_rows": 4,
                        "created_rows": 4, "skipped_rows": 0, "error_count": 0,
                        "finished": True}
    detail = client.get(f"{URL}/{imp.id}").get_data(as_text=True)
    assert "<progress" in detail and "js/import-progress.js" in detail
    listing = client.get(URL).get_data(as_text=True)
    assert "history.csv" in listing and admin.display_name in listing
    assert count_cases(database) == 4
    with database.app_context():  # staff read on the case page where it came from
        number = db.session.scalar(select(Case.number).order_by(Case.id))
    case_page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert f"导入自其他系统的历史数据（第 {imp.id} 次导入）" in case_page


def test_bad_rows_show_on_the_import_page(database: Flask, client: FlaskClient, admin, world):
    rows = [GOOD[0], ["标题", "描述", "没有这个分类", *[""] * 11]]
    upload(client, csv_bytes(rows))
    imp = last_import(database)
    assert imp.status == "failed" and imp.error_count == 1
    detail = client.get(f"{URL}/{imp.id}").get_data(as_text=True)
    assert "没有这个分类" in detail and "<td>3</td>" in detail
    assert count_cases(database) == 0


@pytest.mark.parametrize(("data", "name", "status"), [
    (b"%PDF-1.4 not a table", "history.pdf", 415),
    (b"PK\x03\x04broken", "history.xlsx", 415),
    (b"title,description\nx,y\n", "history.csv", 422),  # no category column
    (b"\xff\xfe\x00t\x00i\x00t\x00l\x00e", "history.csv", 415),  # UTF-16: not text we read
])
def test_bad_files_are_refused(database: Flask, client: FlaskClient, admin, data, name, status):
    response = upload(client, data, name)
    assert response.status_code == status
    assert '<ul class="errors"' in response.get_data(as_text=True)
    assert last_import(database) is None


def test_gb18030_and_bom_are_read(database: Flask, client: FlaskClient, admin, world):
    assert upload(client, csv_bytes(GOOD[:1], encoding="gb18030")).status_code == 302
    assert upload(client, b"\xef\xbb\xbf" + csv_bytes(GOOD[1:2])).status_code == 302
    assert count_cases(database) == 2


def test_excel_upload_and_too_large(database: Flask, client: FlaskClient, admin, world):
    assert upload(client, xlsx_bytes([GOOD[1]]), "h.xlsx").status_code == 302
    assert last_import(database).created_rows == 1
    database.config["IMPORT_MAX_BYTES"] = 100
    try:
        response = upload(client, csv_bytes(GOOD))
    finally:
        database.config["IMPORT_MAX_BYTES"] = 50 * 1024 * 1024
    assert response.status_code == 413


def test_upload_runs_in_a_thread_after_the_response(database: Flask, client: FlaskClient,
                                                     admin, world):
    database.config["IMPORT_RUN"] = "thread"
    response = upload(client, csv_bytes(GOOD))
    assert response.status_code == 302
    imp = last_import(database)
    wait_for(imp.id, 60)
    assert last_import(database).status == "done"
    assert count_cases(database) == 4


def test_queued_import_is_picked_up_later(database: Flask, client: FlaskClient, admin, world):
    database.config["IMPORT_RUN"] = "off"  # as if the process died before it ran
    upload(client, csv_bytes(GOOD), create_categories="y")
    imp = last_import(database)
    assert imp.status == "queued" and Path(imp.stored_path).exists()
    page = client.get(f"{URL}/{imp.id}").get_data(as_text=True)
    assert f'href="{URL}/{imp.id}"' in page  # the refresh link, for pages without script
    with database.app_context():
        from datetime import timedelta

        assert pick_up_pending(timedelta(0)) == [imp.id]
    assert last_import(database).status == "done"
    result = database.test_cli_runner().invoke(args=["cases", "import-pending"])
    assert result.exit_code == 0 and "imports run: 0" in result.output


@pytest.mark.parametrize("role", ["clerk", "supervisor", "citizen"])
def test_only_admins(database: Flask, client: FlaskClient, login_as, role):
    login_as(role)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/1/progress").status_code == 403


def test_anonymous_goes_to_login(client: FlaskClient):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.search
def test_imported_history_is_searchable_and_counted(database: Flask, client: FlaskClient,
                                                    login_as, world, tmp_path: Path):
    from datetime import date

    from cases.reports.periods import Period
    from cases.reports.totals import received_count

    path = tmp_path / "history.csv"
    path.write_bytes(csv_bytes(GOOD))
    result = database.test_cli_runner().invoke(args=["cases", "import", str(path)])
    assert result.exit_code == 0, result.output
    with database.app_context():
        number = db.session.scalar(select(Case.number).where(Case.title == "路灯不亮"))
        assert received_count(Period.containing("month", date(2020, 1, 6))) == 2
    login_as("supervisor")
    page = client.get("/search", query_string={"q": "路灯不亮"})
    assert page.status_code == 200
    assert number in page.get_data(as_text=True)
    case_page = client.get(f"/cases/{number}")  # history without a timeline still reads
    assert case_page.status_code == 200
    assert "已修复。" in case_page.get_data(as_text=True)
