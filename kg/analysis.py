"""A model made queryable: ontology + model (+ installed catalogs) in one pyoxigraph store,
reasoned by the chosen engine, with an explainer for what was inferred."""

from functools import cached_property, lru_cache

from pyoxigraph import RdfFormat, Store

from kg import progress
from kg.catalogs import index, installed
from kg.explain import Explainer, Names, TBox
from kg.mapping import MappingIndex
from kg.model.load import Model
from kg.ontology import compiled, compiled_once, ontology
from kg.provenance import LinkIndex
from kg.queries import run
from kg.reasoning import Inference, infer


def ontology_ntriples() -> bytes:
    return compiled().ntriples


def model_ntriples(model: Model) -> bytes:
    return model.graph.serialize(format="nt", encoding="utf-8")


@lru_cache(maxsize=1)
def _tbox() -> TBox:
    return compiled_once("tbox", lambda: TBox(ontology()))


class Analysis:
    """A model with its reasoned graph and the installed catalogs; for a system kept in a store
    (kg.store), `view` (a kg.store.dataset.DatasetView) is where its queries run, and the
    in-process reasoning (needed only to explain) happens on first use."""

    def __init__(self, model: Model, inference: Inference | None, catalogs: installed.Installation | None = None,
                 view=None, engine: str = "fast", tables: dict | None = None):
        """`tables`: the rows of the catalogs' answer index, when its quads are what the store holds."""
        self.model, self.catalogs, self.view, self.engine = model, catalogs, view, engine
        self._inference, self.tables = inference, tables or {}

    @property
    def inference(self) -> Inference:
        if self._inference is None:
            self._inference = infer(ontology_ntriples() + model_ntriples(self.model), self.engine)
        return self._inference

    @property
    def store(self):
        """Where queries run: the system's graphs in a store, or the in-process reasoned store."""
        return self.view if self.view is not None else self.inference.store

    @cached_property
    def links(self) -> LinkIndex:
        return LinkIndex(self.store, self.tables.get("link-provenance-all"))

    @cached_property
    def mappings(self) -> MappingIndex:
        return MappingIndex(self.store, self.links)

    @cached_property
    def stride_of(self) -> dict[str, list[tuple]]:
        """Threat IRI → its (category IRI, letter, category id), for every catalog entry, read once."""
        found = {}
        for sol in self.named("stride-of"):
            found.setdefault(sol["threat"].value, []).append(
                (sol["category"].value, sol["letter"].value, sol["categoryId"].value))
        return found

    @cached_property
    def names(self) -> Names:
        return Names(self.store, _tbox())

    @cached_property
    def explainer(self) -> Explainer:
        return Explainer(self.inference.store, self.inference.asserted, _tbox(), self.names)

    def named(self, name: str, **bindings):
        """Run a named query (.rq) on this analysis's store."""
        return run(self.store, name, **bindings)


def analyse(model: Model, engine: str = "fast", with_catalogs: bool = True,
            catalogs: installed.Installation | None = None, whole: bool = False) -> Analysis:
    """Reason over ontology + model in the store's default graph, then add the catalogs (the given
    installation, else the current one; each quad in its named graph, with their pre-computed
    closure): catalog facts join at query time. What the answers read is their answer index; with
    `whole`, every graph (for SPARQL over everything)."""
    with progress.step(f"reasoning over {model.system}", model.size):
        inference = infer(ontology_ntriples() + model_ntriples(model), engine)
    if with_catalogs and catalogs is None:
        catalogs = installed.current()
    elif not with_catalogs:
        catalogs = None
    tables = None
    if catalogs is not None and whole:
        load_catalogs(inference.store, catalogs)
    elif catalogs is not None:
        tables = load_answer_index(inference.store, catalogs)
    return Analysis(model, inference, catalogs, tables=tables)


def load_catalogs(store: Store, catalogs: installed.Installation) -> None:
    """Every installed catalog graph and their closure, each in its named graph."""
    for path in catalogs.graph_files() + [catalogs.inferred_file]:
        store.load(path=str(path), format=RdfFormat.N_QUADS)


def load_answer_index(store: Store, catalogs: installed.Installation) -> dict | None:
    """The catalog quads the answers about a model read: the release's answer index, whose table
    rows are returned (for Analysis), or every graph (None) for a release without a usable one
    (kg.catalogs.index)."""
    if index.usable(catalogs) is None:
        load_catalogs(store, catalogs)
        return None
    return index.load(store, catalogs)


def catalog_store() -> Store:
    """Ontology + installed catalogs (InputError saying how to fetch when none are installed)."""
    store = Store()
    store.load(ontology_ntriples(), RdfFormat.N_TRIPLES)
    load_catalogs(store, installed.require())
    return store
