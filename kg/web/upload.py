"""Upload or paste a model (YAML / Turtle): its validation problems per element, or, when it is valid,
served next to the others. The request size is capped by MAX_CONTENT_LENGTH (413 page).

Uploads stay in their lane: a model states facts about its own system only (kg.model.lane); an
uploaded system belongs to the browser session that uploaded it (a random uploader id in the signed
session cookie), and only that session may replace it; a system served from the command line or
kept in the store is never replaced through this page; each client address may hold
MAX_UPLOADS_PER_CLIENT uploaded systems, and the server MAX_UPLOADED_MODELS in all."""

import secrets
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from werkzeug.utils import secure_filename

from kg.errors import InputError
from kg.model.load import load_model
from kg.web import registry

bp = Blueprint("upload", __name__)

PASTED = {"yaml": "pasted.yaml", "turtle": "pasted.ttl"}
SUFFIXES = {".yaml", ".yml", ".ttl", ".turtle"}


@bp.get("/upload")
def form():
    return _page()


@bp.post("/upload")
def upload():
    fmt = request.form.get("format") if request.form.get("format") in PASTED else "yaml"
    text = request.form.get("text", "")
    file = request.files.get("model")
    if file and file.filename:
        name, data = secure_filename(file.filename) or "model", file.read()
        if Path(name).suffix.lower() not in SUFFIXES:
            return _page(message=f"{name}: a model file ends in .yaml, .yml, .ttl or .turtle.", fmt=fmt), 400
    elif text.strip():
        name, data = PASTED[fmt], text.encode("utf-8")
    else:
        return _page(message="Choose a model file or paste a model.", fmt=fmt), 400
    try:
        model = _load(name, data)
    except InputError as err:
        return _page(problems=err.problems, name=name, text=text, fmt=fmt), 422
    refusal = _refusal(model.system)
    if refusal:
        return _page(message=refusal[1], text=text, fmt=fmt), refusal[0]
    registry().add(model, data.decode("utf-8"))
    _uploaded()[model.system] = {"uploader": _uploader(), "client": request.remote_addr or ""}
    return redirect(url_for("pages.overview", system=model.system), code=303)


def _load(name: str, data: bytes):
    """Validate the model from a private temporary file named as uploaded (problems cite that name)."""
    with tempfile.TemporaryDirectory(prefix="threatkg-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            model = load_model(path)
        except InputError as err:
            raise InputError([_renamed(p, name) for p in err.problems]) from None
    model.file = name
    return model


def _renamed(problem, name):
    return type(problem)(name, problem.message, problem.line, problem.element)


def _refusal(system: str) -> tuple[int, str] | None:
    """(status, why) a model may not be added: it would replace a system served from the command line,
    kept in the store or uploaded by someone else, or its client or the server holds too many uploads."""
    uploaded, config = _uploaded(), current_app.config
    mine = system in uploaded and uploaded[system]["uploader"] == _uploader()
    if system in uploaded and not mine:
        return 409, (f"A system with the id {system} was uploaded by someone else and only they can replace it; "
                     "give yours another system id.")
    if system in registry().systems() and system not in uploaded:
        return 409, f"A system with the id {system} is already served; give the uploaded one another system id."
    if mine:
        return None
    client = request.remote_addr or ""
    held = sum(1 for u in uploaded.values() if u["client"] == client)
    if held >= config["MAX_UPLOADS_PER_CLIENT"]:
        return 429, f"You have uploaded {held} models, the limit for one client; replace one of yours instead."
    if len(uploaded) >= config["MAX_UPLOADED_MODELS"]:
        return 503, f"This server already holds {len(uploaded)} uploaded models, its limit."
    return None


def _uploader() -> str:
    """This browser session's uploader id (random, kept in the signed session cookie)."""
    if "uploader" not in session:
        session["uploader"] = secrets.token_urlsafe(16)
    return session["uploader"]


def _uploaded() -> dict:
    """System id → {uploader, client} of every system added through this page."""
    return current_app.extensions.setdefault("uploaded_systems", {})


def _page(problems=None, name="", text="", fmt="yaml", message=None):
    return render_template("upload.html", problems=problems, name=name, text=text, fmt=fmt, message=message,
                           limit=current_app.config["MAX_CONTENT_LENGTH"])
