"""Upload or paste a model (YAML / Turtle): its validation problems per element, or, when it is valid,
served next to the others. The request size is capped by MAX_CONTENT_LENGTH (413 page).

Uploads stay in their lane: a model states facts about its own system only (kg.model.lane); an
uploaded system belongs to the browser session that uploaded it (a random uploader id in the signed
session cookie), and only that session may replace it; a system served from the command line or
kept in the store is never replaced through this page; each client address may hold
MAX_UPLOADS_PER_CLIENT uploaded systems, and the server MAX_UPLOADED_MODELS in all. Validation and
reasoning run in a bounded child process (kg.web.upload_worker), UPLOADS_RUNNING at once and one
per client address, so uploads never occupy more than that many server threads."""

import secrets
import threading
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.utils import secure_filename

from kg.errors import InputError
from kg.web import registry, upload_worker

bp = Blueprint("upload", __name__)

PASTED = {"yaml": "pasted.yaml", "turtle": "pasted.ttl"}
SUFFIXES = {".yaml", ".yml", ".ttl", ".turtle", ".json", ".xml", ".drawio"}   # other tools' formats: kg.importers


class Uploads:
    """What this app's uploads share: the systems added through this page and who is uploading."""

    def __init__(self):
        self.systems = {}        # system id → {uploader, client}
        self.running = set()     # client addresses whose upload is being validated
        self.lock = threading.Lock()        # guards running
        self.adding = threading.Lock()      # held from the refusal check until the system is served


@bp.record_once
def _init(state):
    state.app.extensions["uploads"] = Uploads()


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
            return _page(message=f"{name}: a model file ends in {', '.join(sorted(SUFFIXES))}.", fmt=fmt), 400
    elif text.strip():
        name, data = PASTED[fmt], text.encode("utf-8")
    else:
        return _page(message="Choose a model file or paste a model.", fmt=fmt), 400
    try:
        system, refusal = _add(name, data, _uploader(), request.remote_addr or "")
    except InputError as err:
        return _page(problems=err.problems, name=name, text=text, fmt=fmt), 422
    if refusal:
        return _page(message=refusal[1], text=text, fmt=fmt), refusal[0]
    return redirect(url_for("pages.overview", system=system), code=303)


def _add(name: str, data: bytes, uploader: str, client: str) -> tuple[str | None, tuple[int, str] | None]:
    """Validate and reason in the worker, then serve the model unless refused: (system id, refusal)."""
    uploads, config = _uploads(), current_app.config
    with uploads.lock:
        if client in uploads.running:
            return None, (429, "Your previous upload is still being validated; wait for it before sending another.")
        if len(uploads.running) >= config["UPLOADS_RUNNING"]:
            return None, (503, "The server is validating other uploads; try again in a moment.")
        uploads.running.add(client)
    try:
        model, inference = upload_worker.prepare(name, data, float(config["UPLOAD_TIMEOUT"]),
                                                 int(config["UPLOAD_MEMORY_MB"]), bool(config["UPLOAD_OWLRL_FALLBACK"]))
        with uploads.adding:   # so that two sessions cannot both add a new system id
            refusal = _refusal(uploads, model.system, uploader, client)
            if not refusal:
                registry().add(model, data.decode("utf-8"), inference)
                uploads.systems[model.system] = {"uploader": uploader, "client": client}
        return model.system, refusal
    finally:
        with uploads.lock:
            uploads.running.discard(client)


def _refusal(uploads: Uploads, system: str, uploader: str, client: str) -> tuple[int, str] | None:
    """(status, why) a model may not be added: it would replace a system served from the command line,
    kept in the store or uploaded by someone else, or its client or the server holds too many uploads."""
    uploaded, config = uploads.systems, current_app.config
    mine = system in uploaded and uploaded[system]["uploader"] == uploader
    if system in uploaded and not mine:
        return 409, (f"A system with the id {system} was uploaded by someone else and only they can replace it; "
                     "give yours another system id.")
    if system in registry().systems() and system not in uploaded:
        return 409, f"A system with the id {system} is already served; give the uploaded one another system id."
    if mine:
        return None
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


def _uploads() -> Uploads:
    return current_app.extensions["uploads"]


def _page(problems=None, name="", text="", fmt="yaml", message=None):
    return render_template("upload/upload.html", problems=problems, name=name, text=text, fmt=fmt, message=message,
                           limit=current_app.config["MAX_CONTENT_LENGTH"])
