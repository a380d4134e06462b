"""The fast engine: the OWL 2 RL rules as SPARQL updates, run to a fixpoint inside pyoxigraph."""

from pyoxigraph import Store

from kg.reasoning.rules import rules


def _fixpoint(store: Store, phase: str, max_rounds: int = 100) -> int:
    """Run the phase's rules until no rule adds a triple; returns the number of rounds."""
    selected = [r for r in rules() if r.phase == phase]
    size = len(store)
    for round_no in range(1, max_rounds + 1):
        for rule in selected:
            store.update(rule.update)
        new_size = len(store)
        if new_size == size:
            return round_no
        size = new_size
    raise RuntimeError(f"fast engine: no fixpoint after {max_rounds} rounds in phase {phase}")


def materialize(store: Store) -> None:
    """Add the OWL 2 RL consequences of the store's default graph to it."""
    _fixpoint(store, "schema")
    _fixpoint(store, "instance")
