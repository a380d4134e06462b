"""The SPARQL 1.1 Protocol endpoint: the protocol's three request forms, result formats by Accept
and `format`, the RDF dataset parameters, refusals (updates, SERVICE, syntax errors), limits (rows,
time, queries at once), CORS; then SPARQLWrapper against the app served by waitress on 127.0.0.1."""

import csv
import io
import json
import threading
import time
import xml.dom.minidom

import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, parse
from rdflib import Graph, URIRef
from rdflib.namespace import RDFS
from SPARQLWrapper import CSV, JSON, POST, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from kg import query_worker
from kg.web.sparql_endpoint import READ_ONLY, Refused, run
from tests.web.conftest import SYSTEM

CAPEC_66 = "https://w3id.org/threatkg/id/capec/CAPEC-66"
MODEL_GRAPH = f"https://w3id.org/threatkg/graph/model/{SYSTEM}"
LABEL_OF_66 = f"SELECT ?label WHERE {{ <{CAPEC_66}> rdfs:label ?label }}"
COMPONENTS = "SELECT ?c ?label WHERE { ?c a tm:Component ; rdfs:label ?label } ORDER BY ?c"
CONSTRUCT_66 = f"CONSTRUCT {{ <{CAPEC_66}> ?p ?o }} WHERE {{ <{CAPEC_66}> ?p ?o }}"
UPDATE = "INSERT DATA { <http://example.org/s> <http://example.org/p> <http://example.org/o> }"
SERVICE = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"


def query(client, sparql, accept=None, method="GET", **params):
    headers = {"Accept": accept} if accept else {}
    if method == "GET":
        return client.get("/sparql", query_string={"query": sparql, **params}, headers=headers)
    return client.post("/sparql", data={"query": sparql, **params}, headers=headers)


