"""Tests of the catalog importers and the fetch pipeline."""

from rdflib.namespace import OWL


def annotations(g, s, p, o) -> list:
    """The owl:Axiom nodes that record the provenance of the link s -p-> o."""
    return [ax for ax in g.subjects(OWL.annotatedSource, s)
            if (ax, OWL.annotatedProperty, p) in g and (ax, OWL.annotatedTarget, o) in g]
