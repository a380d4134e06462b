"""A model stays in its lane: it states facts only about its own system and elements
(https://w3id.org/threatkg/model/<system>/<id>, ids of the documented form), with the model
vocabulary only. It can point at catalog entries (a requirement it implements, a threat a control
mitigates) but never say anything about them, about the ontology or about another system, and it
states no axiom (no owl: or rdfs: terms beyond labels and comments), so nothing it says can reach a
shared page or the reasoner's rules."""

import re

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from kg.errors import Problem
from kg.model.yaml_model import ID_PATTERN
from kg.namespaces import TM, model_iri

ALLOWED_PREDICATES = {RDF.type, RDFS.label, RDFS.comment}
NOT_IN_IRIS = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f-\x9f]')   # RFC 3987: never in an IRI


def problems(graph: Graph, system: str, file: str) -> list[Problem]:
    """One problem per offending subject or statement (at most 20), naming it."""
    if not ID_PATTERN.match(system):
        return [Problem(file, f"system id {_show(system)} must match {ID_PATTERN.pattern}")]
    own = str(model_iri(system))
    found = []
    for s, p, o in graph:
        message = _offence(s, p, o, own, graph)
        if message and message not in found:
            found.append(message)
        if len(found) == 20:
            break
    return [Problem(file, m) for m in found]


def _offence(s, p, o, own: str, graph: Graph) -> str | None:
    if isinstance(s, BNode):
        return "a model states facts about its own elements only: blank nodes are not allowed"
    subject = str(s)
    for iri in (s, p, o):
        if isinstance(iri, URIRef) and NOT_IN_IRIS.search(iri):
            return f"{_show(str(iri))}: not an IRI (spaces, control characters, <>\"{{}}|^`\\ are not allowed)"
    if subject != own and not subject.startswith(own + "/"):
        return (f"{_show(subject)}: a model may only state facts about its own system's IRIs ({own}/…), "
                "not about catalog entries, the ontology or other systems")
    if subject != own:
        ident, local = graph.value(s, DCTERMS.identifier), subject[len(own) + 1:]
        if not ID_PATTERN.match(local) or (ident is not None and str(ident) != local):
            return f"{_show(subject)}: element ids must match {ID_PATTERN.pattern} and end the element's IRI"
    if p not in ALLOWED_PREDICATES and not str(p).startswith((str(TM), str(DCTERMS))):
        return f"{_show(subject)}: property {_show(str(p))} is not part of the model vocabulary (tm:, dcterms:)"
    if p == RDF.type and not (isinstance(o, URIRef) and str(o).startswith(str(TM))):
        return f"{_show(subject)}: rdf:type {_show(str(o))} is not a class of the ThreatKG ontology"
    if isinstance(o, BNode):
        return f"{_show(subject)}: blank nodes are not allowed as values"
    if isinstance(o, Literal) and len(str(o)) > 10_000:
        return f"{_show(subject)}: a value longer than 10,000 characters"
    return None


def _show(text: str) -> str:
    """Hostile text made safe to print: escaped, and cut when long."""
    shown = text.encode("unicode_escape").decode("ascii")
    return repr(shown[:120] + ("…" if len(shown) > 120 else ""))
