"""The ontology: every OWL file under ontologies/ (catalog vocabularies included), the catalog
attachments (catalogs/attachments.yaml) as axioms and the applicability conditions
(catalogs/applicability.yaml).

It is compiled once per content into THREATKG_HOME/cache: its N-Triples and the lookups commands
need (kind names, capability tokens, attribute keys, known technology values, the kind hierarchy,
STRIDE). A process then reads one JSON file; rdflib parses the ontology only to explain or validate."""

import hashlib
import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, Store
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from kg import atomic
from kg.catalogs.applicability import FILE as APPLICABILITY
from kg.catalogs.applicability import condition_graph
from kg.catalogs.attachments import FILE as ATTACHMENTS
from kg.catalogs.attachments import attachment_axioms
from kg.paths import catalogs_data_dir, home, ontologies_dir, queries_dir
from kg.queries import run, select

_BUILT_BY = [Path(__file__), Path(__file__).parent / "catalogs" / "attachments.py",
             Path(__file__).parent / "catalogs" / "applicability.py", Path(__file__).parent / "explain.py"]
# the named queries that read the lookups, run on the compiled ontology only (never on a store)
LOOKUPS = ["kinds", "capabilities", "attributes", "kind-ancestors", "stride-properties", "known-values",
           "decision-statuses"]


def ontology_files():
    root = ontologies_dir()
    return sorted(root.glob("*.ttl")) + sorted((root / "catalogs").glob("*.ttl"))


@lru_cache(maxsize=1)
def digest() -> str:
    """SHA-256 of the files the ontology is built from: its identity in a store."""
    h = hashlib.sha256()
    for path in ontology_files() + [catalogs_data_dir() / ATTACHMENTS, catalogs_data_dir() / APPLICABILITY]:
        h.update(path.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Category:
    """A STRIDE category as stride.ttl states it."""
    letter: str
    iri: str
    id: str
    label: str
    property_id: str     # the security property defending against it
    property_label: str


@dataclass(frozen=True)
class Compiled:
    ntriples: bytes
    kinds: dict            # YAML kind name → class IRI (tm:kind)
    capabilities: dict     # capability token → capability IRI (tm:token)
    attributes: dict       # YAML attribute key → datatype property IRI (tm:attributeName)
    ancestors: dict        # kind name → every class it is a subclass of (itself included)
    known: dict            # datatype property IRI → the values some axiom gives a meaning to
    stride: list           # Category, in STRIDE order (tm:ordinal)
    hierarchy: bytes       # N-Triples of the class axioms SHACL validation needs (types, subclasses)
    statuses: dict         # YAML decision status name → status IRI (tm:statusName)


@lru_cache(maxsize=1)
def _key() -> str:
    """The compiled ontology's name in the cache: its sources and the code that compiles them."""
    return hashlib.sha256(digest().encode() + b"".join(p.read_bytes() for p in _BUILT_BY + _lookup_files())).hexdigest()[:32]


def _cached(suffix: str) -> Path:
    return home() / "cache" / "ontology" / f"{_key()}{suffix}"


@lru_cache(maxsize=1)
def compiled() -> Compiled:
    """The compiled ontology: read from the cache when its sources and builder are unchanged, else
    built and written there (a cache that cannot be written is only skipped)."""
    nt, lookups = _cached(".nt"), _cached(".json")
    try:
        data = json.loads(lookups.read_text(encoding="utf-8"))
        return _compiled(nt.read_bytes(), data)
    except (OSError, ValueError, KeyError):
        pass
    graph = _build()
    ntriples = graph.serialize(format="nt", encoding="utf-8")
    data = _lookups(ntriples, graph)
    if atomic.write(nt, ntriples) is None:    # the lookups only once their N-Triples are there
        atomic.write(lookups, json.dumps(data, sort_keys=True).encode())
    return _compiled(ntriples, data)


def compiled_once(name: str, build: Callable[[], object]):
    """An object made from the ontology alone (the explainer's index of its axioms), pickled beside
    the compiled ontology and read back by later processes. The cache is this user's own folder,
    written only by ThreatKG; an unreadable file is built again."""
    path = _cached(f".{name}.pickle")
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    made = build()
    atomic.write(path, pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL))
    return made


