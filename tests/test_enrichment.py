"""External enrichment against a local Oxigraph server loaded with a slice of the SEPSES and D3FEND
vocabularies (tests/data/enrichment-fixture.ttl): facts and their origin, the cache, the allowlist, failing
endpoints, bad configuration, the CLI and the API. Nothing here reaches beyond 127.0.0.1."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from kg.cli import main
from kg.enrichment import enrich
from kg.paths import server_dir
from tests.conftest import EXAMPLE
from tests.web.conftest import make_app

FIXTURE = Path(__file__).parent / "data" / "enrichment-fixture.ttl"
OXIGRAPH = Path(sys.executable).with_name("oxigraph")
D3F = "http://d3fend.mitre.org/ontologies/d3fend.owl#"
CWE_89 = "https://w3id.org/threatkg/id/cwe/CWE-89"


# ------------------------------------------------------------ a local SPARQL server (until tests/servers.py)
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _oxigraph_server(workdir: Path):
    """`oxigraph serve` on a free 127.0.0.1 port, loaded with the fixture; yields it with its .query_url."""
    port = _free_port()
    process = subprocess.Popen([str(OXIGRAPH), "serve", "--location", str(workdir), "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=2).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "oxigraph serve did not start"
                time.sleep(0.1)
        assert process.poll() is None, f"port {port} is another server's"
        load = urllib.request.Request(f"{base}/store?default", data=FIXTURE.read_bytes(), method="POST",
                                      headers={"Content-Type": "text/turtle"})
        urllib.request.urlopen(load, timeout=10).close()
        process.query_url = f"{base}/query"
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Any host but 127.0.0.1 fails to resolve: the shipped endpoints cannot be reached by mistake."""
    resolve = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost"):
            raise socket.gaierror(f"tests stay on 127.0.0.1, not {host}")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


@pytest.fixture
def server(tmp_path):
    with _oxigraph_server(tmp_path / "oxigraph") as running:
        yield running


@pytest.fixture
def home(catalog_home, tmp_path, monkeypatch):
    """A THREATKG_HOME of this test: the installed catalogs (linked), its own enrichment.yaml and cache."""
    path = tmp_path / "home"
    path.mkdir()
    (path / "catalogs").symlink_to(catalog_home / "catalogs", target_is_directory=True)
    monkeypatch.setenv("THREATKG_HOME", str(path))
    return path


def configure(home: Path, max_age: int = 3600, enrichments=(), **urls) -> Path:
    """THREATKG_HOME/enrichment.yaml with the endpoints at these URLs (sepses and d3fend always among them)."""
    assert {"sepses", "d3fend"} <= urls.keys()
    endpoints = [{"name": name, "url": url, "description": "test server", "timeout": 5, "retries": 0,
                  "max_age": max_age} for name, url in urls.items()]
    path = home / "enrichment.yaml"
    path.write_text(yaml.safe_dump({"endpoints": endpoints, "enrichments": list(enrichments)}), encoding="utf-8")
    return path


def dead_url() -> str:
    return f"http://127.0.0.1:{_free_port()}/query"


