"""The officials' pages (issue 13): /reports, the workload tables, the cases behind a figure
and the CSV/Excel files, as each role; the official lands on /reports after signing in.

The fixture: four cases filed this month — two dispatched to the urban department (one
closed by its handler, one in progress), one to transport, one still at intake.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook

from portal.models import Role, User
from tests.conftest import csrf_token, sign_in
from tests.factories import make_case, make_user
from tests.test_lifecycle import step

EN = {"Accept-Language": "en"}
PAGES = ["/reports", "/reports/workload?by=department", "/reports/workload?by=category",
         "/reports/workload?by=district", "/reports/workload?by=staff",
         "/reports/cases?figure=received&by=department"]


@dataclass
class Desk:
    clerk: User
    handler: User  # urban
    head: User  # urban
    other_handler: User  # transport
    supervisor: User
    official: User
    admin: User
    citizen: User
    numbers: dict[str, str]


@pytest.fixture
def desk(database, world) -> Desk:
    people = {
        "clerk": make_user(database, Role.CLERK),
        "handler": make_user(database, Role.HANDLER, department_id=world.urban.id,
                             display_name="王办理"),
        "head": make_user(database, Role.DEPARTMENT_HEAD, department_id=world.urban.id),
        "other_handler": make_user(database, Role.HANDLER, department_id=world.transport.id,
                                   display_name="李交通"),
        "supervisor": make_user(database, Role.SUPERVISOR),
        "official": make_user(database, Role.OFFICIAL),
        "admin": make_user(database, Role.ADMIN),
        "citizen": make_user(database, Role.CITIZEN),
    }
    clerk, handler = people["clerk"], people["handler"]
    numbers = {}
    for name in ("closed", "working", "transport", "intake"):
        numbers[name] = make_case(database, people["citizen"], world,
                                  title=f"报表测试 {name}").number
    for name, department in (("closed", world.urban.id), ("working", world.urban.id),
                             ("transport", world.transport.id)):
        step(database, numbers[name], "accept", clerk)
        step(database, numbers[name], "dispatch", clerk, department=department)
    step(database, numbers["closed"], "sign_for", handler)
    step(database, numbers["closed"], "reply", handler, note="已处理完毕")
    step(database, numbers["closed"], "close", clerk)
    step(database, numbers["working"], "sign_for", handler)
    step(database, numbers["transport"], "sign_for", people["other_handler"])
    return Desk(numbers=numbers, **people)


def enter(client, user: User):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    response = sign_in(client, user.username)
    assert response.status_code == 302
    return response


def row_keys(html: str, table: str) -> set[str]:
    """The data-key of every row of the table ``table-<key>`` on the page."""
    part = html.split(f'id="table-{table}"', 1)[1].split("</table>", 1)[0]
    return set(re.findall(r'<tr data-key="([^"]*)"', part))


def first_figure(html: str, table: str, key: object) -> str:
    """The first figure of row ``key`` of a table, as the page prints it."""
    part = html.split(f'id="table-{table}"', 1)[1].split("</table>", 1)[0]
    row = part.split(f'<tr data-key="{key}">', 1)[1].split("</tr>", 1)[0]
    cell = row.split('class="figure">', 1)[1]
    return re.sub(r"<[^>]+>", "", cell.split("<span", 1)[0]).strip()


# --- who may read -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["citizen", "clerk"])
def test_clients_and_clerks_get_403_on_every_report(client, desk, role):
    enter(client, getattr(desk, role))
    for page in [*PAGES, "/reports/export/rates.csv", "/reports/export/workload-staff.xlsx"]:
        assert client.get(page).status_code == 403, page


def test_anonymous_is_sent_to_sign_in(client, desk):
    for page in [*PAGES, "/reports/export/rates.csv"]:
        response = client.get(page)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["handler", "head", "supervisor", "official", "admin"])
def test_every_report_page_opens_for_its_readers(client, desk, role):
    enter(client, getattr(desk, role))
    for page in PAGES:
        response = client.get(page, headers=EN)
        assert response.status_code == 200, page
        assert "<script" not in response.get_data(as_text=True)
    assert 'id="nav-reports"' in client.get("/reports").get_data(as_text=True)


def test_the_official_lands_on_the_reports(client, desk):
    assert enter(client, desk.official).headers["Location"] == "/reports"
    assert client.get("/reports").status_code == 200


# --- scope --------------------------------------------------------------------------


def test_city_readers_see_every_department(client, desk, world):
    enter(client, desk.official)
    html = client.get("/reports", headers=EN).get_data(as_text=True)
    keys = row_keys(html, "workload-department")
    assert {str(world.urban.id), str(world.transport.id)} <= keys
    # received: urban 2, transport 1; response rate: urban 2 of 2 signed for in time
    assert first_figure(html, "workload-department", world.urban.id) == "2"
    assert first_figure(html, "workload-department", world.transport.id) == "1"
    assert first_figure(html, "rates", world.urban.id) == "100.0%"
    assert "(2 of 2)" in html and "(1 of 1)" in html
    assert 'id="red-list"' in html and 'id="black-list"' in html


def test_a_head_sees_their_department_only(client, desk, world):
    enter(client, desk.head)
    html = client.get("/reports", headers=EN).get_data(as_text=True)
    assert row_keys(html, "workload-department") - {"total"} == {str(world.urban.id)}
    assert row_keys(html, "rates") - {"total"} == {str(world.urban.id)}
    assert "Transport Bureau" not in html
    staff = client.get("/reports/workload?by=staff", headers=EN).get_data(as_text=True)
    assert str(desk.handler.id) in row_keys(staff, "workload-staff")
    assert str(desk.other_handler.id) not in row_keys(staff, "workload-staff")
    assert "李交通" not in staff


def test_a_handler_sees_their_own_figures_only(client, desk):
    enter(client, desk.handler)
    staff = client.get("/reports/workload?by=staff", headers=EN).get_data(as_text=True)
    assert row_keys(staff, "workload-staff") <= {str(desk.handler.id), "total"}
    assert "李交通" not in staff


# --- the period picker --------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "period=fortnight", "period=month&date=2026-13-01", "period=day&date=yesterday",
    "period=custom&from=2026-11-10&to=2026-11-01", "period=custom&from=2020-01-01&to=2026-01-01",
    "period=year&date=0001-01-01",
])
def test_a_period_that_means_nothing_is_a_400_with_a_reason(client, desk, query):
    enter(client, desk.official)
    for page in ("/reports", "/reports/workload", "/reports/export/rates.csv"):
        response = client.get(f"{page}?{query}", headers=EN)
        assert response.status_code == 400, (page, query)
    assert "could not be understood" not in response.get_data(as_text=True)


def test_the_period_picker_speaks_chinese(client, desk):
    enter(client, desk.official)
    zh = {"Accept-Language": "zh-CN"}
    response = client.get("/reports?period=fortnight", headers=zh)
    assert response.status_code == 400
    assert "请求有误" in response.get_data(as_text=True)
    for page in PAGES:
        assert client.get(page, headers=zh).status_code == 200, page
    assert client.get("/reports/export/rates.xlsx", headers=zh).status_code == 200


def test_a_custom_range_and_an_unknown_grouping(client, desk):
    enter(client, desk.official)
    ok = client.get("/reports?period=custom&from=2026-01-01&to=2026-03-31")
    assert ok.status_code == 200
    assert client.get("/reports/workload?by=colour").status_code == 400
    assert client.get("/reports/cases?figure=nonsense").status_code == 404
    assert client.get("/reports/cases?figure=received&key=x1").status_code == 400
    assert client.get("/reports/export/nonsense.csv").status_code == 404
    assert client.get("/reports/export/rates.pdf").status_code == 404


# --- drill down ---------------------------------------------------------------------


def test_count_cells_link_to_their_cases(client, desk, world):
    enter(client, desk.official)
    html = client.get("/reports", headers=EN).get_data(as_text=True)
    assert "/reports/cases?figure=received" in html.replace("&amp;", "&")


def test_drill_down_lists_only_the_cases_the_reader_may_see(client, desk, world):
    urban = f"/reports/cases?figure=received&by=department&key={world.urban.id}"
    transport = f"/reports/cases?figure=received&by=department&key={world.transport.id}"
    enter(client, desk.official)
    page = client.get(urban, headers=EN).get_data(as_text=True)
    assert desk.numbers["closed"] in page and desk.numbers["working"] in page
    assert desk.numbers["transport"] not in page
    enter(client, desk.head)
    page = client.get(urban, headers=EN).get_data(as_text=True)
    assert desk.numbers["closed"] in page
    page = client.get(transport, headers=EN).get_data(as_text=True)
    assert desk.numbers["transport"] not in page
    total = client.get("/reports/cases?figure=received&by=department", headers=EN)
    assert desk.numbers["transport"] not in total.get_data(as_text=True)
    assert desk.numbers["intake"] not in total.get_data(as_text=True)


# --- files --------------------------------------------------------------------------


def test_csv_holds_the_period_and_the_figures(client, desk, world):
    enter(client, desk.official)
    response = client.get("/reports/export/workload-department.csv?period=month", headers=EN)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "no-store" in response.headers["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Report"
    assert rows[1][0] == "Period" and re.fullmatch(r"\d{4}-\d{2}", rows[1][1])
    labels = [row[0] for row in rows]
    assert "Urban Management Bureau" in labels and "Transport Bureau" in labels


def test_excel_holds_the_numbers_the_page_shows(client, desk, world):
    enter(client, desk.official)
    html = client.get("/reports", headers=EN).get_data(as_text=True)
    shown = first_figure(html, "workload-department", world.urban.id)
    response = client.get("/reports/export/workload-department.xlsx", headers=EN)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[1][0] == "Period"
    head = next(i for i, row in enumerate(rows) if row[0] == "Group")
    received = rows[head].index("Received")
    urban = next(row for row in rows if row[0] == "Urban Management Bureau")
    assert shown == "2" and urban[received] == 2
    # the rates file: the same rate as the page, as a fraction
    rates_file = client.get("/reports/export/rates.xlsx", headers=EN).data
    rates = load_workbook(io.BytesIO(rates_file)).active
    rows = [[cell.value for cell in row] for row in rates.iter_rows()]
    head = next(i for i, row in enumerate(rows) if row[0] == "Group")
    urban = next(row for row in rows if row[0] == "Urban Management Bureau")
    response = rows[head].index("Response rate")
    assert urban[response] == 1.0  # the page's 100.0%
    assert urban[rows[head].index("Response rate: counted in")] == 2
    assert urban[rows[head].index("Response rate: out of")] == 2


@pytest.mark.parametrize("name", ["rates", "ranking", "timeline", "hotspots-categories",
                                  "hotspots-words", "workload-category", "workload-district",
                                  "workload-staff"])
def test_every_table_exports(client, desk, name):
    enter(client, desk.supervisor)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/reports/export/{name}.{fmt}?period=week", headers=EN)
        assert response.status_code == 200, (name, fmt)
        assert f'filename="{name}_' in response.headers["Content-Disposition"]


def test_a_head_exports_their_department_only(client, desk, world):
    enter(client, desk.head)
    text = client.get("/reports/export/workload-department.csv", headers=EN).get_data(
        as_text=True)
    assert "Urban Management Bureau" in text and "Transport Bureau" not in text
    assert "Department: Urban Management Bureau" in text


# --- charts on the page -------------------------------------------------------------


def test_the_dashboard_draws_its_charts_as_svg(client, desk):
    import xml.etree.ElementTree as ET

    enter(client, desk.official)
    html = client.get("/reports", headers=EN).get_data(as_text=True)
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) >= 2
    ns = "{http://www.w3.org/2000/svg}"
    for svg in svgs:
        root = ET.fromstring(svg)  # noqa: S314 (our own page)
        assert root.get("role") == "img"
        title, desc = root.find(f"{ns}title"), root.find(f"{ns}desc")
        assert title is not None and title.text and desc is not None and desc.text
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_the_line_chart_counts_received_and_closed_per_day(client, desk, database):
    from cases.reports.periods import today

    with database.test_request_context():
        day = today().isoformat()
    enter(client, desk.official)
    html = client.get("/reports", headers=EN).get_data(as_text=True)
    assert first_figure(html, "timeline", day) == "4"  # four filed today
    row = html.split('id="table-timeline"', 1)[1].split(f'<tr data-key="{day}">', 1)[1]
    closed = row.split("</tr>", 1)[0].split('class="figure">')[2]
    assert closed.split("<span", 1)[0].strip() == "1"  # one closed today
    enter(client, desk.head)
    html = client.get("/reports", headers=EN).get_data(as_text=True)
    assert first_figure(html, "timeline", day) == "2"  # the urban department's two


def test_files_neutralise_formulas(app):
    from datetime import UTC, datetime

    from cases.reports.exports import csv_bytes, xlsx_bytes
    from cases.reports.periods import Period
    from cases.reports.tables import Cell, Column, Row, Table

    table = Table("hotspots-words", "=HYPERLINK(\"http://x\")", Period.month(2026, 11), "word",
                  [Column("cases", "Cases")], [Row("1:=cmd", "=cmd|' /C calc'!A0",
                                                  {"cases": Cell(3, 5)})],
                  filters={"district": "@evil"})
    made = datetime(2026, 11, 30, tzinfo=UTC)
    with app.test_request_context(headers=EN):
        text = csv_bytes(table, "The whole city", made)
        sheet = load_workbook(io.BytesIO(xlsx_bytes(table, "The whole city", made))).active
    assert "'=HYPERLINK" in text and "'=cmd" in text and "'@evil" in text
    values = [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not any(isinstance(v, str) and v.startswith(("=", "@")) for v in values)
    assert -2 in values  # a negative change stays a number
