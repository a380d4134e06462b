"""The embedded store: pyoxigraph in this process, in memory or in a folder on disk."""

from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, Store, Variable

from kg.store.base import StoreError


class EmbeddedStore:
    def __init__(self, path: Path | None):
        self.where = str(path) if path else "memory:"
        try:
            if path is not None:
                path.mkdir(parents=True, exist_ok=True)
            self.oxigraph = Store(str(path)) if path else Store()
        except OSError as err:
            raise StoreError(self.where, f"cannot open the embedded store: {err}") from None

    def query(self, sparql: str, default_graph: list[str] | None = None, named_graphs: list[str] | None = None,
              bindings: dict | None = None):
        """pyoxigraph results over the given graphs, or, with none given, over the union of every graph;
        `bindings` maps variable names to terms."""
        substitutions = {Variable(k): v for k, v in (bindings or {}).items()} or None
        if default_graph is None and named_graphs is None:
            return self.oxigraph.query(sparql, substitutions=substitutions, use_default_graph_as_union=True)
        return self.oxigraph.query(sparql, substitutions=substitutions,
                                   default_graph=[NamedNode(g) for g in default_graph or []],
                                   named_graphs=[NamedNode(g) for g in named_graphs or []])

    def update(self, sparql: str) -> None:
        self.oxigraph.update(sparql)

    def add_graph(self, graph: str, ntriples: bytes) -> None:
        """Add N-Triples to a named graph (in one transaction)."""
        self.oxigraph.load(ntriples, RdfFormat.N_TRIPLES, to_graph=NamedNode(graph))

    def drop_graph(self, graph: str) -> None:
        self.oxigraph.update(f"DROP SILENT GRAPH <{graph}>")

    def flush(self) -> None:
        """Write what a change left in memory to disk: the next process opens the store in tens of
        milliseconds instead of the seconds RocksDB takes to recover unflushed writes."""
        self.oxigraph.flush()
