"""A store seen through a fixed RDF dataset (a default graph made of some of its graphs, and named
graphs), with the part of pyoxigraph's Store API the rest of ThreatKG calls (query with
substitutions and a dataset, quads_for_pattern), so the same code runs on an in-process analysis
and on a store of many systems, embedded or remote."""

from pyoxigraph import DefaultGraph, NamedNode, Quad, Variable

from kg.namespaces import sparql_prefixes

_CACHED = 20000   # (s, p, o) patterns remembered: the graphs of a view never change (versioned names)


class DatasetView:
    def __init__(self, store, default: list[str], named: list[str]):
        """`default`: the graphs whose union is the default graph (few: each one costs on every
        pattern); `named`: the graphs GRAPH patterns see."""
        self.store, self.default, self.named = store, list(default), list(named)
        self._all = set(self.default) | set(self.named)
        self._patterns = {}

    def query(self, sparql: str, substitutions: dict | None = None, use_default_graph_as_union: bool = False,
              default_graph=None, named_graphs=None, prefixes: dict | None = None):
        """Evaluate over the view's dataset, or over the given graphs of it (a SPARQL Protocol
        request's default-graph-uri / named-graph-uri). Prefixes and bindings as pyoxigraph takes them."""
        if prefixes:
            sparql = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items()) + sparql
        default, named = self.default, self.named
        if default_graph is not None or named_graphs is not None:
            default = [g.value for g in default_graph or [] if g.value in self._all]
            named = [g.value for g in named_graphs or [] if g.value in self._all]
        bindings = {(k.value if isinstance(k, Variable) else k): v for k, v in (substitutions or {}).items()}
        return self.store.query(sparql, default, named, bindings)

    def quads_for_pattern(self, subject=None, predicate=None, object=None, graph_name=None):  # noqa: A002
        """The matching triples of the default graph (as quads in it)."""
        key = (subject, predicate, object)
        if key not in self._patterns:
            if len(self._patterns) >= _CACHED:
                self._patterns.clear()
            bound = {n: t for n, t in zip("spo", key) if t is not None}
            rows = self.store.query(sparql_prefixes() + "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }",
                                    self.default, [], bound)
            self._patterns[key] = [Quad(r["s"], r["p"], r["o"], DefaultGraph()) for r in rows]
        return iter(self._patterns[key])

    def named_graphs(self) -> list[NamedNode]:
        return [NamedNode(g) for g in self.named]
