"""GET /api/enrichment/<id>: `threatkg enrich ID` as JSON, facts about a catalog entry from the allowlisted
external SPARQL endpoints, each with its origin. The request names the entry only: the endpoints are the
server's allowlist (catalogs/enrichment.yaml, THREATKG_HOME/enrichment.yaml)."""

from flask import Blueprint, abort, current_app, jsonify
from werkzeug.exceptions import HTTPException

from kg.enrichment import enrich, resolve
from kg.errors import InputError
from kg.web import registry

bp = Blueprint("enrichment", __name__, url_prefix="/api/enrichment")

MAX_ID = 200   # longest entry id looked up


@bp.get("/<ident>")
def entry(ident):
    """The entry's facts and, under `sources`, how each enrichment went (a failed endpoint is reported there)."""
    if len(ident) > MAX_ID:
        abort(400, f"An entry id has at most {MAX_ID} characters.")
    store = registry().dataset()
    try:
        resolve(ident, store)
    except InputError as err:
        abort(404, err.problems[0].message)
    try:
        facts = enrich(ident, store)
    except InputError as err:   # the server's enrichment.yaml
        current_app.logger.error("enrichment configuration: %s", err)
        abort(500, "The enrichment configuration is invalid; the cause is in the server log.")
    return jsonify(id=ident, **facts.as_dict())


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return jsonify(error=error.name, detail=error.description), error.code or 500
