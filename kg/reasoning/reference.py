"""The reference engine: owlrl's complete OWL 2 RL closure over rdflib."""

import owlrl
from rdflib import Graph, Literal


def materialize(graph: Graph) -> None:
    """Add the full OWL 2 RL closure to the graph in place (no axiomatic or datatype triples).
    owlrl also derives generalized triples with a literal subject; those are not RDF and are dropped."""
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(graph)
    for triple in [t for t in graph if isinstance(t[0], Literal)]:
        graph.remove(triple)
