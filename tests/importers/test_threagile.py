"""Threagile models (kg.importers.threagile): the shared samples import, validate and yield threats,
with the source's counts, kinds, zones, flows and tracked risks; hostile files exit 2 with a message."""

import copy
import json
import os

import pytest
import yaml

from kg.model.source import MAX_BYTES
from tests.importers.commands import imported, rejected, run

SOURCES = ["threagile-example.yaml", "threagile-stub.yaml"]


@pytest.fixture(scope="module")
def folder(shared_models):
    return shared_models / "threagile"


@pytest.fixture(scope="module")
def example(folder):
    return yaml.safe_load((folder / "threagile-example.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def model(folder, tmp_path, with_catalogs):
    doc, _ = imported(folder / "threagile-example.yaml", tmp_path)
    return doc


def by_id(items, ident):
    return next(i for i in items if i["id"] == ident)


# ------------------------------------------------------------ the samples
@pytest.mark.parametrize("name", SOURCES)
def test_sample_imports_validates_and_keeps_the_counts(name, folder, tmp_path, with_catalogs):
    source = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    doc, _ = imported(folder / name, tmp_path)
    result = run("validate", tmp_path / "model.yaml")
    assert result.exit_code == 0, result.output
    assets = source["technical_assets"]
    inside = {a for b in source["trust_boundaries"].values() for a in b.get("technical_assets_inside") or []}
    outside = {a["id"] for a in assets.values()} - inside
    assert len(doc["components"]) == len(assets)
    assert len(doc["zones"]) == len(source["trust_boundaries"]) + (1 if outside else 0)
    assert len(doc["flows"]) == sum(len(a.get("communication_links") or {}) for a in assets.values())


@pytest.mark.parametrize("name", SOURCES)
def test_sample_yields_threats_read_directly(name, folder, with_catalogs):
    result = run("threats", folder / name, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and {a["id"] for a in source_assets(folder / name)} & {row["component"] for row in rows}


def source_assets(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))["technical_assets"].values()


def test_kinds_attributes_and_zones(model, example):
    db = by_id(model["components"], "sql-database")
    assert db["kinds"] == ["sql-database"] and "mysql" in db["attributes"]["technology"]
    assert db["attributes"]["data_classification"] == "restricted"      # strictly-confidential
    assert "auth-service" in by_id(model["components"], "ldap-auth-server")["kinds"]
    assert by_id(model["components"], "customer-client")["attributes"]["internet_facing"] is True
    assert by_id(model["components"], "customer-client")["zone"] == "outside"
    web = by_id(model["zones"], "web-dmz")
    assert web["kind"] == "dmz" and web["parent"] == "application-network"
    assert by_id(model["zones"], "dev-network")["kind"] == "development"
    assert by_id(model["components"], "apache-webserver")["zone"] == "web-dmz"


def test_links_become_flows_with_protocol_and_data(model, example):
    link = example["technical_assets"]["Customer Web Client"]["communication_links"]["Customer Traffic"]
    flow = by_id(model["flows"], "customer-client-customer-traffic")
    assert (flow["source"], flow["target"], flow["protocol"]) == ("customer-client", "load-balancer", "https")
    titles = {a["id"]: t for t, a in example["data_assets"].items()}
    assert set(flow["data"]) == {titles[d] for d in link["data_assets_sent"] + link["data_assets_received"]}
    assert flow["bidirectional"] is True
    control = by_id(model["controls"], "authentication-session-id")
    assert flow["id"] in control["protects"] and control["mitigates"] == ["Spoofing"]


def test_risk_tracking_becomes_decisions(folder, tmp_path, with_catalogs):
    doc, stderr = imported(folder / "threagile-example.yaml", tmp_path)
    ldap = by_id(doc["decisions"], "risk-ldap-injection-all-ldap-auth-server-all")
    assert ldap["threat"] == "CAPEC-136" and ldap["elements"] == ["ldap-auth-server"]
    assert ldap["status"] == "mitigated" and ldap["date"] == "2020-01-05" and ldap["owner"] == "John Doe"
    assert ldap["justification"] == "The hardening measures were implemented and checked (ticket XYZ-5678)"
    unencrypted = by_id(doc["decisions"], "risk-unencrypted-asset-all")
    assert (unencrypted["threat"], unencrypted["kinds"]) == ("InformationDisclosure", ["data-store"])
    assert by_id(doc["decisions"], "risk-untrusted-deserialization-erp-system")["status"] == "accepted"
    assert ("dos-risky-access-across-trust-boundary@*@*@*: status 'in-progress' is no ThreatKG decision status; "
            "not a decision: 'The hardening measures are being implemented and checked'") in stderr
    assert "customer-client: out of scope (Owned and managed by end-user customer)" in stderr
    assert "abuse_cases: 11 entries" in stderr
    assert "communication_links: readonly, tags, usage, vpn: ThreatKG holds no such facts; not imported" in stderr
    erp = by_id(doc["components"], "erp-system")
    assert erp["does"] == ["parses-xml", "accepts-file-uploads", "deserializes-objects"]
    assert erp["attributes"]["owner"] == "Company ABC"


# ------------------------------------------------------------ hostile files
MINIMAL = {
    "threagile_version": "1.0.0", "title": "Tiny",
    "data_assets": {"Data": {"id": "data", "confidentiality": "internal"}},
    "technical_assets": {
        "A": {"id": "a", "type": "process", "technology": "web-server",
              "communication_links": {"Call": {"target": "b", "protocol": "https", "data_assets_sent": ["data"]}}},
        "B": {"id": "b", "type": "datastore", "technology": "database"}},
    "trust_boundaries": {
        "Outer": {"id": "outer", "type": "network-on-prem", "technical_assets_inside": ["a"],
                  "trust_boundaries_nested": ["inner"]},
        "Inner": {"id": "inner", "type": "execution-environment", "technical_assets_inside": ["b"]}},
}


def write(path, doc):
    path.write_text(yaml.safe_dump(doc, sort_keys=False) if isinstance(doc, dict) else doc, encoding="utf-8")
    return path


@pytest.fixture
def tiny():
    return copy.deepcopy(MINIMAL)


def test_minimal_model_imports(tiny, tmp_path):
    doc, _ = imported(write(tmp_path / "t.yaml", tiny), tmp_path)
    assert by_id(doc["zones"], "inner")["parent"] == "outer"
    assert by_id(doc["components"], "b")["zone"] == "inner"


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.yaml", "threagile_version: 1.0.0\ntechnical_assets:\n  A: {id: a\n")
    assert f"{path}:4: malformed YAML" in rejected(path)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(technical_assets=["a", "b"]),
     "technical_assets: must be a mapping of title → entry, found a list"),
    (lambda d: d["technical_assets"].update(C="text"), "technical_assets.C: must be a mapping, found text"),
    (lambda d: d["technical_assets"]["A"].update(type="robot"), "a: type 'robot' is none of"),
    (lambda d: d["technical_assets"]["A"]["communication_links"]["Call"].update(target="nowhere"),
     "a>Call: target 'nowhere' is no technical asset of this model"),
    (lambda d: d["trust_boundaries"]["Inner"].update(technical_assets_inside=["ghost"]),
     "Inner: technical_assets_inside: 'ghost' is no technical asset of this model"),
    (lambda d: d["technical_assets"]["B"].update(data_assets_stored=["secret"]),
     "b: data_assets_stored: 'secret' is no data asset of this model"),
    (lambda d: d["trust_boundaries"]["Inner"].update(trust_boundaries_nested=["outer"]),
     "outer: trust boundaries nest in a cycle: outer in inner in outer"),
    (lambda d: d["trust_boundaries"]["Outer"].update(trust_boundaries_nested=["outer"]),
     "outer: trust boundaries nest in a cycle: outer in outer"),
])
def test_bad_structure_is_named(tiny, tmp_path, change, message):
    change(tiny)
    assert message in rejected(write(tmp_path / "t.yaml", tiny))


