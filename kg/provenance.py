"""The provenance of a catalog link: its owl:Axiom annotation (official / derived / curated, source,
version, method), or, for structure a catalog states without annotation (CAPEC child/parent,
CWE category members), official from the named graph that holds it."""

from rdflib import URIRef

from kg.namespaces import BASE
from kg.queries import run

STRENGTH = ["curated", "derived", "official"]


def weakest(links: list[dict]) -> str:
    """A chain of links is as strong as its weakest: curated < derived < official."""
    return min((lnk["provenance"] for lnk in links), key=STRENGTH.index)


def link(store, s, p, o, inverse=None, names=None) -> dict | None:
    """The link s -p-> o as {from, relation, to, provenance, source, version[, method]}, looked up
    as stated or, when given, as its inverse o -inverse-> s. None when no graph states it."""
    names = names or (lambda term: str(term).rsplit("/", 1)[-1])
    base = {"from": names(s), "relation": str(p).rsplit("#", 1)[-1], "to": names(o)}
    for subject, prop, obj in [(s, p, o)] + ([(o, inverse, s)] if inverse else []):
        for sol in run(store, "link-provenance", s=URIRef(subject), p=URIRef(prop), o=URIRef(obj)):
            found = {**base, "provenance": sol["provenance"].value, "source": sol["source"].value,
                     "version": sol["version"].value}
            if sol["method"] and sol["method"].value:
                found["method"] = sol["method"].value
            return found
    for subject, prop, obj in [(s, p, o)] + ([(o, inverse, s)] if inverse else []):
        for sol in run(store, "graph-of", s=URIRef(subject), p=URIRef(prop), o=URIRef(obj)):
            catalog, _, version = sol["g"].value[len(BASE + "graph/"):].partition("/")
            return {**base, "provenance": "official", "source": catalog, "version": version}
    return None
