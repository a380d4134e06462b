"""Load a model file (YAML or Turtle) into a Model, or raise InputError with every problem."""

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF

from kg.errors import InputError, Problem
from kg.model.source import load_yaml, read_text
from kg.model.yaml_model import YamlModel
from kg.namespaces import TM, model_iri

TURTLE_SUFFIXES = {".ttl", ".turtle"}


@dataclass
class Model:
    file: str
    system: str                      # the system's id
    system_iri: URIRef
    graph: Graph                     # asserted triples only
    lines: dict = field(default_factory=dict)   # element IRI → line in the file (YAML only)

    def element_id(self, iri) -> str:
        ident = self.graph.value(URIRef(str(iri)), DCTERMS.identifier)
        return str(ident) if ident is not None else str(iri).rsplit("/", 1)[-1]


def load_model(path: str | Path, validate: bool = True) -> Model:
    path = Path(path)
    text = read_text(path)
    model = _from_turtle(text, str(path)) if path.suffix.lower() in TURTLE_SUFFIXES else _from_yaml(text, str(path))
    if validate:
        from kg.model.validate import shacl_problems
        problems = shacl_problems(model)
        if problems:
            raise InputError(problems)
    return model


def _from_yaml(text: str, name: str) -> Model:
    built = YamlModel(load_yaml(text, name), name).build()
    if built.problems:
        raise InputError(built.problems)
    return Model(name, built.system, model_iri(built.system), built.graph, built.lines)


def _from_turtle(text: str, name: str) -> Model:
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle")
    except Exception as err:  # rdflib raises several types for bad Turtle
        line = getattr(err, "lines", None)
        message = getattr(err, "message", None) or str(err).strip().splitlines()[-1]
        raise InputError(Problem(name, f"malformed Turtle: {message}", line=line)) from None
    systems = list(graph.subjects(RDF.type, TM.System))
    if len(systems) != 1:
        raise InputError(Problem(name, f"a Turtle model declares exactly one tm:System; found {len(systems)}"))
    system_iri = systems[0]
    ident = graph.value(system_iri, DCTERMS.identifier)
    return Model(name, str(ident) if ident else str(system_iri), system_iri, graph)
