"""Entity IRIs dereference here: https://w3id.org/threatkg/id/… (catalog entries) and …/model/…
(systems and their elements) are served at /id/… and /model/… with content negotiation: browsers are
redirected (303) to the entry's page, RDF clients get its concise bounded description (CBD)."""

from flask import Blueprint, Response, abort, redirect, request, url_for
from pyoxigraph import BlankNode, NamedNode, RdfFormat, Triple, serialize
from rdflib.namespace import OWL, RDFS

from kg.namespaces import ID, MODEL, PREFIXES
from kg.web import registry

bp = Blueprint("entities", __name__)

RDF_TYPES = {"text/turtle": RdfFormat.TURTLE, "application/ld+json": RdfFormat.JSON_LD,
             "application/n-triples": RdfFormat.N_TRIPLES}
HTML = "text/html"
OFFERED = list(RDF_TYPES) + [HTML]   # Turtle first: what `curl` (Accept: */*) gets
LABEL = NamedNode(str(RDFS.label))
ANNOTATED_SOURCE = NamedNode(str(OWL.annotatedSource))


@bp.get("/id/<path:rest>")
def catalog_entry(rest):
    return _dereference(str(ID) + rest, lambda: url_for("catalog.entry", ident=rest))


@bp.get("/model/<path:rest>")
def model_element(rest):
    system, _, element = rest.partition("/")
    if element:
        return _dereference(str(MODEL) + rest, lambda: url_for("pages.component", system=system, element=element))
    return _dereference(str(MODEL) + rest, lambda: url_for("pages.overview", system=system))


def _dereference(iri: str, page) -> Response:
    mimetype = _negotiate()
    triples = describe(registry().dataset(), iri)
    if not triples:
        abort(404, f"Nothing is known about <{iri}>.")
    if mimetype == HTML:
        response = redirect(page(), 303)
    else:
        fmt = RDF_TYPES[mimetype]
        body = serialize(triples, format=fmt, prefixes=_prefixes() if fmt != RdfFormat.N_TRIPLES else None)
        response = Response(body, mimetype=mimetype)
    response.headers["Vary"] = "Accept"
    return response


def _negotiate() -> str:
    if not request.accept_mimetypes:
        return OFFERED[0]
    mimetype = request.accept_mimetypes.best_match(OFFERED)
    if mimetype is None:
        abort(406, f"This resource is available as {', '.join(OFFERED)}.")
    return mimetype


def describe(store, iri: str) -> list[Triple]:
    """The resource's concise bounded description over every graph: its statements, those of its parts
    (blank nodes and IRIs under its own, such as …/CAPEC-66/consequence/0), the axioms annotating its
    statements (link provenance), and the labels of what it links to. Empty when the resource is the
    subject of no statement (or not an IRI at all: a path may decode to `<`, `>`, spaces …)."""
    try:
        node = NamedNode(iri)
    except ValueError:
        return []
    triples = _closure(store, [node], iri + "/")
    if not triples:
        return []
    triples |= _closure(store, [q.subject for q in store.quads_for_pattern(None, ANNOTATED_SOURCE, node)], iri + "/")
    linked = {t.object for t in triples if isinstance(t.object, NamedNode) and t.object != node}
    for other in linked:
        triples |= {Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(other, LABEL, None)}
    return sorted(triples, key=lambda t: (t.subject != node, isinstance(t.subject, BlankNode), str(t.subject),
                                          str(t.predicate), str(t.object)))


def _closure(store, start: list, parts: str) -> set[Triple]:
    """The statements about the start nodes and, recursively, about the blank nodes and the IRIs
    starting with `parts` they point to."""
    triples, seen, todo = set(), set(start), list(start)
    while todo:
        for quad in store.quads_for_pattern(todo.pop(), None, None):
            triples.add(Triple(quad.subject, quad.predicate, quad.object))
            part = isinstance(quad.object, BlankNode) or (isinstance(quad.object, NamedNode)
                                                          and quad.object.value.startswith(parts))
            if part and quad.object not in seen:
                seen.add(quad.object)
                todo.append(quad.object)
    return triples


def _prefixes() -> dict[str, str]:
    """The project's prefixes but id: (entry IRIs read better whole than as id:capec\\/CAPEC-66)."""
    return {p: str(ns) for p, ns in PREFIXES.items() if p != "id"}
