"""CAPEC 3.9 (STIX 2.1) importer and the derived CAPEC -> STRIDE links: fidelity to the official files."""

import json

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kg.catalogs import capec, cwe, steps
from kg.catalogs.rdfbuild import CatalogGraph
from kg.catalogs.steps import scope_table
from kg.catalogs.stride_report import ANCESTOR, OWN, WEAKNESS, stride_report
from kg.errors import InputError
from kg.namespaces import BASE, D3F, SEPSES, STRIDE, TM, catalog_iri
from kg.ontology import ontology as full_ontology
from tests.catalogs import annotations

CAPEC_66 = catalog_iri("capec", "CAPEC-66")


@pytest.fixture(scope="module")
def capec_graph(shared_catalogs):
    [cg] = capec.build(shared_catalogs / "capec")
    return cg


@pytest.fixture(scope="module")
def stride_graphs(shared_catalogs):
    """CAPEC with the derived STRIDE links of the steps (built apart from capec_graph so those tests
    see the raw import)."""
    [capec_cg] = capec.build(shared_catalogs / "capec")
    [cwe_cg] = cwe.build(shared_catalogs / "cwe")
    steps.run([capec_cg, cwe_cg])
    return capec_cg, cwe_cg


def typed(cg, cls):
    return set(cg.graph.subjects(RDF.type, cls))


def provenance(cg, s, p, o):
    """(provenance, method) of each owl:Axiom annotating the triple."""
    g = cg.graph
    return {(g.value(ax, TM.provenance), str(g.value(ax, TM.method) or ""))
            for ax in annotations(g, s, p, o)}


# --- fidelity ------------------------------------------------------------------------------

def test_counts(capec_graph):
    assert capec_graph.name == "capec" and capec_graph.version == "3.9"
    assert len(typed(capec_graph, TM.AttackPattern)) == 615
    assert len(typed(capec_graph, TM.DeprecatedEntry)) == 56
    assert typed(capec_graph, TM.DeprecatedEntry) <= typed(capec_graph, TM.AttackPattern)
    assert len(typed(capec_graph, TM.CapecMitigation)) == 884
    assert len(set(capec_graph.graph.subject_objects(TM.mitigates))) == 1182


def test_capec_66_entry(capec_graph):
    g = capec_graph.graph
    assert g.value(CAPEC_66, DCTERMS.identifier) == Literal("CAPEC-66")
    assert g.value(CAPEC_66, RDFS.label) == Literal("SQL Injection")
    assert (CAPEC_66, RDFS.seeAlso, URIRef("https://capec.mitre.org/data/definitions/66.html")) in g
    assert (CAPEC_66, SKOS.exactMatch, SEPSES["capec/CAPEC-66"]) in g
    assert (CAPEC_66, SKOS.exactMatch, D3F["CAPEC-66"]) in g
    assert g.value(CAPEC_66, TM.status) == Literal("Draft")
    assert g.value(CAPEC_66, TM.abstraction) == Literal("Standard")
    assert g.value(CAPEC_66, TM.likelihood) == Literal("High")
    assert g.value(CAPEC_66, TM.severity) == Literal("High")
    assert set(g.objects(CAPEC_66, TM.domain)) == {Literal("Software")}
    assert len(set(g.objects(CAPEC_66, TM.prerequisite))) == 2
    assert {str(s) for s in g.objects(CAPEC_66, TM.consequenceScope)} == {
        "Access_Control", "Authorization", "Availability", "Confidentiality", "Integrity"}
    [skill] = g.objects(CAPEC_66, TM.requiresSkill)
    assert g.value(skill, TM.skillLevel) == Literal("Low") and g.value(skill, DCTERMS.description)
    impacts = {str(i) for c in g.objects(CAPEC_66, TM.hasConsequence) for i in g.objects(c, TM.consequenceImpact)}
    assert {"Read Data", "Modify Data", "Gain Privileges"} <= impacts


def test_related_weakness_is_official(capec_graph):
    cwe_89 = catalog_iri("cwe", "CWE-89")
    assert (CAPEC_66, TM.relatedWeakness, cwe_89) in capec_graph.graph
    assert provenance(capec_graph, CAPEC_66, TM.relatedWeakness, cwe_89) == {(TM.Official, "")}


def test_hierarchy_resolved_to_capec_iris(capec_graph):
    g = capec_graph.graph
    assert set(g.objects(CAPEC_66, TM.childOf)) == {catalog_iri("capec", "CAPEC-248")}
    assert catalog_iri("capec", "CAPEC-7") in set(g.objects(CAPEC_66, TM.parentOf))
    assert (catalog_iri("capec", "CAPEC-185"), TM.canPrecede, catalog_iri("capec", "CAPEC-662")) in g
    targets = {o for p in (TM.childOf, TM.parentOf, TM.peerOf, TM.canPrecede, TM.canFollow)
               for o in g.objects(None, p)}
    assert targets <= typed(capec_graph, TM.AttackPattern)


