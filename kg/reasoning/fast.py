"""The fast engine: the OWL 2 RL rules as SPARQL updates, evaluated semi-naively inside pyoxigraph.

Each phase's first round runs the rules over the whole default graph; every later round runs each
rule once per premise with that premise matched only in a delta graph, the triples the round before
added (the other premises still match everything). A derived triple not yet known goes into the
default graph and into the next delta; the phase ends when a round adds none."""

from dataclasses import dataclass
from functools import lru_cache

from pyoxigraph import NamedNode, Store

from kg.namespaces import GRAPH, sparql_prefixes
from kg.reasoning.rules import Update, rules

DELTAS = (NamedNode(str(GRAPH["reasoning/delta-a"])), NamedNode(str(GRAPH["reasoning/delta-b"])))


@dataclass(frozen=True)
class _Plan:
    full: tuple[tuple[str, ...], ...]        # per delta read: the updates of a round over everything
    seminaive: tuple[tuple[str, ...], ...]   # per delta read: the updates of a round over the delta
    guard: tuple[str | None, ...]            # per delta: ASK whether it holds a predicate of a path premise


def _sparql(update: Update, delta: NamedNode | None, premise: int, new: NamedNode) -> list[str]:
    """One SPARQL update per conclusion triple, with the premise at `premise` matched in `delta`
    (no premise when delta is None)."""
    where = list(update.where)
    if delta is not None:
        where[premise] = f"  GRAPH {delta} {{ {where[premise].strip().removesuffix('.').strip()} }} ."
    body = "\n".join(where)
    return [f"{sparql_prefixes()}INSERT {{ {t} . GRAPH {new} {{ {t} }} }} WHERE {{\n{body}\n"
            f"  FILTER NOT EXISTS {{ {t} }}\n}}" for t in update.conclusion]


@lru_cache(maxsize=None)
def _plan(phase: str) -> _Plan:
    updates = [u for rule in rules() if rule.phase == phase for u in rule.updates]
    full, seminaive, guard = [], [], []
    path_terms = sorted(frozenset().union(*(u.path_terms for u in updates)))
    for read, write in (DELTAS, DELTAS[::-1]):
        full.append(tuple(s for u in updates for s in _sparql(u, None, 0, write)))
        seminaive.append(tuple(s for u in updates for i in u.premises for s in _sparql(u, read, i, write)))
        guard.append(f"{sparql_prefixes()}ASK {{ GRAPH {write} {{ ?s ?p ?o }} VALUES ?p {{ {' '.join(path_terms)} }} }}"
                     if path_terms else None)
    return _Plan(tuple(full), tuple(seminaive), tuple(guard))


def _fixpoint(store: Store, phase: str, max_rounds: int = 100) -> int:
    """Run the phase's rules until a round adds no triple; returns the number of rounds."""
    plan = _plan(phase)
    full, read = True, 0
    try:
        for round_no in range(1, max_rounds + 1):
            for update in (plan.full if full else plan.seminaive)[read]:
                store.update(update)
            store.remove_graph(DELTAS[read])
            if next(store.quads_for_pattern(None, None, None, DELTAS[1 - read]), None) is None:
                return round_no
            full = plan.guard[read] is not None and store.query(plan.guard[read])
            read = 1 - read
    finally:
        for delta in DELTAS:
            store.remove_graph(delta)
    raise RuntimeError(f"fast engine: no fixpoint after {max_rounds} rounds in phase {phase}")


def materialize(store: Store) -> None:
    """Add the OWL 2 RL consequences of the store's default graph to it."""
    _fixpoint(store, "schema")
    _fixpoint(store, "instance")
