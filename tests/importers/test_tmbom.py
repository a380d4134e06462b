"""OWASP Threat Model Library models (TM-BOM JSON, kg.importers.tmbom): the shared samples import,
validate and yield threats, with the source's counts, AI kinds and controls in place as decisions;
hostile files exit 2 with a message."""

import copy
import json

import pytest

from kg.model.source import MAX_BYTES
from tests.importers.commands import imported, rejected, run

SOURCES = ["husky-ai-threat-model.json", "hashicorp-vault-threat-model.json"]
ELEMENTS = ("actors", "components", "data_stores")


def by_id(items, ident):
    return next(i for i in items if i["id"] == ident)


@pytest.fixture(scope="module")
def folder(shared_models):
    return shared_models / "owasp-threat-model-library"


def source(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------ the samples
@pytest.mark.parametrize("name", SOURCES)
def test_sample_imports_validates_and_keeps_the_counts(name, folder, tmp_path, with_catalogs):
    tm = source(folder / name)
    doc, _ = imported(folder / name, tmp_path)
    result = run("validate", tmp_path / "model.yaml")
    assert result.exit_code == 0, result.output
    declared = {e["symbolic_name"] for section in ELEMENTS for e in tm[section]}
    undeclared_actors = {end["object"] for f in tm["data_flows"] for end in (f["source"], f["destination"])
                         if end["object"] not in declared}                 # Husky AI's 'user'
    zones = {z["symbolic_name"] for z in tm["trust_zones"]}
    undeclared_zones = {e["trust_zone"] for section in ELEMENTS for e in tm[section]} - zones   # Vault's
    assert len(doc["components"]) == len(declared) + len(undeclared_actors)
    assert len(doc["zones"]) == len(zones) + len(undeclared_zones)
    assert len(doc["flows"]) == len(tm["data_flows"])


@pytest.mark.parametrize("name", SOURCES)
def test_sample_yields_threats_read_directly(name, folder, with_catalogs):
    result = run("threats", folder / name, "--format", "json")
    assert result.exit_code == 0, result.output
    components = {e["symbolic_name"] for section in ELEMENTS for e in source(folder / name)[section]}
    assert components & {row["component"] for row in json.loads(result.stdout)}


def test_husky_ai_kinds(folder, tmp_path, with_catalogs):
    doc, stderr = imported(folder / "husky-ai-threat-model.json", tmp_path)
    kinds = {c["id"]: c["kinds"] for c in doc["components"]}
    assert kinds["web-service"] == ["model-inference-service"]          # serves the model
    assert kinds["ml-models-blob"] == ["model-registry"]
    assert kinds["training-images-blob"] == ["training-data-store"]
    assert kinds["jupyter"] == ["training-pipeline"]
    assert kinds["api-gateway"] == ["api-gateway"]
    assert kinds["engineer"] == ["user"] and kinds["azure-cognitive-services"] == ["external-service"]
    assert by_id(doc["zones"], "public")["kind"] == "untrusted"
    assert by_id(doc["zones"], "experimental-zone")["kind"] == "development"
    assert by_id(doc["components"], "training-images-blob")["attributes"]["data_classification"] == "internal"
    flow = by_id(doc["flows"], "gather-images-training-images")
    assert flow["data"] == ["Training and Validation Images"] and "protocol" not in flow
    assert by_id(doc["flows"], "azure-cognitive-gather-images")["protocol"] == "tls"     # encrypted
    assert "user-api-gateway: source actor 'user' is not among actors; imported as an actor" in stderr
    assert "api-keys: placed in 'api-keys-storage', no data store of this model" in stderr
    assert "data_flows: has_sensitive_data: ThreatKG holds no such facts; not imported" in stderr


def test_controls_in_place_become_decisions(folder, tmp_path, with_catalogs):
    doc, stderr = imported(folder / "husky-ai-threat-model.json", tmp_path)
    decision = by_id(doc["decisions"], "access-control-for-azure-blobs-capec-1")
    assert decision["threat"] == "CAPEC-1" and decision["status"] == "mitigated"
    assert decision["zones"] == ["public", "prod-zone"] and decision["date"] == "2025-05-28"
    assert decision["justification"].startswith("Ensure appropriate access control and authorization for any "
                                                "Azure Blob storage: Use ABAC, rbac")
    assert "(against Image Tampering (CAPEC-1, CWE-276, CWE-285); Machine learning" in decision["justification"]
    assert {d["threat"] for d in doc["decisions"]} == {"CAPEC-1", "CAPEC-204", "CAPEC-555", "CAPEC-300"}
    assert ("sandboxing-for-image-processing: control 'Implement sandboxing for image processing' is suggested, "
            "not in place: no decision") in stderr
    assert ("buffer-overflow-image-processing: threat 'Buffer overflow in image processing causing remote code "
            "execution or DoS' (CAPEC-100, CWE-120): no control in place mitigates it") in stderr


def test_undeclared_zones_are_warned(folder, tmp_path, with_catalogs):
    doc, stderr = imported(folder / "hashicorp-vault-threat-model.json", tmp_path)
    assert by_id(doc["components"], "client-app-1")["zone"] == "public-internet"
    assert by_id(doc["zones"], "public-internet")["kind"] == "untrusted"
    assert ("client-app-1: trust zone 'public-internet' is not among trust_zones; "
            "imported as a zone of its own") in stderr


# ------------------------------------------------------------ hostile files
MINIMAL = {
    "scope": {"title": "Tiny", "description": "A tiny model"}, "reviewed_at": "2026-01-02",
    "trust_zones": [{"symbolic_name": "inside", "title": "Inside"}],
    "actors": [{"symbolic_name": "person", "type": "user", "trust_zone": "inside"}],
    "components": [{"symbolic_name": "app", "title": "Web app", "trust_zone": "inside"}],
    "data_stores": [{"symbolic_name": "db", "type": "sql", "trust_zone": "inside"}],
    "data_sets": [{"symbolic_name": "people", "title": "People", "data_sensitivity": ["pii"],
                   "placements": [{"data_store": "db"}]}],
    "data_flows": [{"symbolic_name": "use", "source": {"type": "actor", "object": "person"},
                    "destination": {"type": "component", "object": "app"}},
                   {"symbolic_name": "store", "source": {"type": "component", "object": "app"},
                    "destination": {"type": "data_store", "object": "db"}}],
    "threats": [{"symbolic_name": "sqli", "title": "SQL injection", "attack_mechanisms": [{"capec_id": 66}]}],
    "controls": [{"symbolic_name": "prepared", "title": "Prepared statements", "threats": ["sqli"],
                  "status": "active"}],
}


@pytest.fixture
def tiny():
    return copy.deepcopy(MINIMAL)


def write(path, doc):
    path.write_text(json.dumps(doc) if isinstance(doc, dict) else doc, encoding="utf-8")
    return path


def test_minimal_model_imports(tiny, tmp_path, with_catalogs):
    doc, _ = imported(write(tmp_path / "t.json", tiny), tmp_path)
    db = by_id(doc["components"], "db")
    assert db["kinds"] == ["sql-database"]
    assert db["attributes"] == {"data_classification": "confidential", "stores_personal_data": True}
    assert doc["decisions"] == [{"id": "prepared-capec-66", "threat": "CAPEC-66", "status": "mitigated",
                                 "justification": "Prepared statements (against SQL injection (CAPEC-66))",
                                 "date": "2026-01-02"}]
    assert run("validate", tmp_path / "model.yaml").exit_code == 0


def test_malformed_json_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.json", '{"scope": {"title": "x"},\n "trust_zones": [\n')
    assert f"{path}:3: malformed JSON" in rejected(path)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(components={"app": {}}), "components: must be a list, found a mapping"),
    (lambda d: d["components"].append("text"), "components[2]: must be an object, found text"),
    (lambda d: d["components"].append({"title": "nameless"}), "components[2]: has no symbolic_name"),
    (lambda d: d["data_flows"][1]["destination"].update(object="nowhere"),
     "store: destination 'nowhere' is no actor, component or data store of this model"),
    (lambda d: d["data_flows"][1].update(source="app"), "store: source must be {type, object: symbolic name}"),
    (lambda d: d["controls"][0]["threats"].append("ghost"), "prepared: threats: 'ghost' is no threat of this model"),
    (lambda d: d["data_sets"][0].update(placements="db"), "people: placements must be a list, found text"),
    (lambda d: d["data_stores"].append({"symbolic_name": "app", "trust_zone": "inside"}),
     "app: symbolic name used twice (in components and data_stores)"),
])
def test_bad_structure_is_named(tiny, tmp_path, change, message):
    change(tiny)
    assert message in rejected(write(tmp_path / "t.json", tiny))


