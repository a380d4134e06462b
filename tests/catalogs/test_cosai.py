"""CoSAI Risk Map importer: fidelity counts, mappings with provenance, malformed input."""

import shutil

import pytest
from rdflib import RDF, RDFS, Literal
from rdflib.namespace import DCTERMS

from kg.catalogs import cosai, steps
from kg.errors import InputError
from kg.namespaces import STRIDE, TM, catalog_iri
from tests.catalogs import annotations

FILES = ("components", "risks", "controls", "frameworks", "personas")


@pytest.fixture(scope="module")
def cg(shared_catalogs):
    """The graph with the links the derivation steps add."""
    (graph,) = cosai.build(shared_catalogs / "cosai-risk-map")
    steps.run([graph])
    return graph


def c(official_id):
    return catalog_iri("cosai", official_id)


def annotation(g, s, p, o):
    """The owl:Axiom that records a link's provenance."""
    (ax,) = annotations(g, s, p, o)
    return ax


def test_name_version_and_counts(cg):
    assert (cg.name, cg.version) == ("cosai", "2026-06-10")
    count = {cls: len(set(cg.graph.subjects(RDF.type, cls)))
             for cls in (TM.CosaiComponent, TM.CosaiRisk, TM.CosaiControl, TM.CosaiPersona)}
    assert count == {TM.CosaiComponent: 23, TM.CosaiRisk: 36, TM.CosaiControl: 35, TM.CosaiPersona: 10}


def test_data_poisoning_mappings(cg):
    g, risk = cg.graph, c("riskDataPoisoning")
    assert (risk, RDFS.label, Literal("Data Poisoning")) in g
    assert (risk, TM.category, Literal("risksSupplyChainAndDevelopment")) in g
    assert (risk, TM.hasStride, STRIDE.Tampering) in g
    assert g.value(annotation(g, risk, TM.hasStride, STRIDE.Tampering), TM.provenance) == TM.Official
    technique = catalog_iri("atlas", "AML.T0020")
    ax = annotation(g, risk, TM.relatedTechnique, technique)
    assert g.value(ax, TM.provenance) == TM.Official
    assert g.value(ax, TM.sourceVersion) == Literal("5.0.1")
    assert (risk, TM.relatedRisk, catalog_iri("owasp", "LLM04:2025")) in g
    assert (risk, TM.lifecycleStage, Literal("data-preparation")) in g


def test_controls(cg):
    g, control = cg.graph, c("controlTrainingDataSanitization")
    assert g.value(annotation(g, control, TM.mitigates, c("riskDataPoisoning")), TM.provenance) == TM.Official
    assert (control, TM.appliesTo, c("componentDataFilteringAndProcessing")) in g
    assert (control, TM.relatedMitigation, catalog_iri("atlas", "AML.M0007")) in g
    assert (c("controlModelAndDataIntegrityManagement"), TM.nistAiRmf, Literal("MEASURE-2.3")) in g
    universal = c("controlRedTeaming")
    assert len(set(g.objects(universal, TM.mitigates))) == 36
    assert (universal, TM.universalControl, Literal(True)) in g


def test_components_and_derived_risk_component_links(cg):
    g = cg.graph
    assert (c("componentDataSources"), TM.flowsTo, c("componentDataFilteringAndProcessing")) in g
    assert (c("componentDataSources"), TM.subcategory, Literal("componentsData")) in g
    risk, component = c("riskDataPoisoning"), c("componentDataFilteringAndProcessing")
    ax = annotation(g, risk, TM.affectsComponent, component)
    assert g.value(ax, TM.provenance) == TM.Derived
    assert "controlTrainingDataSanitization" in str(g.value(ax, TM.method))
    assert {r for r, _ in g.subject_objects(TM.affectsComponent)} == set(g.subjects(RDF.type, TM.CosaiRisk))


def test_text_is_flattened(cg):
    g = cg.graph
    assert not [o for o in g.objects() if isinstance(o, Literal) and "{{" in o]
    text = str(g.value(c("riskDataPoisoning"), DCTERMS.description))
    assert "(Poisoning Web-Scale Training Datasets is Practical)" in text


@pytest.fixture
def copy(tmp_path, shared_catalogs):
    for name in FILES:
        shutil.copy(shared_catalogs / "cosai-risk-map" / f"{name}.yaml", tmp_path)
    return tmp_path


def test_tab_indentation_is_an_input_error(copy):
    path = copy / "risks.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("\n    title: Data Poisoning",
                                                             "\n\ttitle: Data Poisoning", 1))
    with pytest.raises(InputError) as err:
        cosai.build(copy)
    (problem,) = err.value.problems
    assert problem.file == "risks.yaml" and problem.line
    assert problem.element == "near riskDataPoisoning"


def test_wrong_type_for_risks_of_a_control_is_an_input_error(copy):
    path = copy / "controls.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: controlTrainingDataSanitization")
    at = text.index("    risks:\n", start)
    path.write_text(text[:at] + "    risks: {riskDataPoisoning: true}\n    riskList:\n"
                    + text[at + len("    risks:\n"):])
    with pytest.raises(InputError) as err:
        cosai.build(copy)
    (problem,) = err.value.problems
    assert problem.file == "controls.yaml"
    assert problem.element == "controlTrainingDataSanitization.risks"


def test_controls_for_all_components_derive_no_risk_component_links(copy):
    path = copy / "controls.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: controlTrainingDataSanitization")
    listed = "    components:\n      - componentDataFilteringAndProcessing\n"
    assert text.index(listed, start) < text.index("  - id:", start + 1)
    path.write_text(text[:start] + text[start:].replace(listed, "    components: all\n", 1))
    (graph,) = cosai.build(copy)
    steps.run([graph])
    g = graph.graph
    control = c("controlTrainingDataSanitization")
    assert len(set(g.objects(control, TM.appliesTo))) == 23
    assert not [m for m in g.objects(None, TM.method) if "controlTrainingDataSanitization" in m]
