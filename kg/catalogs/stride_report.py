"""How the derived CAPEC -> STRIDE links (catalogs/steps/capec-stride-*.ru) came out: patterns per
rule, and the patterns left without."""

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass

from rdflib.namespace import DCTERMS, OWL, RDF

from kg.catalogs.rdfbuild import CatalogGraph
from kg.namespaces import TM

# Method literals: "consequence-scope", "ancestor CAPEC-1 consequence-scope",
# "related-weakness CWE-89 consequence-scope"; the report groups them by their first word.
OWN, ANCESTOR, WEAKNESS = "consequence-scope", "ancestor", "related-weakness"

log = logging.getLogger(__name__)


@dataclass
class StrideReport:
    """How the non-deprecated patterns got their STRIDE categories."""

    by_method: Counter      # OWN / ANCESTOR / WEAKNESS -> number of patterns
    without: list[str]      # CAPEC ids that got none


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


def log_stride_report(capec: CatalogGraph) -> None:
    report = stride_report(capec)
    log.info("CAPEC %s STRIDE derivation: %s; without STRIDE: %d %s", capec.version,
             dict(report.by_method), len(report.without), " ".join(report.without))
