"""How many sign-in attempts get past the login rate limit on a running portal.

Start the portal with several workers first (``make run`` starts two), then:

    .venv/bin/python bench/shared_limits.py --url http://127.0.0.1:5000 --attempts 25

Each attempt fetches the form (for its CSRF token) and posts a wrong password for a new
name, so the per-name throttle never bites: only the per-address ``LOGIN_RATE_LIMIT``
(10 per minute by default) does. With limits in shared storage the number let through is
the limit whatever the number of workers; with per-worker storage it would be the limit
times the workers. Wait a minute between runs (the window is fixed).
"""

from __future__ import annotations

import argparse
import collections
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

TOKEN_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"'
    r'|type="hidden" name="csrf_token" value="([^"]+)"'
)


def attempt(opener: urllib.request.OpenerDirector, base: str, n: int) -> int:
    try:
        html = opener.open(f"{base}/login").read().decode()
    except urllib.error.HTTPError as error:
        html = error.read().decode()
    match = TOKEN_RE.search(html)
    token = (match.group(1) or match.group(2)) if match else ""
    data = urllib.parse.urlencode(
        {"csrf_token": token, "username": f"probe{n}", "password": "not-the-password"}
    ).encode()
    try:
        return opener.open(f"{base}/login", data).status
    except urllib.error.HTTPError as error:
        return error.code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--attempts", type=int, default=25)
    args = parser.parse_args()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    statuses = collections.Counter(
        attempt(opener, args.url.rstrip("/"), n) for n in range(args.attempts)
    )
    passed = sum(count for status, count in statuses.items() if status != 429)
    print(f"{args.attempts} sign-in attempts: {passed} answered, {statuses[429]} refused (429)")
    print("by status:", dict(sorted(statuses.items())))


if __name__ == "__main__":
    main()
