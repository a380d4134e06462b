"""Which OWL constructs a graph uses, and which of them the fast engine does not implement."""

from pyoxigraph import Store

from kg.reasoning.rules import handled_terms

OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"

# Terms that declare or annotate but entail nothing under OWL 2 RL (beyond what owlrl reports as
# trivial axiomatic triples, which the engines' comparison leaves out).
NEUTRAL = frozenset(OWL + t for t in (
    "Ontology", "Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty", "Restriction",
    "NamedIndividual", "Thing", "Axiom", "annotatedSource", "annotatedProperty", "annotatedTarget",
    "versionInfo", "versionIRI", "imports", "deprecated", "priorVersion", "backwardCompatibleWith",
    "incompatibleWith", "onProperty")) | frozenset(RDFS + t for t in (
    "label", "comment", "seeAlso", "isDefinedBy", "Class", "Resource", "Literal", "Datatype"))

_USED = """
SELECT DISTINCT ?term WHERE {
  { ?s ?term ?o } UNION { ?s a ?term }
  FILTER(STRSTARTS(STR(?term), "%s") || STRSTARTS(STR(?term), "%s"))
}""" % (OWL, RDFS)

_LONG_CHAINS = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?p WHERE { ?p owl:propertyChainAxiom ?l . ?l rdf:rest/rdf:rest/rdf:rest ?tail . FILTER(?tail != rdf:nil) }
"""


def unsupported(store: Store) -> list[str]:
    """Constructs used in the store that the fast engine cannot reason with, as readable names."""
    supported = handled_terms() | NEUTRAL
    found = sorted(_short(str(row["term"].value)) for row in store.query(_USED)
                   if row["term"].value not in supported)
    found += [f"owl:propertyChainAxiom longer than 3 (on <{row['p'].value}>)" for row in store.query(_LONG_CHAINS)]
    return found


def _short(iri: str) -> str:
    return iri.replace(OWL, "owl:").replace(RDFS, "rdfs:")
