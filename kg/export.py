"""A model as RDF text, optionally with what was inferred about its elements."""

from rdflib import Graph

from kg.model.load import Model
from kg.namespaces import MODEL, PREFIXES

FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}


def export_model(model: Model, fmt: str, analysis=None) -> str:
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    graph.bind("model", MODEL)
    graph += model.graph
    if analysis is not None:
        about_model = str(MODEL)
        nt = "\n".join(str(t) + " ." for t in analysis.inference.inferred() | analysis.inference.asserted
                       if t.subject.value.startswith(about_model) and not str(t.object).startswith("_:"))
        graph.parse(data=nt, format="nt")
    return graph.serialize(format=FORMATS[fmt])
