"""CWE 4.15 (XML) importer: fidelity to the official file, hostile and malformed XML."""

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from kg.catalogs import cwe
from kg.errors import InputError
from kg.namespaces import BASE, D3F, SEPSES, TM, catalog_iri, sparql_prefixes
from kg.ontology import ontology as full_ontology
from tests.catalogs import annotations

CWE_89 = catalog_iri("cwe", "CWE-89")
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
ROOT = '<Weakness_Catalog Name="CWE" Version="9.9" xmlns="http://cwe.mitre.org/cwe-7">{}</Weakness_Catalog>'


@pytest.fixture(scope="module")
def cwe_graph(shared_catalogs):
    [cg] = cwe.build(shared_catalogs / "cwe")
    return cg


def typed(cg, cls):
    return set(cg.graph.subjects(RDF.type, cls))


def provenance(cg, s, p, o):
    g = cg.graph
    return {(g.value(ax, TM.provenance), str(g.value(ax, DCTERMS.source)), str(g.value(ax, TM.sourceVersion)))
            for ax in annotations(g, s, p, o)}


# --- fidelity ------------------------------------------------------------------------------

def test_counts(cwe_graph):
    assert cwe_graph.name == "cwe" and cwe_graph.version == "4.15"
    assert len(typed(cwe_graph, TM.Weakness)) == 964
    assert len(typed(cwe_graph, TM.WeaknessCategory)) == 409
    assert len(typed(cwe_graph, TM.WeaknessView)) == 54
    assert len(typed(cwe_graph, TM.DeprecatedEntry)) == 25 + 35 + 4


def test_cwe_89_entry(cwe_graph):
    g = cwe_graph.graph
    assert g.value(CWE_89, DCTERMS.identifier) == Literal("CWE-89")
    assert str(g.value(CWE_89, RDFS.label)).endswith("('SQL Injection')")
    assert (CWE_89, RDFS.seeAlso, URIRef("https://cwe.mitre.org/data/definitions/89.html")) in g
    assert (CWE_89, SKOS.exactMatch, SEPSES["cwe/CWE-89"]) in g
    assert (CWE_89, SKOS.exactMatch, D3F["CWE-89"]) in g
    assert g.value(CWE_89, TM.status) == Literal("Stable")
    assert g.value(CWE_89, TM.abstraction) == Literal("Base")
    assert g.value(CWE_89, TM.likelihood) == Literal("High")
    assert g.value(CWE_89, TM.mappingUsage) == Literal("Allowed")
    assert {"Confidentiality", "Integrity", "Availability", "Authentication", "Access Control"} <= {
        str(s) for s in g.objects(CWE_89, TM.consequenceScope)}
    impacts = {str(i) for c in g.objects(CWE_89, TM.hasConsequence) for i in g.objects(c, TM.consequenceImpact)}
    assert {"Read Application Data", "Execute Unauthorized Code or Commands"} <= impacts


def test_related_attack_pattern_is_official(cwe_graph):
    capec_66 = catalog_iri("capec", "CAPEC-66")
    assert (CWE_89, TM.relatedAttackPattern, capec_66) in cwe_graph.graph
    assert provenance(cwe_graph, CWE_89, TM.relatedAttackPattern, capec_66) == {
        (TM.Official, "cwec_v4.15.xml", "4.15")}
    assert len(set(cwe_graph.graph.subject_objects(TM.relatedAttackPattern))) == 1212


def test_related_weaknesses_keep_view(cwe_graph):
    g = cwe_graph.graph
    assert set(g.objects(CWE_89, TM.childOf)) == {catalog_iri("cwe", "CWE-943"), catalog_iri("cwe", "CWE-74")}
    assert set(g.objects(CWE_89, TM.childOfInResearchView)) == {catalog_iri("cwe", "CWE-943")}
    views = {(g.value(n, TM.relationshipNature), g.value(n, TM.relatedTo), g.value(n, TM.inView))
             for n in g.objects(CWE_89, TM.hasWeaknessRelationship)}
    assert (Literal("ChildOf"), catalog_iri("cwe", "CWE-74"), catalog_iri("cwe", "CWE-1003")) in views
    counts = {p: len(set(g.subject_objects(p))) for p in (
        TM.childOf, TM.canPrecede, TM.peerOf, TM.canAlsoBe, TM.requires, TM.startsWith, TM.parentOf)}
    assert counts[TM.canPrecede] == 141 and counts[TM.startsWith] == 3 and counts[TM.parentOf] == 0
    assert len(set(g.subjects(RDF.type, TM.WeaknessRelationship))) == 1584


