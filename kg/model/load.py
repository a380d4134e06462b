"""Load a model file (YAML, Turtle, or a format of another tool: kg.importers) into a Model, or
raise InputError with every problem."""

import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF
from rdflib.plugins.parsers.notation3 import BadSyntax

from kg import importers
from kg.errors import InputError, Problem
from kg.model import lane
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
    imported: str | None = None      # the format it was imported from (kg.importers), if not ThreatKG's

    def element_id(self, iri) -> str:
        ident = self.graph.value(URIRef(str(iri)), DCTERMS.identifier)
        return str(ident) if ident is not None else str(iri).rsplit("/", 1)[-1]

    @property
    def size(self) -> int:
        """How many elements (zones, components, flows, controls, decisions) the model names."""
        return sum(1 for _ in self.graph.triples((None, DCTERMS.identifier, None))) - 1

    def element_name(self, iri) -> str:
        """How problems name an element: its id, or `decision ID` for a decision."""
        eid = self.element_id(iri)
        return f"decision {eid}" if (URIRef(str(iri)), RDF.type, TM.Decision) in self.graph else eid


def load_model(path: str | Path, validate: bool = True, fmt: str = "auto") -> Model:
    return parse_model(read_text(Path(path)), str(path), validate, fmt, folder=Path(path).resolve().parent)


def parse_model(text: str, name: str, validate: bool = True, fmt: str = "auto", folder: Path | None = None) -> Model:
    """A model from its text; `name` (its file name) tells Turtle (.ttl, .turtle) from the rest,
    whose format is `fmt` or detected from the content (ThreatKG YAML, or kg.importers); `folder`:
    where the file is, for the formats that include other files (None: text read from no file)."""
    if Path(name).suffix.lower() in TURTLE_SUFFIXES and fmt in ("auto", importers.OWN):
        model, problems = _from_turtle(text, name), []
    else:
        model, problems = _from_document(importers.parse(text, name), name, fmt, folder)
    if outside := lane.problems(model.graph, model.system, name):   # before anything reads the graph
        raise InputError(outside)
    if validate:
        problems += _shacl_problems(model, problems)
    if problems:
        raise InputError(_by_line(problems))
    return model


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line or 0)


def _shacl_problems(model: Model, found: list[Problem]) -> list[Problem]:
    """The SHACL problems of the elements that have no problem yet (theirs would only repeat it)."""
    from kg.model.validate import shacl_problems
    reported = {p.element for p in found}
    return [p for p in shacl_problems(model) if p.element not in reported]


def _from_document(doc, name: str, fmt: str, folder: Path | None) -> tuple[Model, list[Problem]]:
    """The model of a parsed document (converted first when it is another tool's format)."""
    fmt = importers.detect(doc) if fmt == "auto" else fmt
    if fmt == importers.OWN:
        return _from_yaml(doc, name)
    imported = importers.convert(doc, name, fmt, folder)
    importers.say(imported)
    model, problems = _from_yaml(load_yaml(yaml.safe_dump(imported.doc, sort_keys=False, allow_unicode=True), name),
                                 name, lines=False)
    model.imported = fmt
    return model, problems


def _from_yaml(doc, name: str, lines: bool = True) -> tuple[Model, list[Problem]]:
    """The model and its structural problems; raises at once when something was left out of the
    graph. `lines`: whether the document's lines are the file's (not for a converted document)."""
    built = YamlModel(doc, name).build()
    problems = built.problems if lines else [Problem(p.file, p.message, element=p.element) for p in built.problems]
    if not built.complete:
        raise InputError(_by_line(problems))
    return Model(name, built.system, model_iri(built.system), built.graph, built.lines if lines else {}), problems


def _from_turtle(text: str, name: str) -> Model:
    graph = Graph()
    try:
        with _quiet():
            graph.parse(data=text, format="turtle")
    except BadSyntax as err:
        raise InputError(Problem(name, f"malformed Turtle: {err._why}", line=err.lines + 1)) from None
    except Exception as err:  # rdflib raises several other types for bad Turtle
        message = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise InputError(Problem(name, f"malformed Turtle: {message}")) from None
    systems = list(graph.subjects(RDF.type, TM.System))
    if len(systems) != 1:
        raise InputError(Problem(name, f"a Turtle model declares exactly one tm:System; found {len(systems)}"))
    system_iri = systems[0]
    ident = graph.value(system_iri, DCTERMS.identifier)
    return Model(name, str(ident) if ident else str(system_iri), system_iri, graph)


@contextmanager
def _quiet():
    """Silence what rdflib logs (with a traceback) and warns about ill-typed literals; SHACL reports them."""
    logger = logging.getLogger("rdflib.term")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
