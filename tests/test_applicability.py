"""Applicability on real catalogs: what each element of the examples is, does and receives decides
which catalog threats apply; every excluded candidate can be asked about (threatkg explain)."""

import json

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import EXAMPLE

RAG = EXAMPLE.parent / "rag-assistant.yaml"


def _run(home, *args):
    result = CliRunner().invoke(main, [str(a) for a in args], env={"THREATKG_HOME": str(home)})
    return result


def _json(home, *args):
    result = _run(home, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _flat(rows):
    return [x for r in rows for x in [r] + r.get("folded", [])]


@pytest.fixture(scope="module")
def rows(catalog_home):
    return _flat(_json(catalog_home, "threats", EXAMPLE))


@pytest.fixture(scope="module")
def rag(catalog_home):
    return _flat(_json(catalog_home, "threats", RAG))


def _threats(rows, element):
    return {r["threat"] for r in rows if r["component"] == element}


def _row(rows, element, threat):
    return next(r for r in rows if r["component"] == element and r["threat"] == threat)


def test_seed_must_have_ai_threats_are_present_and_explained(rows):
    assert {"AML.T0051", "AML.T0054", "riskPromptInjection", "AML.T0015", "AML.T0043", "AML.T0024",
            "AML.T0024.002"} <= _threats(rows, "ai-model")
    assert "AML.T0020" in _threats(rows, "training-data")
    assert {"AML.T0010", "AML.T0018"} <= _threats(rows, "training-pipeline")
    injection = _row(rows, "ai-model", "AML.T0051")
    assert any("feeds natural-language prompts to a language model" in v for v in injection["via"])
    assert any("takes prompts" in c["why"] for c in injection["conditions"])


def test_a_python_model_service_gets_no_ldap_flash_soap_or_c_format_string_patterns(rows):
    noise = {"CAPEC-136", "CAPEC-182", "CAPEC-110", "CAPEC-67", "CAPEC-135", "CAPEC-13", "CAPEC-250", "CAPEC-84"}
    for element in ("ai-model", "api-gateway", "auth-service"):
        assert not noise & _threats(rows, element), element


def test_sql_injection_follows_the_sql_the_model_builds(rows):
    """The model sends SQL to the data layer (a flow with protocol sql): it builds SQL queries."""
    row = _row(rows, "ai-model", "CAPEC-66")
    assert any("builds SQL queries from its input" in v for v in row["via"])
    assert "CAPEC-66" in _threats(rows, "data-layer")


def test_trust_has_a_direction(rows, catalog_home):
    """The model answers the auth service over a bidirectional flow: that answer comes from a more
    trusted zone, so it does not make the auth service an untrusted-input processor."""
    untrusted = _row(rows, "ai-model", "CAPEC-22")
    assert any("receives input across the dmz → internal-interface boundary" in v for v in untrusted["via"])
    assert not any("internal-interface → dmz" in v for v in untrusted["via"])
    auth = _row(rows, "auth-service", "CAPEC-22")
    assert not any("untrusted input" in v for v in auth["via"])   # it comes from its weakness CWE-287 only


def test_flows_get_data_in_transit_threats_fitted_to_protocol(rows):
    for flow in ("app-to-gateway", "gateway-auth", "model-to-data", "model-to-logs", "pipeline-to-model"):
        assert {"CAPEC-117", "CAPEC-94"} <= _threats(rows, flow), flow
        assert not {"CAPEC-624", "CAPEC-169", "CAPEC-130", "CAPEC-125"} & _threats(rows, flow), flow
    assert "CAPEC-594" in _threats(rows, "model-to-logs")        # syslog authenticates nothing
    assert "CAPEC-594" not in _threats(rows, "model-to-data")
    assert "CAPEC-102" in _threats(rows, "app-to-gateway")       # the browser's session travels here
    assert "CAPEC-102" not in _threats(rows, "model-to-data")
    assert not {r["source"] for r in rows if r["component"] == "pipeline-to-model"} & {"ATLAS"}
    assert _threats(rows, "user-to-app") == set()                 # a person typing into their own app


def test_cosai_expansion_keeps_only_techniques_that_fit(rows, catalog_home):
    """riskModelDeploymentTampering maps to prompt injection and public-facing exploits: neither fits the
    flow that ships model weights, and `explain` says so."""
    assert "riskModelDeploymentTampering" in _threats(rows, "pipeline-to-model")
    v = _json(catalog_home, "explain", EXAMPLE, "pipeline-to-model", "AML.T0051")
    assert v["status"] == "excluded"
    assert {"component", "takes-prompts"} <= {o for options in v["would_apply_if"] for o in options}


def test_an_excluded_candidate_says_why_and_what_would_make_it_apply(catalog_home):
    result = _run(catalog_home, "explain", EXAMPLE, "auth-service", "CAPEC-509")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "CAPEC-509 (Kerberoasting) does not apply to auth-service" in text
    assert "CWE-522" in text and "Windows domain" in text and "windows-domain" in text
    v = _json(catalog_home, "explain", EXAMPLE, "auth-service", "CAPEC-509")
    assert v["failed"][0]["provenance"] == "curated" and v["would_apply_if"] == [["windows-domain"]]


def test_stating_the_missing_fact_makes_it_apply(catalog_home, tmp_path):
    model = tmp_path / "windows.yaml"
    model.write_text(EXAMPLE.read_text().replace(
        "    kinds: [auth-service]\n", "    kinds: [auth-service]\n    does: [windows-domain]\n"))
    v = _json(catalog_home, "explain", model, "auth-service", "CAPEC-509")
    assert v["status"] == "applies"
    assert any("Windows domain" in c["why"] for c in v["row"]["conditions"])


def test_does_not_overrides_what_a_kind_implies(catalog_home, tmp_path):
    model = tmp_path / "no-sessions.yaml"
    model.write_text(EXAMPLE.read_text().replace(
        "    kinds: [auth-service]\n", "    kinds: [auth-service]\n    does_not: [issues-sessions]\n"))
    threats = _threats(_flat(_json(catalog_home, "threats", model, "--component", "auth-service")), "auth-service")
    assert not {"CAPEC-61", "CAPEC-60", "CAPEC-196"} & threats
    assert "CAPEC-49" in threats                                  # it still checks passwords
    v = _json(catalog_home, "explain", model, "auth-service", "CAPEC-61")
    assert v["status"] == "excluded" and ["issues-sessions", "renders-html"] in v["would_apply_if"]


def test_a_threat_nothing_brings_is_said_so(catalog_home):
    result = _run(catalog_home, "explain", EXAMPLE, "logs", "CAPEC-66")
    assert result.exit_code == 0 and "nothing it is or does brings it" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["ai-model", "CAPEC-x"], "'CAPEC-x' is not a threat id"),
    (["no-such", "CAPEC-66"], "no-such: no such component or flow"),
])
def test_explain_bad_input(catalog_home, args, message):
    result = _run(catalog_home, "explain", EXAMPLE, *args)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def test_parent_patterns_fold_their_children(catalog_home):
    printed = _json(catalog_home, "threats", EXAMPLE, "--component", "api-gateway")
    flooding = next(r for r in printed if r["threat"] == "CAPEC-125")
    assert {"CAPEC-488", "CAPEC-489", "CAPEC-482"} <= {c["threat"] for c in flooding["folded"]}
    assert not {"CAPEC-488", "CAPEC-489"} & {r["threat"] for r in printed}
    table = _run(catalog_home, "threats", EXAMPLE, "--component", "api-gateway").stdout
    assert "CAPEC-488" in next(line for line in table.splitlines() if " CAPEC-125 " in line)


