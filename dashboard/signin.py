"""Dashboard sign-in: a user's API key is exchanged for an HttpOnly, SameSite=Strict session
cookie (the key and a CSRF token encrypted with Fernet, valid for a set time), and every
dashboard request, reads and actions alike, runs with that key; nothing but the sign-in page and
static scripts is served without it. A POST must come from the dashboard's origin and carry the
session's CSRF token in `X-CSRFToken` (Dash's renderer sends the `_csrf_token` cookie's value
there; another origin cannot read that cookie), so a forged action is refused."""

import hmac
import html
import json
import secrets
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken, MultiFernet
from flask import Flask, g, redirect, request
from werkzeug.wrappers import Response

from dashboard.client import ApiError, MonitorApi

COOKIE = "monitor_session"
CSRF_COOKIE = "_csrf_token"  # the name Dash's renderer reads; not HttpOnly, so scripts can
CSRF_HEADER = "X-CSRFToken"
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
        session = _open_session(cipher, request.cookies.get(COOKIE), session_seconds)
        if session is None:
            if request.method == "GET" and not path.startswith(("/_dash", "/reports/")):
                return redirect(prefix + SIGN_IN.lstrip("/"), code=303)  # type: ignore[return-value]
            return refuse(401, "sign in first: the session is missing or has expired")
        key, csrf = session
        if request.method not in ("GET", "HEAD"):
            if not _same_origin():
                return refuse(403, "refused: this request did not come from the dashboard's page")
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), csrf.encode()):
                return refuse(
                    403,
                    f"refused: the request lacks this session's CSRF token ({CSRF_HEADER}); "
                    "reload the page",
                )
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
        csrf = secrets.token_urlsafe(32)
        session = json.dumps({"key": key, "csrf": csrf}).encode()
        for name, value, httponly in (
            (COOKIE, cipher.encrypt(session).decode(), True),
            (CSRF_COOKIE, csrf, False),
        ):
            response.set_cookie(
                name,
                value,
                max_age=session_seconds,
                path=prefix,
                secure=request.is_secure,
                httponly=httponly,
                samesite="Strict",
            )
        return response


def _open_session(
    cipher: MultiFernet, token: str | None, session_seconds: int
) -> tuple[str, str] | None:
    """The session's key and CSRF token; None when missing, forged, expired or of an older
    format (signing in again mends it)."""
    if not token:
        return None
    try:
        session = json.loads(cipher.decrypt(token.encode(), ttl=session_seconds))
    except (InvalidToken, ValueError):
        return None
    if not isinstance(session, dict):
        return None
    key, csrf = session.get("key"), session.get("csrf")
    return (key, csrf) if isinstance(key, str) and isinstance(csrf, str) else None


def _same_origin() -> bool:
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    return origin is not None and urlsplit(origin).netloc == request.host