def test_attack_technique_ids(capec_graph):
    # CAPEC 3.9 STIX already writes T-prefixed ids; the XML form often has bare numbers.
    assert capec.attack_technique_id("1574.010") == "T1574.010"
    assert capec.attack_technique_id("T1499") == "T1499"
    assert capec.attack_technique_id("Txyz") is None
    g = capec_graph.graph
    t = catalog_iri("attack", "T1574.010")
    assert (catalog_iri("capec", "CAPEC-17"), TM.attackTechnique, t) in g
    assert provenance(capec_graph, catalog_iri("capec", "CAPEC-17"), TM.attackTechnique, t) == {(TM.Official, "")}
    assert (t, RDF.type, TM.AttackTechnique) in g
    assert g.value(t, DCTERMS.identifier) == Literal("T1574.010")
    assert (t, RDFS.seeAlso, URIRef("https://attack.mitre.org/techniques/T1574/010/")) in g
    assert (t, SKOS.exactMatch, D3F["T1574.010"]) in g
    ids = {str(g.value(t, DCTERMS.identifier)) for t in typed(capec_graph, TM.AttackTechnique)}
    assert len(ids) == 189 and all(i.startswith("T") for i in ids)


def test_severity_values(capec_graph):
    severities = {str(s) for s in capec_graph.graph.objects(None, TM.severity)}
    assert severities == {"Very High", "High", "Medium", "Low", "Very Low"}


def test_deprecated_kept_with_status(capec_graph):
    g = capec_graph.graph
    statuses = {str(g.value(p, TM.status)) for p in typed(capec_graph, TM.DeprecatedEntry)}
    assert statuses == {"Deprecated"}
    assert g.value(catalog_iri("capec", "CAPEC-5"), TM.status) == Literal("Obsolete")


def test_mitigations(capec_graph):
    g = capec_graph.graph
    [coa] = [m for m in g.subjects(DCTERMS.identifier, Literal("coa-66-0"))]
    assert (coa, RDF.type, TM.CapecMitigation) in g
    assert (coa, TM.mitigates, CAPEC_66) in g
    assert provenance(capec_graph, coa, TM.mitigates, CAPEC_66) == {(TM.Official, "")}
    assert g.value(coa, DCTERMS.description)


def test_descriptions_are_plain_text(capec_graph):
    texts = [str(d) for d in capec_graph.graph.objects(None, DCTERMS.description)]
    assert texts and not any("<" in t and "xhtml" in t for t in texts)
    assert capec.plain_text("\n  <xhtml:p>A &amp; B</xhtml:p><xhtml:p>C</xhtml:p> ") == "A & B\nC"


def test_vocabulary_declared(stride_graphs):
    capec_cg, _ = stride_graphs
    ontology = full_ontology()
    g = capec_cg.graph
    used = {p for p in g.predicates() if str(p).startswith(BASE + "ont#")}
    used |= {o for o in g.objects(None, RDF.type) if str(o).startswith(BASE + "ont#")}
    assert used <= set(ontology.subjects(RDFS.label))


# --- malformed input -----------------------------------------------------------------------

def _bundle(tmp_path, *objects, raw=None):
    folder = tmp_path / "capec"
    folder.mkdir()
    text = raw if raw is not None else json.dumps({"type": "bundle", "id": "bundle--x", "objects": list(objects)})
    (folder / "stix-capec.json").write_text(text, encoding="utf-8")
    return folder


def _pattern(n, **extra):
    return {"type": "attack-pattern", "id": f"attack-pattern--{n}", "name": f"P{n}", "x_capec_version": "3.9",
            "external_references": [{"source_name": "capec", "external_id": f"CAPEC-{n}"}], **extra}


def test_minimal_bundle_and_official_file_name(tmp_path):
    [cg] = capec.build(_bundle(tmp_path, _pattern(1), _pattern(2, x_capec_child_of_refs=["attack-pattern--1"])))
    assert cg.source == "stix-capec.json"
    assert (catalog_iri("capec", "CAPEC-2"), TM.childOf, catalog_iri("capec", "CAPEC-1")) in cg.graph


@pytest.mark.parametrize("objects, raw, expected", [
    ((), '{"type": "bundle", "objects": [', "not valid JSON"),
    ((), '[]', "STIX bundle"),
    ((_pattern(1, external_references=[{"source_name": "cwe", "external_id": "CWE-1"}]),), None, "CAPEC id"),
    ((_pattern(1, x_capec_child_of_refs=["attack-pattern--9"]),), None, "x_capec_child_of_refs"),
    ((_pattern(1, x_capec_domains="Software"),), None, "x_capec_domains"),
    ((_pattern(1, external_references=[{"source_name": "capec", "external_id": "CAPEC-1"},
                                       {"source_name": "ATTACK", "external_id": "TA01"}]),), None, "ATT&CK"),
    ((_pattern(1), {"type": "relationship", "id": "relationship--1", "relationship_type": "mitigates",
                    "source_ref": "course-of-action--1", "target_ref": "attack-pattern--1"}), None, "mitigates"),
])
def test_malformed_bundle(tmp_path, objects, raw, expected):
    folder = _bundle(tmp_path, *objects, raw=raw)
    with pytest.raises(InputError) as err:
        capec.build(folder)
    assert str(folder / "stix-capec.json") in str(err.value) and expected in str(err.value)