def test_no_technical_assets_is_no_model(tmp_path):
    stderr = rejected(write(tmp_path / "t.yaml", {"threagile_version": "1.0.0", "title": "Empty"}))
    assert "technical_assets: not a Threagile model: it has no technical assets" in stderr
    result = run("import", "--format", "threagile", write(tmp_path / "list.yaml", "- a\n- b\n"))
    assert result.exit_code == 2 and "not a Threagile model: a Threagile model is a YAML mapping" in result.stderr


def test_includes_are_merged(tiny, tmp_path):
    extra = {"technical_assets": {"C": {"id": "c", "type": "external-entity", "technology": "browser"}}}
    (tmp_path / "parts").mkdir()
    write(tmp_path / "parts" / "more.yaml", extra)
    tiny["includes"] = ["parts/more.yaml"]
    doc, _ = imported(write(tmp_path / "t.yaml", tiny), tmp_path)
    assert by_id(doc["components"], "c")["kinds"] == ["client-application"]


def test_includes_outside_the_folder_are_refused(tiny, tmp_path):
    (tmp_path / "model").mkdir()
    secret = write(tmp_path / "secret.yaml", {"technical_assets": {}})
    (tmp_path / "model" / "link.yaml").symlink_to(secret)
    tiny["includes"] = ["../secret.yaml", str(secret), "link.yaml"]
    stderr = rejected(write(tmp_path / "model" / "t.yaml", tiny))
    assert "includes: ../secret.yaml: outside the source file's folder" in stderr
    assert f"includes: {secret}: an absolute path; includes are files inside" in stderr
    assert "includes: link.yaml: outside the source file's folder" in stderr


