"""Upload or paste a model (YAML / Turtle): its validation problems per element, or, when it is valid,
served next to the others. The request size is capped by MAX_CONTENT_LENGTH (413 page)."""

import tempfile
from pathlib import Path

from flask import Blueprint, current_app, redirect, render_template, request, url_for
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
        return _page(message=refusal, text=text, fmt=fmt), 409
    registry().add(model, data.decode("utf-8"))
    _uploaded().add(model.system)
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


def _refusal(system: str) -> str | None:
    """Why a model may not be added: it would replace a model served from the command line, or too
    many models were uploaded already."""
    uploaded = _uploaded()
    if registry().versioned:     # a store keeps every upload as a new version of its system
        return None
    if system in registry().systems() and system not in uploaded:
        return f"A system with the id {system} is already served; give the uploaded one another system id."
    if system not in uploaded and len(uploaded) >= current_app.config["MAX_UPLOADED_MODELS"]:
        return f"This server already holds {len(uploaded)} uploaded models, its limit."
    return None


def _uploaded() -> set:
    return current_app.extensions.setdefault("uploaded_systems", set())


def _page(problems=None, name="", text="", fmt="yaml", message=None):
    return render_template("upload.html", problems=problems, name=name, text=text, fmt=fmt, message=message,
                           limit=current_app.config["MAX_CONTENT_LENGTH"])
