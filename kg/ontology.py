"""The ontology: every OWL file under ontologies/ (catalog vocabularies included), loaded once."""

import hashlib
from functools import lru_cache

from rdflib import Graph, URIRef

from kg.catalogs.attachments import FILE as ATTACHMENTS
from kg.catalogs.applicability import FILE as APPLICABILITY
from kg.catalogs.applicability import condition_graph
from kg.catalogs.attachments import attachment_axioms
from kg.paths import catalogs_data_dir, ontologies_dir
from kg.queries import select


def ontology_files():
    root = ontologies_dir()
    return sorted(root.glob("*.ttl")) + sorted((root / "catalogs").glob("*.ttl"))


@lru_cache(maxsize=1)
def _axioms() -> Graph:
    g = Graph()
    for path in ontology_files():
        g.parse(path, format="turtle")
    return g


@lru_cache(maxsize=1)
def ontology() -> Graph:
    """The ontology files plus the catalog attachments (catalogs/attachments.yaml) as axioms and the
    applicability conditions (catalogs/applicability.yaml)."""
    return (_axioms() + attachment_axioms(kinds(), capabilities())
            + condition_graph(catalogs_data_dir() / APPLICABILITY, kinds(), capabilities()))


@lru_cache(maxsize=1)
def digest() -> str:
    """SHA-256 of the files the ontology is built from: its identity in a store."""
    h = hashlib.sha256()
    for path in ontology_files() + [catalogs_data_dir() / ATTACHMENTS, catalogs_data_dir() / APPLICABILITY]:
        h.update(path.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def kinds() -> dict[str, str]:
    """YAML kind name → class IRI, from the tm:kind annotations."""
    return {str(r.kind): str(r.cls) for r in select(_axioms(), "kinds")}


@lru_cache(maxsize=1)
def attributes() -> dict[str, str]:
    """YAML attribute key → datatype property IRI, from the tm:attributeName annotations."""
    return {str(r.name): str(r.prop) for r in select(ontology(), "attributes")}


@lru_cache(maxsize=1)
def capabilities() -> dict[str, str]:
    """YAML capability token → capability IRI (ontologies/capabilities.ttl)."""
    return {str(r.token): str(r.capability) for r in select(_axioms(), "capabilities")}


@lru_cache(maxsize=None)
def known_values(prop: str) -> frozenset[str]:
    """The values of a datatype property that some axiom gives a meaning to (technologies, protocols)."""
    return frozenset(str(r.value) for r in select(_axioms(), "known-values", property=URIRef(prop)))


@lru_cache(maxsize=1)
def stride() -> dict[str, tuple[str, str, str]]:
    """STRIDE letter → (category IRI, category id, id of the security property defending against it)."""
    rows = sorted(select(_axioms(), "stride-properties"), key=lambda r: "STRIDE".index(str(r.letter)))
    return {str(r.letter): (str(r.category), str(r.categoryId), str(r.propertyId)) for r in rows}
