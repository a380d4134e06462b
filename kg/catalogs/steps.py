"""The catalog derivation steps: the SPARQL updates of catalogs/steps/, in the order of its
steps.yaml, run over the built catalog graphs held as named graphs in one pyoxigraph store. A
scratch graph gives them their inputs (each graph's catalog, source and version; the consequence
scope -> STRIDE table; the importers' CatalogGraph.inputs), discarded with the store; what they
add to a catalog graph is copied back into its CatalogGraph."""

import logging
from pathlib import Path

import yaml
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, serialize
from rdflib.namespace import DCTERMS

from kg.catalogs.rdfbuild import CatalogGraph
from kg.catalogs.stride_report import log_stride_report
from kg.errors import InputError, Problem
from kg.namespaces import GRAPH, STRIDE, TM, sparql_prefixes
from kg.ontology import stride
from kg.paths import catalogs_data_dir

SCRATCH = NamedNode(str(GRAPH["catalogs/steps"]))
TABLE_FILE = "stride-from-consequence-scope.yaml"

log = logging.getLogger(__name__)


def run(graphs: list[CatalogGraph], installed: list[tuple[Path, dict]] = ()) -> None:
    """Run the steps over the graphs, adding what they derive; installed graphs (an N-Quads file
    and its manifest entry) are read, not written back."""
    store = Store()
    for cg in graphs:
        store.load(cg.graph.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES, to_graph=_iri(cg))
        store.load(cg.inputs.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES, to_graph=SCRATCH)
        _describe(store, _iri(cg), cg.name, cg.source, cg.version)
    for path, info in installed:
        store.load(path=str(path), format=RdfFormat.N_QUADS)
        name, _, version = info["graph"].partition("/")
        _describe(store, NamedNode(info["iri"]), name, info["source"], version)
    store.extend(Quad(NamedNode(str(STRIDE[category])), NamedNode(str(TM.fromConsequenceScope)), Literal(scope),
                      SCRATCH) for scope, categories in scope_table().items() for category in categories)
    before = {cg: set(store.quads_for_pattern(None, None, None, _iri(cg))) for cg in graphs}
    for update, repeat in _steps():
        size = len(store)
        store.update(update)
        while repeat and len(store) != size:
            size = len(store)
            store.update(update)
    for cg in graphs:
        added = [q.triple for q in store.quads_for_pattern(None, None, None, _iri(cg)) if q not in before[cg]]
        if added:
            cg.graph.parse(data=serialize(added, format=RdfFormat.N_TRIPLES), format="nt")
        if cg.name == "capec":
            log_stride_report(cg)


def scope_table(path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """The consequence scope -> STRIDE categories table."""
    path = path or catalogs_data_dir() / TABLE_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise InputError(Problem(str(path), f"cannot read the scope table: {e}")) from None
    scopes = data.get("scopes") if isinstance(data, dict) else None
    if not isinstance(scopes, dict):
        raise InputError(Problem(str(path), "expected 'scopes:' mapping each scope to a list of STRIDE categories"))
    known = [c.id for c in stride()]
    for scope, categories in scopes.items():
        if not isinstance(categories, list) or not set(categories) <= set(known):
            raise InputError(Problem(str(path), f"must be a list of {', '.join(known)}", element=str(scope)))
    return {str(scope): tuple(categories) for scope, categories in scopes.items()}


def _steps() -> list[tuple[str, bool]]:
    """(update text with the PREFIX lines, repeat until it adds nothing) of each step, in order."""
    folder = catalogs_data_dir() / "steps"
    path = folder / "steps.yaml"
    try:
        steps = yaml.safe_load(path.read_text(encoding="utf-8"))["steps"]
        return [(sparql_prefixes() + (folder / step["file"]).read_text(encoding="utf-8"), step.get("repeat") is True)
                for step in steps]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise InputError(Problem(str(path), f"cannot read the derivation steps: {e}")) from None


def _iri(cg: CatalogGraph) -> NamedNode:
    return NamedNode(str(GRAPH[f"{cg.name}/{cg.version}"]))


def _describe(store: Store, graph: NamedNode, name: str, source: str, version: str) -> None:
    """The scratch facts the steps find a catalog graph by, and the provenance its links take."""
    store.extend(Quad(graph, NamedNode(str(p)), Literal(value), SCRATCH) for p, value in
                 ((TM.catalog, name), (DCTERMS.source, source), (TM.sourceVersion, version)))
