"""The JSON API through the Flask test client: systems, threat rows (the CLI's), catalogs, catalog
entries, JSON errors; and its OpenAPI 3.1 description, checked as a spec and against real answers."""

import json

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_spec

from kg.model.load import load_model
from kg.paths import server_dir
from kg.threats import threat_rows
from tests.conftest import EXAMPLE
from tests.web.conftest import SYSTEM, make_app

SPEC = json.loads((server_dir() / "static" / "openapi.json").read_text(encoding="utf-8"))


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json"
    return response.json


def conforms(instance, schema_name):
    """The instance matches the OpenAPI document's schema (OpenAPI 3.1 schemas are JSON Schema 2020-12)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]}
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)


def canonical(rows: list[dict]) -> list[dict]:
    """Rows with their explanations and links in a fixed order (threat_rows keeps the order in which
    its queries return them, which may differ between a run for one element and one for all)."""
    return [{k: sorted(v, key=json.dumps) if k in ("explanations", "via", "links") else v for k, v in row.items()}
            for row in rows]


@pytest.fixture(scope="module")
def stride_client():
    """The example served without catalogs (STRIDE only)."""
    return make_app([EXAMPLE], None).test_client()


# ---------------------------------------------------------------- systems and threats


def test_index_links_everything(client):
    body = get(client, "/api/")
    assert body["openapi"] == "/api/openapi.json" and body["sparql"] == "/sparql"


def test_systems(client):
    (system,) = get(client, "/api/systems")["systems"]
    assert system["id"] == SYSTEM and system["name"] == "AI connected system"
    assert system["iri"] == f"https://w3id.org/threatkg/model/{SYSTEM}"
    assert system["counts"]["threats"] > 100 and system["counts"]["elements"] > 10
    assert system["links"]["threats"] == f"/api/systems/{SYSTEM}/threats"


def test_system_lists_elements_and_stride_counts(client):
    body = get(client, f"/api/systems/{SYSTEM}")
    roles = {e["id"]: e["role"] for e in body["elements"]}
    assert roles["ai-model"] == "component" and roles["dmz"] == "zone"
    assert [c["letter"] for c in body["stride"]] == list("STRIDE")
    conforms(body, "System")


def test_threats_of_a_component_are_the_cli_rows(client, app):
    body = get(client, f"/api/systems/{SYSTEM}/threats?component=ai-model")
    expected = threat_rows(app.extensions["registry"].get(SYSTEM), "ai-model")
    assert body["component"] == "ai-model" and body["count"] == len(expected) > 0
    assert canonical(body["threats"]) == canonical(json.loads(json.dumps(expected)))
    assert {"CAPEC", "ATLAS", "STRIDE"} <= {row["source"] for row in body["threats"]}
    conforms(body["threats"][0], "ThreatRow")


def test_threats_of_every_element(client):
    body = get(client, f"/api/systems/{SYSTEM}/threats")
    assert body["component"] is None and body["count"] == len(body["threats"])
    assert {"ai-model", "api-gateway"} <= {row["component"] for row in body["threats"]}
    for row in body["threats"]:
        assert row["explanations"] and len(row["via"]) == len(row["explanations"])
        conforms(row, "ThreatRow")


TINY = """system:
  id: tiny
  name: Tiny system
zones:
  - {id: net, label: Net, kind: internal}
components:
  - {id: web, label: Web app, kinds: [web-application], zone: net}
