"""IRI scheme: one stable base; catalog entries keep their official id verbatim."""

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

BASE = "https://w3id.org/threatkg/"
TM = Namespace(BASE + "ont#")          # the ontology's vocabulary
ID = Namespace(BASE + "id/")           # catalog entries: ID["capec/CAPEC-66"]
MODEL = Namespace(BASE + "model/")     # system models: MODEL["ai-system/ai-model"]
GRAPH = Namespace(BASE + "graph/")     # named graphs: GRAPH["capec/3.9"]
STRIDE = Namespace(BASE + "id/stride/")
PROV = Namespace("http://www.w3.org/ns/prov#")
SEPSES = Namespace("http://w3id.org/sepses/resource/")
D3F = Namespace("http://d3fend.mitre.org/ontologies/d3fend.owl#")

PREFIXES = {
    "tm": TM, "id": ID, "stride": STRIDE, "owl": OWL, "rdf": RDF, "rdfs": RDFS,
    "skos": SKOS, "xsd": XSD, "dcterms": DCTERMS, "prov": PROV,
}


def sparql_prefixes() -> str:
    """PREFIX lines for every namespace above, prepended to the .rq files."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def catalog_iri(catalog: str, official_id: str):
    """IRI of a catalog entry, e.g. catalog_iri('capec', 'CAPEC-66')."""
    return ID[f"{catalog}/{official_id}"]


def model_iri(system: str, element_id: str = ""):
    return MODEL[f"{system}/{element_id}" if element_id else system]
