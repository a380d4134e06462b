"""Threat Dragon v2 import (kg.importers.threat_dragon) and export (kg.exporters.threat_dragon), on
the shared Threat Dragon files read in place."""

import json

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from kg.cli import main

REGIONS = {"v2-threat-model.json": 4, "three-tier-web-app.json": 0, "iot-device.json": 2}   # sides of the curves


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def cells(path, shape):
    doc = json.loads(path.read_text())
    return [c for d in doc["detail"]["diagrams"] for c in d["cells"] if c["shape"] in shape]


def imported(path, out):
    result = run("import", path, "-o", out)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(out.read_text()), result.output


@pytest.mark.parametrize("name", REGIONS)
def test_imports_validates_and_yields_threats(shared_models, tmp_path, name):
    path = shared_models / "threat-dragon" / name
    doc, _ = imported(path, tmp_path / "model.yaml")
    assert len(doc["components"]) == len(cells(path, ("actor", "process", "store")))
    assert len(doc["flows"]) == len(cells(path, ("flow",)))
    assert len(doc.get("zones", [])) == len(cells(path, ("trust-boundary-box",))) + REGIONS[name]
    assert run("validate", tmp_path / "model.yaml").exit_code == 0
    threats = run("threats", path, "--format", "json")
    assert threats.exit_code == 0 and json.loads(threats.stdout)


def test_kinds_zones_curves_and_decisions(shared_models, tmp_path):
    doc, output = imported(shared_models / "threat-dragon" / "v2-threat-model.json", tmp_path / "m.yaml")
    by_label = {c["label"]: c for c in doc["components"]}
    assert by_label["Message Queue"]["kinds"] == ["message-queue"]
    assert by_label["Web Application"]["kinds"] == ["web-application"]       # the name had a "\n"
    assert by_label["Worker Config"]["attributes"]["stores_credentials"] is True
    flows = {f["label"]: f for f in doc["flows"]}
    assert flows["Web Request"]["protocol"] == "https" and flows["Web Request"]["source"] == by_label["Browser"]["id"]
    zone = {c["id"]: c.get("zone") for c in doc["components"]}
    for crossing in ("Web Request", "Put Message"):                        # a trust boundary curve cuts them
        assert zone[flows[crossing]["source"]] != zone[flows[crossing]["target"]]
    mitigated = [d for d in doc["decisions"] if d["elements"] == [by_label["Database"]["id"]]]
    assert [(d["threat"], d["status"]) for d in mitigated] == [("InformationDisclosure", "mitigated")]
    assert "Require all queries to be authenticated." in mitigated[0]["justification"]
    assert "text block is not held" in output and "out of scope in Threat Dragon" in output

    boxed, _ = imported(shared_models / "threat-dragon" / "three-tier-web-app.json", tmp_path / "t.yaml")
    zones = {c["label"]: c.get("zone") for c in boxed["components"]}
    assert zones["Web UI"] != zones["Web Service"] == zones["PostgresSQL"]


@pytest.mark.parametrize("name", ["v2-threat-model.json", "iot-device.json"])
def test_round_trip_keeps_the_layout(shared_models, tmp_path, name):
    path = shared_models / "threat-dragon" / name
    first, _ = imported(path, tmp_path / "first.yaml")
    exported = run("export", path, "--format", "threat-dragon")
    assert exported.exit_code == 0, exported.output
    doc = json.loads(exported.stdout)
    jsonschema.validate(doc, json.loads((shared_models / "threat-dragon" / "threat-dragon-v2.schema.json").read_text()))
    source = {c["id"]: c.get("position") for c in cells(path, ("actor", "process", "store"))}
    assert {c["id"]: c.get("position") for d in doc["detail"]["diagrams"] for c in d["cells"] if c["id"] in source} == source
    assert any(t["status"] == "Mitigated" and t["mitigation"] for d in doc["detail"]["diagrams"] for c in d["cells"]
               for t in c.get("data", {}).get("threats", []))
    again = tmp_path / "again.json"
    again.write_text(exported.stdout)
    second, _ = imported(again, tmp_path / "second.yaml")
    assert same(first, second)
    assert decided(first) == decided(second)           # the file's own threats kept, ThreatKG's left out


def decided(doc) -> list:
    return sorted((d["threat"], d["status"], d["justification"]) for d in doc.get("decisions", []))


def test_round_trip_of_a_threatkg_model(tmp_path):
    from tests.conftest import EXAMPLE
    exported = run("export", EXAMPLE, "--format", "threat-dragon")
    assert exported.exit_code == 0
    (tmp_path / "td.json").write_text(exported.stdout)
    second, _ = imported(tmp_path / "td.json", tmp_path / "m.yaml")
    assert same(yaml.safe_load(EXAMPLE.read_text()), second)
    assert second["system"]["id"] == "ai-system"


