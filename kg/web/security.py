"""The service's own security: response headers (CSP without inline code), a session-bound CSRF
token on every form POST, a Host header that must be a host name (400 otherwise, with these headers),
and error pages that never show a stack trace."""

import hashlib
import hmac
import re
import secrets

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    session,
)
from werkzeug.exceptions import HTTPException, InternalServerError

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Machine endpoints (the SPARQL protocol, the JSON API, entity IRIs) hold no session state to
# forge: clients such as SPARQLWrapper POST to them without a form token.
CSRF_EXEMPT = {"api", "sparql", "entities"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
HOST = re.compile(r"^[A-Za-z0-9_.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$")


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    app.before_request(_check_host)
    app.before_request(_check_csrf)
    app.register_error_handler(HTTPException, _error_page)
    app.jinja_env.globals["csrf_token"] = csrf_token


def csrf_token() -> str:
    """The form token for this session: an HMAC of a random per-session nonce under SECRET_KEY."""
    nonce = session.get("csrf")
    if nonce is None:
        nonce = session["csrf"] = secrets.token_urlsafe(24)
    return _sign(nonce)


def _sign(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def _check_host():
    """A Host header that is no host name or address is refused before anything builds a URL from it."""
    if not HOST.match(request.environ.get("HTTP_HOST", "") or request.environ.get("SERVER_NAME", "localhost")):
        return Response("Bad Request: the Host header is not a host name.\n", status=400, mimetype="text/plain")
    return None


def _check_csrf():
    if request.method not in UNSAFE_METHODS or request.blueprint in CSRF_EXEMPT:
        return
    nonce, token = session.get("csrf"), request.form.get("csrf_token", "")
    if not nonce or not hmac.compare_digest(token, _sign(nonce)):
        abort(400, "The form's security token is missing or expired. Reload the page and try again.")


def _headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _error_page(error: HTTPException):
    """The error as a page (or JSON for clients that prefer it); a 500 says nothing about the cause,
    which Flask has already logged."""
    if isinstance(error, InternalServerError):
        error = InternalServerError()
    code = error.code or 500
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return jsonify(error=error.name, status=code, message=error.description), code
    return render_template("error.html", error=error, code=code), code
