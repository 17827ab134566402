"""/reports/monthly/<YYYY-MM>: the four parts on a hand-built month, the same numbers in the
workbook (opened with openpyxl), who reads which version, bad months."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from cases.models import Case, CaseEvent, CaseType, Channel
from portal.db import db
from portal.models import Role
from tests.factories import make_case, make_user
from tests.test_lifecycle import step

ZONE = ZoneInfo("Asia/Shanghai")
SHEETS = ["总体情况", "热点分析", "办理情况", "考核排名"]


def date_case(app, number, when: datetime) -> None:
    """File ``number`` at ``when``, its timeline steps a few minutes later."""
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        case.created_at = when
        for n, event in enumerate(db.session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))):
            event.created_at = when + timedelta(minutes=n)
        db.session.commit()


@pytest.fixture
def march(database, world):
    """March 2026: four cases — two by web (complaints), two by phone (a help request and an
    enquiry); the enquiry answered at intake, two handed to the urban department. February:
    one case; March 2025: two."""
    app = database
    citizen = make_user(app, Role.CITIZEN)
    clerk = make_user(app, Role.CLERK)
    day = datetime(2026, 3, 10, 10, 0, tzinfo=ZONE)
    kinds = [(CaseType.COMPLAINT, Channel.WEB), (CaseType.COMPLAINT, Channel.WEB),
             (CaseType.HELP, Channel.PHONE), (CaseType.ENQUIRY, Channel.PHONE)]
    numbers = []
    for case_type, channel in kinds:
        numbers.append(make_case(app, citizen, world, type=case_type, channel=channel).number)
    step(app, numbers[0], "dispatch", clerk, department=world.urban.id)
    step(app, numbers[1], "dispatch", clerk, department=world.urban.id)
    step(app, numbers[3], "answer", clerk, note="可在政务服务网办理。")
    for n, number in enumerate(numbers):
        date_case(app, number, day + timedelta(days=n))
    for when in (datetime(2026, 2, 3, 9, tzinfo=ZONE), datetime(2025, 3, 3, 9, tzinfo=ZONE),
                 datetime(2025, 3, 4, 9, tzinfo=ZONE)):
        date_case(app, make_case(app, citizen, world).number, when)
    return numbers


def figures_on_page(html: str, table: str, figure: str) -> list[str]:
    """The "now" values of one figure of one table on the page."""
    part = html.split(f'id="monthly-{table}"', 1)[1].split("</table>", 1)[0]
    return re.findall(rf'data-figure="{figure}"><span class="now">([^<]+)</span>', part)


def sheet_rows(workbook, name: str) -> list[list]:
    return [list(row) for row in workbook[name].iter_rows(values_only=True)]


def test_the_month_in_four_parts_and_the_same_numbers_in_the_workbook(client, login_as, march):
    login_as(Role.OFFICIAL, locale="en")
    response = client.get("/reports/monthly/2026-03")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for heading in ("1. Overall picture", "2. Hot spot analysis", "3. Handling",
                    "4. Assessment ranking"):
        assert heading in html
    assert 'href="/static/css/reports-print.css"' in html
    # 总体情况: 4 received (1 the month before, 2 a year before), 4/31 a day.
    assert figures_on_page(html, "monthly-overview", "received") == ["4"]
    assert figures_on_page(html, "monthly-overview", "daily_average") == ["0.1"]
    assert figures_on_page(html, "monthly-channel", "share")[:3] == ["50.0%", "0.0%", "50.0%"]
    assert figures_on_page(html, "monthly-type", "cases") == ["1", "1", "0", "2", "0", "0"]
    # 办理情况: one answered at intake, two handed to a department.
    assert figures_on_page(html, "monthly-handling", "answered_at_intake") == ["1"]
    assert figures_on_page(html, "monthly-handling", "dispatched") == ["2"]

    workbook_response = client.get("/reports/monthly/2026-03.xlsx")
    assert workbook_response.status_code == 200
    assert workbook_response.headers["Content-Disposition"].endswith('monthly_2026-03.xlsx"')
    workbook = load_workbook(io.BytesIO(workbook_response.data))
    assert workbook.sheetnames == SHEETS
    overview = sheet_rows(workbook, "总体情况")
    assert overview[0][:2] == ["受理量", 4]
    received = next(row for row in overview if row[0] == "受理量")
    assert received[1] == 4
    by_label = {row[0]: row for row in overview if row and row[0]}
    assert by_label["日均受理量"][1] == 0.1
    assert by_label[str(Channel.WEB.label)][1:4] == [2, 1, 1]  # now, previous, change
    handling = sheet_rows(workbook, "办理情况")
    scope_row = next(row for row in handling if row[0] == "全市" or row[0] == "Whole city")
    assert scope_row[1] == 1 and scope_row[6] == 2  # intake 1; dispatched 2 (5 cells apart)


def test_a_department_head_reads_their_departments_version(client, login_as, march, world):
    login_as(Role.DEPARTMENT_HEAD, department_id=world.urban.id, locale="en")
    html = client.get("/reports/monthly/2026-03").get_data(as_text=True)
    assert figures_on_page(html, "monthly-overview", "received") == ["2"]  # urban leads two
    workbook = load_workbook(io.BytesIO(client.get("/reports/monthly/2026-03.xlsx").data))
    assert sheet_rows(workbook, "总体情况")[0][:2] == ["受理量", 2]


@pytest.mark.parametrize("role, status", [
    (Role.CITIZEN, 403), (Role.ENTERPRISE, 403), (Role.CLERK, 403), (Role.HANDLER, 200),
    (Role.SUPERVISOR, 200), (Role.ADMIN, 200),
])
def test_who_may_open_the_monthly_report(client, login_as, database, role, status):
    login_as(role)
    assert client.get("/reports/monthly/2026-03").status_code == status
    assert client.get("/reports/monthly/2026-03.xlsx").status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(client, database):
    response = client.get("/reports/monthly/2026-03")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("month", ["2026-13", "2026-3", "march", "1999-01", "2026-03x"])
def test_a_bad_month_is_a_localised_404(client, login_as, month):
    login_as(Role.OFFICIAL, locale="en")
    response = client.get(f"/reports/monthly/{month}")
    assert response.status_code == 404
    assert "write the month as YYYY-MM" in response.get_data(as_text=True)
    assert client.get(f"/reports/monthly/{month}.xlsx").status_code == 404


def test_the_latest_report_is_last_month(client, login_as):
    login_as(Role.OFFICIAL)
    response = client.get("/reports/monthly")
    assert response.status_code == 302
    assert re.search(r"/reports/monthly/\d{4}-\d{2}$", response.headers["Location"])


@pytest.mark.parametrize("role", [Role.OFFICIAL, Role.DEPARTMENT_HEAD, Role.HANDLER])
def test_handling_reads_the_workload_totals_without_computing_the_table(
        database, march, world, role):
    from cases.reports import figures, monthly
    from cases.reports.periods import Period
    from portal.models import User

    reader = make_user(database, role, department_id=world.urban.id)
    with database.test_request_context():
        viewer = db.session.get(User, reader.id)
        for month in (Period.month(2026, 3), Period.month(2026, 4), Period.month(2025, 3)):
            row = monthly.handling(month, viewer).rows[0]
            total = figures.workload(month, viewer, "department").total
            for key in ("on_time_rate", "backlog"):
                assert row.cells[key] == total.cells[key], (month, key)
