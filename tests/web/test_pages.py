"""Every page through the Flask test client: status, content type, key content; escaping of model
text, CSRF, upload validation and limits, security headers, error pages without stack traces."""

import csv
import io
import json
import re

import pytest

from tests.conftest import EXAMPLE
from tests.web.conftest import SYSTEM, make_app

HTML = "text/html; charset=utf-8"
XSS = '<script>alert("x")</script>'
BAD_MODEL = """system:
  id: broken
  name: Broken
zones:
  - {id: net, label: Net, kind: internal}
components:
  - {id: web, label: Web, kinds: [no-such-kind], zone: net}
  - {id: db, label: DB, kinds: [database], zone: nowhere}
"""
GOOD_MODEL = """system:
  id: tiny
  name: Tiny system
zones:
  - {id: net, label: Net, kind: internal}
components:
  - {id: web, label: Web app, kinds: [web-application], zone: net}
  - {id: db, label: Orders DB, kinds: [database], zone: net}
flows:
  - {id: web-db, source: web, target: db, protocol: sql}
"""


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    assert response.content_type == HTML
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    return text


def token(client, url="/sparql-console") -> str:
    """The CSRF token of the session's forms."""
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page(client, url)).group(1)


# ---------------------------------------------------------------- systems


def test_index_redirects_to_the_only_system(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/system/{SYSTEM}")


def test_overview_counts_threats_by_stride_and_zone(client):
    text = page(client, f"/system/{SYSTEM}")
    assert "AI connected system" in text
    for heading in ("Threats by STRIDE category", "Threats by zone", "Top open risks", "Components", "Data flows"):
        assert heading in text
    assert f'href="/system/{SYSTEM}/component/ai-model"' in text
    assert 'href="/threat/stride/Spoofing"' in text
    assert "Internal network - interface to DMZ" in text
    assert re.search(r'href="/threat/capec/CAPEC-\d+"', text)   # top open risks link to catalog pages


def test_overview_of_unknown_system_is_404(client):
    assert "No system nope" in page(client, "/system/nope", 404)


def test_component_page_explains_each_inherited_threat(client):
    text = page(client, f"/system/{SYSTEM}/component/ai-model")
    assert "AI Model (Inference)" in text
    assert "model inference service" in text and "internal-interface" in text       # kind, zone chain
    assert 'href="/threat/cwe/CWE-89"' in text and "componentModelServing" in text  # catalog links
    assert "auth-model" in text and "crosses boundary" in text                      # flows
    assert 'id="stride-S"' in text and 'id="stride-T"' in text                      # groups by STRIDE
    assert text.count('<details class="threat"') > 10
    assert "<summary>" in text and "ai-model is a model inference service" in text  # explanation chain
    assert "Links this rests on" in text and 'prov-official' in text                # provenance badges
    assert 'href="https://atlas.mitre.org/techniques/' in text                      # official pages
    assert "Why it fits this element" in text and "takes prompts" in text           # conditions met


def test_component_page_says_why_not(client):
    text = page(client, f"/system/{SYSTEM}/component/auth-service")
    excluded = text[text.index('id="excluded"'):]
    assert "CAPEC-509" in excluded and "Kerberoasting" in excluded
    assert "Windows domain" in excluded and "<code>windows-domain</code>" in excluded
    gateway = page(client, f"/system/{SYSTEM}/component/api-gateway")
    assert "+6 more specific" in gateway and "CAPEC-488" in gateway           # children folded under CAPEC-125


def test_component_page_lists_covering_controls(client):
    text = page(client, f"/system/{SYSTEM}/component/api-gateway")
    assert "gateway-authn" in text and "protects it directly" in text
    assert "dmz-isolation" in text and "protects zone dmz" in text


def test_flow_page(client):
    text = page(client, f"/system/{SYSTEM}/component/auth-model")
    assert "From → to" in text and f'href="/system/{SYSTEM}/component/ai-model"' in text


def test_zone_and_control_pages(client):
    zone = page(client, f"/system/{SYSTEM}/component/internal-protected")
    assert "restricted zone" in zone and f'href="/system/{SYSTEM}/component/data-layer"' in zone
    assert "Inherited threats" not in zone
    control = page(client, f"/system/{SYSTEM}/component/dmz-isolation")
    assert "Protects" in control and f'href="/system/{SYSTEM}/component/dmz"' in control


def test_unknown_element_is_404(client):
    assert "no element ghost" in page(client, f"/system/{SYSTEM}/component/ghost", 404)


# ---------------------------------------------------------------- catalog entries


@pytest.mark.parametrize("ident, expected", [
    ("CAPEC-66", ["SQL Injection", 'href="https://capec.mitre.org/data/definitions/66.html"',
                  "http://w3id.org/sepses/resource/capec/CAPEC-66", "d3fend.owl#CAPEC-66",
                  'href="/threat/cwe/CWE-89"', "High", f'href="/system/{SYSTEM}/component/data-layer#t-CAPEC-66"']),
    ("capec/CAPEC-66", ["SQL Injection"]),
    ("AML.T0020", ["Poison Training Data", 'href="https://atlas.mitre.org/techniques/AML.T0020"',
                   'href="/threat/cosai/riskDataPoisoning"']),
    ("riskDataPoisoning", ["Data Poisoning", 'href="/threat/atlas/AML.T0020"', "training-data"]),
    ("Spoofing", ["Pretending to be someone", f'href="/system/{SYSTEM}/component/user#t-Spoofing"']),
    ("CWE-89", ["SQL Command", 'href="/threat/asvs/v4.0.3-5.3.4"', 'href="/threat/capec/CAPEC-66"']),
    ("v4.0.3-5.3.4", ["parameterized", 'href="/threat/asvs/v4.0.3-5.3"', 'href="/threat/cwe/CWE-89"', "level"]),
    ("A03:2021", ["Injection", 'href="https://owasp.org/Top10/A03_2021-Injection/"']),
])
def test_entry_pages(client, ident, expected):
    text = page(client, f"/threat/{ident}")
    for snippet in expected:
        assert snippet in text, snippet


def test_unknown_entry_is_404(client):
    assert "No catalog entry has the id NOPE-1" in page(client, "/threat/NOPE-1", 404)


# ---------------------------------------------------------------- search


def test_search_ranks_the_exact_id_first(client):
    text = page(client, "/search?q=capec-66")
    assert re.search(r'<tbody>\s*<tr><td><a href="/threat/capec/CAPEC-66">CAPEC-66</a>', text)


def test_search_finds_model_elements_and_labels(client):
    assert f'href="/system/{SYSTEM}/component/ai-model"' in page(client, "/search?q=ai-model")
    assert 'href="/threat/atlas/AML.T0020"' in page(client, "/search?q=poison")


def test_search_escapes_the_query(client):
    text = page(client, "/search?q=" + XSS)
    assert XSS not in text and "&lt;script&gt;" in text


# ---------------------------------------------------------------- SPARQL console


def test_console_lists_parameterless_named_queries(client):
    text = page(client, "/sparql-console")
    assert "?example=threats" in text and "?example=kinds" in text
    assert "?example=search" not in text             # takes $q
    assert "tm:partOf" in page(client, "/sparql-console?example=threats")


def test_console_runs_a_query(client):
    response = client.post("/sparql-console", data={
        "csrf_token": token(client), "format": "html",
        "query": "SELECT ?c ?label WHERE { ?c a tm:Component ; rdfs:label ?label } ORDER BY ?c"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "9 rows" in text and "AI Model (Inference)" in text
    assert f'href="/system/{SYSTEM}/component/ai-model"' in text


@pytest.mark.parametrize("fmt, mimetype", [("csv", "text/csv"), ("json", "application/sparql-results+json")])
def test_console_downloads(client, fmt, mimetype):
    response = client.post("/sparql-console", data={
        "csrf_token": token(client), "format": fmt,
        "query": "SELECT ?id WHERE { ?c a tm:Component ; dcterms:identifier ?id } ORDER BY ?id"})
    assert response.status_code == 200 and response.mimetype == mimetype
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    if fmt == "csv":
        ids = [row[0] for row in csv.reader(io.StringIO(body))][1:]
    else:
        ids = [b["id"]["value"] for b in json.loads(body)["results"]["bindings"]]
    assert ids[0] == "ai-model" and len(ids) == 9


def test_console_caps_rows(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "CONSOLE_ROW_LIMIT", 3)
    response = client.post("/sparql-console", data={"csrf_token": token(client),
                                                    "query": "SELECT * WHERE { ?s ?p ?o }"})
    assert "3 rows (the first 3" in response.get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "SERVICE is disabled"),
    ("SELECT * WHERE { ?s ex:a\\' ?o . SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "SERVICE is disabled"),
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "read-only"),
    ("SELECT WHERE {", "SPARQL syntax error"),
])
def test_console_refuses_service_updates_and_bad_syntax(client, query, message):
    response = client.post("/sparql-console", data={"csrf_token": token(client), "query": query})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_service_inside_strings_and_iris_is_not_a_keyword(client):
    query = 'SELECT ?x WHERE { VALUES ?x { "SERVICE" <urn:SERVICE> } } # SERVICE'
    response = client.post("/sparql-console", data={"csrf_token": token(client), "query": query})
    assert response.status_code == 200 and "2 rows" in response.get_data(as_text=True)


