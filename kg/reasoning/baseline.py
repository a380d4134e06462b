"""The naive fixpoint of the fast engine's rules (every rule over the whole graph each round), kept
only as the baseline that tests/test_reasoning.py and bench/inference.py compare kg.reasoning.fast to."""

from pyoxigraph import Store

from kg.reasoning.rules import rules


def materialize(store: Store, max_rounds: int = 100) -> None:
    """Run each phase's rules, as written, until a round adds nothing."""
    for phase in ("schema", "instance"):
        size = len(store)
        for _ in range(max_rounds):
            for rule in (r for r in rules() if r.phase == phase):
                store.update(rule.update)
            if len(store) == size:
                break
            size = len(store)
        else:
            raise RuntimeError(f"naive baseline: no fixpoint after {max_rounds} rounds in phase {phase}")
