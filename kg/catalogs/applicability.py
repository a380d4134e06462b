"""catalogs/applicability.yaml → applicability conditions (ontologies/applicability.ttl): which
threats each condition selects, what an element must have or be, why, and its provenance."""

import hashlib
import json

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from kg.catalogs import curated_file
from kg.errors import InputError, Problem
from kg.ids import form_of, iri_of, known_forms
from kg.namespaces import ID, TM

FILE = "applicability.yaml"
SELECTORS = {"threats": TM.constrains, "subtrees": TM.constrainsSubtree, "domains": TM.constrainsDomain,
             "types": TM.constrainsType, "weakness_languages": TM.constrainsWeaknessLanguage}
KEYS = set(SELECTORS) | {"requires", "elements", "why", "provenance", "source"}
PROVENANCE = {"curated": TM.Curated, "derived": TM.Derived}


def condition_graph(path, kinds: dict[str, str], capabilities: dict[str, str]) -> Graph:
    """The conditions of one applicability file; kinds and capabilities map YAML names to IRIs."""
    g = Graph()
    for index, entry in enumerate(curated_file.entries(path, "conditions")):
        where = f"condition {index + 1}"

        def fail(message):
            raise InputError(Problem(str(path), message, element=where))

        if not isinstance(entry, dict) or set(entry) - KEYS:
            fail(f"each condition is a mapping of {sorted(KEYS)}")
        if not any(entry.get(k) for k in SELECTORS) or not (entry.get("requires") or entry.get("elements")):
            fail(f"a condition selects threats ({', '.join(SELECTORS)}) and states 'requires' or 'elements'")
        if not isinstance(entry.get("why"), str):
            fail("'why' states the reason, one sentence that holds for any system")
        provenance = entry.get("provenance", "curated")
        if provenance not in PROVENANCE or (provenance == "derived") != ("source" in entry):
            fail("provenance is curated, or derived with the 'source' it is derived from")
        node = _iri(entry)
        g.add((node, RDF.type, TM.ApplicabilityCondition))
        g.add((node, RDFS.comment, Literal(entry["why"])))
        g.add((node, TM.provenance, PROVENANCE[provenance]))
        g.add((node, DCTERMS.source, Literal(entry.get("source", f"catalogs/{FILE}"))))
        for key, prop in SELECTORS.items():
            for value in _list(entry.get(key), key, fail):
                g.add((node, prop, _selected(key, value, fail)))
        for name in _list(entry.get("requires"), "requires", fail):
            g.add((node, TM.requiresOneOf, _requirement(name, kinds, capabilities, fail)))
        for name in _list(entry.get("elements"), "elements", fail):
            g.add((node, TM.fitsElement, _class(name, kinds, fail)))
    return g


def _iri(entry: dict) -> URIRef:
    """A condition's IRI, named by its content: the same wherever it sits in the file, and citable
    from a store (a blank node would not survive the round trip through a SPARQL server)."""
    digest = hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()[:12]
    return ID[f"condition/{digest}"]


def _list(value, key, fail) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(f"'{key}' is a list of names")
    return value


def _selected(key, value, fail):
    if key in ("domains", "weakness_languages"):
        return Literal(value)
    if key == "types":
        return _curie(value, fail)
    form = form_of(value)
    if form is None or form.kind != "threat":
        fail(f"{key}: '{value}' is not a threat id (such as {known_forms('threat')})")
    return iri_of(value)


def _requirement(name, kinds, capabilities, fail) -> URIRef:
    """A capability token, or a class (kind name or tm: CURIE)."""
    return URIRef(capabilities[name]) if name in capabilities else _class(name, kinds, fail)


def _class(name, kinds, fail) -> URIRef:
    if name in kinds:
        return URIRef(kinds[name])
    return _curie(name, fail)


def _curie(name, fail) -> URIRef:
    if name.startswith("tm:") and len(name) > 3:
        return TM[name[3:]]
    fail(f"unknown name '{name}' (a capability token, a kind name or a tm: CURIE)")
