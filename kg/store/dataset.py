"""A store seen through a fixed set of named graphs, with the part of pyoxigraph's Store API the rest
of ThreatKG calls (query with substitutions and a dataset, quads_for_pattern), so the same code runs
on an in-process analysis and on a store of many systems, embedded or remote."""

from pyoxigraph import DefaultGraph, NamedNode, Quad, Variable

from kg.namespaces import sparql_prefixes

_CACHED = 20000   # (s, p, o) patterns remembered: the graphs of a view never change (versioned names)


class DatasetView:
    def __init__(self, store, graphs: list[str]):
        self.store, self.graphs = store, list(graphs)
        self._patterns = {}

    def query(self, sparql: str, substitutions: dict | None = None, use_default_graph_as_union: bool = False,
              default_graph=None, named_graphs=None, prefixes: dict | None = None):
        """Evaluate over the union of the view's graphs (default graph and named graphs), or over the
        given subsets of them. Prefixes are declared and variables bound as pyoxigraph does."""
        if prefixes:
            sparql = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items()) + sparql
        default = self._within(default_graph)
        named = self._within(named_graphs) if named_graphs is not None else (
            self.graphs if default_graph is None else [])
        bindings = {(k.value if isinstance(k, Variable) else k): v for k, v in (substitutions or {}).items()}
        return self.store.query(sparql, default, named, bindings)

    def _within(self, graphs) -> list[str]:
        if graphs is None:
            return self.graphs
        return [g.value for g in graphs if g.value in self.graphs]

    def quads_for_pattern(self, subject=None, predicate=None, object=None, graph_name=None):
        """The matching triples (as quads in the default graph), over the union of the view's graphs."""
        key = (subject, predicate, object)
        if key not in self._patterns:
            if len(self._patterns) >= _CACHED:
                self._patterns.clear()
            bound = {n: t for n, t in zip("spo", key) if t is not None}
            rows = self.store.query(sparql_prefixes() + "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }",
                                    self.graphs, [], bound)
            self._patterns[key] = [Quad(r["s"], r["p"], r["o"], DefaultGraph()) for r in rows]
        return iter(self._patterns[key])

    def graph_names(self) -> list[NamedNode]:
        return [NamedNode(g) for g in self.graphs]
