"""The real SPARQL server fixtures answer updates and queries the way the tests need."""

import http.client
import os
import signal
import uuid

import pytest
import requests
from SPARQLWrapper import JSON, POST, SPARQLWrapper

JSON_RESULTS = {"Accept": "application/sparql-results+json"}


@pytest.fixture(params=["oxigraph", "virtuoso"])
def server(request):
    return request.getfixturevalue(request.param)


def new_graph() -> str:
    """A graph name no other test uses (the servers live for the whole session)."""
    return f"urn:threatkg:test:{uuid.uuid4()}"


def select(server, query: str, dataset=()) -> list[dict]:
    response = requests.post(server.query_url, data=[("query", query), *dataset], headers=JSON_RESULTS)
    response.raise_for_status()
    return response.json()["results"]["bindings"]


def update(server, text: str):
    requests.post(server.update_url, data={"update": text}).raise_for_status()


def test_named_graph_round_trip_with_sparqlwrapper(server):
    graph = new_graph()
    writer = SPARQLWrapper(server.query_url, updateEndpoint=server.update_url)
    writer.setMethod(POST)
    writer.setQuery(f'INSERT DATA {{ GRAPH <{graph}> {{ <urn:s> <urn:p> "o" }} }}')
    writer.query()
    reader = SPARQLWrapper(server.query_url, returnFormat=JSON)
    reader.setQuery(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    rows = reader.queryAndConvert()["results"]["bindings"]
    assert [(row["s"]["value"], row["p"]["value"], row["o"]["value"]) for row in rows] == [("urn:s", "urn:p", "o")]


def test_200_dataset_graphs_in_a_posted_query(server, monkeypatch):
    # Virtuoso echoes each dataset graph in a response header (X-SPARQL-default-graph,
    # X-SPARQL-named-graph): more than the 100 header lines Python's http.client accepts.
    monkeypatch.setattr(http.client, "_MAXHEADERS", 1000)
    graphs = [new_graph() for _ in range(200)]
    quads = " ".join(f"GRAPH <{g}> {{ <urn:s> <urn:p> {i} }}" for i, g in enumerate(graphs))
    update(server, f"INSERT DATA {{ {quads} }}")
    dataset = [("default-graph-uri", g) for g in graphs] + [("named-graph-uri", g) for g in graphs]
    [row] = select(server, "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?g) AS ?graphs) "
                           "WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }", dataset)
    assert (row["n"]["value"], row["graphs"]["value"]) == ("400", "200")


def test_large_loads_and_results_are_not_cut(server):
    """INSERT DATA of 2,000 triples, 12,000 rows in one result, an ORDER BY window past row 10,000."""
    graph = new_graph()
    for start in range(0, 12_000, 2_000):
        triples = " ".join(f"<urn:s{i}> <urn:p> {i} ." for i in range(start, start + 2_000))
        update(server, f"INSERT DATA {{ GRAPH <{graph}> {{ {triples} }} }}")
    assert len(select(server, f"SELECT ?s ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")) == 12_000
    window = select(server, f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} ORDER BY ?o LIMIT 5 OFFSET 11000")
    assert [row["o"]["value"] for row in window] == ["11000", "11001", "11002", "11003", "11004"]


def test_fresh_oxigraph_is_empty_and_may_be_killed(fresh_oxigraph):
    assert select(fresh_oxigraph, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }") == []
    os.kill(fresh_oxigraph.pid, signal.SIGKILL)
