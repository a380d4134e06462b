"""Hostile SPARQL on the endpoint, the console and `threatkg query`: no text makes the server open a
connection (a local listener fails the test if contacted), nothing crashes it, runaway queries are
stopped at the deadline with their CPU back at once, memory stays bounded, one client cannot take
every slot, and every refusal is a 4xx/503 with a message, never a 500."""

import socket
import threading
import time

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import EXAMPLE
from tests.web.conftest import make_app


@pytest.fixture(scope="module")
def listener():
    """A local TCP listener that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    contacts = []

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            contacts.append(1)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n\r\n"
                         b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"literal",'
                         b'"value":"SECRET-FROM-INTERNAL-SERVICE"}}]}}')
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql", contacts
    server.close()


@pytest.fixture(scope="module")
def hostile_app(catalog_home):
    app = make_app([EXAMPLE], catalog_home)
    app.config.update(SPARQL_TIMEOUT=2.0, CONSOLE_TIME_LIMIT=2.0, SPARQL_MEMORY_MB=256)
    return app


def _spellings(url):
    """SERVICE written every way we could think of, alone and nested."""
    body = "{ ?s ?p ?o }"
    words = ["SERVICE", "service", "SeRvIcE", "SERV\u00b7ICE", "SERVI\u0301CE", "SERV\u203fICE", "SERV\u2040ICE",
             "SERVICE\u200b", "\u200bSERVICE", "ＳＥＲＶＩＣＥ", "SERVİCE", "SERV\u00adICE"]
    out = [f"SELECT * WHERE {{ {w} <{url}> {body} }}" for w in words]
    out += [f"SELECT * WHERE {{ SERVICE SILENT <{url}> {body} }}",
            f"SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {body} }}",
            f"SELECT * WHERE {{ {{ SELECT * WHERE {{ service <{url}> {body} }} }} }}",
            f"SELECT * WHERE {{ OPTIONAL {{ {{ SELECT * WHERE {{ SERVICE <{url}> {body} }} }} }} }}",
            f"ASK {{ FILTER EXISTS {{ SERVICE <{url}> {body} }} }}",
            f"SELECT * WHERE {{ ?x ?y ?z MINUS {{ SERVICE <{url}> {body} }} }}",
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {body} }}",
            f"PREFIX : <http://example.org/> SELECT * {{ ?s :a\\# ?o . SERVICE <{url}> {body} }}",
            f"SELECT * WHERE {{ # comment\nSERVICE <{url}> {body} }}",
            f'SELECT * WHERE {{ ?s ?p "x" . SERVICE <{url}> {body} }}',
            f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
            f"DESCRIBE <{url}>",
            f"LOAD <{url}>"]
    return out


def test_no_query_text_makes_the_endpoint_or_console_connect(hostile_app, listener):
    url, contacts = listener
    client = hostile_app.test_client()
    for sparql in _spellings(url):
        for response in (client.post("/sparql", data={"query": sparql}),
                         client.get("/sparql", query_string={"query": sparql}),
                         client.post("/sparql-console", data={"query": sparql})):
            assert response.status_code in (200, 400), (sparql, response.status_code)
            body = response.get_data(as_text=True)
            assert "SECRET-FROM-INTERNAL-SERVICE" not in body and "Traceback" not in body
    time.sleep(0.3)
    assert contacts == [], "the server opened a connection to the listener"


def test_even_a_query_that_passes_the_check_cannot_connect(hostile_app, listener, monkeypatch):
    """The second wall: with the text check switched off, the confined child still cannot connect."""
    from kg.web import sparql_endpoint
    url, contacts = listener
    monkeypatch.setattr(sparql_endpoint, "check_read_only", lambda sparql: None)
    response = hostile_app.test_client().post("/sparql", data={"query": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"})
    assert response.status_code == 400 and "could not be evaluated" in response.get_data(as_text=True)
    time.sleep(0.3)
    assert contacts == []


def test_deep_nesting_is_refused_and_the_server_stays_up(hostile_app):
    client = hostile_app.test_client()
    for sparql in ["ASK {" + "{" * 5000 + "}" * 5000 + "}", "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }"]:
        response = client.post("/sparql", data={"query": sparql})
        assert response.status_code == 400 and "nests" in response.get_data(as_text=True)
    assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200


@pytest.mark.parametrize("sparql", [
    "SELECT * WHERE { SERVICE ?var { ?s ?p ?o } }",
    "SELECT ?x WHERE { ?x ?y }",
    "SELECT * WHERE { ?s <not an iri> ?o }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY",
    "\x00SELECT",
    "SELECT * WHERE { ?s ?p ?o } LIMIT -1",
])
def test_malformed_or_unsupported_queries_are_400(hostile_app, sparql):
    response = hostile_app.test_client().post("/sparql", data={"query": sparql})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_data(as_text=True).strip()


def _cpu_of_children() -> float:
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_runaway_queries_are_stopped_and_their_memory_and_cpu_come_back(hostile_app):
    client = hostile_app.test_client()
    for sparql in ["SELECT (COUNT(*) AS ?n) WHERE { ?a (rdfs:subClassOf|!<http://x/none>)*/(!<http://x/none>)* ?b }",
                   "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"]:
        started = time.monotonic()
        response = client.post("/sparql", data={"query": sparql})
        assert response.status_code == 503, response.get_data(as_text=True)
        assert time.monotonic() - started < 2.0 + 2.0     # stopped at the 2 s deadline
        assert "stopped" in response.get_data(as_text=True)
        cpu = _cpu_of_children()
        time.sleep(1.0)
        assert _cpu_of_children() - cpu < 0.2            # nothing of it still runs
    assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_one_client_cannot_take_every_slot(hostile_app):
    client = hostile_app.test_client()
    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", client.post("/sparql", data={"query": heavy})))
    first.start()
    time.sleep(0.5)
    second = client.post("/sparql", data={"query": heavy})
    other = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"},
                       environ_overrides={"REMOTE_ADDR": "127.0.0.9"})
    first.join()
    assert second.status_code == 429 and "already have 1 query running" in second.get_data(as_text=True)
    assert other.status_code == 200                    # another client still gets through
    assert results["first"].status_code == 503


def test_cli_query_refuses_service_and_deep_nesting(catalog_home, tmp_path, listener):
    url, contacts = listener
    runner = CliRunner()
    for sparql in (f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}", "ASK {" + "{" * 5000 + "}" * 5000 + "}"):
        query_file = tmp_path / "q.rq"
        query_file.write_text(sparql)
        result = runner.invoke(main, ["query", str(EXAMPLE), "-f", str(query_file)],
                               env={"THREATKG_HOME": str(catalog_home)})
        assert result.exit_code == 2, result.output
        assert "SERVICE is disabled" in result.stderr or "nests 5001 groups deep" in result.stderr
        assert "Traceback" not in result.output
    assert contacts == []


def test_the_host_header_is_never_reflected_and_a_bad_one_is_400_with_the_usual_headers(hostile_app):
    client = hostile_app.test_client()
    description = client.get("/sparql", headers={"Host": "evil.example:1234", "Accept": "text/turtle"})
    assert description.status_code == 200 and "evil.example" not in description.get_data(as_text=True)
    for path in ("/", "/sparql", "/system/ai-system"):
        response = client.get(path, headers={"Host": "a" * 70_000})
        assert response.status_code == 400
        assert response.headers["X-Frame-Options"] == "DENY" and "default-src" in response.headers["Content-Security-Policy"]