def text(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- request forms and result formats


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_select_json(client, method):
    response = query(client, LABEL_OF_66, method=method)
    assert response.status_code == 200 and response.mimetype == "application/sparql-results+json"
    (binding,) = response.json["results"]["bindings"]
    assert binding["label"] == {"type": "literal", "value": "SQL Injection"}
    assert "X-ThreatKG-Truncated" not in response.headers


def test_post_application_sparql_query(client):
    response = client.post("/sparql", data=LABEL_OF_66.encode(), content_type="application/sparql-query",
                           headers={"Accept": "text/csv"})
    assert response.status_code == 200 and text(response).splitlines() == ["label", "SQL Injection"]


@pytest.mark.parametrize("accept, format_param", [("application/sparql-results+xml", "xml"), ("text/csv", "csv"),
                                                  ("text/tab-separated-values", "tsv")])
def test_select_formats_by_accept_and_by_parameter(client, accept, format_param):
    by_accept = query(client, COMPONENTS, accept)
    by_param = query(client, COMPONENTS, "application/json", format=format_param)
    assert by_accept.mimetype == by_param.mimetype == accept
    assert text(by_accept) == text(by_param)
    if accept == "text/csv":
        rows = list(csv.DictReader(io.StringIO(text(by_accept))))
        assert {"c": f"https://w3id.org/threatkg/model/{SYSTEM}/ai-model", "label": "AI Model (Inference)"} in rows
    elif accept.endswith("xml"):
        assert "AI Model (Inference)" in text(by_accept) and "<sparql" in text(by_accept)
    else:
        assert f"<https://w3id.org/threatkg/model/{SYSTEM}/ai-model>\t\"AI Model (Inference)\"" in text(by_accept)


@pytest.mark.parametrize("accept, expected", [("application/sparql-results+json", '"boolean": true'),
                                              ("application/sparql-results+xml", "<boolean>true</boolean>")])
def test_ask(client, accept, expected):
    response = query(client, f"ASK {{ <{CAPEC_66}> tm:relatedWeakness ?w }}", accept)
    assert response.status_code == 200 and expected in text(response)


@pytest.mark.parametrize("accept, fmt", [("text/turtle", RdfFormat.TURTLE), ("application/ld+json", RdfFormat.JSON_LD),
                                         ("application/n-triples", RdfFormat.N_TRIPLES),
                                         ("application/rdf+xml", RdfFormat.RDF_XML)])
def test_construct_formats(client, accept, fmt):
    response = query(client, CONSTRUCT_66, accept)
    assert response.status_code == 200 and response.mimetype == accept
    triples = list(parse(response.get_data(), format=fmt))
    assert len(triples) > 10
    assert (CAPEC_66, "SQL Injection") in {(t.subject.value, t.object.value) for t in triples
                                           if t.predicate.value == str(RDFS.label)}


def test_describe(client):
    response = query(client, f"DESCRIBE <{CAPEC_66}>", "text/turtle")
    assert "SQL Injection" in text(response)


def test_graph_results_refuse_solution_formats(client):
    response = query(client, CONSTRUCT_66, "text/csv")
    assert response.status_code == 406 and "text/turtle" in text(response)


def test_project_prefixes_are_predeclared(client):
    response = query(client, "SELECT ?c WHERE { stride:Spoofing rdfs:label ?c }")
    assert response.json["results"]["bindings"][0]["c"]["value"] == "Spoofing"


# ---------------------------------------------------------------- the RDF dataset


def test_default_graph_is_the_union_of_every_graph(client):
    response = query(client, f"ASK {{ <{CAPEC_66}> ?p ?o . ?c a tm:Component }}")
    assert response.json["boolean"] is True


def test_default_graph_uri_restricts_the_default_graph(client):
    response = query(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s rdfs:label ?l }", **{"default-graph-uri": MODEL_GRAPH})
    model_labels = int(response.json["results"]["bindings"][0]["n"]["value"])
    everything = query(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s rdfs:label ?l }")
    assert 0 < model_labels < int(everything.json["results"]["bindings"][0]["n"]["value"])
    assert query(client, LABEL_OF_66, **{"default-graph-uri": MODEL_GRAPH}).json["results"]["bindings"] == []


def test_named_graph_uri_restricts_graph_patterns(client):
    response = query(client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": MODEL_GRAPH})
    assert [b["g"]["value"] for b in response.json["results"]["bindings"]] == [MODEL_GRAPH]


def test_bad_graph_iri_is_400(client):
    response = query(client, LABEL_OF_66, **{"default-graph-uri": "not an iri"})
    assert response.status_code == 400 and "default-graph-uri" in text(response)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("request_kwargs", [
    {"query_string": {"update": UPDATE}},
    {"method": "POST", "data": {"update": UPDATE}},
    {"method": "POST", "data": UPDATE, "content_type": "application/sparql-update"},
    {"query_string": {"query": UPDATE}},
    {"query_string": {"query": "PREFIX ex: <http://example.org/> # a comment\nDELETE WHERE { ?s ex:p ?o }"}},
    {"method": "POST", "data": "drop all", "content_type": "application/sparql-query"},
])
def test_updates_are_refused(client, request_kwargs):
    response = client.open("/sparql", **request_kwargs)
    assert response.status_code == 400 and text(response).strip() == READ_ONLY


@pytest.mark.parametrize("sparql", [
    SERVICE,
    "select * { service silent ?endpoint { ?s ?p ?o } }",
    # an escaped quote or hash in a prefixed name starts no string or comment that could hide SERVICE
    "PREFIX ex: <http://example.org/> SELECT * { ?s ex:a\\' ?o . SERVICE <http://example.org/q> { ?s ?p ?o } }",
    "PREFIX : <http://example.org/> SELECT * { ?s :a\\# ?o . SERVICE <http://example.org/q> { ?s ?p ?o } }",
])
def test_service_is_refused(client, sparql):
    response = query(client, sparql, method="POST")
    # refused on its parsed form: as SERVICE, or as text the grammar does not accept (never evaluated)
    assert response.status_code == 400
    assert "SERVICE is disabled" in text(response) or text(response).startswith("SPARQL syntax error:")


def test_lexing_stays_linear_on_hostile_input(client):
    for sparql in ['"a\\' * 100_000, "ab." * 100_000, '"""' + "a\\" * 100_000, "a:" * 100_000]:
        started = time.monotonic()
        assert query(client, sparql, method="POST").status_code == 400
        assert time.monotonic() - started < 5, sparql[:10]


def test_service_in_strings_iris_and_comments_is_no_keyword(client):
    sparql = 'SELECT ?x WHERE { BIND("SERVICE" AS ?x) <http://example.org/SERVICE> ?p ?o } # SERVICE'
    assert query(client, sparql).status_code == 200


def test_syntax_error_is_400_with_the_parser_message(client):
    response = query(client, "SELECT ?x WHERE { ?x ?y }")
    assert response.status_code == 400
    assert text(response).startswith("SPARQL syntax error: ") and "line 1, column" in text(response)


def test_other_post_content_types_are_415(client):
    response = client.post("/sparql", data=json.dumps({"query": LABEL_OF_66}), content_type="application/json")
    assert response.status_code == 415 and "application/sparql-query" in text(response)


def test_too_large_a_request_is_413(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = query(client, LABEL_OF_66 + " " * 2000, method="POST")
    assert response.status_code == 413 and "Traceback" not in text(response)


def test_two_queries_are_400(client):
    response = client.get("/sparql", query_string=[("query", LABEL_OF_66), ("query", LABEL_OF_66)])
    assert response.status_code == 400


# ---------------------------------------------------------------- limits


def test_results_beyond_the_cap_are_cut_and_flagged(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SPARQL_MAX_ROWS", 3)
    response = query(client, COMPONENTS)
    assert len(response.json["results"]["bindings"]) == 3
    assert response.headers["X-ThreatKG-Truncated"] == "true; limit=3"
    graph = query(client, CONSTRUCT_66, "application/n-triples")
    assert len(text(graph).splitlines()) == 3 and graph.headers["X-ThreatKG-Truncated"] == "true; limit=3"


def test_a_query_past_the_time_limit_is_503(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SPARQL_TIMEOUT", 0.01)
    # a cross product of every label with itself: bounded (a few seconds) but far past the limit
    response = query(client, "SELECT (COUNT(*) AS ?n) WHERE { ?a rdfs:label ?b . ?c rdfs:label ?d }")
    assert response.status_code == 503 and "longer than 0.01 s" in text(response)
    assert response.headers["Retry-After"]


def cross_product_store(size=1500) -> Store:
    store = Store()
    store.extend(Quad(NamedNode(f"http://example.org/{i}"), NamedNode("http://example.org/p"), Literal(i))
                 for i in range(size))
    return store


def test_run_stops_a_slow_query_and_frees_its_slot_at_once():
    slots = threading.BoundedSemaphore(1)
    sparql = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d }"
    with pytest.raises(Refused) as refused:
        run(cross_product_store(), sparql, max_rows=10, timeout=0.01, slots=slots)
    assert refused.value.status == 503 and "stopped" in str(refused.value)
    assert slots.acquire(timeout=0.5)   # the evaluation was killed: its slot is free at once
    slots.release()


def test_run_refuses_when_every_slot_is_taken():
    slots = threading.BoundedSemaphore(1)
    slots.acquire()
    with pytest.raises(Refused) as refused:
        run(cross_product_store(10), "ASK { ?s ?p ?o }", max_rows=10, timeout=0.05, slots=slots)
    assert refused.value.status == 503 and "busy" in str(refused.value)


def test_a_long_query_without_a_long_slot_is_stopped_and_a_quick_one_runs():
    slots, long_slots = threading.BoundedSemaphore(2), threading.BoundedSemaphore(1)
    long_slots.acquire()      # another query runs long
    sparql = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d }"
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"   # hours, on any machine
    started = time.monotonic()
    with pytest.raises(Refused) as refused:
        run(cross_product_store(), runaway, max_rows=10, timeout=30, slots=slots, long_slots=long_slots)
    assert refused.value.status == 503 and "busy with other long queries" in str(refused.value)
    assert time.monotonic() - started < 5                 # stopped once it ran long, not at the deadline
    quick = run(cross_product_store(10), "ASK { ?s ?p ?o }", max_rows=10, timeout=5, slots=slots,
                long_slots=long_slots)
    assert quick.boolean
    long_slots.release()
    assert run(cross_product_store(300), sparql, max_rows=10, timeout=30, slots=slots,
               long_slots=long_slots).rows[0][0].value == str(300 * 300)
    assert all(s.acquire(blocking=False) for s in (slots, slots, long_slots))   # every slot given back


def test_a_query_running_long_yields_the_cpu(monkeypatch):
    seen = []
    monkeypatch.setattr(query_worker.os, "setpriority", lambda which, pid, nice: seen.append(nice))
    assert query_worker.run_confined(lambda: time.sleep(0.5) or b"slow", 5, None) == b"slow"
    assert query_worker.run_confined(lambda: b"quick", 5, None) == b"quick"
    assert seen == [19]


# ---------------------------------------------------------------- CORS, no query


def test_cors(client):
    assert query(client, LABEL_OF_66).headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/sparql", headers={"Origin": "https://yasgui.example",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    assert "X-ThreatKG-Truncated" in preflight.headers["Access-Control-Expose-Headers"]


def test_without_a_query_a_service_description(client):
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=text(response), format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert (URIRef("http://localhost/sparql"), URIRef(sd + "supportedLanguage"), URIRef(sd + "SPARQL11Query")) in graph
    assert URIRef(MODEL_GRAPH) in set(graph.objects(None, URIRef(sd + "name")))


def test_browsers_without_a_query_go_to_the_console(client):
    response = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/sparql-console")


# ---------------------------------------------------------------- SPARQLWrapper on a served instance


@pytest.fixture
def endpoint(live_server):
    def make(sparql, return_format=JSON, method=None):
        wrapper = SPARQLWrapper(live_server + "/sparql")
        wrapper.setQuery(sparql)
        wrapper.setReturnFormat(return_format)
        if method:
            wrapper.setMethod(method)
        return wrapper
    return make


@pytest.mark.parametrize("method", [None, POST])
def test_sparqlwrapper_select_json(endpoint, method):
    result = endpoint(COMPONENTS, JSON, method).queryAndConvert()
    labels = {b["label"]["value"] for b in result["results"]["bindings"]}
    assert {"AI Model (Inference)", "API Gateway / Proxy"} <= labels


def test_sparqlwrapper_select_xml(endpoint):
    document = endpoint(LABEL_OF_66, XML).queryAndConvert()
    assert isinstance(document, xml.dom.minidom.Document)
    assert document.getElementsByTagName("literal")[0].firstChild.data == "SQL Injection"


def test_sparqlwrapper_select_csv(endpoint):
    rows = list(csv.reader(io.StringIO(endpoint(LABEL_OF_66, CSV).queryAndConvert().decode("utf-8"))))
    assert rows == [["label"], ["SQL Injection"]]


def test_sparqlwrapper_ask(endpoint):
    assert endpoint(f"ASK {{ <{CAPEC_66}> rdfs:label ?l }}").queryAndConvert()["boolean"] is True
    assert endpoint("ASK { <http://example.org/nothing> ?p ?o }").queryAndConvert()["boolean"] is False


def test_sparqlwrapper_construct_turtle(endpoint):
    turtle = endpoint(CONSTRUCT_66, TURTLE).queryAndConvert()
    graph = Graph().parse(data=turtle.decode("utf-8") if isinstance(turtle, bytes) else turtle, format="turtle")
    assert str(graph.value(URIRef(CAPEC_66), RDFS.label)) == "SQL Injection"


def test_sparqlwrapper_update_is_refused(endpoint):
    with pytest.raises(QueryBadFormed, match="read-only"):
        endpoint(UPDATE, JSON, POST).query()


def test_sparqlwrapper_service_is_refused(endpoint):
    with pytest.raises(QueryBadFormed, match="SERVICE is disabled"):
        endpoint(SERVICE).query()


def test_sparqlwrapper_syntax_error(endpoint):
    with pytest.raises(QueryBadFormed, match="SPARQL syntax error"):
        endpoint("SELECT ?x WHERE { ?x ").query()
