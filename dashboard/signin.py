"""Dashboard sign-in: a user's API key is exchanged for an HttpOnly, SameSite=Strict session
cookie (the key encrypted with Fernet, valid for a set time), and every dashboard request runs
with that key; nothing but the sign-in page and static scripts is served without it. A POST
from another origin (a forged action) is refused."""

import html
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken, MultiFernet
from flask import Flask, g, redirect, request
from werkzeug.wrappers import Response

from dashboard.client import ApiError, MonitorApi

COOKIE = "monitor_session"
SIGN_IN = "/signin"
# What a browser needs before signing in: the sign-in page and Dash's static scripts.
_OPEN = (SIGN_IN, "/_dash-component-suites/", "/_favicon.ico")

_FORM = """<!doctype html><html><head><title>Sign in · Model monitor</title></head>
<body style="font-family: sans-serif; max-width: 28rem; margin: 4rem auto">
<h1>Model monitor</h1>
<form method="post" action="{action}">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="off" required style="width: 100%">
<p style="color: #b00020" id="signin-error">{error}</p>
<button id="signin" type="submit">Sign in</button>
</form>
<p>Sign in with a key of yours: <code>monitor keys create --scope read</code> to look,
<code>--scope admin</code> to act as well.</p></body></html>"""


def signed_in_key() -> str | None:
    """The key of the user the current request runs for (None outside a signed-in request)."""
    key: str | None = g.get("api_key")
    return key


def install_sign_in(
    server: Flask,
    api: MonitorApi,
    cipher: MultiFernet,
    *,
    prefix: str,
    session_seconds: int,
) -> None:
    """Gate every request of `server` behind a session cookie made at `prefix` + signin."""

    def form(error: str = "", status: int = 200) -> Response:
        body = _FORM.format(action=html.escape(prefix + SIGN_IN.lstrip("/")), error=error)
        return Response(body, status=status, mimetype="text/html")

    def refuse(status: int, message: str) -> Response:
        return Response(message, status=status, mimetype="text/plain")

    @server.before_request
    def require_session() -> Response | None:
        path = request.path
        if path.startswith(_OPEN):
            return None
        token = request.cookies.get(COOKIE)
        try:
            key = cipher.decrypt(token.encode(), ttl=session_seconds).decode() if token else None
        except InvalidToken:
            key = None
        if key is None:
            if request.method == "GET" and not path.startswith(("/_dash", "/reports/")):
                return redirect(prefix + SIGN_IN.lstrip("/"), code=303)  # type: ignore[return-value]
            return refuse(401, "sign in first: the session is missing or has expired")
        if request.method != "GET" and not _same_origin():
            return refuse(403, "refused: this request did not come from the dashboard's page")
        g.api_key = key
        return None

    @server.route(SIGN_IN, methods=["GET"])
    def show_sign_in() -> Response:
        return form()

    @server.route(SIGN_IN, methods=["POST"])
    def sign_in() -> Response:
        key = (request.form.get("key") or "").strip()
        try:
            api.check_key(key)
        except ApiError as error:
            return form(html.escape(f"That key was refused ({error})."), status=401)
        response: Response = redirect(prefix, code=303)  # type: ignore[assignment]
        response.set_cookie(
            COOKIE,
            cipher.encrypt(key.encode()).decode(),
            max_age=session_seconds,
            path=prefix,
            secure=request.is_secure,
            httponly=True,
            samesite="Strict",
        )
        return response


def _same_origin() -> bool:
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    return origin is not None and urlsplit(origin).netloc == request.host
