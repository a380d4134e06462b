"""MITRE ATLAS 5.6.0 importer: fidelity counts, spot checks, malformed input."""

import pytest
import yaml
from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from kg.catalogs import atlas
from kg.errors import InputError
from kg.namespaces import D3F, TM, catalog_iri
from tests.catalogs import annotations


@pytest.fixture(scope="module")
def cg(shared_catalogs):
    (graph,) = atlas.build(shared_catalogs / "atlas")
    return graph


def aml(official_id):
    return catalog_iri("atlas", official_id)


def annotation(g, s, p, o):
    """The owl:Axiom that records a link's provenance."""
    (ax,) = annotations(g, s, p, o)
    return ax


def test_name_version_and_counts(cg):
    assert (cg.name, cg.version) == ("atlas", "5.6.0")
    count = {cls: len(set(cg.graph.subjects(RDF.type, cls)))
             for cls in (TM.AtlasTechnique, TM.AtlasTactic, TM.AtlasMitigation, TM.CaseStudy)}
    assert count == {TM.AtlasTechnique: 170, TM.AtlasTactic: 16, TM.AtlasMitigation: 35, TM.CaseStudy: 57}
    assert len(set(cg.graph.subject_objects(TM.subtechniqueOf))) == 69


def test_technique_entry(cg):
    g, t = cg.graph, aml("AML.T0020")
    assert (t, RDFS.label, Literal("Poison Training Data")) in g
    assert (t, DCTERMS.identifier, Literal("AML.T0020")) in g
    assert (t, RDFS.seeAlso, URIRef("https://atlas.mitre.org/techniques/AML.T0020")) in g
    assert g.value(t, TM.maturity) is not None


def test_subtechniques_inherit_parent_tactics(cg):
    g = cg.graph
    for sub, parent in g.subject_objects(TM.subtechniqueOf):
        parent_tactics = set(g.objects(parent, TM.tactic))
        assert parent_tactics and parent_tactics <= set(g.objects(sub, TM.tactic)), sub
    assert (aml("AML.T0000.000"), TM.tactic, aml("AML.TA0002")) in g


def test_mitigation_link_is_official_and_keeps_use_text(cg):
    g = cg.graph
    m, t = aml("AML.M0001"), aml("AML.T0020")
    assert (m, TM.mitigates, t) in g
    ax = annotation(g, m, TM.mitigates, t)
    assert g.value(ax, TM.provenance) == TM.Official
    assert g.value(ax, TM.sourceVersion) == Literal("5.6.0")
    assert "poisoning" in str(g.value(ax, DCTERMS.description))
    assert (m, TM.lifecycleStage, Literal("Deployment")) in g
    assert (m, TM.category, Literal("Policy")) in g


def test_misplaced_mitigation_items_are_links_not_stages(cg):
    g = cg.graph
    assert (aml("AML.M0018"), TM.mitigates, aml("AML.T0052.001")) in g
    assert all(isinstance(o, Literal) and not str(o).startswith("{")
               for o in g.objects(None, TM.lifecycleStage))


def test_attack_references(cg):
    g = cg.graph
    tactic = catalog_iri("attack", "TA0043")
    assert (aml("AML.TA0002"), TM.attackReference, tactic) in g
    assert (tactic, RDF.type, TM.AttackTactic) in g
    technique = catalog_iri("attack", "T1596")
    assert (aml("AML.T0000"), TM.attackReference, technique) in g
    assert (technique, RDF.type, TM.AttackTechnique) in g
    assert (technique, SKOS.exactMatch, D3F["T1596"]) in g
    assert (catalog_iri("attack", "M1017"), RDF.type, TM.AttackMitigation) in g


def test_descriptions_are_plain_and_links_become_mentions(cg):
    g = cg.graph
    text = str(g.value(aml("AML.TA0003"), DCTERMS.description))
    assert "AI Attack Staging" in text and "](/" not in text
    assert not [s for s, o in g.subject_objects(DCTERMS.description) if "](/" in o]
    ax = annotation(g, aml("AML.TA0003"), TM.mentions, aml("AML.TA0001"))
    assert g.value(ax, TM.provenance) == TM.Official


def test_case_study(cg):
    g, cs = cg.graph, aml("AML.CS0000")
    assert (cs, RDFS.seeAlso, URIRef("https://atlas.mitre.org/studies/AML.CS0000")) in g
    assert (cs, TM.usesTechnique, aml("AML.T0000.001")) in g
    assert (cs, TM.tactic, aml("AML.TA0002")) in g
    assert g.value(annotation(g, cs, TM.usesTechnique, aml("AML.T0042")), TM.provenance) == TM.Official
    assert g.value(cs, TM.caseStudyType) == Literal("exercise")


def test_tab_indentation_is_an_input_error(tmp_path, shared_catalogs):
    text = (shared_catalogs / "atlas" / "ATLAS.yaml").read_text(encoding="utf-8")
    broken = text.replace("\n    name: Reconnaissance", "\n\tname: Reconnaissance", 1)
    (tmp_path / "ATLAS.yaml").write_text(broken)
    with pytest.raises(InputError) as err:
        atlas.build(tmp_path)
    (problem,) = err.value.problems
    assert problem.file == "ATLAS.yaml" and problem.line == 10
    assert problem.element == "near AML.TA0002"


def test_wrong_type_for_techniques_is_an_input_error(tmp_path):
    doc = {"id": "ATLAS", "name": "ATLAS", "version": "5.6.0",
           "matrices": [{"id": "ATLAS", "name": "ATLAS Matrix", "tactics": [], "techniques": "AML.T0000"}]}
    (tmp_path / "ATLAS.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as err:
        atlas.build(tmp_path)
    (problem,) = err.value.problems
    assert problem.file == "ATLAS.yaml" and problem.element == "matrices[0].techniques"
    assert "expected a list, found a string" in problem.message
