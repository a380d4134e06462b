"""Named SPARQL queries: one .rq file per query in this folder, run on rdflib or pyoxigraph."""

import re
from functools import lru_cache

from pyoxigraph import NamedNode, Store, Variable
from rdflib import URIRef

from kg.namespaces import sparql_prefixes
from kg.paths import queries_dir
from kg.store.sparql_text import with_rows, with_values

_PLACEHOLDER = re.compile(r"\$(\w+)")


@lru_cache(maxsize=None)
def text(name: str, suffix: str = ".rq") -> str:
    """The query `name`.rq (or update `name`.ru) with the project's PREFIX lines in front."""
    return sparql_prefixes() + (queries_dir() / f"{name}{suffix}").read_text(encoding="utf-8")


def select(graph, name: str, **bindings):
    """Run a named query on an rdflib Graph, with initial variable bindings."""
    return graph.query(text(name), initBindings=bindings or None)


def run(store, name: str, **bindings):
    """Run a named query on a pyoxigraph Store (or a kg.store dataset) over the union of its graphs;
    bindings fix variables of the query's projection (rdflib URIRefs become IRIs). On a Store they are
    written into the query text as a VALUES block, which steers the query plan (substitutions do not)."""
    values = {k: NamedNode(str(v)) if isinstance(v, URIRef) else v for k, v in bindings.items()}
    if isinstance(store, Store) and values:
        return store.query(with_values(text(name), {k: str(v) for k, v in values.items()}),
                           use_default_graph_as_union=True)
    return store.query(text(name), substitutions={Variable(k): v for k, v in values.items()},
                       use_default_graph_as_union=True)


def records(solutions) -> list[dict]:
    """Query solutions as plain dicts: variable name → the bound term's value (None when unbound)."""
    names = [v.value for v in solutions.variables]
    return [{n: (s[n].value if s[n] is not None else None) for n in names} for s in solutions]


VALUES_CHUNK = 200   # rows per query: Virtuoso refuses a query whose SQL translation grows past 10,000 lines


def run_values(store, name: str, rows) -> list:
    """Run a named query whose `$values` placeholder takes the rows of its VALUES block, written into
    the query text as escaped terms (bound values steer the query plan, substitutions do not), at most
    VALUES_CHUNK rows per query: each of its solutions must depend on one row only.
    rows: tuples of pyoxigraph terms (or single terms for a one-variable VALUES). No rows, no answers."""
    rows, found = list(rows), []
    for start in range(0, len(rows), VALUES_CHUNK):
        block = " ".join(f"({' '.join(map(str, r))})" if isinstance(r, tuple) else str(r)
                         for r in rows[start:start + VALUES_CHUNK])
        found += store.query(text(name).replace("$values", block), use_default_graph_as_union=True)
    return found


def run_among(store, name: str, variable: str, iris) -> list:
    """Run a named query with one variable limited to a set of IRIs: a VALUES block written at the
    start of its WHERE clause, so the query plan starts from them. No IRIs, no answers."""
    iris = sorted(set(map(str, iris)))
    if not iris:
        return []
    sparql = with_rows(text(name), [variable], [[str(NamedNode(i))] for i in iris])
    return list(store.query(sparql, use_default_graph_as_union=True))


def update_text(name: str, **terms) -> str:
    """The update `name`.ru with each $placeholder replaced by a pyoxigraph term (written as SPARQL)."""
    return _PLACEHOLDER.sub(lambda m: str(terms[m.group(1)]), text(name, ".ru"))
