"""Reasoning behind one interface: `fast` (OWL 2 RL rules as SPARQL updates in pyoxigraph, the
default) and `owlrl` (the complete reference). Unsupported constructs make `fast` fall back."""

import time
import warnings
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, RdfFormat, Store
from rdflib import Graph

from kg.namespaces import GRAPH, sparql_prefixes
from kg.ontology import compiled
from kg.paths import ontologies_dir
from kg.reasoning import fast, reference
from kg.reasoning.constructs import unsupported

ENGINES = ("fast", "owlrl")


class FallbackWarning(UserWarning):
    """The fast engine met a construct it does not implement; owlrl reasoned instead."""


@dataclass
class Inference:
    store: Store                 # default graph: asserted + step-derived + inferred triples
    asserted: set                # the triples before reasoning (step output included)
    engine: str                  # the engine that actually ran
    seconds: float
    notes: list = field(default_factory=list)

    def inferred(self) -> set:
        """What reasoning added (named graphs loaded afterwards, such as catalogs, excluded)."""
        return {q.triple for q in self.store.quads_for_pattern(None, None, None, DefaultGraph())} - self.asserted


def run_steps(store: Store) -> None:
    """The declarative model-preparation steps (ontologies/steps/*.ru), in file-name order."""
    for path in sorted((ontologies_dir() / "steps").glob("*.ru")):
        store.update(sparql_prefixes() + path.read_text(encoding="utf-8"))


def infer(ntriples: bytes, engine: str = "fast") -> Inference:
    """Load N-Triples, run the steps, then materialize with the chosen engine."""
    if engine not in ENGINES:
        raise ValueError(f"unknown reasoner '{engine}' (choose {', '.join(ENGINES)})")
    started = time.perf_counter()
    store = Store()
    store.load(ntriples, RdfFormat.N_TRIPLES)
    run_steps(store)
    asserted = {q.triple for q in store}
    notes = []
    if engine == "fast":
        missing = unsupported(store)
        if missing:
            note = f"fast reasoner does not implement {', '.join(missing)}: falling back to owlrl"
            warnings.warn(note, FallbackWarning, stacklevel=2)
            notes.append(note)
            engine = "owlrl"
    if engine == "fast":
        fast.materialize(store)
    else:
        store = _owlrl(store)
    return Inference(store, asserted, engine, time.perf_counter() - started, notes)


def materialize_catalogs(nquads_files: list, out, engine: str = "fast") -> int:
    """Reason once over the ontology and every catalog graph; write the inferred triples as N-Quads
    in the named graph GRAPH['catalogs/inferred'] and return their count."""
    data = compiled().ntriples + b"".join(ntriples_of(path) for path in nquads_files)
    result = infer(data, engine)
    inferred = Store()
    graph = NamedNode(str(GRAPH["catalogs/inferred"]))
    for triple in result.inferred():
        inferred.add(Quad(triple.subject, triple.predicate, triple.object, graph))
    inferred.dump(str(out), format=RdfFormat.N_QUADS)
    return len(inferred)


def ntriples_of(path) -> bytes:
    """An N-Quads file's triples, graph names dropped (reasoning sees one union graph)."""
    store = Store()
    store.load(path=str(path), format=RdfFormat.N_QUADS)
    return b"".join(str(q.triple).encode() + b" .\n" for q in store)


def _owlrl(store: Store) -> Store:
    graph = Graph()
    graph.parse(data=store.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph()), format="nt")
    reference.materialize(graph)
    result = Store()
    result.load(graph.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES)
    return result


_BUILTIN = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#",
            "http://www.w3.org/2002/07/owl#")
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def comparable(triples) -> set[str]:
    """The inferred facts the application reads, as N-Triples lines: statements between named
    resources or to literals with a non-builtin predicate, and rdf:type to a named non-builtin class.
    Schema-level and bookkeeping triples (owlrl's sameAs-self, class axioms) differ by design."""
    out = set()
    for t in triples:
        s, p, o = t.subject, t.predicate.value, t.object
        if not isinstance(s, NamedNode) or isinstance(o, BlankNode):
            continue
        if p == _RDF_TYPE:
            if not o.value.startswith(_BUILTIN):
                out.add(str(t))
        elif not p.startswith(_BUILTIN):
            out.add(str(t))
    return out
