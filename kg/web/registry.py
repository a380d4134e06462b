"""The models a server serves: each loaded, reasoned and explained once; plus one dataset with
every model and catalog in its own named graph for the SPARQL endpoint."""

import threading
from dataclasses import dataclass, field

from pyoxigraph import NamedNode, Quad, RdfFormat, Store

from kg.analysis import Analysis, analyse, load_answer_index, load_catalogs, ontology_ntriples
from kg.assessment import Assessment
from kg.catalogs import installed
from kg.model.load import Model, load_model
from kg.namespaces import GRAPH
from kg.reasoning import Inference


@dataclass
class Registry:
    analyses: dict[str, Analysis] = field(default_factory=dict)   # system id → analysis
    files: dict[str, str] = field(default_factory=dict)          # system id → model file
    _dataset: Store | None = None
    _catalogs: installed.Installation | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_files(cls, paths: list[str]) -> "Registry":
        registry = cls()
        for path in paths:
            registry.add(load_model(path))
        return registry

    versioned = False         # an upload may not replace a model served from the command line

    def add(self, model: Model, source_text: str | None = None, inference: Inference | None = None) -> Analysis:
        """Serve a model (replacing an earlier version with the same system id), reasoned here unless its
        inference is given (an upload's, from kg.web.upload_worker), with the catalog release the server
        started with: a later `catalogs fetch` changes nothing here, and the release stays on disk while
        this process runs (installed.lease)."""
        catalogs = self.catalogs()
        if inference is None:
            analysis = analyse(model, catalogs=catalogs)
        else:
            tables = load_answer_index(inference.store, catalogs) if catalogs is not None else None
            analysis = Analysis(model, inference, catalogs, tables=tables)
        with self._lock:
            self.analyses[model.system] = analysis
            self.files[model.system] = model.file
            self._dataset = None
        return analysis

    def get(self, system: str) -> Analysis | None:
        return self.analyses.get(system)

    def assessment(self, system: str, analysis: Analysis) -> Assessment:
        """The assessment of a served model, computed by this server."""
        return Assessment(analysis)

    def systems(self) -> list[str]:
        return sorted(self.analyses)

    def catalogs(self) -> installed.Installation | None:
        """The release this server serves: the current one when it first asks, kept (and leased, so no
        fetch deletes it) for as long as the process runs."""
        with self._lock:
            if self._catalogs is None:
                self._catalogs = installed.current()
                if self._catalogs is not None:
                    installed.lease(self._catalogs)
            return self._catalogs

    def dataset(self) -> Store:
        """Ontology, catalogs and every model (asserted and inferred) in named graphs, built once."""
        with self._lock:
            if self._dataset is None:
                self._dataset = self._build_dataset()
            return self._dataset

    def _build_dataset(self) -> Store:
        store = Store()
        store.load(ontology_ntriples(), RdfFormat.N_TRIPLES, to_graph=NamedNode(str(GRAPH["ontology"])))
        catalogs_loaded = False
        for system, analysis in self.analyses.items():
            if analysis.catalogs is not None and not catalogs_loaded:
                load_catalogs(store, analysis.catalogs)
                catalogs_loaded = True
            asserted = NamedNode(str(GRAPH[f"model/{system}"]))
            inferred = NamedNode(str(GRAPH[f"model/{system}/inferred"]))
            store.load(analysis.model.graph.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES,
                       to_graph=asserted)
            store.extend(Quad(t.subject, t.predicate, t.object, inferred) for t in analysis.inference.inferred())
        return store