def test_missing_bundle(tmp_path):
    with pytest.raises(InputError, match="no CAPEC STIX bundle"):
        capec.build(tmp_path)


# --- derived STRIDE ------------------------------------------------------------------------

def test_stride_from_own_consequence_scopes(stride_graphs):
    capec_cg, _ = stride_graphs
    g = capec_cg.graph
    table = scope_table()
    expected = {STRIDE[c] for s in g.objects(CAPEC_66, TM.consequenceScope) for c in table[str(s)]}
    assert expected == {STRIDE.Tampering, STRIDE.InformationDisclosure, STRIDE.DenialOfService,
                        STRIDE.ElevationOfPrivilege}
    assert expected <= set(g.objects(CAPEC_66, TM.hasStride))
    assert provenance(capec_cg, CAPEC_66, TM.hasStride, STRIDE.Tampering) == {(TM.Derived, OWN)}


def test_every_pattern_gets_stride_or_is_reported(stride_graphs):
    capec_cg, _ = stride_graphs
    g = capec_cg.graph
    report = stride_report(capec_cg)
    active = typed(capec_cg, TM.AttackPattern) - typed(capec_cg, TM.DeprecatedEntry)
    with_stride = {p for p in active if (p, TM.hasStride, None) in g}
    assert {str(g.value(p, DCTERMS.identifier)) for p in active - with_stride} == set(report.without)
    assert sum(report.by_method.values()) + len(report.without) == len(active) == 559
    assert set(report.by_method) == {OWN, ANCESTOR, WEAKNESS}
    assert report.by_method[OWN] == 364      # 369 have consequences; 5 list only the scope "Other"
    assert not any((p, TM.hasStride, None) in g for p in typed(capec_cg, TM.DeprecatedEntry))


def test_stride_methods_name_their_source(stride_graphs):
    capec_cg, cwe_cg = stride_graphs
    g = capec_cg.graph
    methods = {str(m) for ax in g.subjects(OWL.annotatedProperty, TM.hasStride) for m in g.objects(ax, TM.method)}
    ancestors = {m.split()[1] for m in methods if m.startswith(ANCESTOR)}
    weaknesses = {m.split()[1] for m in methods if m.startswith(WEAKNESS)}
    assert ancestors and all(g.value(catalog_iri("capec", a), TM.consequenceScope) for a in ancestors)
    assert weaknesses and all(cwe_cg.graph.value(catalog_iri("cwe", w), TM.consequenceScope) for w in weaknesses)
    assert all(m == OWN or m.endswith(" " + OWN) for m in methods)


def test_bad_scope_table(tmp_path):
    table = tmp_path / "table.yaml"
    table.write_text("scopes:\n  Integrity: [Tampering, Hacking]\n", encoding="utf-8")
    with pytest.raises(InputError, match="Integrity"):
        scope_table(table)


def test_stride_from_the_nearest_ancestors_only():
    """P -> A -> B (Integrity) and P -> C -> D -> E (Availability): only B, the nearer, counts;
    Q, with its own scope, and the deprecated R keep to the first rule."""
    cg = CatalogGraph("capec", "0", "test.json")
    pattern = {n: cg.entry("capec", f"CAPEC-{i}", TM.AttackPattern) for i, n in enumerate("PABCDEQR", 1)}
    for child, parent in ("PA", "AB", "PC", "CD", "DE", "RB"):
        cg.add(pattern[child], TM.childOf, pattern[parent])
    for name, scope in (("B", "Integrity"), ("E", "Availability"), ("Q", "Confidentiality")):
        cg.add(pattern[name], TM.consequenceScope, Literal(scope))
    cg.add(pattern["R"], RDF.type, TM.DeprecatedEntry)
    steps.run([cg])
    g = cg.graph
    assert set(g.objects(pattern["P"], TM.hasStride)) == {STRIDE.Tampering}
    assert provenance(cg, pattern["P"], TM.hasStride, STRIDE.Tampering) == {(TM.Derived, "ancestor CAPEC-3 consequence-scope")}
    assert set(g.objects(pattern["Q"], TM.hasStride)) == {STRIDE.InformationDisclosure}
    assert set(g.objects(pattern["A"], TM.hasStride)) == {STRIDE.Tampering}
    assert set(g.objects(pattern["C"], TM.hasStride)) == set(g.objects(pattern["D"], TM.hasStride)) == {STRIDE.DenialOfService}
    assert (pattern["R"], TM.hasStride, None) not in g
