"""The officials' desk (issue 13): workload, 三率 and the ranking, hot spots and alerts, the
monthly report, the public statistics page.

Every figure is computed in one service, ``figures`` (workload, rates, ranking, drill-down
lists; period against period), never in views or templates; ``hotspots`` finds rising
categories and words and raises alerts; ``monthly`` assembles the four parts of the monthly
report from those; ``charts`` draws SVG on the server; ``exports`` writes CSV and Excel;
``periods`` and ``scope`` (who reads what) are shared by all. Arrows point into ``cases``
(models, visibility, satisfaction) and ``portal``; ``cases`` calls in only from the sweep
(hot-spot detection) and the filing step (daily totals).
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("reports", __name__)


def init_app(app: Flask) -> None:
    """Register the reports' pages, commands and template helpers on ``app``."""
    from cases.reports import (
        alert_views,  # noqa: F401  (hot-spot alerts; report_hotspots & co. as template globals)
        flows,
        models,  # noqa: F401  (the tables register)
        monthly_views,  # noqa: F401  (the monthly report's page and workbook)
        rating_months,
        settings_views,  # noqa: F401  (/admin/reports: how the ranking is counted)
        stats_views,  # noqa: F401  (its routes join the blueprint)
        step_flows,
        totals,
        views,  # noqa: F401  (the officials' pages join the blueprint)
    )
    from cases.reports.cli import reports_cli

    totals.follow_cases()  # the daily totals follow the cases table
    flows.follow_cases()  # and so do the daily flows the workload sums
    step_flows.follow_timeline()  # and the timeline's
    rating_months.follow_ratings()  # and the monthly counts of ratings follow ratings
    app.cli.add_command(reports_cli)
    if "reports" not in app.blueprints:  # after every view module above is imported
        app.register_blueprint(bp)
