"""Systems in a store. Adding one reasons locally (the fast engine) and uploads two new graphs, the
model and what reasoning added, under a new version, with its answers (the assessment's threat rows
and its coverage by every built-in profile, kg.assessment) kept in the registry; one registry update then makes
that version current. A reader resolves the registry first and reads exactly the graphs it names, so
it never sees half a model; an upload killed midway leaves the previous version current."""

import base64
import hashlib
import json
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, parse

from kg import answers, ontology
from kg.analysis import Analysis, model_ntriples, ontology_ntriples
from kg.assessment import Assessment
from kg.catalogs.installed import Installation
from kg.coverage import IN_PLACE
from kg.errors import InputError, Problem
from kg.model.load import Model, parse_model
from kg.namespaces import GRAPH, TM, model_iri
from kg.profiles import DEFAULT_PROFILE, builtin, load
from kg.queries import text
from kg.reasoning import Inference, infer
from kg.store import registry
from kg.store.dataset import DatasetView

PENDING_GRACE = 600.0   # seconds an unissued version may still be uploading (another writer's) before it is dropped


def add(store, model: Model, source_text: str, engine: str = "fast",
        inference: Inference | None = None) -> registry.StoredVersion:
    """Store a new version of the model's system and make it current (reasoned here unless its
    inference is given)."""
    ontology_graph = ensure_graph(store, "ontology", ontology_closure(), ontology.digest())
    inference = inference or infer(ontology_ntriples() + model_ntriples(model), engine)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    version = NamedNode(str(GRAPH[f"model/{model.system}/{stamp}"]))
    inferred = NamedNode(version.value + "/inferred")
    system = NamedNode(str(model_iri(model.system)))
    registry.change(store, "begin-version", version=version, system=system, created=registry.now(),
                    sourceName=Literal(model.file), sourceText=Literal(source_text), model=version,
                    inferred=inferred, ontology=NamedNode(ontology_graph))
    store.add_graph(version.value, model_ntriples(model))
    store.add_graph(inferred.value, _added(inference, model))
    snap = registry.snapshot(store)
    pending = registry.StoredVersion(model.system, version.value, "", model.file,
                                     (version.value, inferred.value, ontology_graph))
    view = DatasetView(store, *registry.Snapshot({model.system: pending}, snap.release).dataset(model.system))
    keep_answers(store, pending, snap.release, _assess(Analysis(model, inference, _catalogs(snap), view, engine)))
    registry.change(store, "switch-version", system=system, id=Literal(model.system), version=version,
                    issued=registry.now())
    _drop_stale(store, system.value)
    store.flush()
    return registry.snapshot(store).systems[model.system]


def remove(store, system: str) -> None:
    """Forget a system and drop every graph of every version of it."""
    iri = NamedNode(str(model_iri(system)))
    versions = list(store.query(text("store-versions"), None, None, {"system": iri}))
    if system not in registry.snapshot(store).systems:
        raise InputError(Problem(system, "no such system in the store (see `threatkg systems list`)"))
    registry.change(store, "forget", subject=iri)
    for row in versions:
        _drop_version(store, row["version"], row["model"].value)
    store.flush()


@dataclass(frozen=True)
class KeptVersion:
    """A kept version of a stored system: the id `systems list` shows, whether it is current, and the
    catalog release its kept answers are under (None: none kept, or STRIDE only)."""

    stored: registry.StoredVersion
    id: str
    issued: str | None
    current: bool
    release: str | None


def kept(store, system: str) -> list[KeptVersion]:
    """The system's kept versions (the previous and the current one), oldest first."""
    rows, graphs = {}, {}
    for row in store.query(text("store-kept-versions"), None, None, {"system": NamedNode(str(model_iri(system)))}):
        rows.setdefault(row["version"].value, row)
        graphs.setdefault(row["version"].value, []).append(row["graph"].value)
    out = []
    for iri, row in rows.items():
        release = _value(row["release"])
        stored = registry.StoredVersion(system, iri, row["created"].value, row["sourceName"].value, tuple(graphs[iri]))
        out.append(KeptVersion(stored, iri.rsplit("/", 1)[-1], _value(row["issued"]), row["current"].value == "true",
                               None if release in (None, str(TM.NoRelease)) else release.rsplit("/", 1)[-1]))
    return sorted(out, key=lambda v: v.stored.created)


def _value(term) -> str | None:
    return None if term is None else term.value


def version_assessment(store, snap: registry.Snapshot, version: registry.StoredVersion) -> Assessment:
    """Any kept version assessed as `assessment` assesses the current one: its kept answers when they
    are under the snapshot's release and by this build, the others computed when asked for."""
    return assessment(store, registry.Snapshot({version.system: version}, snap.release), version.system)


def assessment(store, snap: registry.Snapshot, system: str, engine: str = "fast") -> Assessment:
    """The system's current version assessed: its kept answers when they were computed under the
    current release by this build, the others computed (from its analysis) when asked for."""
    return Assessment(lambda: analysis(store, snap, system, engine), kept_answers(store, snap, system))