def test_cwe_89_in_owasp_a03_2021_via_view_1344(cwe_graph):
    query = sparql_prefixes() + f"""
        SELECT ?category WHERE {{
            <{catalog_iri("cwe", "CWE-1344")}> tm:hasMember ?category .
            ?category tm:correspondsTo <{catalog_iri("owasp", "A03:2021")}> ;
                      tm:hasMember <{CWE_89}> .
        }}"""
    rows = list(cwe_graph.graph.query(query))
    assert [r.category for r in rows] == [catalog_iri("cwe", "CWE-1347")]
    assert provenance(cwe_graph, catalog_iri("cwe", "CWE-1347"), TM.correspondsTo,
                      catalog_iri("owasp", "A03:2021")) == {(TM.Official, "cwec_v4.15.xml", "4.15")}
    risks = {str(o).rsplit("/", 1)[1] for o in cwe_graph.graph.objects(None, TM.correspondsTo)}
    assert risks == {f"A{n:02d}:2021" for n in range(1, 11)}


def test_mapping_usage(cwe_graph):
    g = cwe_graph.graph
    assert g.value(catalog_iri("cwe", "CWE-1347"), TM.mappingUsage) == Literal("Prohibited")
    assert {str(u) for u in g.objects(None, TM.mappingUsage)} == {
        "Prohibited", "Discouraged", "Allowed", "Allowed-with-Review"}


def test_view_membership(cwe_graph):
    g = cwe_graph.graph
    assert g.value(catalog_iri("cwe", "CWE-1344"), TM.viewType) == Literal("Graph")
    members = set(g.objects(catalog_iri("cwe", "CWE-1344"), TM.hasMember))
    assert len(members) == 10 and members <= typed(cwe_graph, TM.WeaknessCategory)


def test_vocabulary_declared(cwe_graph):
    ontology = full_ontology()
    g = cwe_graph.graph
    used = {p for p in g.predicates() if str(p).startswith(BASE + "ont#")}
    used |= {o for o in g.objects(None, RDF.type) if str(o).startswith(BASE + "ont#")}
    assert used <= set(ontology.subjects(RDFS.label))


# --- hostile and malformed input -----------------------------------------------------------

def _xml(tmp_path, text):
    folder = tmp_path / "cwe"
    folder.mkdir()
    (folder / "cwec_v9.9.xml").write_text(text, encoding="utf-8")
    return folder


def test_minimal_catalog(tmp_path):
    folder = _xml(tmp_path, HEADER + ROOT.format(
        '<Weaknesses><Weakness ID="1" Name="W" Abstraction="Base" Status="Draft"><Related_Weaknesses>'
        '<Related_Weakness Nature="ChildOf" CWE_ID="2" View_ID="1000"/></Related_Weaknesses></Weakness></Weaknesses>'))
    [cg] = cwe.build(folder)
    assert cg.version == "9.9"
    assert (catalog_iri("cwe", "CWE-1"), TM.childOfInResearchView, catalog_iri("cwe", "CWE-2")) in cg.graph


def test_entity_bomb_is_refused(tmp_path):
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi"))
    folder = _xml(tmp_path, HEADER + f"<!DOCTYPE Weakness_Catalog [{entities}]>\n" + ROOT.format("&i;"))
    with pytest.raises(InputError, match="refused unsafe XML"):
        cwe.build(folder)


def test_external_entity_is_refused(tmp_path):
    folder = _xml(tmp_path, HEADER + '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n' + ROOT.format("&e;"))
    with pytest.raises(InputError, match="refused unsafe XML"):
        cwe.build(folder)


@pytest.mark.parametrize("text, expected", [
    (HEADER + "<Weakness_Catalog><Weaknesses>", "not well-formed XML"),
    (HEADER + "<Attack_Pattern_Catalog/>", "expected Weakness_Catalog"),
    (HEADER + '<Weakness_Catalog xmlns="http://cwe.mitre.org/cwe-7"/>', "Version"),
    (HEADER + ROOT.format('<Weaknesses><Weakness ID="CWE-1" Name="W"/></Weaknesses>'), "ID='CWE-1'"),
    (HEADER + ROOT.format('<Weaknesses><Weakness ID="1" Name="W"><Related_Weaknesses>'
                          '<Related_Weakness Nature="SiblingOf" CWE_ID="2" View_ID="1000"/>'
                          '</Related_Weaknesses></Weakness></Weaknesses>'), "SiblingOf"),
])
def test_malformed_xml(tmp_path, text, expected):
    folder = _xml(tmp_path, text)
    with pytest.raises(InputError) as err:
        cwe.build(folder)
    assert str(folder / "cwec_v9.9.xml") in str(err.value) and expected in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cwec_v"):
        cwe.build(tmp_path)
