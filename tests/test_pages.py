"""Base pages, health check, security headers, error pages and languages."""

from __future__ import annotations

from tests.conftest import csrf_token


def test_healthz_answers_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_inline_script_or_style_and_local_assets(client):
    for url in ("/", "/login", "/register"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and " style=" not in html and "<style" not in html
        assert "http://" not in html and "https://" not in html  # no CDN


def test_default_language_is_chinese(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "民众服务平台" in html


def test_accept_language_english(client):
    html = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Citizen Service Portal" in html


def test_language_switch_is_remembered(client):
    token = csrf_token(client, "/")
    response = client.post(
        "/language", data={"csrf_token": token, "locale": "en", "next": "/login"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    html = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_language_switch_refuses_foreign_redirect(client):
    token = csrf_token(client, "/")
    response = client.post(
        "/language", data={"csrf_token": token, "locale": "en", "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"


def test_404_page_in_both_languages(client):
    zh = client.get("/no-such-page")
    assert zh.status_code == 404 and "页面不存在" in zh.get_data(as_text=True)
    en = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert en.status_code == 404 and "Page not found" in en.get_data(as_text=True)


def test_404_json_for_api_clients(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == 404


def test_form_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_static_css_is_served(client):
    with client.get("/static/css/portal.css") as response:
        assert response.status_code == 200 and response.mimetype == "text/css"


def test_server_error_page_rolls_back_and_hides_the_traceback(tmp_path):
    from portal import create_app

    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}",
            "LOG_LEVEL": "CRITICAL",
        }
    )

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "出错" in html and "secret internals" not in html and "Traceback" not in html
    api = client.get("/boom", headers={"Accept": "application/json"})
    assert api.status_code == 500 and api.get_json()["error"]["code"] == 500


def test_403_page_in_english(client, login_as):
    login_as("citizen")
    token = csrf_token(client, "/")
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    page = client.get("/admin/users")
    assert page.status_code == 403 and "Not allowed" in page.get_data(as_text=True)


def test_every_page_has_landmarks_skip_link_and_language_switch(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="#content"' in html and '<main id="content"' in html
    assert "<header" in html and "<nav" in html and "<footer" in html
    assert 'action="/language"' in html and 'value="en"' in html and 'value="zh_CN"' in html


def test_form_fields_never_render_none_attributes(client):
    html = client.get("/register").get_data(as_text=True)
    assert '="None"' not in html
    assert 'aria-describedby="username-hint"' in html
