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


def _flat(rows):
    """Printed rows and the rows folded under them."""
    return [x for r in rows for x in [r] + r.get("folded", [])]


def _threats(rows, component, source=None):
    return {r["threat"] for r in _flat(rows) if r["component"] == component and (source is None or r["source"] == source)}


def _row(rows, component, threat):
    return next(r for r in _flat(rows) if r["component"] == component and r["threat"] == threat)


def test_ai_model_inherits_evasion_adversarial_data_and_inference_api_exfiltration(rows):
    assert {"AML.T0015", "AML.T0043", "AML.T0024"} <= _threats(rows, "ai-model", "ATLAS")
    via = " ".join(_row(rows, "ai-model", "AML.T0015")["via"])
    assert "riskModelEvasion" in via and "model inference service" in via


def test_training_data_inherits_poisoning(rows):
    assert "AML.T0020" in _threats(rows, "training-data", "ATLAS")
    assert "riskDataPoisoning" in _threats(rows, "training-data", "COSAI")


def test_training_pipeline_inherits_model_manipulation_and_supply_chain(rows):
    assert {"AML.T0018", "AML.T0010"} <= _threats(rows, "training-pipeline", "ATLAS")


def test_api_gateway_inherits_flooding_and_http_intermediary_attacks_not_injection(rows):
    capec = _threats(rows, "api-gateway", "CAPEC")
    assert {"CAPEC-125", "CAPEC-130", "CAPEC-488", "CAPEC-469"} <= capec        # flooding / resource exhaustion
    assert {"CAPEC-33", "CAPEC-273", "CAPEC-105", "CAPEC-34"} <= capec          # smuggling and splitting
    assert {"CAPEC-126", "CAPEC-267", "CAPEC-72", "CAPEC-1", "CAPEC-115"} <= capec  # path rules, access control
    # a proxy builds no queries and parses no XML: the generic injection patterns are gone
    assert not {"CAPEC-66", "CAPEC-7", "CAPEC-136", "CAPEC-250", "CAPEC-182", "CAPEC-67", "CAPEC-493"} & capec
    flooding = _row(rows, "api-gateway", "CAPEC-125")
    assert "CWE-770" in " ".join(flooding["via"])
    assert {"CAPEC-488", "CAPEC-489"} <= {c["threat"] for c in flooding["folded"]}   # children folded under it


def test_data_layer_inherits_sql_injection_because_its_technology_is_a_sql_engine(rows):
    row = _row(rows, "data-layer", "CAPEC-66")
    assert "technology postgresql" in row["via"][0] and "runs a SQL engine" in row["via"][0]
    assert "CWE-89" in row["via"][0]
    relations = {(link["from"], link["relation"], link["to"]): link["provenance"] for link in row["links"]}
    assert relations[("CAPEC-66", "relatedWeakness", "CWE-89")] == "official"
    assert relations[("data-layer", "proneTo", "CWE-89")] == "curated"
    assert any(link["relation"] == "hasStride" and link["provenance"] == "derived" for link in row["links"])


def _data_layer_threats(tmp_path, catalog_home, technology):
    text = EXAMPLE.read_text().replace("technology: postgresql", f"technology: {technology}")
    assert f"technology: {technology}" in text
    model = tmp_path / f"{technology}.yaml"
    model.write_text(text)
    result = CliRunner().invoke(main, ["threats", str(model), "--component", "data-layer", "--format", "json"],
                                env={"THREATKG_HOME": str(catalog_home)})
    assert result.exit_code == 0, result.output
    return _threats(json.loads(result.stdout), "data-layer")


@pytest.mark.parametrize("technology", ["sql", "postgresql", "mysql", "[python, sqlite]"])
def test_every_sql_engine_brings_sql_injection(tmp_path, catalog_home, technology):
    assert "CAPEC-66" in _data_layer_threats(tmp_path, catalog_home, technology)


def test_sql_injection_needs_sql(tmp_path, catalog_home):
    assert "CAPEC-66" not in _data_layer_threats(tmp_path, catalog_home, "mongodb")


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
