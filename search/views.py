"""The search page ``/search`` (HTML, and JSON with ``Accept: application/json``)."""
