"""The JSON API under /api, mirroring the CLI: served systems, the threats each element inherits and
why, requirement ↔ threat mappings, coverage by a profile, a stored system's versions and the changes
between two, installed catalogs, one catalog entry's facts. Described by OpenAPI 3.1 at /api/openapi.json.
Errors are JSON objects {error, detail}, never stack traces."""

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    request,
    send_from_directory,
    url_for,
)
from pyoxigraph import Literal, NamedNode
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from kg.catalogs import installed
from kg.ids import form_of, iri_of, known_forms
from kg.namespaces import ID
from kg.queries import run
from kg.web import registry
from kg.web.catalog_pages import describe, mapped
from kg.web.coverage_pages import requested_profile
from kg.web.systemview import view
from kg.web.versions import changes, kept_or_404, listing

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_ID = 200   # longest entry id looked up


@bp.get("/")
def index():
    """Where everything is."""
    return jsonify(openapi=url_for("api.openapi"), systems=url_for("api.systems"), catalogs=url_for("api.catalogs"),
                   sparql=url_for("sparql.endpoint"))


@bp.get("/openapi.json")
def openapi():
    return send_from_directory(current_app.static_folder, "openapi.json", mimetype="application/json")


@bp.get("/systems")
def systems():
    return jsonify(systems=[_summary(_view(s)) for s in registry().systems()])


@bp.get("/systems/<system>")
def system(system):
    v = _view(system)
    return jsonify(**_summary(v), elements=list(v.elements.values()), stride=v.stride_counts())


@bp.get("/systems/<system>/threats")
def threats(system):
    """The threat rows of every element (kg.threats.threat_rows), or of one with ?component=ID."""
    v = _view(system)
    component = request.args.get("component")
    if component is not None and component not in v.elements:
        abort(404, f"The system {system} has no component or flow {component}.")
    cache = current_app.extensions.setdefault("api_threats", {})   # (system, component) → (view, JSON)
    cached = cache.get((system, component))
    if cached is None or cached[0] is not v:   # encoded once per analysis: a system's rows run to megabytes
        rows = v.rows if component is None else v.rows_of(component)
        cached = cache[(system, component)] = (v, current_app.json.dumps(
            {"system": system, "component": component, "count": len(rows), "threats": rows}, separators=(",", ":")))
    return current_app.response_class(cached[1], mimetype="application/json")


@bp.get("/catalogs")
def catalogs():
    """The catalogs the served graphs hold: names, versions, counts; an empty list and a message when none."""
    installation = registry().catalogs()
    if installation is None:
        return jsonify(installed=False, catalogs=[], message=installed.not_installed_message())
    return jsonify(installed=True, release=installation.release, built=installation.manifest.get("built"),
                   catalogs=[_catalog(entry) for entry in installation.catalogs.values()])


@bp.get("/threats/<path:ident>")
def threat(ident):
    """The catalog facts of one entry, by path under …/id/ (capec/CAPEC-66) or by identifier (CAPEC-66)."""
    if len(ident) > MAX_ID:
        abort(400, f"An entry id has at most {MAX_ID} characters.")
    store = registry().dataset()
    found = _lookup(store, ident)
    if not found:
        abort(404, f"No catalog entry has the id {ident}.")
    if len(found) > 1:
        return jsonify(error="Ambiguous", detail=f"Several entries have the id {ident}: ask for one by its path.",
                       candidates=[iri[len(str(ID)):] for iri in found]), 300
    entry = describe(store, found[0])
    path = found[0][len(str(ID)):]
    return jsonify(**entry, path=path, page=url_for("catalog.entry", ident=path), inherited_by=_inherited(found[0]))


@bp.get("/map/<path:ident>")
def map_entry(ident):
    """`threatkg map ID`: the threats a requirement addresses, or the requirements covering a threat."""
    form = form_of(ident) if len(ident) <= MAX_ID else None
    if form is None or form.kind not in ("requirement", "threat"):
        abort(400, f"{ident[:MAX_ID]} is not a requirement or threat id (such as "
                   f"{known_forms('requirement')}, {known_forms('threat')}).")
    store = registry().dataset()
    iri = str(iri_of(ident))
    if next(store.quads_for_pattern(NamedNode(iri), None, None), None) is None:
        abort(404, f"No catalog entry has the id {ident}.")
    rows = mapped(store, iri, form.kind)
    return jsonify(id=ident, kind=form.kind, count=len(rows), mappings=rows)


@bp.get("/systems/<system>/coverage")
def coverage(system):
    """`threatkg coverage`: per component, the threats a built-in profile addresses and leaves open."""
    return jsonify(_view(system).coverage(requested_profile()))


@bp.get("/systems/<system>/versions")
def version_list(system):
    """A stored system's kept versions, newest first, each with its changes against its predecessor."""
    return jsonify(system=system, versions=[
        {**v, "changes": url_for("api.version_changes", system=system, old=v["predecessor"], new=v["id"])
         if v["predecessor"] else None} for v in listing(kept_or_404(system))])


@bp.get("/systems/<system>/changes")
def version_changes(system):
    """`threatkg diff SYSTEM@OLD SYSTEM@NEW --format json` of two kept versions (?old=, ?new=: an id,
    current or previous; default previous → current; ?profile= repeatable)."""
    return jsonify(changes(kept_or_404(system))[2])


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest):
    """JSON errors for paths no route above matches, and for any method but GET (the API is read-only)."""
    if request.method != "GET":
        raise MethodNotAllowed(["GET", "HEAD"], "The API is read-only: use GET.")
    abort(404, f"No API resource /api/{rest}: see {url_for('api.openapi')}.")


def _view(system: str):
    v = view(system)
    if v is None:
        abort(404, f"No system {system} is served here.")
    return v


def _summary(v) -> dict:
    return {"id": v.system, "name": v.name, "iri": str(v.analysis.model.system_iri),
            "counts": {"elements": len(v.elements), "threats": len(v.rows)},
            "links": {"threats": url_for("api.threats", system=v.system),
                      "page": url_for("pages.overview", system=v.system)}}


def _catalog(entry: dict) -> dict:
    graphs = [{"graph": g["graph"], "iri": g["iri"], "triples": g["triples"], "counts": g.get("counts", {})}
              for g in entry["graphs"]]
    return {"name": entry["name"], "version": entry["version"], "licence": entry.get("licence"),
            "built": entry.get("built"), "sources_sha256": entry.get("sources_sha256"), "graphs": graphs}


def _lookup(store, ident: str) -> list[str]:
    """The entry IRIs an id names: a path under …/id/ naming a subject, else entries with that dcterms:identifier."""
    iri = str(ID) + ident
    try:
        subject = NamedNode(iri) if "/" in ident else None
    except ValueError:             # no IRI (a space, a NUL …): no entry has it as a path either
        return []
    if subject is not None and next(store.quads_for_pattern(subject, None, None), None) is not None:
        return [iri]
    return [s["entry"].value for s in run(store, "entry-lookup", id=Literal(ident))]


def _inherited(iri: str) -> list[dict]:
    """The elements of the served systems that inherit the entry as a threat."""
    return [{"system": system, "component": row["component"],
             "threat": url_for("api.threats", system=system, component=row["component"])}
            for system in registry().systems() for row in _view(system).rows if row["iri"] == iri]


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if isinstance(error, InternalServerError):
        error = InternalServerError("The server failed to answer; the cause is in its log.")
    response = jsonify(error=error.name, detail=error.description)
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.valid_methods or [])
    return response, error.code or 500
