"""Catalog threats on the seed system: what each component inherits from CAPEC, ATLAS and
CoSAI, with explanations and the provenance of every link."""

import json

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import EXAMPLE


@pytest.fixture(scope="module")
def rows(catalog_home):
    result = CliRunner().invoke(main, ["threats", str(EXAMPLE), "--format", "json"],
                                env={"THREATKG_HOME": str(catalog_home)})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _threats(rows, component, source=None):
    return {r["threat"] for r in rows if r["component"] == component and (source is None or r["source"] == source)}


def _row(rows, component, threat):
    return next(r for r in rows if r["component"] == component and r["threat"] == threat)


def test_ai_model_inherits_evasion_adversarial_data_and_inference_api_exfiltration(rows):
    assert {"AML.T0015", "AML.T0043", "AML.T0024"} <= _threats(rows, "ai-model", "ATLAS")
    via = " ".join(_row(rows, "ai-model", "AML.T0015")["via"])
    assert "riskModelEvasion" in via and "model inference service" in via


def test_training_data_inherits_poisoning(rows):
    assert "AML.T0020" in _threats(rows, "training-data", "ATLAS")
    assert "riskDataPoisoning" in _threats(rows, "training-data", "COSAI")


def test_training_pipeline_inherits_model_manipulation_and_supply_chain(rows):
    assert {"AML.T0018", "AML.T0010"} <= _threats(rows, "training-pipeline", "ATLAS")


def test_api_gateway_inherits_flooding_and_injection(rows):
    capec = _threats(rows, "api-gateway", "CAPEC")
    assert {"CAPEC-125", "CAPEC-130", "CAPEC-147"} & capec       # flooding / resource exhaustion
    assert {"CAPEC-152", "CAPEC-248", "CAPEC-66", "CAPEC-7", "CAPEC-43"} & capec  # injection family
    via = " ".join(_row(rows, "api-gateway", "CAPEC-125")["via"])
    assert "CWE-770" in via and "CAPEC-125" in via


def test_data_layer_inherits_sql_injection_because_its_technology_is_sql(rows):
    row = _row(rows, "data-layer", "CAPEC-66")
    assert "technology sql" in row["via"][0] and "CWE-89" in row["via"][0]
    relations = {(link["from"], link["relation"], link["to"]): link["provenance"] for link in row["links"]}
    assert relations[("CAPEC-66", "relatedWeakness", "CWE-89")] == "official"
    assert relations[("data-layer", "proneTo", "CWE-89")] == "curated"
    assert any(link["relation"] == "hasStride" and link["provenance"] == "derived" for link in row["links"])


def test_sql_injection_needs_sql(tmp_path, catalog_home):
    text = EXAMPLE.read_text().replace("technology: sql", "technology: mongodb")
    model = tmp_path / "nosql.yaml"
    model.write_text(text)
    result = CliRunner().invoke(main, ["threats", str(model), "--component", "data-layer", "--format", "json"],
                                env={"THREATKG_HOME": str(catalog_home)})
    assert "CAPEC-66" not in {r["threat"] for r in json.loads(result.stdout)}


def test_every_row_and_link_has_provenance_and_an_explanation(rows):
    for r in rows:
        assert r["provenance"] in {"official", "derived", "curated"}
        assert r["via"] and r["links"]
        for link in r["links"]:
            assert link["provenance"] in {"official", "derived", "curated"} and link["source"]


def test_catalog_threats_respect_stride_per_element(rows):
    allowed = {"user": set("SR"), "data-layer": set("TID"), "logs": set("TRID"), "model-to-data": set("TID")}
    for r in rows:
        if r["component"] in allowed and r["source"] == "CAPEC":
            assert set(r["stride"]) <= allowed[r["component"]], r


def test_results_are_focused(rows):
    """Not every active pattern on every process: each component's CAPEC list is a focused subset."""
    for component in {r["component"] for r in rows}:
        assert len(_threats(rows, component, "CAPEC")) < 120, component


def test_without_catalogs_threats_still_work_and_say_how_to_fetch():
    result = CliRunner().invoke(main, ["threats", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0
    assert {r["source"] for r in json.loads(result.stdout)} == {"STRIDE"}
    assert "catalogs fetch" in result.stderr