"""


def test_threats_follow_a_replaced_model(tmp_path):
    """Rows are encoded once per analysis: serving a new version of a model serves its rows."""
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(TINY, encoding="utf-8")
    second.write_text(TINY + "  - {id: db, label: Orders DB, kinds: [database], zone: net}\n", encoding="utf-8")
    app = make_app([first], None)
    client = app.test_client()
    before = get(client, "/api/systems/tiny/threats")
    app.extensions["registry"].add(load_model(second))
    after = get(client, "/api/systems/tiny/threats")
    assert {r["component"] for r in before["threats"]} == {"web"}
    assert {r["component"] for r in after["threats"]} == {"web", "db"}


@pytest.mark.parametrize("url, detail", [
    (f"/api/systems/{SYSTEM}/threats?component=nope", "has no component or flow nope"),
    ("/api/systems/nope/threats", "No system nope"),
    ("/api/systems/nope", "No system nope"),
    ("/api/threats/NOPE-1", "No catalog entry has the id NOPE-1"),
    ("/api/nothing/here", "No API resource /api/nothing/here"),
])
def test_not_found_is_json(client, url, detail):
    body = get(client, url, 404)
    assert body["error"] == "Not Found" and detail in body["detail"]
    conforms(body, "Error")


def test_api_is_read_only(client):
    response = client.post("/api/systems")
    assert response.status_code == 405 and response.json["error"] == "Method Not Allowed"
    assert "GET" in response.headers["Allow"]


def test_internal_errors_are_json_without_details(client, app, monkeypatch):
    def broken(system):
        raise RuntimeError("secret detail")
    monkeypatch.setattr("kg.web.api.view", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    body = get(client, f"/api/systems/{SYSTEM}/threats", 500)
    assert body["error"] == "Internal Server Error"
    assert "secret" not in json.dumps(body) and "Traceback" not in json.dumps(body)


# ---------------------------------------------------------------- catalogs and entries


def test_catalogs_installed(client):
    body = get(client, "/api/catalogs")
    assert body["installed"] is True and body["release"]
    catalogs = {c["name"]: c for c in body["catalogs"]}
    assert {"capec", "cwe", "asvs", "atlas", "cosai"} <= set(catalogs)
    assert catalogs["capec"]["version"] == "3.9"
    assert catalogs["capec"]["graphs"][0]["counts"]["attack_patterns"] == 615
    assert "/work/" not in json.dumps(body)   # no server paths
    conforms(body, "Catalogs")


def test_catalogs_none_installed(stride_client):
    body = get(stride_client, "/api/catalogs")
    assert body["installed"] is False and body["catalogs"] == []
    assert "threatkg catalogs fetch" in body["message"]
    conforms(body, "Catalogs")


@pytest.mark.parametrize("ident", ["CAPEC-66", "capec/CAPEC-66", "capec%2FCAPEC-66"])
def test_entry_by_identifier_or_path(client, ident):
    body = get(client, f"/api/threats/{ident}")
    assert body["iri"] == "https://w3id.org/threatkg/id/capec/CAPEC-66" and body["path"] == "capec/CAPEC-66"
    assert body["labels"] == ["SQL Injection"] and body["catalog"] == "CAPEC"
    assert body["page"] == "/threat/capec/CAPEC-66"
    assert "https://capec.mitre.org/data/definitions/66.html" in body["pages"]
    weaknesses = {item["id"] for group in body["links"].values() for item in group["items"]}
    assert "CWE-89" in weaknesses
    conforms(body, "Entry")


def test_entry_lists_the_elements_inheriting_it(client):
    row = next(r for r in get(client, f"/api/systems/{SYSTEM}/threats")["threats"] if r["source"] == "ATLAS")
    body = get(client, "/api/threats/" + row["iri"].split("/id/", 1)[1])
    assert {"system": SYSTEM, "component": row["component"],
            "threat": f"/api/systems/{SYSTEM}/threats?component={row['component']}"} in body["inherited_by"]


def test_ambiguous_identifier_lists_candidates(client):
    query = ("SELECT ?id WHERE { ?e dcterms:identifier ?id FILTER STRSTARTS(STR(?e), STR(id:)) } "
             "GROUP BY ?id HAVING (COUNT(DISTINCT ?e) > 1) ORDER BY ?id LIMIT 1")
    ident = client.get("/sparql", query_string={"query": query}).json["results"]["bindings"][0]["id"]["value"]
    response = client.get(f"/api/threats/{ident}")
    assert response.status_code == 300 and len(response.json["candidates"]) > 1
    for path in response.json["candidates"]:
        assert get(client, f"/api/threats/{path}")["id"] == ident


def test_overlong_entry_id_is_400(client):
    assert "at most" in get(client, "/api/threats/" + "x" * 300, 400)["detail"]


# ---------------------------------------------------------------- OpenAPI


def test_openapi_document_is_valid_and_served(client):
    validate_spec(SPEC)
    assert SPEC["openapi"].startswith("3.1")
    assert get(client, "/api/openapi.json") == SPEC


def test_openapi_describes_every_api_route(app):
    """Each /api route is in the document, and each documented path is routed (the catch-all aside)."""
    routes = {rule.rule.replace("<", "{").replace(">", "}").replace("{path:", "{")
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/") and rule.endpoint != "api.unknown"}
    documented = {path for path in SPEC["paths"] if path.startswith("/api/")}
    renamed = {"/api/threats/{ident}": "/api/threats/{id}"}
    assert {renamed.get(r, r) for r in routes} == documented
    adapter = app.url_map.bind("localhost")
    for path in SPEC["paths"]:
        sample = path.replace("{", "").replace("}", "")
        assert adapter.match(sample)[0] != "api.unknown", path


def test_map_lists_chains_with_provenance(client):
    body = client.get("/api/map/CAPEC-66").get_json()
    assert body["kind"] == "threat"
    vias = {(m["requirement"], m["via"], m["provenance"]) for m in body["mappings"]}
    assert ("v4.0.3-5.3.4", "v4.0.3-5.3.4 → CWE-89 → CAPEC-66", "official") in vias
    assert ("v5.0.0-1.2.4", "v5.0.0-1.2.4 → CWE-89 → CAPEC-66", "derived") in vias
    assert {m["threat"] for m in client.get("/api/map/v4.0.3-5.3.4").get_json()["mappings"]} >= {"CAPEC-66", "CAPEC-7"}


def test_map_errors(client):
    assert client.get("/api/map/nonsense").status_code == 400
    assert client.get("/api/map/CAPEC-999999").status_code == 404


def test_coverage_by_profile(client):
    body = client.get("/api/systems/ai-system/coverage?profile=asvs-4.0.3-L1").get_json()
    assert body["profile"]["id"] == "asvs-4.0.3-L1"
    for c in body["components"]:
        assert set(c["mitigated"]) | set(c["required"]) | set(c["uncovered"]) == set(c["threats"]) and 0 <= c["ratio"] <= 1
        assert sum(map(len, (c["mitigated"], c["required"], c["uncovered"]))) == len(c["threats"])
        assert all(c["states"][t]["requires"] for t in c["required"]) and 0 <= c["implemented_ratio"] <= c["ratio"]
    assert client.get("/api/systems/ai-system/coverage?profile=nope").status_code == 404
