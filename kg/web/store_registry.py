"""The systems a server serves from a store (`threatkg serve --store URL`): the registry graph is read
again at most every STORE_REFRESH seconds, so several server processes on one store see each
other's uploads; each analysis is built once per stored version."""

import threading
import time

from kg.assessment import Assessment
from kg.catalogs.installed import Installation
from kg.model.load import Model
from kg.reasoning import Inference
from kg.store import DatasetView, registry
from kg.systems import versions


class StoreRegistry:
    versioned = True          # an upload adds a new version of its system instead of being refused

    def __init__(self, store, refresh: float = 1.0):
        self.store, self.refresh = store, refresh
        self._snapshot, self._read_at = None, 0.0
        self._analyses = {}   # (version IRI, release IRI) → (Analysis, the snapshot it was read from)
        self._dataset = None
        self._lock = threading.Lock()

    def snapshot(self) -> registry.Snapshot:
        with self._lock:
            if self._snapshot is None or time.monotonic() - self._read_at > self.refresh:
                self._snapshot, self._read_at = registry.snapshot(self.store), time.monotonic()
            return self._snapshot

    def systems(self) -> list[str]:
        return sorted(self.snapshot().systems)

    def get(self, system: str):
        snap = self.snapshot()
        version = snap.systems.get(system)
        if version is None:
            return None
        key = (version.iri, snap.release.iri if snap.release else None)
        with self._lock:
            if key not in self._analyses:
                self._analyses = {k: a for k, a in self._analyses.items() if a[0].model.system != system}
                self._analyses[key] = versions.analysis(self.store, snap, system), snap
            return self._analyses[key][0]

    def assessment(self, system: str, analysis) -> Assessment:
        """The assessment of the system's current version: the answers kept with it, the others
        computed from its analysis when asked for."""
        with self._lock:
            snap = next(snap for kept, snap in self._analyses.values() if kept is analysis)
        return Assessment(analysis, versions.kept_answers(self.store, snap, system))

    def add(self, model: Model, source_text: str, inference: Inference | None = None):
        """Store a new version of the model's system (reasoned here unless its inference is given);
        this server serves it at once."""
        versions.add(self.store, model, source_text, inference=inference)
        with self._lock:
            self._snapshot = None
        return self.get(model.system)

    def catalogs(self) -> Installation | None:
        release = self.snapshot().release
        return Installation(None, release.manifest) if release else None

    def dataset(self) -> DatasetView:
        """Every current graph of the store (catalogs, ontology, each system's model and inferences)."""
        default, named = self.snapshot().dataset()
        with self._lock:
            if self._dataset is None or (self._dataset.default, self._dataset.named) != (default, named):
                self._dataset = DatasetView(self.store, default, named)
            return self._dataset
