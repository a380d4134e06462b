"""External enrichment: facts about a catalog entry pulled from allowlisted SPARQL endpoints (SEPSES,
D3FEND …) through kg.store.remote, each fact with its origin. What is asked where is data: the allowlist
and the enrichments in catalogs/enrichment.yaml (kg.enrichment.config), the questions in
kg/queries/enrich-*.rq. Answers are cached (kg.enrichment.cache)."""

from dataclasses import asdict, dataclass

from pyoxigraph import NamedNode
from rdflib import URIRef

from kg.analysis import catalog_store
from kg.enrichment import cache
from kg.enrichment.config import Enrichment, load_config
from kg.errors import InputError, Problem
from kg.ids import iri_of, known_forms
from kg.queries import run, text
from kg.store.base import StoreError
from kg.store.remote import Endpoints, RemoteStore

__all__ = ["Fact", "Facts", "Origin", "Source", "enrich", "load_config", "resolve"]


@dataclass(frozen=True)
class Origin:
    enrichment: str
    endpoint: str
    url: str
    query: str
    fetched: str             # ISO 8601, UTC
    cached: bool             # served from the cache
    stale: bool              # from a cache older than the endpoint's max_age (the endpoint failed)


@dataclass(frozen=True)
class Fact:
    subject: str             # the catalog entry
    relation: str
    object: str
    object_type: str         # iri | literal
    label: str | None
    details: dict            # the query's other columns
    origin: Origin


@dataclass(frozen=True)
class Source:
    """How one enrichment went for the entry: fetched, cached, stale (endpoint failed, old cache used) or failed."""
    enrichment: str
    endpoint: str
    url: str
    start: str
    status: str
    facts: int
    message: str | None = None


class Facts(list):
    """The facts about one entry, with `entry` (its IRI) and `sources` (one per enrichment that applied)."""

    def __init__(self, entry: str, facts: list[Fact], sources: list[Source]):
        super().__init__(facts)
        self.entry, self.sources = entry, sources

    def as_dict(self) -> dict:
        return {"entry": self.entry, "count": len(self), "facts": [asdict(f) for f in self],
                "sources": [asdict(s) for s in self.sources]}


def enrich(entry_iri_or_id: str, store=None, refresh: bool = False) -> Facts:
    """Facts about a catalog entry (CWE-89, T1110 or its IRI) from every enrichment that applies to it.
    `store` holds the catalogs (anything with pyoxigraph's query(); default: the installed catalogs);
    `refresh` asks the endpoints even when the cache is fresh. A failing endpoint is reported in
    `sources` and the other endpoints' facts are still returned."""
    entry, matches = resolve(entry_iri_or_id, catalog_store() if store is None else store)
    facts, sources = [], []
    for enrichment in load_config():
        if entry.startswith(enrichment.applies_to):
            for start in sorted(m for m in matches if m.startswith(enrichment.start)):
                found, source = _answer(enrichment, start, entry, refresh)
                facts += found
                sources.append(source)
    return Facts(entry, facts, sources)


def resolve(entry_iri_or_id: str, store) -> tuple[str, list[str]]:
    """The entry's IRI and its skos:exactMatch targets; InputError for an unknown id."""
    iri = entry_iri_or_id if "://" in entry_iri_or_id else iri_of(entry_iri_or_id)
    if iri is None:
        raise InputError(Problem(entry_iri_or_id, f"not a catalog id (such as {known_forms()})"))
    rows = list(run(store, "enrich-start", entry=URIRef(iri)))
    if not rows:
        raise InputError(Problem(entry_iri_or_id, "no installed catalog has this entry"))
    return str(iri), [r["match"].value for r in rows if r["match"] is not None]


def _answer(enrichment: Enrichment, start: str, entry: str, refresh: bool) -> tuple[list[Fact], Source]:
    """The enrichment's facts from a fresh cache, else from the endpoint, else from an older cache."""
    endpoint = enrichment.endpoint
    path = cache.path_of(endpoint.url, enrichment.query, text(enrichment.query), start)
    cached = cache.read(path)
    fresh = cached is not None and cache.age(cached["fetched"]) <= endpoint.max_age
    status, message = "cached", None
    if refresh or not fresh:
        try:
            rows = _ask(enrichment, start)
            cached = {"endpoint": endpoint.name, "url": endpoint.url, "query": enrichment.query, "start": start,
                      "fetched": cache.now(), "rows": rows}
            status, message = "fetched", cache.write(path, cached)
        except StoreError as err:
            if cached is None:
                return [], _source(enrichment, start, "failed", 0, err.problems[0].message)
            status = "cached" if fresh else "stale"
            message = f"{err.problems[0].message}; using the answer cached at {cached['fetched']}"
    origin = Origin(enrichment.name, endpoint.name, endpoint.url, enrichment.query, cached["fetched"],
                    cached=status != "fetched", stale=status == "stale")
    facts = [_fact(entry, enrichment, row, origin) for row in cached["rows"] if "object" in row]
    return facts, _source(enrichment, start, status, len(facts), message)


def _ask(enrichment: Enrichment, start: str) -> list[dict]:
    """The query's rows from the endpoint, each bound term as {type: iri | literal, value}."""
    endpoint = enrichment.endpoint
    # no headers: THREATKG_STORE_* credentials are for the project's store, never sent elsewhere
    remote = RemoteStore(Endpoints(endpoint.url, endpoint.url, None), endpoint.timeout, endpoint.retries)
    solutions = remote.query(text(enrichment.query), bindings={"entity": NamedNode(start)})
    names = [v.value for v in solutions.variables]
    return [{n: {"type": "iri" if isinstance(s[n], NamedNode) else "literal", "value": s[n].value}
             for n in names if s[n] is not None} for s in solutions]


def _fact(entry: str, enrichment: Enrichment, row: dict, origin: Origin) -> Fact:
    label = row.get("label")
    details = {k: t["value"] for k, t in row.items() if k not in ("object", "label")}
    return Fact(entry, enrichment.relation, row["object"]["value"], row["object"]["type"],
                label["value"] if label else None, details, origin)


def _source(enrichment: Enrichment, start: str, status: str, count: int, message: str | None) -> Source:
    return Source(enrichment.name, enrichment.endpoint.name, enrichment.endpoint.url, start, status, count, message)
