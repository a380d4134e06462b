"""A model made queryable: ontology + model (+ installed catalogs) in one pyoxigraph store,
reasoned by the chosen engine, with an explainer for what was inferred."""

from dataclasses import dataclass
from functools import lru_cache

from pyoxigraph import NamedNode, QuerySolutions, RdfFormat, Variable
from rdflib import URIRef

from kg.catalogs import installed
from kg.explain import Explainer, TBox
from kg.model.load import Model
from kg.ontology import ontology
from kg.queries import text
from kg.reasoning import Inference, infer


@lru_cache(maxsize=1)
def ontology_ntriples() -> bytes:
    return ontology().serialize(format="nt", encoding="utf-8")


@lru_cache(maxsize=1)
def _tbox() -> TBox:
    return TBox(ontology())


@dataclass
class Analysis:
    model: Model
    inference: Inference
    catalogs: installed.Installation | None = None

    @property
    def store(self):
        return self.inference.store

    @property
    def explainer(self) -> Explainer:
        return Explainer(self.store, self.inference.asserted, _tbox())

    def named(self, name: str, **bindings):
        """Run a named query (.rq); bindings fix variables of its projection (URIRefs become IRIs)."""
        values = {k: NamedNode(str(v)) if isinstance(v, URIRef) else v for k, v in bindings.items()}
        return self.store.query(text(name), substitutions={Variable(k): v for k, v in values.items()},
                                use_default_graph_as_union=True)


def analyse(model: Model, engine: str = "fast", with_catalogs: bool = True) -> Analysis:
    """Reason over ontology + model in the store's default graph, then add the installed catalogs
    (each in its named graph, with their pre-computed closure): catalog facts join at query time."""
    data = ontology_ntriples() + model.graph.serialize(format="nt", encoding="utf-8")
    inference = infer(data, engine)
    catalogs = installed.current() if with_catalogs else None
    if catalogs is not None:
        for path in catalogs.graph_files() + [catalogs.inferred_file]:
            inference.store.load(path=str(path), format=RdfFormat.N_QUADS)
    return Analysis(model, inference, catalogs)
