"""Entity IRIs under https://w3id.org/threatkg/ dereference with content negotiation: RDF clients get
the resource's description (Turtle, JSON-LD, N-Triples), browsers a 303 to its page; 404 for unknown
IRIs, 406 for media types on offer nowhere. Over real HTTP as `curl -H 'Accept: text/turtle'` would."""

import pytest
import requests
from pyoxigraph import RdfFormat, parse
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg.namespaces import TM
from tests.web.conftest import SYSTEM

BASE = "https://w3id.org/threatkg/"
CAPEC_66 = URIRef(BASE + "id/capec/CAPEC-66")
CWE_89 = URIRef(BASE + "id/cwe/CWE-89")
AI_MODEL = URIRef(BASE + f"model/{SYSTEM}/ai-model")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def turtle(client, path) -> Graph:
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    assert response.headers["Vary"] == "Accept"
    return Graph().parse(data=response.get_data(as_text=True), format="turtle")


def test_curl_gets_turtle_for_a_catalog_entry(live_server):
    response = requests.get(live_server + "/id/capec/CAPEC-66", headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    assert graph.value(CAPEC_66, RDFS.label) == Literal("SQL Injection")
    assert (CAPEC_66, TM.relatedWeakness, CWE_89) in graph


def test_entry_description_has_labels_of_linked_entries_and_link_provenance(client):
    graph = turtle(client, "/id/capec/CAPEC-66")
    assert "SQL" in str(graph.value(CWE_89, RDFS.label))
    assert set(graph.predicates(CWE_89)) == {RDFS.label}           # linked entries: their labels only
    axioms = [a for a in graph.subjects(OWL.annotatedSource, CAPEC_66)
              if graph.value(a, OWL.annotatedTarget) == CWE_89]
    assert axioms and str(graph.value(axioms[0], TM.provenance)).endswith("Official")
    consequences = list(graph.objects(CAPEC_66, TM.hasConsequence))  # parts under its own IRI come along
    assert consequences and all(graph.value(c, RDF.type) == TM.Consequence for c in consequences)


def test_model_element_description(client):
    graph = turtle(client, f"/model/{SYSTEM}/ai-model")
    assert graph.value(AI_MODEL, RDFS.label) == Literal("AI Model (Inference)")
    zone = graph.value(AI_MODEL, TM.inZone)
    assert graph.value(zone, RDFS.label) == Literal("Internal network - interface to DMZ")
    assert len(set(graph.objects(AI_MODEL, RDF.type))) > 1                # asserted and inferred kinds


@pytest.mark.parametrize("accept, fmt", [("application/ld+json", RdfFormat.JSON_LD),
                                         ("application/n-triples", RdfFormat.N_TRIPLES)])
def test_other_rdf_formats(client, accept, fmt):
    response = client.get("/id/capec/CAPEC-66", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == accept
    triples = list(parse(response.get_data(), format=fmt))
    assert ("SQL Injection" in {t.object.value for t in triples if t.subject.value == str(CAPEC_66)})
    assert len(triples) == len(turtle(client, "/id/capec/CAPEC-66"))


@pytest.mark.parametrize("headers", [{}, {"Accept": "*/*"}])
def test_turtle_by_default(client, headers):
    response = client.get("/id/stride/Spoofing", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/turtle"


@pytest.mark.parametrize("path, page", [
    ("/id/capec/CAPEC-66", "/threat/capec/CAPEC-66"),
    ("/id/owasp/A03:2021", "/threat/owasp/A03:2021"),
    ("/id/stride/Spoofing", "/threat/stride/Spoofing"),
    (f"/model/{SYSTEM}/ai-model", f"/system/{SYSTEM}/component/ai-model"),
    (f"/model/{SYSTEM}", f"/system/{SYSTEM}"),
])
def test_browsers_are_redirected_to_the_page(client, path, page):
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 303 and response.headers["Location"] == page
    assert client.get(page).status_code == 200


@pytest.mark.parametrize("path", ["/id/capec/CAPEC-999999", f"/model/{SYSTEM}/nope", "/model/nope"])
def test_unknown_iris_are_404(client, path):
    for accept in ("text/turtle", "text/html"):
        assert client.get(path, headers={"Accept": accept}).status_code == 404


def test_unsupported_media_type_is_406(client):
    response = client.get("/id/capec/CAPEC-66", headers={"Accept": "image/png"})
    assert response.status_code == 406 and "text/turtle" in response.get_data(as_text=True)
