"""Hostile queries on the SPARQL endpoint (GET, form POST, application/sparql-query POST), the console
and `threatkg query -f FILE`: a 4xx (CLI: exit 2) with a message, never a traceback or server detail;
the served systems unchanged. SERVICE in all its spellings is tests/web/test_sparql_hostile.py's."""

import os

import pytest

from tests.conftest import EXAMPLE
from tests.hostile.checks import assert_refused, assert_refused_page, cli
from tests.hostile.corpus import DIGITS, LISTENER
from tests.web.conftest import make_app
from tests.web.test_sparql_hostile import console_post

QUERIES = {   # name → (query, what the refusal says)
    "nul byte": ("ASK {\x00}", "SPARQL syntax error"),
    "deep nesting": ("ASK {" + "{" * 5000 + "}" * 5000 + "}", "nests"),
    "deep expression": ("ASK { FILTER(" + "(" * 3000 + "1" + ")" * 3000 + ") }", "nests"),
    "over the length limit": ("ASK {} #" + "x" * 200_000, "the limit is 100,000"),
    "integer of 5000 digits": (f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {DIGITS}", "SPARQL syntax error"),
    "homoglyph keyword": ("\u0405ELECT * WHERE { ?s ?p ?o }", "SPARQL syntax error"),
    "rtl override": ("SELECT * WHERE { ?s ?p ?o \u202e}", "SPARQL syntax error"),
    "zero-width space in a variable": ("SELECT ?s\u200b WHERE { ?s ?p ?o }", "SPARQL syntax error"),
    "lone surrogate escape": ("SELECT * WHERE { ?s ?p '\\uD800' }", "is no Unicode character"),
    "remote SERVICE": (f"SELECT * WHERE {{ SERVICE <{LISTENER}> {{ ?s ?p ?o }} }}", "SERVICE is disabled"),
    "LOAD a remote graph": (f"LOAD <{LISTENER}>", "read-only"),
    "update": ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "read-only"),
    "empty": ("", "query"),
}
WEB_ONLY = {   # requests the endpoint alone can receive: (how, what the refusal says)
    "non-utf-8 body": (dict(data=b"ASK { ?s ?p 'caf\xe9' }", content_type="application/sparql-query"), "utf-8"),
    "query given twice": (dict(query_string=[("query", "ASK {}"), ("query", "ASK {}")]), "query"),
    "unknown content type": (dict(data=b"ASK {}", content_type="application/x-evil"), ""),
    "remote default-graph-uri": (dict(query_string={"query": "ASK { ?s ?p ?o }", "default-graph-uri": LISTENER}),
                                 ""),
}


@pytest.fixture(scope="module")
def app(catalog_home):
    return make_app([EXAMPLE], catalog_home)


@pytest.fixture
def served(app):
    """The session's app; the test fails if its systems changed."""
    client = app.test_client()
    before = client.get("/api/systems").get_json()
    yield client
    assert client.get("/api/systems").get_json() == before


@pytest.mark.parametrize("name", QUERIES)
def test_the_endpoint_and_the_console_refuse(name, served):
    query, says = QUERIES[name]
    for response in (served.get("/sparql", query_string={"query": query}),
                     served.post("/sparql", data={"query": query}),
                     served.post("/sparql", data=query.encode(), content_type="application/sparql-query"),
                     console_post(served, query)):
        assert_refused_page(response, says, status=(400, 413))


@pytest.mark.parametrize("name", WEB_ONLY)
def test_hostile_requests_to_the_endpoint(name, served):
    how, says = WEB_ONLY[name]
    method = served.post if "data" in how else served.get
    response = method("/sparql", **how)
    if name == "remote default-graph-uri":     # a graph name, never fetched: an answer over no graph
        assert response.status_code in (200, 400) and response.get_data(as_text=True).find("Traceback") < 0
        return
    assert_refused_page(response, says, status=(400, 415))


@pytest.mark.parametrize("name", [n for n in QUERIES if n != "empty"])
def test_threatkg_query_refuses(name, tmp_path):
    query, says = QUERIES[name]
    path = tmp_path / "query.rq"
    path.write_text(query, encoding="utf-8")
    assert_refused(cli("query", EXAMPLE, "-f", path), str(path), says)


def test_threatkg_query_refuses_a_non_utf8_file_and_a_fifo(tmp_path):
    bad, fifo = tmp_path / "latin1.rq", tmp_path / "fifo.rq"
    bad.write_bytes(b"ASK { ?s ?p 'caf\xe9' }")
    os.mkfifo(fifo)
    for path in (bad, fifo, "/dev/zero"):
        assert_refused(cli("query", EXAMPLE, "-f", path), str(path))