def test_ranking_puts_matched_threats_above_generic_ones(rows):
    specific = _row(rows, "ai-model", "CAPEC-66")["risk"]
    assert "it matches what the element does" not in " ".join(specific["reasons"])   # factor 1: no reason
    generic = _row(rows, "logs", "CAPEC-215")["risk"]                                  # via a generic weakness
    assert any("generic weakness" in r for r in generic["reasons"])
    ratings = [r["risk"]["rating"] for r in rows]
    assert ratings.count("critical") + ratings.count("high") < 0.6 * len(ratings)


def test_rag_assistant_inherits_rag_agent_and_tool_threats(rag):
    assert {"AML.T0070", "riskRetrievalVectorStorePoisoning"} <= _threats(rag, "vector-store")
    orchestrator = _threats(rag, "orchestrator")
    assert {"AML.T0051", "AML.T0051.001", "AML.T0070", "riskRogueActions", "AML.T0053", "CAPEC-66"} <= orchestrator
    assert {"riskInsecureIntegratedComponent", "AML.T0011.002"} <= _threats(rag, "ticket-tool")
    assert not {"riskInsecureIntegratedComponent", "AML.T0011.002"} & _threats(rag, "conversations")
    assert "AML.T0011.000" not in _threats(rag, "llm-api")        # does_not: [loads-model-artifacts]
    assert {"CAPEC-221", "CAPEC-197", "CAPEC-126"} <= _threats(rag, "ingestion")
    assert {"CAPEC-650", "CAPEC-17"} <= _threats(rag, "chat-api")


def test_unknown_capability_and_technology_are_named(catalog_home, tmp_path):
    model = tmp_path / "typo.yaml"
    model.write_text(EXAMPLE.read_text()
                     .replace("does: [takes-prompts]", "does: [take-prompts]")
                     .replace("technology: postgresql", "technology: postgressql"))
    result = _run(catalog_home, "validate", model)
    assert result.exit_code == 2
    assert "ai-model: does: unknown capability 'take-prompts' (did you mean 'takes-prompts'?)" in result.stderr
    fixed = tmp_path / "tech.yaml"
    fixed.write_text(EXAMPLE.read_text().replace("technology: postgresql", "technology: postgressql"))
    result = _run(catalog_home, "validate", fixed)
    assert result.exit_code == 0
    assert "data-layer: attributes.technology: 'postgressql' implies nothing ThreatKG knows (did you mean 'postgresql'?)" in result.stderr
