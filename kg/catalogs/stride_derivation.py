"""CAPEC -> STRIDE, derived (no official mapping exists) from consequence scopes: the pattern's
own, else those of its nearest tm:childOf ancestors that have any, else those of its related
weaknesses (CWE Common_Consequences). The scope -> STRIDE table is catalogs/stride-from-consequence-scope.yaml."""

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml
from rdflib import URIRef
from rdflib.namespace import DCTERMS, OWL, RDF

from kg.catalogs.rdfbuild import CatalogGraph
from kg.errors import InputError, Problem
from kg.namespaces import STRIDE, TM
from kg.paths import catalogs_data_dir

TABLE_FILE = "stride-from-consequence-scope.yaml"
CATEGORIES = ("Spoofing", "Tampering", "Repudiation", "InformationDisclosure", "DenialOfService",
              "ElevationOfPrivilege")
# Method literals: "consequence-scope", "ancestor CAPEC-1 consequence-scope",
# "related-weakness CWE-89 consequence-scope"; the report groups them by their first word.
OWN, ANCESTOR, WEAKNESS = "consequence-scope", "ancestor", "related-weakness"

log = logging.getLogger(__name__)


@dataclass
class StrideReport:
    """How the non-deprecated patterns got their STRIDE categories."""

    by_method: Counter      # OWN / ANCESTOR / WEAKNESS -> number of patterns
    without: list[str]      # CAPEC ids that got none


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
    for scope, categories in scopes.items():
        if not isinstance(categories, list) or not set(categories) <= set(CATEGORIES):
            raise InputError(Problem(str(path), f"must be a list of {', '.join(CATEGORIES)}", element=str(scope)))
    return {str(scope): tuple(categories) for scope, categories in scopes.items()}


def derive_stride(capec: CatalogGraph, cwe: CatalogGraph | None) -> None:
    """Add derived tm:hasStride links (with their method) to every non-deprecated CAPEC pattern."""
    deriver = _Deriver(capec, cwe, scope_table())
    for pattern in sorted(deriver.own):
        if (pattern, RDF.type, TM.DeprecatedEntry) in capec.graph:
            continue
        for category, method, source in deriver.reasons(pattern):
            capec.link(pattern, TM.hasStride, STRIDE[category], "derived",
                       source=source.source, version=source.version, method=method)
    report = stride_report(capec)
    log.info("CAPEC %s STRIDE derivation: %s; without STRIDE: %d %s", capec.version,
             dict(report.by_method), len(report.without), " ".join(report.without))


def stride_report(capec: CatalogGraph) -> StrideReport:
    """Read the derived tm:hasStride links back: patterns per method, and those left without."""
    g = capec.graph
    methods = defaultdict(set)
    for axiom in g.subjects(OWL.annotatedProperty, TM.hasStride):
        methods[g.value(axiom, OWL.annotatedSource)].update(str(m).split()[0] for m in g.objects(axiom, TM.method))
    by_method, without = Counter(), []
    for pattern in g.subjects(RDF.type, TM.AttackPattern):
        if (pattern, RDF.type, TM.DeprecatedEntry) in g:
            continue
        if methods[pattern]:
            by_method.update(methods[pattern])
        else:
            without.append(str(g.value(pattern, DCTERMS.identifier)))
    return StrideReport(by_method, sorted(without, key=lambda i: int(i.split("-")[1])))


class _Deriver:
    """The scope table applied to the CAPEC (and CWE) graphs."""

    def __init__(self, capec: CatalogGraph, cwe: CatalogGraph | None, table: dict[str, tuple[str, ...]]):
        self.capec, self.cwe, self.table = capec, cwe, table
        self.own = {p: self.categories(capec, p) for p in capec.graph.subjects(RDF.type, TM.AttackPattern)}

    def categories(self, cg: CatalogGraph, node: URIRef) -> set[str]:
        return {c for scope in cg.graph.objects(node, TM.consequenceScope) for c in self.table.get(str(scope), ())}

    def reasons(self, pattern: URIRef) -> list[tuple[str, str, CatalogGraph]]:
        """(category, method, source graph) from the first rule that gives any."""
        if self.own[pattern]:
            return [(c, OWN, self.capec) for c in sorted(self.own[pattern])]
        for level in self._ancestor_levels(pattern):
            found = [(c, f"{ANCESTOR} {self._id(self.capec, a)} {OWN}", self.capec)
                     for a in level for c in sorted(self.own.get(a, ()))]
            if found:
                return found
        if self.cwe is None:
            return []
        return [(c, f"{WEAKNESS} {self._id(self.cwe, w)} {OWN}", self.cwe)
                for w in self._weaknesses(pattern) for c in sorted(self.categories(self.cwe, w))]

    def _ancestor_levels(self, pattern: URIRef):
        """Ancestors by distance along tm:childOf: parents, then grandparents, ..."""
        seen, level = {pattern}, {pattern}
        while level:
            level = {a for p in level for a in self.capec.graph.objects(p, TM.childOf)} - seen
            seen |= level
            if level:
                yield sorted(level)

    def _weaknesses(self, pattern: URIRef) -> list[URIRef]:
        """Related CWEs from both sides: CAPEC Related_Weaknesses and CWE Related_Attack_Patterns."""
        related = set(self.capec.graph.objects(pattern, TM.relatedWeakness))
        related |= set(self.cwe.graph.subjects(TM.relatedAttackPattern, pattern))
        return sorted(related)

    @staticmethod
    def _id(cg: CatalogGraph, node: URIRef) -> str:
        return str(cg.graph.value(node, DCTERMS.identifier) or node.rsplit("/", 1)[-1])
