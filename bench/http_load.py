"""The load generator and HTTP helpers of ``bench/http.py``.

``drive`` keeps ``connections`` keep-alive connections busy for ``duration`` seconds (wrk
when it is installed, else one Python thread per connection over ``http.client``) and
returns requests/s, p50 and p99 in milliseconds and the count of each status. A redirect to
the sign-in page is counted apart (``302→login``): a session lost is a failure, not a fast
page. Every request carries the ``User-Agent`` the session was signed in with.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from urllib.parse import urlencode

USER_AGENT = "portal-bench-http/1.0"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
LOGIN_FAILURE = "302→login"


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


class Client:
    """One keep-alive connection with a cookie jar of one cookie (the session)."""

    def __init__(self, port: int, headers: dict | None = None):
        self.port, self.headers = port, dict(headers or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"User-Agent": USER_AGENT, "Host": f"127.0.0.1:{self.port}", **self.headers}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            pair = header.split(";", 1)[0]
            if pair.split("=", 1)[1]:
                self.headers["Cookie"] = pair
        return response.status, response.getheader("Location") or "", data

    def csrf(self, path: str) -> str:
        status, _location, data = self.request("GET", path)
        match = CSRF.search(data.decode("utf-8", "replace"))
        assert status == 200 and match, (path, status)
        return match.group(1)


def sign_in(port: int, username: str, password: str) -> str:
    """Sign in through ``/login`` as a browser would; return the session cookie."""
    client = Client(port)
    token = client.csrf("/login")
    status, location, _ = client.request(
        "POST", "/login", {"csrf_token": token, "username": username, "password": password})
    assert status == 302 and "/login" not in location, (username, status, location)
    return client.headers["Cookie"]


def status_key(status: int, location: str) -> str:
    return LOGIN_FAILURE if status in (301, 302, 303) and "/login" in location else str(status)


def _python_drive(port, paths, headers, connections, duration):
    stop = time.perf_counter() + duration
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()

    def work(offset: int) -> None:
        client, mine, counts, i = Client(port, headers), [], Counter(), offset
        while time.perf_counter() < stop:
            path = paths[i % len(paths)]
            i += connections
            started = time.perf_counter()
            status, location, _ = client.request("GET", path)
            mine.append((time.perf_counter() - started) * 1000)
            counts[status_key(status, location)] += 1
        client.conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(counts)

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"rps": len(ordered) / elapsed, "p50": percentile(ordered, 0.5),
            "p99": percentile(ordered, 0.99), "statuses": dict(statuses)}


def _wrk_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk_drive(port, paths, headers, connections, duration):
    """wrk on the first path (wrk asks one URL); statuses as wrk reports them."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
               "-H", f"User-Agent: {USER_AGENT}"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, f"http://127.0.0.1:{port}{paths[0]}"],
                         capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(bad.group(1)) if bad else 0
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": _wrk_ms(re.search(r"50%\s+(\S+)", out).group(1)),
            "p99": _wrk_ms(re.search(r"99%\s+(\S+)", out).group(1)),
            "statuses": {"2xx/3xx": total - bad, **({"other": bad} if bad else {})}}


def drive(port: int, paths: list[str], headers: dict, connections: int, duration: float) -> dict:
    """One round of load on ``paths`` (cycled) at ``port``."""
    if shutil.which("wrk"):
        return _wrk_drive(port, paths, headers, connections, duration)
    return _python_drive(port, paths, headers, connections, duration)


def load_generator() -> str:
    return "wrk" if shutil.which("wrk") else "python threads (http.client keep-alive)"
