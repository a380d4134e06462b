"""Requirements ↔ threats: map chains, profiles, coverage, residual risk (issue: requirements)."""

import json

import pytest
import yaml
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import EXAMPLE


def _run(home, *args):
    result = CliRunner().invoke(main, list(args), env={"THREATKG_HOME": str(home)})
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(home, *args):
    return json.loads(_run(home, *args, "--format", "json"))


def test_map_threat_lists_official_and_derived_requirements(catalog_home):
    rows = _json(catalog_home, "map", "CAPEC-66")
    by_requirement = {(r["requirement"], r["via"]): r for r in rows}
    official = by_requirement[("v4.0.3-5.3.4", "v4.0.3-5.3.4 → CWE-89 → CAPEC-66")]
    assert official["provenance"] == "official"
    derived = by_requirement[("v5.0.0-1.2.4", "v5.0.0-1.2.4 → CWE-89 → CAPEC-66")]
    assert derived["provenance"] == "derived"
    assert any(link["method"] for link in derived["links"] if link["provenance"] == "derived")


def test_map_requirement_lists_the_pattern_and_its_children(catalog_home):
    threats = {r["threat"] for r in _json(catalog_home, "map", "v4.0.3-5.3.4")}
    assert {"CAPEC-66", "CAPEC-108", "CAPEC-109", "CAPEC-110", "CAPEC-470", "CAPEC-7"} <= threats


@pytest.mark.parametrize("requirement,expected", [
    ("A03:2021", "CAPEC-66"), ("LLM01:2025", "riskPromptInjection"), ("AML.M0015", "AML.T0015"),
    ("controlTrainingDataSanitization", "riskDataPoisoning"), ("Authentication", "Spoofing")])
def test_map_every_kind_of_requirement(catalog_home, requirement, expected):
    assert expected in {r["threat"] for r in _json(catalog_home, "map", requirement)}


@pytest.mark.parametrize("threat,expected", [("AML.T0051.000", "LLM01:2025"), ("riskDataPoisoning",
                                                                        "controlTrainingDataSanitization"),
                                              ("Spoofing", "Authentication")])
def test_map_every_kind_of_threat(catalog_home, threat, expected):
    assert expected in {r["requirement"] for r in _json(catalog_home, "map", threat)}


def test_map_unknown_ids(catalog_home):
    result = CliRunner().invoke(main, ["map", "CAPEC-999999"], env={"THREATKG_HOME": str(catalog_home)})
    assert result.exit_code == 2 and "no catalog entry 'CAPEC-999999'" in result.stderr
    result = CliRunner().invoke(main, ["map", "nonsense"], env={"THREATKG_HOME": str(catalog_home)})
    assert result.exit_code == 2 and "not a requirement or threat id" in result.stderr


def test_coverage_json_per_component(catalog_home):
    result = _json(catalog_home, "coverage", str(EXAMPLE), "--profile", "asvs-4.0.3-L1")
    components = {c["component"]: c for c in result["components"]}
    assert {"ai-model", "api-gateway", "data-layer", "training-pipeline"} <= set(components)
    for c in components.values():
        assert set(c["mitigated"]) | set(c["required"]) | set(c["uncovered"]) == set(c["threats"])
        assert sum(map(len, (c["mitigated"], c["required"], c["uncovered"]))) == len(c["threats"])
        assert set(c["addressed"]) == set(c["mitigated"] + c["required"]) and set(c["open"]) == set(c["required"] + c["uncovered"])
        assert c["ratio"] == pytest.approx(len(c["addressed"]) / len(c["threats"]), abs=1e-3)
        assert c["implemented_ratio"] == pytest.approx(len(c["mitigated"]) / len(c["threats"]), abs=1e-3)
        for threat in c["addressed"]:
            assert c["addressed_by"][threat]
    assert set(result["properties"]) == {"Authentication", "Integrity", "NonRepudiation", "Confidentiality",
                                         "Availability", "Authorization"}


def _with_requirement(tmp_path, requirement, components):
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["requirements"].append({"id": requirement, "components": components})
    path = tmp_path / "more.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _ratios(home, model, profile):
    return {c["component"]: c["ratio"] for c in _json(home, "coverage", str(model), "--profile", profile)["components"]}


def test_implementing_one_more_requirement_strictly_increases_coverage(catalog_home, tmp_path):
    before = _ratios(catalog_home, EXAMPLE, "asvs-4.0.3-L1")
    # AML.M0004 (restrict the number of AI model queries) addresses exfiltration via the inference API
    after = _ratios(catalog_home, _with_requirement(tmp_path, "AML.M0004", ["ai-model"]), "asvs-4.0.3-L1")
    assert after["ai-model"] > before["ai-model"]
    assert all(after[c] == before[c] for c in before if c != "ai-model")


def _risk(home, model, component, threat):
    rows = _json(home, "threats", str(model), "--component", component)
    return next(r["risk"] for r in rows if r["threat"] == threat)


def test_parameterized_queries_lower_sql_injection_risk(catalog_home, tmp_path):
    before = _risk(catalog_home, EXAMPLE, "ai-model", "CAPEC-66")       # the model builds SQL for the data layer
    model = _with_requirement(tmp_path, "v4.0.3-5.3.4", ["ai-model"])    # parameterized queries (CWE-89)
    after = _risk(catalog_home, model, "ai-model", "CAPEC-66")
    assert after["score"] < before["score"]
    assert any("v4.0.3-5.3.4" in reason for reason in after["reasons"])


def test_sort_by_risk(catalog_home):
    rows = _json(catalog_home, "threats", str(EXAMPLE), "--sort", "risk")
    scores = [r["risk"]["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert rows[0]["risk"]["rating"] in {"critical", "high"} and rows[0]["risk"]["reasons"]


def test_capec_high_lists_open_high_patterns(catalog_home):
    result = _json(catalog_home, "coverage", str(EXAMPLE), "--profile", "capec-high")
    assert result["open_ranked"] and result["totals"]["threats"] > result["totals"]["addressed"]


@pytest.mark.parametrize("profile", ["asvs-4.0.3-L2", "asvs-5.0.0-L1", "stride-properties", "owasp-top10-2021",
                                     "owasp-llm-top10-2025", "examples/profiles/pci-dss-6.yaml",
                                     "examples/profiles/nist-ai-rmf.yaml"])
def test_every_profile_runs(catalog_home, profile):
    result = _json(catalog_home, "coverage", str(EXAMPLE), "--profile", profile)
    assert result["components"] and 0.0 <= result["totals"]["ratio"] <= 1.0


@pytest.mark.parametrize("fmt", ["table", "csv", "md"])
def test_coverage_formats(catalog_home, fmt):
    assert "ai-model" in _run(catalog_home, "coverage", str(EXAMPLE), "--profile", "stride-properties", "--format",
                              fmt)


def test_bad_profiles(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nkind: wishes\nids: []\n")
    result = CliRunner().invoke(main, ["coverage", str(EXAMPLE), "--profile", str(bad)])
    assert result.exit_code == 2 and "kind: one of" in result.stderr
    result = CliRunner().invoke(main, ["coverage", str(EXAMPLE), "--profile", "no-such-profile"])
    assert result.exit_code == 2 and "no such profile" in result.stderr