def test_wrong_shape_is_no_traceback(tiny, tmp_path):
    tiny["trust_boundaries"] = [{"trust_zone_a": "inside", "trust_zone_b": "inside", "access_control_methods": 5}]
    assert "not a tmbom model: unexpected structure" in rejected(write(tmp_path / "t.json", tiny))


def test_no_elements_is_no_model(folder):
    result = run("import", "--format", "tmbom", folder / "index.json")
    assert result.exit_code == 2 and "not a TM-BOM model: it has no actors, components or data_stores" in result.stderr


def test_huge_file_is_refused(tmp_path):
    huge = tmp_path / "huge.json"
    with huge.open("wb") as file:
        file.truncate(MAX_BYTES + 1)
    assert f"{huge}: file is {MAX_BYTES + 1:,} bytes; the limit for a model is {MAX_BYTES:,}" in rejected(huge)


def test_capec_ids_outside_the_catalogs_are_no_decision(tiny, tmp_path, with_catalogs):
    tiny["threats"][0]["attack_mechanisms"] = [{"capec_id": 210}, {"capec_id": "sixty-six"}, {"capec_id": 66}]
    doc, stderr = imported(write(tmp_path / "t.json", tiny), tmp_path)
    assert [d["threat"] for d in doc["decisions"]] == ["CAPEC-66"]
    assert "sqli: attack mechanism 210 is no CAPEC entry of the installed catalogs: no decision about it" in stderr
    assert "sqli: attack mechanism 'sixty-six' is no CAPEC entry" in stderr
