"""OTM import (kg.importers.otm) and export (kg.exporters.otm), on the shared OTM files read in place."""

import json

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from kg.cli import main

FILES = ["EXAMPLE.json", "EXAMPLE.yaml", "startleft-manual_threat_model.yaml", "threat-dragon-mobile-cloud.otm.json"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def source(path):
    return json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())


def imported(path, tmp_path):
    out = tmp_path / "model.yaml"
    result = run("import", path, "-o", out)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(out.read_text()), out, result.output


@pytest.mark.parametrize("name", FILES)
def test_imports_validates_and_yields_threats(shared_models, tmp_path, name):
    path = shared_models / "otm" / name
    doc, out, _ = imported(path, tmp_path)
    src = source(path)
    assert len(doc["components"]) == len(src["components"])
    assert len(doc["zones"]) == len(src["trustZones"])
    assert len(doc["flows"]) == len(src["dataflows"])
    assert run("validate", out).exit_code == 0
    threats = run("threats", path, "--format", "json")
    assert threats.exit_code == 0 and json.loads(threats.stdout)


def test_kinds_zones_and_decisions(shared_models, tmp_path):
    doc, _, output = imported(shared_models / "otm" / "EXAMPLE.json", tmp_path)
    by_id = {c["id"]: c for c in doc["components"]}
    assert by_id["web-client"]["kinds"] == ["client-application"]
    assert by_id["customer-database"]["attributes"]["technology"] == "postgresql"
    assert by_id["web-service"]["attributes"]["data_classification"] == "restricted"
    assert by_id["class-customerdatabase"]["kinds"] == ["process"]
    assert {z["label"]: z["kind"] for z in doc["zones"]} == {"Internet": "untrusted", "Private": "restricted"}
    decisions = {d["threat"]: d for d in doc["decisions"]}
    assert set(decisions) == {"Spoofing", "Tampering"}
    assert decisions["Spoofing"]["status"] == "mitigated" and decisions["Spoofing"]["elements"] == ["web-service"]
    assert "This is the name of mitigation 1" in decisions["Spoofing"]["justification"]
    assert "dataflow cc-store-in-db: 1 threats that record no decision are not held" in output


def test_round_trip(shared_models, tmp_path):
    first, out, _ = imported(shared_models / "otm" / "EXAMPLE.json", tmp_path)
    exported = run("export", out, "--format", "otm")
    assert exported.exit_code == 0, exported.output
    jsonschema.validate(json.loads(exported.stdout), json.loads((shared_models / "otm" / "otm_schema.json").read_text()))
    again = tmp_path / "again.otm.json"
    again.write_text(exported.stdout)
    (tmp_path / "again").mkdir()
    second, _, _ = imported(again, tmp_path / "again")
    for section, keys in (("components", ("id", "kinds", "zone")), ("zones", ("id", "kind", "parent")),
                          ("flows", ("id", "source", "target"))):
        assert sorted(str([e.get(k) for k in keys]) for e in first[section]) == \
            sorted(str([e.get(k) for k in keys]) for e in second[section])
    decided = {(d["threat"], d["status"], tuple(d["elements"])) for d in first["decisions"]}
    assert {(d["threat"], d["status"], tuple(d["elements"])) for d in second["decisions"]} == decided


@pytest.mark.parametrize("folder, name", [*(("otm", f) for f in FILES),
                                          *(("threat-dragon", f) for f in ("v2-threat-model.json", "iot-device.json"))])
def test_every_model_exports_as_valid_otm(shared_models, tmp_path, folder, name):
    path = shared_models / folder / name
    first = yaml.safe_load(run("import", path).stdout)
    exported = run("export", path, "--format", "otm")
    assert exported.exit_code == 0, exported.output
    doc = json.loads(exported.stdout)
    jsonschema.validate(doc, json.loads((shared_models / "otm" / "otm_schema.json").read_text()))
    assert doc["threats"] and all(t["categories"] for t in doc["threats"])
    again = tmp_path / "again.otm.json"
    again.write_text(exported.stdout)
    second, _, _ = imported(again, tmp_path)
    assert [len(second[s]) for s in ("components", "zones", "flows")] == [len(first[s]) for s in ("components", "zones", "flows")]


