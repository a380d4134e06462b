"""catalogs/attachments.yaml → OWL 2 RL axioms: each entry's class gets hasValue restrictions
(tm:proneTo a CWE, tm:exposedToDomain a CAPEC domain, tm:exposedTo a threat), annotated curated."""

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from kg.catalogs import curated_file
from kg.errors import InputError, Problem
from kg.ids import form_of, iri_of, known_forms
from kg.namespaces import TM
from kg.paths import catalogs_data_dir

FILE = "attachments.yaml"
KEYS = {"class", "capability", "weaknesses", "domains", "threats", "why"}


def _iri(official_id: str, kind: str, where: Problem) -> URIRef:
    form = form_of(official_id)
    if form is None or form.kind != kind:
        raise InputError(Problem(where.file, f"'{official_id}' is not a {kind} id (such as {known_forms(kind)})",
                                 element=where.element))
    return iri_of(official_id)


def _class_iri(name: str, kinds: dict, where: Problem) -> URIRef:
    if name.startswith("tm:"):
        return TM[name[3:]]
    if name in kinds:
        return URIRef(kinds[name])
    raise InputError(Problem(where.file, f"unknown class '{name}' (a kind name or a tm: CURIE)", element=where.element))


def _restriction(g: Graph, cls, prop, value, why: str | None) -> None:
    r = BNode()
    g.add((r, RDF.type, OWL.Restriction))
    g.add((r, OWL.onProperty, prop))
    g.add((r, OWL.hasValue, value))
    g.add((r, TM.provenance, TM.Curated))
    g.add((r, DCTERMS.source, Literal(f"catalogs/{FILE}")))
    if why:
        g.add((r, RDFS.comment, Literal(why)))
    g.add((cls, RDFS.subClassOf, r))


def _capability_class(g: Graph, token: str, capabilities: dict, where: Problem) -> BNode:
    """The class of elements that have a capability: a hasValue restriction on tm:does."""
    if token not in capabilities:
        raise InputError(Problem(where.file, f"unknown capability '{token}' (see ontologies/capabilities.ttl)",
                                 element=where.element))
    r = BNode()
    g.add((r, RDF.type, OWL.Restriction))
    g.add((r, OWL.onProperty, TM.does))
    g.add((r, OWL.hasValue, URIRef(capabilities[token])))
    return r


def attachment_axioms(kinds: dict[str, str], capabilities: dict[str, str]) -> Graph:
    """The axioms of catalogs/attachments.yaml; kinds and capabilities map YAML names to IRIs."""
    path = catalogs_data_dir() / FILE
    g = Graph()
    for index, entry in enumerate(curated_file.entries(path, "entries")):
        where = Problem(str(path), "", element=f"entry {index + 1}")
        if (not isinstance(entry, dict) or set(entry) - KEYS
                or [isinstance(entry.get(k), str) for k in ("class", "capability")].count(True) != 1):
            raise InputError(Problem(str(path), f"each entry is a mapping with 'class' or 'capability' and only "
                                     f"{sorted(KEYS)}", element=where.element))
        cls = (_class_iri(entry["class"], kinds, where) if "class" in entry
               else _capability_class(g, entry["capability"], capabilities, where))
        why = entry.get("why")
        for cwe in entry.get("weaknesses", []):
            _restriction(g, cls, TM.proneTo, _iri(cwe, "weakness", where), why)
        for domain in entry.get("domains", []):
            _restriction(g, cls, TM.exposedToDomain, Literal(domain), why)
        for threat in entry.get("threats", []):
            _restriction(g, cls, TM.exposedTo, _iri(threat, "threat", where), why)
    return g
