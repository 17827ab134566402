"""The officials' desk (issue 13): workload, 三率 and the ranking, hot spots and alerts, the
monthly report, the public statistics page.

Every figure is computed in one service, ``figures`` (workload, rates, ranking, drill-down
lists; period against period), never in views or templates; ``hotspots`` finds rising
categories and words and raises alerts; ``monthly`` assembles the four parts of the monthly
report from those; ``charts`` draws SVG on the server; ``exports`` writes CSV and Excel;
``periods`` and ``scope`` (who reads what) are shared by all. Arrows point into ``cases``
(models, visibility, satisfaction) and ``portal``; nothing in ``cases`` imports this.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("reports", __name__)


def init_app(app: Flask) -> None:
    """Register the reports' pages, commands and template helpers on ``app``."""
    from cases.reports import models  # noqa: F401  (the tables register)
