"""The answer index of a catalog release: the slice of its quads (graphs and closure, each quad in
its named graph) that the answers about one model read, selected by the rules of
catalogs/indexes/answers.yaml and written by `catalogs fetch` beside the graphs, in N-Quads loaded
without IRI validation (the fastest pyoxigraph reads that keeps graph names; see bench/index.py).

A release whose manifest records no index, or one selected by other rules or code than the current
ones (built by another ThreatKG version), has no usable index: its readers load every graph."""

import hashlib
import time
from functools import lru_cache
from pathlib import Path

import yaml
from pyoxigraph import RdfFormat, Store, parse, serialize

from kg.namespaces import OWL, PREFIXES, RDF
from kg.paths import catalogs_data_dir

NAME = "answers"
FILE = f"indexes/{NAME}.nq"
FORMAT = RdfFormat.N_QUADS


def rules_path() -> Path:
    return catalogs_data_dir() / "indexes" / f"{NAME}.yaml"


@lru_cache(maxsize=1)
def rules_digest() -> str:
    """SHA-256 of the rules and of this module: an index records the digest it was selected by."""
    return hashlib.sha256(rules_path().read_bytes() + b"\0" + Path(__file__).read_bytes()).hexdigest()


def _iri(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    if prefix not in PREFIXES:
        raise ValueError(f"{rules_path()}: unknown prefix in {curie}")
    return str(PREFIXES[prefix]) + local


@lru_cache(maxsize=1)
def rules() -> tuple[frozenset, frozenset, frozenset]:
    """The IRIs of the kept predicates, the kept classes and the annotation predicates kept."""
    doc = yaml.safe_load(rules_path().read_text(encoding="utf-8"))
    return tuple(frozenset(map(_iri, doc[key])) for key in ("predicates", "types", "annotations"))


def select(quads: list) -> list:
    """The quads the rules keep, in their order: those of a kept predicate, the rdf:type quads of a
    kept class, and the annotation quads of every owl:Axiom about a link of a kept predicate."""
    predicates, types, annotations = rules()
    annotated = str(OWL.annotatedProperty)
    axioms = {q.subject for q in quads if q.predicate.value == annotated and q.object.value in predicates}
    rdf_type = str(RDF.type)
    return [q for q in quads
            if q.predicate.value in predicates
            or (q.predicate.value == rdf_type and q.object.value in types)
            or (q.predicate.value in annotations and q.subject in axioms)]


def build(files: list[Path], folder: Path) -> dict:
    """Write the index of the release whose N-Quads files (graphs, then closure) are given; its
    manifest entry."""
    started = time.monotonic()
    kept = select([q for path in files for q in parse(path=str(path), format=RdfFormat.N_QUADS)])
    out = folder / FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(serialize(kept, format=FORMAT))
    return {"file": FILE, "triples": len(kept), "rules_sha256": rules_digest(),
            "seconds": round(time.monotonic() - started, 1)}


def usable(installation) -> Path | None:
    """The release's index file when it has one selected by the current rules, else None."""
    entry = installation.manifest.get("indexes", {}).get(NAME)
    if installation.path is None or entry is None or entry.get("rules_sha256") != rules_digest():
        return None
    path = installation.path / entry["file"]
    return path if path.is_file() else None


def load(store: Store, path: Path) -> None:
    store.load(path=str(path), format=FORMAT, lenient=True)