# ---------------------------------------------------------------- security


@pytest.mark.parametrize("url, data", [("/sparql-console", {"query": "ASK {}"}),
                                       ("/upload", {"text": GOOD_MODEL})])
def test_post_without_csrf_token_is_400(client, url, data):
    page(client, url)   # the session exists, the form token is missing
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    response = client.post(url, data={**data, "csrf_token": "0" * 64})
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/", f"/system/{SYSTEM}", f"/system/{SYSTEM}/component/ai-model",
                                 f"/system/{SYSTEM}/coverage", "/threat/CAPEC-66", "/threat/v4.0.3-5.3.4",
                                 "/search?q=sql", "/sparql-console", "/upload", "/nope"])
def test_security_headers_and_no_inline_code(client, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]
    text = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline script"
    assert not re.search(r"<style|<[^>]*\sstyle=|<[^>]*\son[a-z]+=", text), "inline style or handler"


def test_static_assets(client):
    assert client.get("/static/style.css").mimetype == "text/css"
    assert "javascript" in client.get("/static/app.js").mimetype


def test_internal_errors_show_no_details(client, app, monkeypatch):
    def broken(system):
        raise RuntimeError("secret detail")
    monkeypatch.setattr("kg.web.pages.view", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    text = page(client, f"/system/{SYSTEM}", 500)
    assert "Internal Server Error" in text and "secret detail" not in text and "RuntimeError" not in text


def test_errors_as_json_for_json_clients(client):
    response = client.get("/nope", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.json["status"] == 404


# ---------------------------------------------------------------- model text is escaped, uploads


@pytest.fixture(scope="module")
def stride_app(tmp_path_factory):
    """An app without catalogs (STRIDE only) serving the example and a model whose labels hold markup;
    small upload limit."""
    folder = tmp_path_factory.mktemp("xss")
    model = folder / "xss.yaml"
    model.write_text(GOOD_MODEL.replace("id: tiny", "id: xss").replace("Tiny system", XSS)
                     .replace("Web app", XSS), encoding="utf-8")
    return make_app([EXAMPLE, model], None, MAX_CONTENT_LENGTH=20_000)


@pytest.fixture
def stride_client(stride_app):
    return stride_app.test_client()


@pytest.mark.parametrize("url", ["/", "/system/xss", "/system/xss/component/web", "/system/xss/component/db",
                                 "/system/xss/coverage", "/system/xss/coverage?profile=capec-high",
                                 "/threat/Integrity"])
def test_markup_in_model_labels_renders_as_text(stride_client, url):
    text = page(stride_client, url)
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text


def test_upload_of_a_bad_model_shows_each_element_problem(stride_client):
    response = stride_client.post("/upload", data={"csrf_token": token(stride_client, "/upload"),
                                                   "text": BAD_MODEL, "format": "yaml"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "pasted.yaml:7" in text and "<code>web</code>" in text and "unknown kind" in text
    assert "pasted.yaml:8" in text and "<code>db</code>" in text and "nowhere" in text
    assert "/tmp" not in text   # the server's temporary path stays private


def test_upload_of_a_file_serves_it(stride_client):
    data = {"csrf_token": token(stride_client, "/upload"), "model": (io.BytesIO(GOOD_MODEL.encode()), "tiny.yaml")}
    response = stride_client.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith("/system/tiny")
    assert "Tiny system" in page(stride_client, "/system/tiny")
    assert "Orders DB" in page(stride_client, "/system/tiny/component/db")


def test_upload_of_turtle_with_syntax_error(stride_client):
    response = stride_client.post("/upload", data={"csrf_token": token(stride_client, "/upload"),
                                                   "text": "@prefix tm: <x> .\n tm:a tm:b", "format": "turtle"})
    assert response.status_code == 422 and "pasted.ttl" in response.get_data(as_text=True)


def test_upload_cannot_replace_a_served_model(stride_client):
    response = stride_client.post("/upload", data={"csrf_token": token(stride_client, "/upload"),
                                                   "text": GOOD_MODEL.replace("id: tiny", f"id: {SYSTEM}")})
    assert response.status_code == 409 and "already served" in response.get_data(as_text=True)


def test_upload_too_large_is_413(stride_client):
    response = stride_client.post("/upload", data={"csrf_token": token(stride_client, "/upload"),
                                                   "text": GOOD_MODEL + "#" * 30_000})
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "413" in text and "Request Entity Too Large" in text and "Traceback" not in text


# ---------------------------------------------------------------- threatkg serve


def test_serve_runs_the_app_under_waitress(monkeypatch):
    from click.testing import CliRunner

    from kg.cli import main
    served = {}

    class Server:
        effective_port = 8123

        def run(self):
            served["ran"] = True

        def close(self):
            served["closed"] = True

    def create_server(app, **options):
        served.update(app=app, **options)
        return Server()

    monkeypatch.setattr("waitress.create_server", create_server)
    result = CliRunner().invoke(main, ["serve", str(EXAMPLE), "--port", "8123"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "serving ai-system at http://127.0.0.1:8123/" in result.output
    assert served["host"] == "127.0.0.1" and served["port"] == 8123 and served["ran"] and served["closed"]
    assert served["app"].extensions["registry"].systems() == [SYSTEM] and not served["app"].debug


@pytest.mark.parametrize("path", ["/threat/%3Cscript%3E", "/id/capec/CAPEC-66%3E", "/model/ai-system/a%20b%3E",
                                  "/id/cwe/CWE-89%22", "/system/ai-system/component/%3Cx%3E"])
def test_a_path_that_decodes_to_no_iri_is_404_not_500(client, path):
    response = client.get(path)
    assert response.status_code == 404 and "Traceback" not in response.get_data(as_text=True)
