"""Catalog releases in a store: each catalog graph and the release's closure uploaded once under a
content-addressed name (graph/<catalog>/<version>/<digest>), then the release switched in by one
registry update."""

import hashlib
import json

from pyoxigraph import Literal, NamedNode

from kg.catalogs.installed import Installation
from kg.namespaces import GRAPH
from kg.reasoning import ntriples_of
from kg.store import registry
from kg.store.systems import ensure_graph


def push(store, installation: Installation) -> registry.Release:
    """Upload what the store lacks of an installed release and make it the current one."""
    release = NamedNode(str(GRAPH[f"release/{installation.release}"]))
    files = [(g["graph"], installation.path / g["file"]) for entry in installation.catalogs.values()
             for g in entry["graphs"]]
    files.append(("catalogs/inferred", installation.inferred_file))
    for name, path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        iri = ensure_graph(store, name, ntriples_of(path), digest)
        registry.change(store, "release-graph", release=release, graph=NamedNode(iri))
    registry.change(store, "switch-release", release=release, id=Literal(installation.release),
                    manifest=Literal(json.dumps(installation.manifest, sort_keys=True)))
    return registry.snapshot(store).release
