"""Catalog releases in a store: each catalog graph and the release's closure uploaded once under a
content-addressed name (graph/<catalog>/<version>/<digest>), with a union of them all (the default
graph queries read), then the release switched in by one registry update, and the answers of every
stored system kept again under it."""

import hashlib
import json

from pyoxigraph import Literal, NamedNode

from kg.catalogs import installed
from kg.catalogs.installed import Installation
from kg.errors import InputError, Problem
from kg.namespaces import GRAPH
from kg.reasoning import ntriples_of
from kg.store import registry
from kg.store.dataset import DatasetView
from kg.systems import versions


def push(store, installation: Installation) -> registry.Release:
    """Upload what the store lacks of an installed release and make it the current one."""
    release = NamedNode(str(GRAPH[f"release/{installation.release}"]))
    files = [(g["graph"], installation.path / g["file"]) for entry in installation.catalogs.values()
             for g in entry["graphs"]]
    files.append(("catalogs/inferred", installation.inferred_file))
    digests, everything = [], []
    for name, path in files:
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
        everything.append(ntriples_of(path))
        iri = versions.ensure_graph(store, name, everything[-1], digests[-1])
        registry.change(store, "release-graph", release=release, graph=NamedNode(iri))
    union = versions.ensure_graph(store, "catalogs/union", b"".join(everything), hashlib.sha256("".join(digests).encode()).hexdigest())
    registry.change(store, "switch-release", release=release, id=Literal(installation.release),
                    newManifest=Literal(json.dumps(installation.manifest)), union=NamedNode(union))
    versions.reassess(store)
    return registry.snapshot(store).release


def ensure(store) -> registry.Release | None:
    """The store's current release; when it has none, the installed one pushed (None: neither)."""
    current = registry.snapshot(store).release
    if current is None and installed.current() is not None:
        current = push(store, installed.current())
    return current


def catalog_view(store) -> DatasetView:
    """The store's current release as a dataset (its union graph; its catalog graphs named)."""
    release = registry.snapshot(store).release
    if release is None:
        raise InputError(Problem(getattr(store, "where", "store"), "the store holds no catalogs: run "
                                                                   "`threatkg catalogs push --store URL`"))
    return DatasetView(store, [release.union], list(release.graphs))
