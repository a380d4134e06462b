"""The fast engine's rule files: OWL 2 RL rules as SPARQL updates, with the constructs they handle."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kg.namespaces import sparql_prefixes

RULES_DIR = Path(__file__).resolve().parent / "rules"
PREFIX_IRIS = {"owl:": "http://www.w3.org/2002/07/owl#", "rdfs:": "http://www.w3.org/2000/01/rdf-schema#",
               "rdf:": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}


@dataclass(frozen=True)
class Rule:
    name: str
    phase: str                 # "schema" runs first, to a fixpoint; then "instance"
    order: int                 # position within a round: producers of what later rules read go first
    handles: frozenset         # full IRIs of the OWL/RDFS terms the rule implements
    update: str                # SPARQL update, prefixes included


def _header(text: str, key: str) -> str:
    for line in text.splitlines():
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    raise ValueError(f"rule file lacks a '# {key}:' line")


def _expand(curie: str) -> str:
    for prefix, iri in PREFIX_IRIS.items():
        if curie.startswith(prefix):
            return iri + curie[len(prefix):]
    raise ValueError(f"unknown prefix in {curie}")


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    found = []
    for path in sorted(RULES_DIR.glob("*.ru")):
        text = path.read_text(encoding="utf-8")
        handles = frozenset(_expand(t) for t in _header(text, "handles").split())
        found.append(Rule(path.stem, _header(text, "phase"), int(_header(text, "order")), handles,
                          sparql_prefixes() + text))
    return tuple(sorted(found, key=lambda r: r.order))


def handled_terms() -> frozenset:
    return frozenset().union(*(r.handles for r in rules()))
