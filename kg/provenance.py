"""The provenance of catalog links: each link's owl:Axiom annotation (official / derived / curated,
source, version, method), or, for structure a catalog states without annotation (CAPEC
child/parent, CWE category members), official from the named graph that holds it."""

from functools import cached_property

from rdflib import URIRef

from kg.namespaces import BASE
from kg.queries import records, run

STRENGTH = ["curated", "derived", "official"]


def weakest(links: list[dict]) -> str:
    """A chain of links is as strong as its weakest: curated < derived < official."""
    return min((lnk["provenance"] for lnk in links), key=STRENGTH.index)


class LinkIndex:
    """Every annotated link of a store, loaded on first use; lookups by (s, p, o). `kept`: the
    catalogs' link-provenance-all rows, for a store that holds their answer index (which leaves the
    annotations out, kg.catalogs.index) rather than their graphs."""

    def __init__(self, store, kept: list[dict] | None = None):
        self.store, self.kept = store, kept or []
        self._stated = {}    # (s, p, o) → provenance read off the graph that states it, or None

    @cached_property
    def _annotated(self) -> dict:
        found = {}
        for row in self.kept + records(run(self.store, "link-provenance-all")):
            key = (row["s"], row["p"], row["o"])
            found[key] = {"provenance": row["provenance"], "source": row["source"], "version": row["version"]}
            if row["method"]:   # GROUP_CONCAT has no order: sorted here
                found[key]["method"] = "; ".join(sorted(row["method"].split("; ")))
        return found

    def get(self, s, p, o, inverse=None, names=None) -> dict | None:
        """The link s -p-> o as {from, relation, to, provenance, source, version[, method]}, found as
        stated or, when given, as its inverse o -inverse-> s. None when no graph states it."""
        names = names or (lambda term: str(term).rsplit("/", 1)[-1])
        base = {"from": names(s), "relation": str(p).rsplit("#", 1)[-1], "to": names(o)}
        candidates = [(str(s), str(p), str(o))] + ([(str(o), str(inverse), str(s))] if inverse else [])
        for key in candidates:
            if key in self._annotated:
                return {**base, **self._annotated[key]}
        for key in candidates:
            if key not in self._stated:
                self._stated[key] = self._graph_of(*key)
            if self._stated[key] is not None:
                return {**base, **self._stated[key]}
        return None

    def _graph_of(self, subject, prop, obj) -> dict | None:
        """Official, from the catalog whose named graph states the triple (None: no graph does)."""
        for sol in run(self.store, "graph-of", s=URIRef(subject), p=URIRef(prop), o=URIRef(obj)):
            catalog, version = (sol["g"].value[len(BASE + "graph/"):].split("/") + [""])[:2]
            return {"provenance": "official", "source": catalog, "version": version}
        return None