def threatkg(*args, code=0):
    result = CliRunner().invoke(main, list(args), prog_name="threatkg", catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


# ------------------------------------------------------------ facts and their origin
def test_cves_of_a_weakness_come_with_their_origin(server, home):
    configure(home, sepses=server.query_url, d3fend=server.query_url)
    facts = enrich("CWE-89")
    assert [f.label for f in facts] == ["CVE-2099-0002", "CVE-2099-0001"]          # newest first; not CVE-2099-0003
    fact = facts[0]
    assert (fact.subject, fact.relation, fact.object_type) == (CWE_89, "weakness of CVE", "iri")
    assert fact.object == "http://w3id.org/sepses/resource/cve/CVE-2099-0002"
    assert fact.details == {"issued": "2099-02-07T10:00:00"}
    origin = fact.origin
    assert (origin.enrichment, origin.endpoint, origin.url, origin.query) == (
        "cwe-cves", "sepses", server.query_url, "enrich-cwe-cves")
    assert not origin.cached and not origin.stale and origin.fetched.endswith("+00:00")
    (source,) = facts.sources
    assert (source.status, source.facts, source.start) == ("fetched", 2, "http://w3id.org/sepses/resource/cwe/CWE-89")


def test_countermeasures_of_a_technique_through_a_shared_artifact(server, home):
    configure(home, sepses=server.query_url, d3fend=server.query_url)
    (fact,) = enrich("T1110")                                  # certificate pinning shares no artifact with it
    assert (fact.object, fact.label) == (D3F + "AuthenticationCacheInvalidation", "Authentication Cache Invalidation")
    assert fact.details == {"d3fendId": "D3-ANCI", "artifact": D3F + "Credential", "artifactLabel": "Credential",
                            "technique": D3F + "T1110.001"}
    assert fact.origin.endpoint == "d3fend" and fact.relation == "countered by D3FEND technique"
    assert enrich("CAPEC-66").sources == []                    # no enrichment applies to CAPEC entries


# ------------------------------------------------------------ the cache
def test_second_call_is_served_from_the_cache_and_a_stale_copy_when_the_endpoint_fails(tmp_path, home):
    with _oxigraph_server(tmp_path / "oxigraph") as running:
        configure(home, sepses=running.query_url, d3fend=running.query_url)
        first = enrich("CWE-89")
    assert first.sources[0].status == "fetched"
    second = enrich("CWE-89")                                  # the server is gone
    assert [f.object for f in second] == [f.object for f in first]
    assert all(f.origin.cached and not f.origin.stale for f in second)
    assert second[0].origin.fetched == first[0].origin.fetched and second.sources[0].status == "cached"

    refreshed = enrich("CWE-89", refresh=True)                 # asked again: fails, the fresh copy answers
    assert refreshed.sources[0].status == "cached" and len(refreshed) == 2
    assert "connection refused" in refreshed.sources[0].message

    configure(home, max_age=0, sepses=running.query_url, d3fend=running.query_url)
    stale = enrich("CWE-89")
    assert stale.sources[0].status == "stale" and all(f.origin.stale for f in stale) and len(stale) == 2
    assert f"using the answer cached at {first[0].origin.fetched}" in stale.sources[0].message


def test_a_corrupt_cache_file_is_ignored_and_refetched(server, home):
    configure(home, sepses=server.query_url, d3fend=server.query_url)
    enrich("CWE-89")
    (cached,) = (home / "cache" / "enrichment").iterdir()
    for garbage in ("{not json", '{"fetched": "yesterday", "rows": []}', '{"fetched": "2099-01-01T00:00:00+00:00"}'):
        cached.write_text(garbage, encoding="utf-8")
        again = enrich("CWE-89")
        assert again.sources[0].status == "fetched" and len(again) == 2
        assert json.loads(cached.read_text(encoding="utf-8"))["rows"]
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]         # no temporary file left


# ------------------------------------------------------------ failing endpoints
def test_a_dead_endpoint_is_reported_and_the_others_answer(server, home):
    mirror = {"name": "cwe-cves-mirror", "description": "the same query at another endpoint",
              "applies_to": {"iri_prefix": "https://w3id.org/threatkg/id/cwe/"},
              "start": "http://w3id.org/sepses/resource/cwe/", "endpoint": "mirror", "query": "enrich-cwe-cves",
              "relation": "weakness of CVE"}
    configure(home, enrichments=[mirror], sepses=dead_url(), d3fend=server.query_url, mirror=server.query_url)
    facts = enrich("CWE-89")
    assert {f.origin.endpoint for f in facts} == {"mirror"} and len(facts) == 2
    failed = next(s for s in facts.sources if s.endpoint == "sepses")
    assert failed.status == "failed" and failed.facts == 0
    assert "cannot connect: connection refused" in failed.message

    result = threatkg("enrich", "CWE-89")                      # exit 0: the failure is reported, per endpoint
    assert f"cwe-cves: sepses ({failed.url}): failed: cannot connect" in result.stderr
    assert result.stdout.count("CVE-2099-") == 4               # object and label of both facts


