"""OWASP Top 10 2021 / 2025 and LLM Top 10 2025 importer, read from the official files in place."""

import shutil

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from kg.catalogs import owasp_top10
from kg.errors import InputError
from kg.namespaces import TM, catalog_iri
from tests.catalogs import annotations


@pytest.fixture(scope="module")
def graphs(shared_catalogs):
    return {(cg.name, cg.version): cg.graph for cg in owasp_top10.build(shared_catalogs / "owasp-top10")}


def _members(g, rdf_type):
    return set(g.subjects(RDF.type, rdf_type))


def _provenance(g, s, p, o):
    ax = annotations(g, s, p, o)[0]
    return g.value(ax, TM.provenance), str(g.value(ax, DCTERMS.source))


def test_graph_names(graphs):
    assert set(graphs) == {("owasp-top10", "2021"), ("owasp-top10", "2025"), ("owasp-llm-top10", "2025")}


def test_top10_2021(graphs):
    g = graphs["owasp-top10", "2021"]
    categories = _members(g, TM.Top10Category)
    ids = {str(g.value(c, DCTERMS.identifier)) for c in categories}
    assert ids == {f"A{n:02d}:2021" for n in range(1, 11)}
    a03, cwe89 = catalog_iri("owasp", "A03:2021"), catalog_iri("cwe", "CWE-89")
    assert (a03, TM.includesWeakness, cwe89) in g
    assert _provenance(g, a03, TM.includesWeakness, cwe89) == (TM.Official, "OWASP Top 10 2021")
    assert (a03, RDFS.seeAlso, URIRef("https://owasp.org/Top10/A03_2021-Injection/")) in g
    assert (a03, SKOS.inScheme, catalog_iri("owasp", "Top10-2021")) in g
    assert len(list(g.triples((None, TM.includesWeakness, None)))) == 197


def test_top10_2025(graphs):
    g = graphs["owasp-top10", "2025"]
    assert len(_members(g, TM.Top10Category)) == 10
    a05 = catalog_iri("owasp", "A05:2025")
    assert g.value(a05, RDFS.label) == Literal("Injection")
    assert (a05, TM.includesWeakness, catalog_iri("cwe", "CWE-89")) in g
    assert (a05, RDFS.seeAlso, URIRef("https://owasp.org/Top10/2025/A05_2025-Injection/")) in g


def test_llm_top10(graphs):
    g = graphs["owasp-llm-top10", "2025"]
    assert len(_members(g, TM.LlmTop10Risk)) == 10
    llm01 = catalog_iri("owasp", "LLM01:2025")
    direct = catalog_iri("atlas", "AML.T0051.000")
    assert (llm01, TM.relatedTechnique, direct) in g
    assert _provenance(g, llm01, TM.relatedTechnique, direct)[0] == TM.Official
    assert (llm01, RDFS.seeAlso, URIRef("https://genai.owasp.org/llmrisk/llm01-prompt-injection/")) in g
    llm10 = catalog_iri("owasp", "LLM10:2025")
    assert (llm10, TM.includesWeakness, catalog_iri("cwe", "CWE-400")) in g
    assert Literal("OWASP API Top 10 API4:2023") in set(g.objects(llm10, TM.relatedReference))
    assert (llm10, TM.relatedTactic, catalog_iri("atlas", "AML.TA0000")) in g


def test_page_slugs():
    assert owasp_top10.top10_page("A10:2021", "Server-Side Request Forgery (SSRF)") == \
        "https://owasp.org/Top10/A10_2021-Server-Side_Request_Forgery_%28SSRF%29/"
    assert owasp_top10.top10_page("A09:2025", "Security Logging & Alerting Failures") == \
        "https://owasp.org/Top10/2025/A09_2025-Security_Logging_and_Alerting_Failures/"
    assert owasp_top10.llm_page("LLM02:2025", "Sensitive Information Disclosure") == \
        "https://genai.owasp.org/llmrisk/llm022025-sensitive-information-disclosure/"


@pytest.fixture
def broken_copy(shared_catalogs, tmp_path):
    folder = tmp_path / "owasp-top10"
    shutil.copytree(shared_catalogs / "owasp-top10", folder)
    return folder


def test_missing_column(broken_copy):
    path = broken_copy / "owasp-top10-2025-cwe.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("cwe_id", "cwe", 1), encoding="utf-8")
    with pytest.raises(InputError) as e:
        owasp_top10.build(broken_copy)
    assert "owasp-top10-2025-cwe.csv" in str(e.value) and "cwe_id" in str(e.value)


def test_wrong_typed_field(broken_copy):
    path = broken_copy / "owasp-top10-2021-cwe.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("CWE-", "89-", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        owasp_top10.build(broken_copy)
    problem = e.value.problems[0]
    assert problem.file.endswith("owasp-top10-2021-cwe.csv")
    assert (problem.line, problem.element) == (4, "cwe_id")