def test_decisions_of_a_threatkg_model_survive(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("""system: {id: s, name: S}
zones: [{id: net, kind: untrusted}, {id: dmz, kind: dmz}]
components:
  - {id: user, kinds: [user], zone: net}
  - {id: web, label: Web, kinds: [web-application], zone: dmz}
flows: [{id: f, source: user, target: web, protocol: https}]
decisions:
  - {id: web-dos, threat: DenialOfService, elements: [web], status: accepted, justification: A CDN absorbs floods., date: 2026-03-01}
""")
    exported = run("export", model, "--format", "threat-dragon")
    (tmp_path / "td.json").write_text(exported.stdout)
    doc, _ = imported(tmp_path / "td.json", tmp_path / "again.yaml")
    assert [(d["threat"], d["status"], d["elements"]) for d in doc["decisions"]] == [("DenialOfService", "accepted", ["Web"])]   # ids from names
    assert "A CDN absorbs floods." in doc["decisions"][0]["justification"]


def same(a, b) -> bool:
    """The same elements (label, kinds, zone label), zones (label, kind, parent label) and flows."""
    def zl(doc):
        return {z["id"]: z["label"] for z in doc.get("zones", [])}

    def view(doc):
        z, c = zl(doc), {x["id"]: x["label"] for x in doc["components"]}
        return (sorted((x["label"], x["kinds"], z.get(x.get("zone"))) for x in doc["components"]),
                sorted((x["label"], x["kind"], z.get(x.get("parent"))) for x in doc.get("zones", [])),
                sorted((c[x["source"]], c[x["target"]]) for x in doc["flows"]))
    return view(a) == view(b)


def write(tmp_path, doc):
    path = tmp_path / "bad.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def model(cells_):
    return {"version": "2.3.0", "summary": {"title": "t"},
            "detail": {"contributors": [], "reviewer": "", "threatTop": 0, "diagramTop": 1,
                       "diagrams": [{"id": 0, "title": "d", "diagramType": "STRIDE", "thumbnail": "", "version": "2.3.0",
                                     "cells": cells_}]}}


PROCESS = {"id": "p1", "shape": "process", "position": {"x": 0, "y": 0}, "size": {"width": 50, "height": 50},
           "data": {"name": "P", "type": "tm.Process"}}


@pytest.mark.parametrize("doc, message", [
    ('{"summary": {"title": "t"},\n "detail": [}', "bad.json:2: malformed JSON"),
    (model("cells"), "diagram 0: has no list of cells"),
    (model([PROCESS, {"id": "f1", "shape": "flow", "target": {"cell": "p1"}}]), "flow f1: has no source"),
    (model([PROCESS, {"id": "f1", "shape": "flow", "source": {"cell": "p1"}, "target": {"cell": "gone"}}]),
     "flow f1: target cell 'gone' is no actor, process or store"),
    (model([{**PROCESS, "position": "here"}]), "cell p1: has no position and size"),
    (model([{**PROCESS, "data": []}]), "cell p1: data must be a mapping"),
    (model([PROCESS, PROCESS]), "cell p1: a second cell with this id"),
    (model([{**PROCESS, "size": {"width": 1e309, "height": 5}}]), "cell p1: has no position and size"),
    (model([{**PROCESS, "data": {"threats": "many"}}]), "process p1: threats must be a list"),
    ({"summary": {"title": "t"}, "detail": {"diagrams": [{"diagramJson": {}}]}}, "a Threat Dragon v1 diagram"),
])
def test_hostile(tmp_path, doc, message):
    result = run("import", write(tmp_path, doc))
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_statuses(tmp_path):
    threats = [{"title": "Replay", "type": "Spoofing", "status": "NotApplicable", "mitigation": "Nonces.", "severity": "Low",
                "description": ""},
               {"title": "Leak", "type": "Confidentiality", "status": "Mitigated", "mitigation": "TLS.", "severity": "High",
                "description": ""},
               {"title": "Later", "type": "Tampering", "status": "Open", "mitigation": "", "severity": "Low", "description": ""},
               {"title": "Odd", "type": "Tampering", "status": "Pondering", "mitigation": "", "severity": "Low",
                "description": ""},
               {"title": "Privacy", "type": "Linkability", "status": "Mitigated", "mitigation": "", "severity": "Low",
                "description": ""}]
    doc, output = imported(write(tmp_path, model([{**PROCESS, "data": {"name": "P", "threats": threats}}])),
                           tmp_path / "m.yaml")
    assert [(d["threat"], d["status"], d["justification"]) for d in doc["decisions"]] == [
        ("Spoofing", "false-positive", "Replay: Nonces."), ("InformationDisclosure", "mitigated", "Leak: TLS.")]
    assert "1 threats that record no decision are not held" in output
    assert "threat 'Odd': status 'Pondering' maps to no decision status" in output
    assert "threat 'Privacy': type 'Linkability' maps to no STRIDE category: no decision" in output


def test_elements_outside_every_box(tmp_path):
    box = {"id": "b1", "shape": "trust-boundary-box", "position": {"x": 100, "y": 0}, "size": {"width": 100, "height": 100},
           "attrs": {"label": {"text": "Internet"}}, "data": {"type": "tm.BoundaryBox"}}
    actor = {**PROCESS, "id": "a1", "shape": "actor", "position": {"x": 120, "y": 20}, "data": {"name": "User"}}
    doc, output = imported(write(tmp_path, model([PROCESS, actor, box])), tmp_path / "m.yaml")
    zones = {z["id"]: z for z in doc["zones"]}
    where = {c["label"]: zones[c["zone"]] for c in doc["components"]}
    assert (where["User"]["label"], where["User"]["kind"]) == ("Internet", "untrusted")
    assert (where["P"]["label"], where["P"]["kind"]) == ("d: outside the trust boundaries", "internal")
    assert "1 elements lie in no trust boundary box nor region" in output


def test_huge(tmp_path):
    path = write(tmp_path, '{"summary": {"title": "' + "a" * (21 * 1024 * 1024) + '"}}')
    result = run("import", path)
    assert result.exit_code == 2 and "the limit for a model is" in result.output
