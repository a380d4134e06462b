"""`threatkg export --format navigator|csv`: the Navigator layer holds the model's ATLAS techniques
(else the ATT&CK techniques CAPEC links its patterns to) scored with their highest residual risk;
the CSV holds the rows of `threatkg threats --format json`, one per (element, threat)."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import EXAMPLE

DECISION = """
decisions:
  - id: tampering-accepted
    threat: Tampering
    elements: [data-layer]
    status: accepted
    justification: Only prepared statements, "reviewed", reach it.
    owner: data-team
    date: 2026-03-01
"""


def run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="threatkg", catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def flat(rows):
    for row in rows:
        yield row
        yield from flat(row.get("folded", []))


@pytest.fixture
def model(tmp_path, with_catalogs):
    path = tmp_path / "model.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8") + DECISION, encoding="utf-8")
    return path


def test_navigator_layer_holds_the_atlas_techniques_with_their_highest_risk(model):
    rows = list(flat(json.loads(run("threats", model, "--format", "json").stdout)))
    layer = json.loads(run("export", model, "--format", "navigator").stdout)
    assert layer["domain"] == "atlas-atlas" and layer["versions"]["layer"] == "4.5"
    expected = {}
    for row in rows:
        if row["source"] == "ATLAS":
            expected[row["threat"]] = max(expected.get(row["threat"], 0), row["risk"]["score"])
    assert {t["techniqueID"]: t["score"] for t in layer["techniques"]} == expected
    assert all(t["techniqueID"].startswith("AML.T") and t["enabled"] for t in layer["techniques"])
    prompt = next(t for t in layer["techniques"] if t["techniqueID"] == "AML.T0051")
    assert "ai-model: " in prompt["comment"] and prompt["metadata"][0]["name"] == "ai-model"
    assert [item["label"].split()[0] for item in layer["legendItems"]] == ["critical", "high", "medium", "low"]


def test_a_model_without_atlas_threats_gives_the_attack_techniques_of_its_capec_rows(shared_models, with_catalogs):
    source = shared_models / "pytm" / "tests-output.json"
    rows = list(flat(json.loads(run("threats", source, "--format", "json").stdout)))
    links = json.loads(run("query", source, "SELECT ?capec ?technique WHERE { ?p tm:attackTechnique ?t ; "
                           "dcterms:identifier ?capec . ?t dcterms:identifier ?technique }", "--format", "json").stdout)
    attack = {}
    for link in links["results"]["bindings"]:
        attack.setdefault(link["capec"]["value"], []).append(link["technique"]["value"])
    expected = {}
    for row in rows:
        for technique in attack.get(row["threat"], []) if row["source"] == "CAPEC" else []:
            expected[technique] = max(expected.get(technique, 0), row["risk"]["score"])
    layer = json.loads(run("export", source, "--format", "navigator").stdout)
    assert layer["domain"] == "enterprise-attack" and expected
    assert {t["techniqueID"]: t["score"] for t in layer["techniques"]} == expected
    assert all(" via CAPEC-" in t["comment"] for t in layer["techniques"])


def test_csv_rows_are_the_threat_rows_with_risk_state_and_decision(model):
    rows = list(flat(json.loads(run("threats", model, "--format", "json").stdout)))
    table = list(csv.DictReader(io.StringIO(run("export", model, "--format", "csv").stdout)))
    assert [(r["component"], r["threat"]) for r in table] == [(r["component"], r["threat"]) for r in rows]
    for got, row in zip(table, rows):
        assert (float(got["risk"]), got["rating"], got["state"], got["stride"], got["source"]) == (
            row["risk"]["score"], row["risk"]["rating"], row["state"], "".join(row["stride"]), row["source"])
    decided = next(r for r in table if (r["component"], r["threat"]) == ("data-layer", "Tampering"))
    assert decided["state"] == "accepted" and decided["decision"] == "tampering-accepted"
    assert decided["justification"] == 'Only prepared statements, "reviewed", reach it.'   # quoted, read back whole
    folded = next(r for r in table if r["folded_into"])
    assert any(r["threat"] == folded["folded_into"] and r["component"] == folded["component"] for r in table)


def test_imported_models_export_too(shared_models, with_catalogs):
    source = shared_models / "drawio" / "drawio-basic-example.drawio"
    table = list(csv.DictReader(io.StringIO(run("export", source, "--format", "csv").stdout)))
    assert len(table) == len(list(flat(json.loads(run("threats", source, "--format", "json").stdout))))
    assert json.loads(run("export", source, "--format", "navigator").stdout)["domain"] == "enterprise-attack"
