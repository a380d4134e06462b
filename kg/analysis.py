"""A model made queryable: ontology + model (+ installed catalogs) in one pyoxigraph store,
reasoned by the chosen engine, with an explainer for what was inferred."""

from dataclasses import dataclass
from functools import lru_cache

from pyoxigraph import NamedNode, QuerySolutions, Variable
from rdflib import URIRef

from kg.explain import Explainer, TBox
from kg.model.load import Model
from kg.ontology import ontology
from kg.queries import text
from kg.reasoning import Inference, infer


@lru_cache(maxsize=1)
def _ontology_ntriples() -> bytes:
    return ontology().serialize(format="nt", encoding="utf-8")


@lru_cache(maxsize=1)
def _tbox() -> TBox:
    return TBox(ontology())


@dataclass
class Analysis:
    model: Model
    inference: Inference

    @property
    def store(self):
        return self.inference.store

    @property
    def explainer(self) -> Explainer:
        return Explainer(self.store, self.inference.asserted, _tbox())

    def query(self, sparql: str) -> QuerySolutions:
        return self.store.query(sparql)

    def named(self, name: str, **bindings):
        """Run a named query (.rq) with ?system bound to this model's system."""
        values = {"system": NamedNode(str(self.model.system_iri))}
        values.update({k: NamedNode(str(v)) if isinstance(v, URIRef) else v for k, v in bindings.items()})
        return self.store.query(text(name), substitutions={Variable(k): v for k, v in values.items()})


def analyse(model: Model, engine: str = "fast") -> Analysis:
    data = _ontology_ntriples() + model.graph.serialize(format="nt", encoding="utf-8")
    return Analysis(model, infer(data, engine))
