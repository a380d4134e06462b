"""pytm JSON models (the input format and pytm's dump) imported, validated and assessed; hostile
and broken files refused with exit 2 and one line per problem."""

import copy
import json

import pytest
import yaml
from click.testing import CliRunner

from kg.cli import main

SOURCES = ["tests-input.json", "tests-output.json"]


def run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="threatkg", catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def imported(source, tmp_path):
    out = tmp_path / "model.yaml"
    run("import", source, "-o", out)
    return out, yaml.safe_load(out.read_text(encoding="utf-8"))


def write(tmp_path, doc, name="model.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


@pytest.fixture
def pytm_input(shared_models):
    return json.loads((shared_models / "pytm" / "tests-input.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", SOURCES)
def test_every_source_imports_validates_and_yields_threats(name, shared_models, tmp_path):
    source = shared_models / "pytm" / name
    data = json.loads(source.read_text(encoding="utf-8"))
    out, doc = imported(source, tmp_path)
    assert "valid" in run("validate", out).output
    rows = json.loads(run("threats", source, "--format", "json").stdout)
    assert rows and {r["component"] for r in rows} >= {c["id"] for c in doc["components"]}
    elements = {e["name"] for e in data.get("elements") or data["actors"] + data["assets"]}
    unbounded = any(not e.get("inBoundary") for e in data.get("elements") or data["actors"] + data["assets"])
    assert len(doc["components"]) == len(elements)
    assert len(doc["flows"]) == len(data["flows"])
    assert len(doc["zones"]) == len(data["boundaries"]) + unbounded     # + the zone of unbounded elements


def test_classes_boundaries_and_attributes_map(shared_models, tmp_path):
    _, doc = imported(shared_models / "pytm" / "tests-output.json", tmp_path)
    kinds = {c["label"]: c["kinds"] for c in doc["components"]}
    assert kinds["User"] == ["user"] and kinds["Web Server"] == ["web-application"]
    assert kinds["SQL Database"] == ["sql-database"]             # Datastore with isSQL
    zones = {z["label"]: z for z in doc["zones"]}
    assert zones["Internet"]["kind"] == "untrusted" and zones["Server/DB"]["kind"] == "restricted"
    by_label = {c["label"]: c for c in doc["components"]}
    assert by_label["SQL Database"]["zone"] == zones["Server/DB"]["id"]
    assert by_label["User"]["attributes"]["data_classification"] == "public"   # processes the auth cookie
    flow = next(f for f in doc["flows"] if f["label"] == "User enters comments (*)")
    assert flow["data"] == ["auth cookie"] and flow["description"] == "bbb"


def test_what_the_model_cannot_hold_is_warned(shared_models):
    result = run("import", shared_models / "pytm" / "tests-output.json")
    assert "warning: " in result.stderr and "Lambda func: pytm attribute onAWS=True is not kept" in result.stderr
    assert "Web Server, Lambda func, Task queue worker: in no pytm boundary" in result.stderr


def test_nested_boundaries_controls_and_classifications(pytm_input, tmp_path):
    doc = copy.deepcopy(pytm_input)
    doc["boundaries"].append({"name": "DMZ", "inBoundary": "Server/DB"})
    doc["elements"][1].update(inBoundary="DMZ", controls={"isEncrypted": True, "usesCodeSigning": True})
    doc["elements"][2].update(maxClassification="Classification.TOP_SECRET", storesPII=True)
    doc["flows"][0]["protocol"] = "HTTPS"
    result = run("import", write(tmp_path, doc))
    model = yaml.safe_load(result.stdout)
    zone = next(z for z in model["zones"] if z["label"] == "DMZ")
    assert zone == {"id": "DMZ", "label": "DMZ", "kind": "dmz", "parent": "Server-DB"}
    assert model["controls"] == [{"id": "Web-Server-isEncrypted", "label": "pytm control isEncrypted",
                                  "kind": "encryption", "protects": ["Web-Server"],
                                  "mitigates": ["InformationDisclosure", "Tampering"]}]
    assert "pytm control usesCodeSigning=True is not kept" in result.stderr
    db = next(c for c in model["components"] if c["id"] == "SQL-Database")
    assert db["attributes"] == {"data_classification": "restricted", "stores_personal_data": True}
    assert model["flows"][0]["protocol"] == "https"


def test_finding_responses_become_decisions(pytm_input, tmp_path):
    doc = copy.deepcopy(pytm_input)
    doc["findings"] = [
        {"target": "Web Server", "threat_id": "INP02", "id": "1", "response": "accepted",
         "description": "Overflow Buffers", "references": "https://capec.mitre.org/data/definitions/100.html"},
        {"target": "Web Server", "threat_id": "LLM01", "id": "2", "response": "mitigated",
         "references": "https://genai.owasp.org/llmrisk/llm01-prompt-injection/"},
        {"target": "Web Server", "threat_id": "DE01", "id": "3", "references": ""}]
    path = write(tmp_path, doc)
    result = run("import", path)
    decisions = yaml.safe_load(result.stdout)["decisions"]
    assert [(d["threat"], d["elements"], d["status"]) for d in decisions] == [("CAPEC-100", ["Web-Server"], "accepted")]
    assert "finding 2 on Web Server: LLM01: its references name no threat" in result.stderr
    assert "1 pytm findings without a response are not kept" in result.stderr
    run("validate", path)


def test_threat_library_and_tm_py_note_are_not_models(shared_models):
    result = run("import", shared_models / "pytm" / "threats.json", code=2)
    assert "not a model of another tool" in result.stderr


@pytest.mark.parametrize("change, message", [
    (lambda d: d["flows"].append({"name": "Ghost", "source": "User", "sink": "Nobody"}),
     "Ghost: sink: no element is named 'Nobody'"),
    (lambda d: d["elements"][0].update(inBoundary="Mars"), "User: inBoundary: no boundary is named 'Mars'"),
    (lambda d: d["flows"][0].update(data=["Nothing"]), "Request: data: no data object is named 'Nothing'"),
    (lambda d: d["elements"].append({"__class__": "Server", "name": "User"}), "two pytm elements are named 'User'"),
    (lambda d: d["flows"].__setitem__(0, "Request"), "dataflow[0]: a pytm dataflow is an object; found str"),
    (lambda d: d.update(boundaries={"name": 3}), "the boundary section is a list of objects; found dict"),
    (lambda d: d["elements"][0].update(controls=["isEncrypted"]), "not a pytm model: unexpected structure"),
    (lambda d: d.pop("name"), "a pytm model needs a name"),
])
def test_broken_models_exit_2_naming_the_problem(change, message, pytm_input, tmp_path):
    doc = copy.deepcopy(pytm_input)
    change(doc)
    path = write(tmp_path, doc)
    for command in (["import", path], ["validate", path]):
        result = run(*command, code=2)
        assert message in result.stderr and str(path) in result.stderr


def test_malformed_and_huge_json_exit_2(tmp_path):
    path = write(tmp_path, '{"name": "x",\n "elements": [{"__class__": "Actor",}]}')
    result = run("import", path, code=2)
    assert f"{path}:2: malformed JSON" in result.stderr
    huge = tmp_path / "huge.json"
    huge.write_text('{"name": "x", "elements": [' + ",".join(['{"__class__": "Actor", "name": "a"}'] * 700_000) + "]}")
    result = run("import", huge, code=2)
    assert "the limit for a model" in result.stderr
