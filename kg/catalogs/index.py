"""The answer index of a catalog release: the slice of its quads (graphs and closure, each quad in
its named graph) that the answers about one model read, and the rows of the catalog-only queries
they run, selected by the rules of catalogs/indexes/answers.yaml and written by `catalogs fetch`
beside the graphs: the quads in N-Quads loaded without IRI validation (the fastest pyoxigraph reads
that keeps graph names; see bench/index.py), the rows in JSON.

A release whose manifest records no index, or one selected by other rules or code than the current
ones (built by another ThreatKG version), has no usable index: its readers load every graph."""

import hashlib
import json
import time
from functools import lru_cache
from pathlib import Path

import yaml
from pyoxigraph import RdfFormat, Store, parse, serialize

from kg.namespaces import PREFIXES, RDF
from kg.paths import catalogs_data_dir
from kg.queries import records, run

NAME = "answers"
FILE = f"indexes/{NAME}.nq"
TABLES = f"indexes/{NAME}.json"
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
def rules() -> tuple[frozenset, frozenset, tuple]:
    """The IRIs of the kept predicates and classes, and the names of the queries kept as rows."""
    doc = yaml.safe_load(rules_path().read_text(encoding="utf-8"))
    return frozenset(map(_iri, doc["predicates"])), frozenset(map(_iri, doc["types"])), tuple(doc["tables"])


def select(quads: list) -> list:
    """The quads the rules keep, in their order: those of a kept predicate, and the rdf:type quads
    of a kept class."""
    predicates, types, _ = rules()
    rdf_type = str(RDF.type)
    return [q for q in quads if q.predicate.value in predicates
            or (q.predicate.value == rdf_type and q.object.value in types)]


def build(files: list[Path], folder: Path) -> dict:
    """Write the index of the release whose N-Quads files (graphs, then closure) are given; its
    manifest entry."""
    started = time.monotonic()
    quads = [q for path in files for q in parse(path=str(path), format=RdfFormat.N_QUADS)]
    kept = select(quads)
    whole = Store()
    whole.extend(quads)
    (folder / FILE).parent.mkdir(parents=True, exist_ok=True)
    (folder / FILE).write_bytes(serialize(kept, format=FORMAT))
    (folder / TABLES).write_text(json.dumps({name: records(run(whole, name)) for name in rules()[2]}), encoding="utf-8")
    return {"file": FILE, "tables": TABLES, "triples": len(kept), "rules_sha256": rules_digest(),
            "seconds": round(time.monotonic() - started, 1)}


def usable(installation) -> Path | None:
    """The release's index file when it has one selected by the current rules, else None."""
    entry = installation.manifest.get("indexes", {}).get(NAME)
    if installation.path is None or entry is None or entry.get("rules_sha256") != rules_digest():
        return None
    path = installation.path / entry["file"]
    return path if path.is_file() and (installation.path / TABLES).is_file() else None


def load(store: Store, installation) -> dict[str, list[dict]]:
    """Add the index quads of a release with a usable index to the store; the rows of each table
    query, by name."""
    store.load(path=str(usable(installation)), format=FORMAT, lenient=True)
    return json.loads((installation.path / TABLES).read_text(encoding="utf-8"))