def test_include_cycles_and_depth_are_refused(tiny, tmp_path):
    write(tmp_path / "a.yaml", {"includes": ["b.yaml"]})
    write(tmp_path / "b.yaml", {"includes": ["a.yaml"]})
    tiny["includes"] = ["a.yaml"]
    stderr = rejected(write(tmp_path / "t.yaml", tiny))
    assert "includes: a.yaml: include cycle (t.yaml → a.yaml → b.yaml → a.yaml)" in stderr
    for n in range(8):
        write(tmp_path / f"d{n}.yaml", {"includes": [f"d{n + 1}.yaml"]})
    write(tmp_path / "d8.yaml", {"title": "deep"})
    tiny["includes"] = ["d0.yaml"]
    assert "includes nest deeper than 5 files" in rejected(write(tmp_path / "t.yaml", tiny))


def test_huge_files_are_refused(tiny, tmp_path):
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as file:
        file.truncate(MAX_BYTES + 1)
    assert f"{huge}: file is {MAX_BYTES + 1:,} bytes; the limit for a model is {MAX_BYTES:,}" in rejected(huge)
    tiny["includes"] = ["huge.yaml"]
    assert f"{huge}: file is {MAX_BYTES + 1:,} bytes" in rejected(write(tmp_path / "t.yaml", tiny))


def test_broken_included_file_is_named(tiny, tmp_path):
    broken = write(tmp_path / "broken.yaml", "technical_assets: [\n")
    tiny["includes"] = ["broken.yaml"]
    assert f"{broken}:2: malformed YAML" in rejected(write(tmp_path / "t.yaml", tiny))
    os.remove(broken)
    assert f"{broken}: no such file" in rejected(write(tmp_path / "t.yaml", tiny))


def test_text_from_no_file_includes_nothing(tiny, tmp_path):
    """An upload or a stored version has a name but no folder: its includes are not followed."""
    from kg.errors import InputError
    from kg.model.load import parse_model
    write(tmp_path / "more.yaml", {"title": "secret"})
    tiny["includes"] = ["more.yaml"]
    with pytest.raises(InputError) as err:
        parse_model(yaml.safe_dump(tiny), str(tmp_path / "uploaded.yaml"))
    assert "a model read from no file (an upload, a stored version) includes nothing" in str(err.value.problems[0])


def test_tracked_risks_name_assets_links_and_boundaries(tiny, tmp_path, with_catalogs):
    track = {"justification": "Checked.", "date": "2026-01-02", "status": "false-positive",
             "ticket": "https://t.example/1"}
    tiny["risk_tracking"] = {"sql-nosql-injection@a@b@a>call": track, "missing-hardening@inner": track,
                             "unencrypted-asset@ghost": track, "missing-vault@*": track}
    doc, stderr = imported(write(tmp_path / "t.yaml", tiny), tmp_path)
    decided = {"status": "false-positive", "justification": "Checked.", "date": "2026-01-02",
               "ticket": "https://t.example/1"}
    assert doc["decisions"] == [
        {"id": "risk-sql-nosql-injection-a-b-a-call", "threat": "CAPEC-66", "elements": ["a", "b", "a-call"],
         **decided},
        {"id": "risk-missing-hardening-inner", "threat": "ElevationOfPrivilege", "zones": ["inner"], **decided}]
    assert ("unencrypted-asset@ghost: names ghost, no technical asset, link or trust boundary of this model; "
            "not a decision: 'Checked.'") in stderr
    assert ("missing-vault@*: risk category 'missing-vault' maps to no ThreatKG threat; "
            "not a decision: 'Checked.'") in stderr
    assert run("validate", tmp_path / "model.yaml").exit_code == 0


def test_technologies_unmapped_and_listed(tiny, tmp_path):
    tiny["technical_assets"]["A"] |= {"technologies": ["ai", "quantum-oracle"], "tags": ["python"]}
    tiny["technical_assets"]["B"]["technology"] = "quantum-oracle"
    doc, stderr = imported(write(tmp_path / "t.yaml", tiny), tmp_path)
    a, b = by_id(doc["components"], "a"), by_id(doc["components"], "b")
    assert a["kinds"] == ["model-inference-service"] and a["attributes"]["technology"] == ["python"]
    assert b["kinds"] == ["data-store"]
    assert "b: technology 'quantum-oracle' maps to no ThreatKG kind; taken as its type 'datastore'" in stderr


def test_included_files_together_are_size_limited(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr("kg.importers.threagile.MAX_BYTES", 300)
    for n in range(3):
        write(tmp_path / f"p{n}.yaml", {"questions": {f"q{n}-{i}": "x" * 20 for i in range(4)}})
    tiny["includes"] = ["p0.yaml", "p1.yaml", "p2.yaml"]
    stderr = rejected(write(tmp_path / "t.yaml", tiny))
    assert "includes: p2.yaml: the included files are over 300 bytes together" in stderr
