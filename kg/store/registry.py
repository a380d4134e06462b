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
    graphs: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    """What the registry said at one moment: the current version of each system, the current release."""

    systems: dict[str, StoredVersion]
    release: Release | None

    def graphs(self, system: str | None = None) -> list[str]:
        """The graphs to read for one system, or for every system (cross-system questions)."""
        versions = [self.systems[system]] if system else list(self.systems.values())
        found = set(self.release.graphs if self.release else ())
        for version in versions:
            found.update(version.graphs)
        return sorted(found)


def snapshot(store) -> Snapshot:
    systems, graphs = {}, {}
    for row in store.query(text("store-systems")):
        graphs.setdefault(row["version"].value, []).append(row["graph"].value)
        systems[row["id"].value] = (row["version"].value, row["created"].value, row["sourceName"].value)
    versions = {sid: StoredVersion(sid, iri, created, name, tuple(graphs[iri]))
                for sid, (iri, created, name) in systems.items()}
    release, manifest, release_graphs = None, None, []
    for row in store.query(text("store-release")):
        release, manifest = row["release"].value, row["manifest"].value
        release_graphs.append(row["graph"].value)
    return Snapshot(versions, Release(release, json.loads(manifest), tuple(sorted(set(release_graphs))))
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
