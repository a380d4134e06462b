"""The Flask application (app factory + blueprints). server/ holds what it serves: templates (shared
ones, then a folder per blueprint), static assets and the WSGI entry (server/wsgi.py).

Every blueprint module exposes `bp` (a flask.Blueprint); views reach the served models through
`registry()` (the app's kg.web.registry.Registry, built from app.config["MODELS"])."""

import os
import secrets
from pathlib import Path

from flask import Flask, current_app

from kg.ontology import stride_names
from kg.paths import server_dir
from kg.web.registry import Registry

DEFAULTS = {
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,   # uploads and forms; larger requests get the 413 page
    "MAX_UPLOADED_MODELS": 50,               # models added through /upload (each holds its own store)
    "MAX_UPLOADS_PER_CLIENT": 5,             # of them, held by one client address
    "UPLOADS_RUNNING": 2,                    # uploads validated and reasoned at once (kg.web.upload_worker)
    "UPLOAD_TIMEOUT": 60.0,                  # seconds an upload's validation and reasoning may take
    "UPLOAD_MEMORY_MB": 1024,                # memory it may use beyond the server's
    "UPLOAD_OWLRL_FALLBACK": False,          # reason an upload with owlrl when the fast engine cannot
    "CONSOLE_ROW_LIMIT": 500,                # rows the SPARQL console shows or downloads
    "CONSOLE_TIME_LIMIT": 10.0,              # seconds a console query may run
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
    "STORE": None,                           # a store URL (kg.store): serve every system in it
    "STORE_REFRESH": 1.0,                    # seconds between reads of the store's registry
}


def create_app(models: list[str] | None = None, config: dict | None = None) -> Flask:
    """An app serving the given model files (YAML or Turtle); config overrides the defaults.
    SECRET_KEY (signs the session that CSRF tokens are bound to) is random per process unless
    configured here or in $THREATKG_SECRET_KEY."""
    root = server_dir()
    app = Flask(__name__, template_folder=str(root / "templates"), static_folder=str(root / "static"))
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals["stride_names"] = stride_names()
    app.config.update(DEFAULTS, MODELS=list(models or []), DEBUG=False)
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("THREATKG_SECRET_KEY") or secrets.token_hex(32)
    app.extensions["registry"] = _registry(app.config)

    from kg.web import (api, catalog_pages, console, coverage_pages, enrichment, entities, pages, security,
                        sparql_endpoint, upload, versions)
    security.init_app(app)
    # the pages (templates in server/templates/<blueprint>/), then the JSON API, the SPARQL 1.1
    # Protocol endpoint, entity IRIs with content negotiation and the enrichment service
    for blueprint in (pages.bp, coverage_pages.bp, versions.bp, catalog_pages.bp, console.bp, upload.bp,
                      api.bp, sparql_endpoint.bp, entities.bp, enrichment.bp):
        app.register_blueprint(blueprint)
    return app


def _registry(config):
    """The served models: from files, in this process; or, with STORE (a store URL), every system of
    that store, the files added to it first as new versions."""
    if not config.get("STORE"):
        return Registry.from_files(config["MODELS"])
    from kg.model.load import load_model
    from kg.model.source import read_text
    from kg.store import open_store
    from kg.systems import releases
    from kg.web.store_registry import StoreRegistry
    store = open_store(config["STORE"])
    releases.ensure(store)
    served = StoreRegistry(store, float(config["STORE_REFRESH"]))
    for path in config["MODELS"]:
        served.add(load_model(path), read_text(Path(path)))
    return served


def registry() -> Registry:
    """The models the current app serves."""
    return current_app.extensions["registry"]
