"""SHACL validation (pyshacl) of a model graph against ontologies/shapes/, as located problems."""

from functools import lru_cache

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from kg.errors import Problem
from kg.ontology import compiled
from kg.paths import ontologies_dir
from kg.queries import select


@lru_cache(maxsize=1)
def hierarchy() -> Graph:
    """The ontology's class axioms (types and subclasses): all the shapes check models against."""
    return Graph().parse(data=compiled().hierarchy, format="nt")


@lru_cache(maxsize=1)
def shapes() -> Graph:
    g = Graph()
    for path in sorted((ontologies_dir() / "shapes").glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def shacl_problems(model) -> list[Problem]:
    """Every SHACL violation of the model, as FILE:LINE: element: message."""
    import pyshacl  # imported here: it takes a second to load and most commands don't need it

    conforms, report, _ = pyshacl.validate(model.graph, shacl_graph=shapes(), ont_graph=hierarchy(),
                                           inference="none", advanced=True, allow_warnings=True)
    if conforms:
        return []
    problems = set()
    for row in select(report, "shacl-results"):
        focus = row.focus
        value = row.value
        message = str(row.message) if row.message is not None else "violates a shape"
        if isinstance(value, URIRef) and (value, RDF.type, None) not in model.graph:
            message += f" ('{model.element_id(value)}' is not defined)"
        problems.add(Problem(model.file, message, line=model.lines.get(focus), element=model.element_name(focus)))
    return sorted(problems, key=lambda p: (p.line or 0, p.element or "", p.message))
