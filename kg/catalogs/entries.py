"""The catalog entries a model may name: those of the installed release (every IRI its graphs give
a dcterms:identifier), read once per release, and the STRIDE categories of the ontology."""

from functools import lru_cache
from pathlib import Path

from pyoxigraph import RdfFormat, parse

from kg.catalogs import installed
from kg.namespaces import DCTERMS
from kg.ontology import stride

IDENTIFIER = str(DCTERMS.identifier)


def known_entries() -> frozenset[str] | None:
    """The entry IRIs a model may name, or None when no catalogs are installed (nothing to check)."""
    installation = installed.current()
    if installation is None:
        return None
    return _identified(tuple(installation.graph_files())) | {c.iri for c in stride()}


def unknown_entry(iri: str) -> bool:
    """Whether `iri` is no entry of a catalog the installed release holds (ids of catalogs not
    installed are not checked)."""
    known = known_entries()
    return known is not None and iri not in known and iri.rsplit("/", 1)[0] in _catalogs(known)


@lru_cache(maxsize=4)
def _catalogs(known: frozenset[str]) -> frozenset[str]:
    """The namespaces (…/id/capec) of the entries known."""
    return frozenset(iri.rsplit("/", 1)[0] for iri in known)


@lru_cache(maxsize=4)
def _identified(files: tuple[Path, ...]) -> frozenset[str]:
    """The IRIs with a dcterms:identifier in the release's graphs."""
    return frozenset(q.subject.value for path in files
                     for q in parse(path=str(path), format=RdfFormat.N_QUADS, lenient=True)
                     if q.predicate.value == IDENTIFIER)