def kept_answers(store, snap: registry.Snapshot, system: str) -> dict | None:
    """The answers kept with the system's current version, if computed under the current release by
    this build."""
    version = _version(snap, system)
    found = next(iter(store.query(text("store-answers"), None, None, {"version": NamedNode(version.iri)})), None)
    if found is None or found["release"].value != _release_iri(snap.release) \
            or found["build"].value != answers.build_digest():
        return None
    return json.loads(zlib.decompress(base64.b64decode(found["text"].value)))


def keep_answers(store, version: registry.StoredVersion, release: registry.Release | None,
                 assessed: Assessment) -> None:
    """Keep the answers of a version under a release in the registry."""
    registry.change(store, "keep-answers", version=NamedNode(version.iri),
                    text=Literal(_packed(assessed.answers)),
                    release=NamedNode(_release_iri(release)), build=Literal(answers.build_digest()))


def reassess(store) -> None:
    """Keep the answers of every system's current version under the store's current release (after a
    release switch): until then, a reader computes what it asks for."""
    snap = registry.snapshot(store)
    for system in sorted(snap.systems):
        if kept_answers(store, snap, system) is None:
            keep_answers(store, snap.systems[system], snap.release, _assess(analysis(store, snap, system)))
    store.flush()


def _packed(answers: dict) -> str:
    """Answers as a registry literal: compressed JSON in base64 (a 100-component system's JSON passes
    the 10 MB Virtuoso stores in one literal)."""
    return base64.b64encode(zlib.compress(json.dumps(answers, ensure_ascii=False).encode("utf-8"), 6)).decode("ascii")


def _assess(analysed: Analysis) -> Assessment:
    """The answers kept with a version: its threat rows (listed, folded, excluded), its coverage by
    what is in place (the cross-system questions) and by every built-in profile (pages, reports), and
    the report of the default profile."""
    assessed = Assessment(analysed).prepare()
    assessed.threats()
    for profile in [IN_PLACE] + [load(name) for name in sorted(builtin())]:
        assessed.coverage(profile)
    assessed.report(load(DEFAULT_PROFILE))
    return assessed


def _release_iri(release: registry.Release | None) -> str:
    return release.iri if release else str(TM.NoRelease)


def _catalogs(snap: registry.Snapshot) -> Installation | None:
    return Installation(None, snap.release.manifest) if snap.release else None


def _version(snap: registry.Snapshot, system: str) -> registry.StoredVersion:
    if system not in snap.systems:
        known = ", ".join(sorted(snap.systems)) or "none"
        raise InputError(Problem(system, f"no such system in the store (stored: {known})"))
    return snap.systems[system]


def analysis(store, snap: registry.Snapshot, system: str, engine: str = "fast") -> Analysis:
    """The system's current version, queried in the store. Explanations need the reasoner's trace of
    the model, so the (small) model is reasoned again here when one is asked for; every query runs
    on the store."""
    name, source_text = registry.source(store, _version(snap, system))
    model = parse_model(source_text, name, validate=False)
    return Analysis(model, None, _catalogs(snap), DatasetView(store, *snap.dataset(system)), engine)


def ensure_graph(store, name: str, ntriples: bytes, digest: str | None = None) -> str:
    """The IRI of graph `name`/<digest> holding these triples, uploaded unless already complete."""
    digest = digest or hashlib.sha256(ntriples).hexdigest()
    iri = str(GRAPH[f"{name}/{digest[:16]}"])
    if iri not in registry.loaded_graphs(store):
        store.drop_graph(iri)            # what an interrupted upload may have left
        store.add_graph(iri, ntriples)
        registry.change(store, "graph-loaded", graph=NamedNode(iri), digest=Literal(digest))
    return iri


@lru_cache(maxsize=1)
def ontology_closure() -> bytes:
    """The ontology and everything the reasoner derives from it alone, shared by every system."""
    inference = infer(ontology_ntriples())
    return b"".join(f"{q.triple} .\n".encode() for q in inference.store)


@lru_cache(maxsize=1)
def _ontology_facts() -> frozenset:
    return frozenset(str(t) for t in parse(ontology_closure(), RdfFormat.N_TRIPLES))


def _added(inference, model: Model) -> bytes:
    """What reasoning (and the preparation steps) added to the model: named facts not already in
    the model or in the ontology's own closure."""
    known = _ontology_facts() | {str(t) for t in parse(model_ntriples(model), RdfFormat.N_TRIPLES)}
    lines = [f"{q.triple} ." for q in inference.store
             if not isinstance(q.subject, BlankNode) and not isinstance(q.object, BlankNode)
             and str(q.triple) not in known]
    return "\n".join(sorted(lines)).encode() + b"\n"


def _drop_stale(store, system: str) -> None:
    """Drop superseded versions and those an upload left unissued for longer than PENDING_GRACE."""
    for row in store.query(text("store-stale-versions"), None, None, {"system": NamedNode(system)}):
        created = datetime.fromisoformat(row["created"].value.replace("Z", "+00:00"))
        if row["issued"] is not None or time.time() - created.timestamp() > PENDING_GRACE:
            _drop_version(store, row["version"], row["model"].value)


def _drop_version(store, version, model_graph: str) -> None:
    store.drop_graph(model_graph)
    store.drop_graph(model_graph + "/inferred")
    registry.change(store, "forget", subject=version)
