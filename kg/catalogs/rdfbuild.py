"""The one way importers write RDF: catalog entries with ids and links, cross-catalog links
with provenance (official / derived / curated, source, version, method)."""

import hashlib

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kg.namespaces import D3F, ID, PREFIXES, SEPSES, TM, catalog_iri

PROVENANCE = {"official": TM.Official, "derived": TM.Derived, "curated": TM.Curated}


class CatalogGraph:
    """An rdflib Graph for one catalog version, with helpers that keep the IRI scheme uniform, and
    the inputs of the derivation steps (catalogs/steps/), which are not installed."""

    def __init__(self, name: str, version: str, source: str):
        self.name, self.version, self.source = name, version, source
        self.graph, self.inputs = Graph(), Graph()
        for prefix, ns in PREFIXES.items():
            self.graph.bind(prefix, ns)

    def add(self, s, p, o) -> None:
        self.graph.add((s, p, o))

    def literal(self, s, p, value, **kw) -> None:
        """Add a literal unless the value is empty; text without surrounding white space (sources
        leave some, and stores disagree on keeping it)."""
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, "", [], {}):
            self.graph.add((s, p, Literal(value, **kw)))

    def entry(self, catalog: str, official_id: str, rdf_type: URIRef, label: str | None = None,
              description: str | None = None, see_also: str | None = None,
              sepses: str | None = None, d3fend: str | None = None) -> URIRef:
        """A catalog entry: typed, dcterms:identifier, label, official page, exact matches."""
        iri = catalog_iri(catalog, official_id)
        self.add(iri, RDF.type, rdf_type)
        self.add(iri, DCTERMS.identifier, Literal(official_id))
        self.literal(iri, RDFS.label, label)
        self.literal(iri, DCTERMS.description, description)
        if see_also:
            self.add(iri, RDFS.seeAlso, URIRef(see_also))
        if sepses:
            self.add(iri, SKOS.exactMatch, SEPSES[sepses])
        if d3fend:
            self.add(iri, SKOS.exactMatch, D3F[d3fend])
        return iri

    def link(self, s: URIRef, p: URIRef, o: URIRef, provenance: str, *, source: str | None = None,
             version: str | None = None, method: str | None = None) -> None:
        """A cross-catalog link and its provenance, annotated as an owl:Axiom on the triple."""
        self.add(s, p, o)
        digest = hashlib.sha1(f"{s}|{p}|{o}|{provenance}".encode()).hexdigest()[:20]
        ax = ID[f"link/{digest}"]
        self.add(ax, RDF.type, OWL.Axiom)
        self.add(ax, OWL.annotatedSource, s)
        self.add(ax, OWL.annotatedProperty, p)
        self.add(ax, OWL.annotatedTarget, o)
        self.add(ax, TM.provenance, PROVENANCE[provenance])
        self.add(ax, DCTERMS.source, Literal(source or self.source))
        self.add(ax, TM.sourceVersion, Literal(version or self.version))
        self.literal(ax, TM.method, method)

