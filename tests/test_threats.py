"""STRIDE-per-element on the seed system, and an explanation for every inferred threat."""

import json

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import EXAMPLE

PROCESSES = ["browser-app", "api-gateway", "auth-service", "ai-model", "training-pipeline"]
STORES = ["data-layer", "training-data"]
FLOWS = ["app-to-gateway", "gateway-auth", "auth-model", "model-to-data", "model-to-logs",
         "data-to-pipeline", "pipeline-to-model"]


@pytest.fixture(scope="module")
def rows():
    result = CliRunner().invoke(main, ["threats", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _stride_of(rows, element):
    return {letter for r in rows if r["component"] == element and r["source"] == "STRIDE" for letter in r["stride"]}


def test_stride_per_element(rows):
    assert _stride_of(rows, "user") == {"S", "R"}
    for process in PROCESSES:
        assert _stride_of(rows, process) == set("STRIDE"), process
    for store in STORES:
        assert _stride_of(rows, store) == set("TID"), store
    assert _stride_of(rows, "logs") == set("TRID")
    for flow in FLOWS:
        assert _stride_of(rows, flow) == set("TID"), flow
    # a person typing into the app they use is not a channel others reach (steps/network-flows.ru)
    assert _stride_of(rows, "user-to-app") == set()


def test_every_row_is_explained(rows):
    for r in rows:
        assert r["via"] and all(isinstance(v, str) and v for v in r["via"])
        assert all(step for steps in r["explanations"] for step in steps)
        assert "OWL 2 RL entailment" not in " ".join(r["via"]), r
        assert r["provenance"] in {"official", "derived", "curated"}


def _via(rows, element, threat):
    return next(r["via"] for r in rows if r["component"] == element and r["threat"] == threat)


def test_kind_explanation_walks_the_class_hierarchy(rows):
    via = _via(rows, "ai-model", "Spoofing")
    assert any("ai-model is a model inference service" in v and "kind of process" in v for v in via)


def test_boundary_crossing_flow_is_explained_by_its_zones(rows):
    via = _via(rows, "model-to-data", "Tampering")
    assert any("crosses the internal-interface → internal-protected boundary" in v for v in via)
    assert any("every network flow is exposed to Tampering" in v for v in via)
    bidirectional = _via(rows, "auth-model", "InformationDisclosure")
    assert any("dmz → internal-interface" in v or "internal-interface → dmz" in v for v in bidirectional)


def test_zone_nesting_and_exposure_are_explained(rows):
    via = _via(rows, "api-gateway", "DenialOfService")
    assert any(("api-gateway is in zone dmz" in v or "internet-facing true" in v) and "internet-exposed" in v
               for v in via)


def test_component_filter(rows):
    result = CliRunner().invoke(main, ["threats", str(EXAMPLE), "--component", "logs", "--format", "json"])
    assert {r["component"] for r in json.loads(result.stdout)} == {"logs"}


def _models():
    import yaml

    from bench.generate import generate
    from kg.model.load import load_model, parse_model
    yield parse_model(yaml.safe_dump(generate(100, seed=7, system="gen-100")), "gen-100.yaml")
    for path in sorted(EXAMPLE.parent.glob("*.yaml")):
        yield load_model(path)


def test_one_element_answers_as_the_whole_system(with_catalogs):
    """The rows of one element, asked of a fresh analysis (its own VALUES-bound queries, conditions
    and explanations read for it alone), are the whole system's rows of that element, byte for byte,
    on a generated 100-component system and every example; and asking again (everything read once
    per analysis) answers the same."""
    from kg.analysis import analyse
    from kg.threats import candidates, threat_rows
    for model in _models():
        whole = candidates(analyse(model))
        ids = sorted({r["component"] for r in whole})
        alone = analyse(model)
        for element in ids[:3] + ids[-2:]:
            expected = json.dumps([r for r in whole if r["component"] == element])
            assert json.dumps(candidates(alone, element)) == expected, (model.system, element)
            assert json.dumps(threat_rows(alone, element)) == json.dumps(
                [r for r in whole if r["component"] == element and not r.get("excluded_by")])
        assert json.dumps(candidates(alone)) == json.dumps(whole), model.system