# ------------------------------------------------------------ the allowlist and bad configuration
def test_an_enrichment_cannot_name_a_url_instead_of_an_allowlisted_endpoint(server, home):
    rogue = {"name": "rogue", "description": "asks a server that is not in the allowlist",
             "applies_to": {"catalog": "cwe"}, "start": "http://w3id.org/sepses/resource/cwe/",
             "endpoint": server.query_url, "query": "enrich-cwe-cves", "relation": "weakness of CVE"}
    path = configure(home, enrichments=[rogue], sepses=server.query_url, d3fend=server.query_url)
    result = threatkg("enrich", "CWE-89", code=2)
    assert f"{path}: enrichment rogue: endpoint: expected the name of an allowlisted endpoint (d3fend, sepses)" \
           f", never a URL, got '{server.query_url}'" in result.stderr


def test_a_bad_enrichment_yaml_names_file_entry_and_field(server, home):
    path = configure(home, sepses=server.query_url, d3fend=server.query_url)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["endpoints"][0].update(timeout="soon", colour="blue")
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    stderr = threatkg("enrich", "CWE-89", code=2).stderr
    assert f"{path}: endpoint sepses: timeout: expected seconds (≥ 1), got 'soon'" in stderr
    assert f"{path}: endpoint sepses: colour: unknown field" in stderr
    assert "enrichment cwe-cves" not in stderr                 # the enrichment using it is not blamed

    path.write_text("endpoints:\n  - name: sepses\n    url: http://a: b\n", encoding="utf-8")
    assert f"{path}:3: malformed YAML: mapping values are not allowed in this context" in threatkg("enrich", "CWE-89", code=2).stderr


def test_unknown_ids_exit_2(home):
    assert "CWE-999999: no installed catalog has this entry" in threatkg("enrich", "CWE-999999", code=2).stderr
    assert "nonsense: not a catalog id (such as CAPEC-66" in threatkg("enrich", "nonsense", code=2).stderr


def test_cli_json(server, home):
    configure(home, sepses=server.query_url, d3fend=server.query_url)
    body = json.loads(threatkg("enrich", "T1110", "--format", "json").stdout)
    assert body["entry"] == "https://w3id.org/threatkg/id/attack/T1110" and body["count"] == 1
    assert body["facts"][0]["origin"]["url"] == server.query_url
    assert body["sources"][0]["status"] == "fetched"


# ------------------------------------------------------------ the API
@pytest.fixture(scope="module")
def client(catalog_home):
    return make_app([EXAMPLE], catalog_home).test_client()


def conforms(instance, schema_name):
    spec = json.loads((server_dir() / "static" / "openapi.json").read_text(encoding="utf-8"))
    jsonschema.validate(instance, {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]},
                        cls=jsonschema.Draft202012Validator)


def test_api_enrichment(client, server, home):
    configure(home, sepses=server.query_url, d3fend=server.query_url)
    response = client.get(f"/api/enrichment/CWE-89?endpoint={dead_url()}")   # the request cannot pick an endpoint
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.json
    conforms(body, "Enrichment")
    assert body["id"] == "CWE-89" and body["entry"] == CWE_89 and body["count"] == 2
    assert {f["origin"]["url"] for f in body["facts"]} == {server.query_url}
    assert client.get("/api/enrichment/CWE-89").json["sources"][0]["status"] == "cached"

    for ident in ("CWE-999999", "nonsense"):
        response = client.get(f"/api/enrichment/{ident}")
        assert response.status_code == 404 and response.json["error"] == "Not Found"


def test_api_reports_a_failed_endpoint(client, home):
    configure(home, sepses=dead_url(), d3fend=dead_url())
    body = client.get("/api/enrichment/CWE-89").json
    conforms(body, "Enrichment")
    assert body["facts"] == [] and body["sources"][0]["status"] == "failed"
    assert "connection refused" in body["sources"][0]["message"]
