"""The store's registry graph (vocabulary: ontologies/store/registry.ttl): what is current, read in
one snapshot, and the updates that announce, switch and forget versions and releases."""

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from pyoxigraph import Literal, NamedNode

from kg.namespaces import GRAPH
from kg.queries import text, update_text

REGISTRY = str(GRAPH["registry"])
XSD_DATETIME = NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")


@dataclass(frozen=True)
class StoredVersion:
    system: str                 # the system's id
    iri: str                    # the version (also the IRI of its model graph)
    created: str
    source_name: str
    graphs: tuple[str, ...]     # model, inferred and ontology graphs


@dataclass(frozen=True)
class Release:
    iri: str
    manifest: dict
    graphs: tuple[str, ...]     # one per catalog and version, and their closure
    union: str                  # all of them in one graph: the default graph queries read


@dataclass(frozen=True)
class Snapshot:
    """What the registry said at one moment: the current version of each system, the current release."""

    systems: dict[str, StoredVersion]
    release: Release | None

    def dataset(self, system: str | None = None) -> tuple[list[str], list[str]]:
        """(default, named) graphs to read one system, or every system (for cross-system questions).
        The default graph is the release's union graph, the ontology and the system's own graphs;
        the named graphs are the catalog graphs (GRAPH patterns find a link's catalog there), and,
        for every system, each system's graphs too."""
        versions = [self.systems[system]] if system else list(self.systems.values())
        default = {self.release.union} if self.release else set()
        named = set(self.release.graphs) if self.release else set()
        for version in versions:
            default.update(version.graphs)
            if system is None:
                named.update(version.graphs)
        return sorted(default), sorted(named)


def snapshot(store) -> Snapshot:
    systems, graphs = {}, {}
    for row in store.query(text("store-systems")):
        graphs.setdefault(row["version"].value, []).append(row["graph"].value)
        systems[row["id"].value] = (row["version"].value, row["created"].value, row["sourceName"].value)
    versions = {sid: StoredVersion(sid, iri, created, name, tuple(graphs[iri]))
                for sid, (iri, created, name) in systems.items()}
    release, release_graphs = None, set()
    for row in store.query(text("store-release")):
        release, manifest, union = row["release"].value, row["manifest"].value, row["union"].value
        release_graphs.add(row["graph"].value)
    return Snapshot(versions, Release(release, json.loads(manifest), tuple(sorted(release_graphs)), union)
                    if release else None)


def source(store, version: StoredVersion) -> tuple[str, str]:
    """(file name, text) of the model file a version was made from."""
    row = next(iter(store.query(text("store-source"), None, None, {"version": NamedNode(version.iri)})))
    return row["sourceName"].value, row["sourceText"].value


def loaded_graphs(store) -> dict[str, str]:
    """Graph IRI → digest of every graph whose upload completed."""
    return {row["graph"].value: row["digest"].value for row in store.query(text("store-loaded-graphs"))}


def now() -> Literal:
    return Literal(datetime.now(timezone.utc).isoformat(timespec="microseconds"), datatype=XSD_DATETIME)


def change(store, name: str, **terms) -> None:
    """Run a registry update (store-<name>.ru) with its placeholders filled."""
    store.update(update_text(f"store-{name}", **terms))
