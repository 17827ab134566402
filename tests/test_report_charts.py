"""Charts drawn on the server (cases/reports/charts.py): well-formed SVG with a title, a
text description and role="img"; no script; colours that meet WCAG contrast; and the
figure formatting the tables share (change as arrow and sign, not colour alone)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from cases.reports import charts
from cases.reports.periods import Period
from cases.reports.tables import Cell, Column, Row, Table
from cases.reports.views_format import change, figure

SVG = "{http://www.w3.org/2000/svg}"


def rates_table() -> Table:
    columns = [Column("response", "Response rate", "rate"),
               Column("satisfaction", "Satisfaction rate", "rate")]
    rows = [
        Row(1, "城市管理局", {"response": Cell(2 / 3, 0.5), "satisfaction": Cell(0.75)}),
        Row(2, "Transport <Bureau> & co", {"response": Cell(1.0), "satisfaction": Cell(None)}),
    ]
    return Table("rates", "三率", Period.month(2026, 11), "department", columns, rows)


def series_table() -> Table:
    columns = [Column("received", "Received"), Column("closed", "Closed")]
    rows = [Row(f"2026-11-0{d}", f"2026-11-0{d}",
                {"received": Cell(n), "closed": Cell(c)})
            for d, n, c in ((1, 3, 0), (2, 7, 2), (3, 1, 4))]
    return Table("timeline", "Received and closed per day",
                 Period.custom(date(2026, 11, 1), date(2026, 11, 3)), "day", columns, rows)


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(str(svg))  # noqa: S314 (our own SVG; raises if not well-formed)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "<script" not in str(svg) and "href" not in str(svg)
    return root


def test_bars_of_rates_say_what_they_show(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        root = parsed(charts.bar_chart(rates_table(), ["response", "satisfaction"], "c1"))
    desc = root.find(f"{SVG}desc").text
    assert root.find(f"{SVG}title").text == "三率"
    assert "Response rate: highest 100.0% (Transport <Bureau> & co)" in desc
    assert "lowest 66.7% (城市管理局)" in desc
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "66.7%" in texts and "75.0%" in texts and "—" in texts  # values printed, not colour
    assert len(root.findall(f"{SVG}rect")) == 2 + 4  # legend + a bar per row and rate


def test_lines_over_time(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        root = parsed(charts.line_chart(series_table(), ["received", "closed"], "c2"))
    desc = root.find(f"{SVG}desc").text
    assert "Received: highest 7 (2026-11-02), lowest 1 (2026-11-03)." in desc
    assert "Closed: highest 4 (2026-11-03), lowest 0 (2026-11-01)." in desc
    assert len(root.findall(f"{SVG}polyline")) == 2
    dashes = {p.get("stroke-dasharray") for p in root.findall(f"{SVG}polyline")}
    assert len(dashes) == 2  # the lines differ by dash as well as colour


def test_an_empty_table_still_draws_a_described_chart(app):
    table = rates_table()
    table.rows = []
    with app.test_request_context(headers={"Accept-Language": "en"}):
        root = parsed(charts.bar_chart(table, ["response"], "c3"))
        line = parsed(charts.line_chart(table, ["response"], "c4"))
    assert root.find(f"{SVG}desc").text == "No figures in this period."
    assert line.find(f"{SVG}desc").text == "No figures in this period."


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


@pytest.mark.parametrize("colour", [*charts.COLOURS, charts.INK, charts.GRID])
def test_chart_colours_meet_contrast_on_white(colour):
    ratio = (1.0 + 0.05) / (_luminance(colour) + 0.05)
    assert ratio >= 4.5, f"{colour}: {ratio:.2f}"


def test_figures_and_changes_read_without_colour(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert figure(2 / 3, "rate") == "66.7%"
        assert figure(1234) == "1,234"
        assert figure(12.25, "hours") == "12.2 h" or figure(12.25, "hours") == "12.3 h"
        assert figure(None) == "—"
        assert "▲" in change(3) and "+3" in change(3)
        assert "▼" in change(-2) and "−2" in change(-2)
        assert "±0" in change(0)
        assert "+5.0 pp" in change(0.05, "rate")
        assert "—" in change(None)
