"""The fast engine's rule files: OWL 2 RL rules as SPARQL updates, with the constructs they handle.

A file holds `INSERT { conclusion } WHERE {` … `}` updates separated by `;`. In a WHERE clause each
line is a FILTER or a premise: one triple pattern, which the engine can match among the triples the
last round added (kg.reasoning.fast). A premise with a property path cannot be matched that way, so
new triples with a predicate named in such a path make the next round match everything. A pattern
nested in a FILTER needs no new triples of its own: a premise it implies must see them (cls-int1)."""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kg.namespaces import sparql_prefixes

RULES_DIR = Path(__file__).resolve().parent / "rules"
PREFIX_IRIS = {"owl:": "http://www.w3.org/2002/07/owl#", "rdfs:": "http://www.w3.org/2000/01/rdf-schema#",
               "rdf:": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}

_IRI = r"<[^<>\s]*>|[A-Za-z_][\w.-]*:[\w.-]*"
_TERM = rf'[?$]\w+|{_IRI}|"[^"]*"(?:@[\w-]+|\^\^\S+)?'
_PREMISE = re.compile(rf"\s*(?P<s>{_TERM})\s+(?P<p>\S+)\s+(?P<o>{_TERM})\s*\.\s*")
_UPDATE = re.compile(r"INSERT\s*\{(?P<conclusion>[^{}]*)\}\s*WHERE\s*\{\n(?P<where>.*?)\n\}\s*(?:;|\Z)", re.S)


@dataclass(frozen=True)
class Update:
    """One INSERT … WHERE of a rule file."""
    conclusion: tuple[str, ...]  # the triple patterns inserted
    where: tuple[str, ...]       # the WHERE clause's lines
    premises: tuple[int, ...]    # positions in `where` of the premises that can be matched among new triples
    path_terms: frozenset        # the IRIs, as written, in premises with a property path


@dataclass(frozen=True)
class Rule:
    name: str
    phase: str                 # "schema" runs first, to a fixpoint; then "instance"
    order: int                 # position within a round: producers of what later rules read go first
    handles: frozenset         # full IRIs of the OWL/RDFS terms the rule implements
    update: str                # the file as one SPARQL update, prefixes included
    updates: tuple[Update, ...]


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


def _update(conclusion: str, where: str, name: str) -> Update:
    lines = tuple(where.splitlines())
    premises, path_terms = [], set()
    for i, line in enumerate(lines):
        premise = _PREMISE.fullmatch(line)
        if premise is None:
            if not line.lstrip().startswith("FILTER"):
                raise ValueError(f"rule {name}: a WHERE line is neither one premise nor a FILTER: {line!r}")
        elif re.fullmatch(rf"a|{_TERM}", premise["p"]):
            premises.append(i)
        else:
            path_terms.update(re.findall(_IRI, premise["p"]))
    triples = tuple(t.strip() for t in re.split(r"\s\.(?:\s|$)", conclusion.strip()) if t.strip())
    return Update(triples, lines, tuple(premises), frozenset(path_terms))


def _updates(text: str, name: str) -> tuple[Update, ...]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    if _UPDATE.sub("", body).strip():
        raise ValueError(f"rule {name}: text outside 'INSERT {{ … }} WHERE {{ … }}' updates")
    return tuple(_update(m["conclusion"], m["where"], name) for m in _UPDATE.finditer(body))


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    found = []
    for path in sorted(RULES_DIR.glob("*.ru")):
        text = path.read_text(encoding="utf-8")
        handles = frozenset(_expand(t) for t in _header(text, "handles").split())
        found.append(Rule(path.stem, _header(text, "phase"), int(_header(text, "order")), handles,
                          sparql_prefixes() + text, _updates(text, path.stem)))
    return tuple(sorted(found, key=lambda r: r.order))


def handled_terms() -> frozenset:
    return frozenset().union(*(r.handles for r in rules()))
