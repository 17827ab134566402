"""Serve the Flask app on a free local port in a background thread (for browser tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without the access log (one line per request is noise here)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _closing_responses(app: Flask):
    """Wrap ``app`` so each response is read whole and closed before it is sent.

    Werkzeug's development server does not close a response whose client hung up
    (a browser cancelling a favicon or a page it navigates away from), so a file
    served from ``static/`` stays open and surfaces as a ``ResourceWarning`` in some
    later test. Reading the body first means the file is closed whatever the socket
    does; the bodies here are small pages and assets.
    """

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            body = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return [body]

    return wsgi


@contextmanager
def live_server(app: Flask, host: str = "127.0.0.1") -> Iterator[str]:
    """Run ``app`` on ``host`` and a free port; yield its base URL; stop and close it after."""
    server = make_server(host, 0, _closing_responses(app), threaded=True,
                         request_handler=QuietHandler)
    # Request threads are daemons, so a hung request cannot block the test run's exit.
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="live-server",
        daemon=True,
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