def test_decisions_of_a_threatkg_model_survive(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("""system: {id: s, name: S}
zones: [{id: net, kind: untrusted}, {id: dmz, kind: dmz}]
components:
  - {id: user, kinds: [user], zone: net}
  - {id: web, kinds: [web-application], zone: dmz}
flows: [{id: f, source: user, target: web, protocol: https}]
decisions:
  - {id: web-dos, threat: DenialOfService, elements: [web], status: accepted, justification: A CDN absorbs floods., date: 2026-03-01}
  - {id: web-spoof, threat: Spoofing, elements: [web], status: mitigated, justification: Mutual TLS., date: 2026-03-01}
""")
    exported = run("export", model, "--format", "otm")
    (tmp_path / "m.otm.json").write_text(exported.stdout)
    (tmp_path / "again").mkdir()
    doc, _, _ = imported(tmp_path / "m.otm.json", tmp_path / "again")
    assert sorted((d["threat"], d["status"], d["elements"][0], d["justification"]) for d in doc["decisions"]) == [
        ("DenialOfService", "accepted", "web", "Denial of service: A CDN absorbs floods."),
        ("Spoofing", "mitigated", "web", "Spoofing: Mutual TLS.")]


def write(tmp_path, text, name="bad.otm.json"):
    path = tmp_path / name
    path.write_text(text)
    return path


BASE = {"otmVersion": "0.2.0", "project": {"name": "p", "id": "p"},
        "trustZones": [{"id": "z", "name": "Z", "risk": {"trustRating": 10}}],
        "components": [{"id": "a", "name": "A", "type": "web-service", "parent": {"trustZone": "z"}},
                       {"id": "b", "name": "B", "type": "database", "parent": {"trustZone": "z"}}],
        "dataflows": [{"id": "f", "name": "F", "source": "a", "destination": "b"}]}


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(components="web"), "components: must be a list, not str"),
    (lambda d: d["dataflows"][0].pop("source"), "dataflow f: has no source"),
    (lambda d: d["components"][0].update(tags="tomcat"), "component a: tags must be a list of names"),
    (lambda d: d["components"][0].update(parent="z"), "component a: parent must be a mapping"),
    (lambda d: d["components"][0].pop("parent"), "component a: has no parent trust zone"),
    (lambda d: d["components"][0].update(threats=[{"threat": "t9", "state": "mitigated"}]), "component a: threat 't9' is no threat of the file"),
    (lambda d: d["dataflows"][0].update(destination="nope"), "dataflow f: destination 'nope' is no component"),
    (lambda d: d["components"][0].update(parent={"trustZone": "nope"}), "parent trustZone 'nope' is no trust zone"),
    (lambda d: d["trustZones"].extend([{"id": "y", "name": "Y", "risk": {"trustRating": 1}, "parent": {"trustZone": "x"}},
                                      {"id": "x", "name": "X", "risk": {"trustRating": 1}, "parent": {"trustZone": "y"}}]),
     "trust zones nest in a cycle"),
    (lambda d: (d["components"][0].update(parent={"component": "b"}), d["components"][1].update(parent={"component": "a"})),
     "components nest in a cycle: a → b → a"),
])
def test_hostile(tmp_path, change, message):
    doc = json.loads(json.dumps(BASE))
    change(doc)
    result = run("import", write(tmp_path, json.dumps(doc)))
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_nesting_unknown_types_and_states(tmp_path):
    doc = json.loads(json.dumps(BASE))
    doc["components"] += [{"id": "c", "name": "C", "type": "my-redis-cache", "parent": {"component": "a"}}]
    doc["threats"] = [{"id": "t", "name": "Replay", "categories": ["Spoofing"], "cwes": ["CWE-294"],
                       "description": "Replayed tokens", "risk": {"likelihood": 1, "impact": 1}},
                      {"id": "w", "name": "XSS", "cwes": ["CWE-79"], "risk": {"likelihood": 1, "impact": 1}}]
    doc["components"][1]["threats"] = [{"threat": "t", "state": "not-applicable"}, {"threat": "w", "state": "mitigated"}]
    result = run("import", write(tmp_path, json.dumps(doc)), "-o", tmp_path / "m.yaml")
    assert result.exit_code == 0, result.output
    model = yaml.safe_load((tmp_path / "m.yaml").read_text())
    c = next(x for x in model["components"] if x["id"] == "c")
    assert (c["kinds"], c["zone"]) == (["data-store"], "z")
    assert "component c: a component inside component a is not held: placed in its zone" in result.output
    assert "component c: type 'my-redis-cache' maps to no ThreatKG kind" in result.output
    assert [(d["threat"], d["status"], d["justification"]) for d in model["decisions"]] == [
        ("Spoofing", "false-positive", "Replay: Replay (Replayed tokens)")]
    assert "mitigated threat 'XSS' has no STRIDE category ThreatKG knows (its cwes CWE-79 are weaknesses" in result.output


def test_malformed_and_huge(tmp_path):
    result = run("import", write(tmp_path, '{"otmVersion": "0.2.0",\n "project": }'))
    assert result.exit_code == 2 and "bad.otm.json:2: malformed JSON" in result.output
    huge = write(tmp_path, '{"otmVersion": "0.2.0", "x": "' + "a" * (21 * 1024 * 1024) + '"}', "huge.json")
    result = run("import", huge)
    assert result.exit_code == 2 and "the limit for a model is" in result.output