@lru_cache(maxsize=1)
def ontology() -> Graph:
    """The ontology as an rdflib Graph (explanations, SHACL, catalog importers' checks)."""
    return Graph().parse(data=compiled().ntriples, format="nt")


def kinds() -> dict[str, str]:
    return compiled().kinds


def capabilities() -> dict[str, str]:
    return compiled().capabilities


def attributes() -> dict[str, str]:
    return compiled().attributes


def known_values(prop: str) -> frozenset[str]:
    """The values of a datatype property that some axiom gives a meaning to (technologies, protocols)."""
    return compiled().known.get(prop, frozenset())


def decision_statuses() -> dict[str, str]:
    return compiled().statuses


def stride() -> list[Category]:
    return compiled().stride


def stride_letters() -> str:
    """The STRIDE letters in order ("STRIDE")."""
    return "".join(c.letter for c in stride())


def stride_names() -> dict[str, str]:
    """STRIDE letter → category label, in order."""
    return {c.letter: c.label for c in stride()}


def _build() -> Graph:
    axioms = Graph()
    for path in ontology_files():
        axioms.parse(path, format="turtle")
    kind_names = {str(r.kind): str(r.cls) for r in select(axioms, "kinds")}
    tokens = {str(r.token): str(r.capability) for r in select(axioms, "capabilities")}
    return (axioms + attachment_axioms(kind_names, tokens)
            + condition_graph(catalogs_data_dir() / APPLICABILITY, kind_names, tokens))


def _lookup_files() -> list[Path]:
    return [queries_dir() / f"{name}.rq" for name in LOOKUPS]


def _lookups(ntriples: bytes, graph: Graph) -> dict:
    """The lookups, answered by the named queries over the built ontology."""
    store = Store()
    store.load(ntriples, RdfFormat.N_TRIPLES)

    def rows(name, **bindings):
        solutions = run(store, name, **bindings)
        names = [v.value for v in solutions.variables]
        return [{n: s[n].value for n in names if s[n] is not None} for s in solutions]

    attributes = {r["name"]: r["prop"] for r in rows("attributes")}
    hierarchy = Graph()
    for triple in graph.triples((None, RDFS.subClassOf, None)):
        hierarchy.add(triple)
    for triple in graph.triples((None, RDF.type, None)):
        if isinstance(triple[0], URIRef):
            hierarchy.add(triple)
    return {
        "kinds": {r["kind"]: r["cls"] for r in rows("kinds")},
        "capabilities": {r["token"]: r["capability"] for r in rows("capabilities")},
        "attributes": attributes,
        "ancestors": _group(rows("kind-ancestors"), "kind", "ancestor"),
        "known": {prop: sorted(r["value"] for r in rows("known-values", property=NamedNode(prop)))
                  for prop in attributes.values()},
        "stride": [[r["letter"], r["category"], r["categoryId"], r["label"], r["propertyId"], r["propertyLabel"]]
                   for r in sorted(rows("stride-properties"), key=lambda r: int(r["ordinal"]))],
        "hierarchy": hierarchy.serialize(format="nt", encoding="utf-8").decode(),
        "statuses": {r["name"]: r["status"] for r in rows("decision-statuses")},
    }


def _group(rows, key, value) -> dict:
    out = {}
    for r in rows:
        out.setdefault(r[key], []).append(r[value])
    return {k: sorted(v) for k, v in out.items()}


def _compiled(ntriples: bytes, data: dict) -> Compiled:
    return Compiled(ntriples, data["kinds"], data["capabilities"], data["attributes"],
                    {k: frozenset(v) for k, v in data["ancestors"].items()},
                    {k: frozenset(v) for k, v in data["known"].items()},
                    [Category(*c) for c in data["stride"]], data["hierarchy"].encode(), data["statuses"])

