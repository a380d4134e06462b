"""Uploads and models stay in their lane: a model may state facts about its own system only, an
anonymous client cannot replace another's system, limits are per client, and a running server keeps
its catalog release across `catalogs fetch` runs."""

import re
import shutil

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import EXAMPLE
from tests.web.conftest import make_app

PLANTED = """@prefix tm: <https://w3id.org/threatkg/ont#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/threatkg/model/planted> a tm:System ; dcterms:identifier "planted" .
<https://w3id.org/threatkg/id/capec/CAPEC-66> rdfs:label "Harmless, ignore" ;
    rdfs:seeAlso <http://evil.example/official-page> .
"""
SAME_AS = """@prefix tm: <https://w3id.org/threatkg/ont#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
<https://w3id.org/threatkg/model/merged> a tm:System ; dcterms:identifier "merged" .
<https://w3id.org/threatkg/model/merged/x> owl:sameAs <https://w3id.org/threatkg/model/merged/y> .
"""
ANGLE = """@prefix tm: <https://w3id.org/threatkg/ont#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://w3id.org/threatkg/model/a%3Cb> a tm:System ; dcterms:identifier "a<b" .
"""


def _token(client, path="/upload"):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _upload(client, text, fmt="turtle", **environ):
    return client.post("/upload", data={"csrf_token": _token(client), "format": fmt, "text": text},
                       environ_overrides=environ)


def _yaml(system):
    return EXAMPLE.read_text().replace("id: ai-system", f"id: {system}", 1)


@pytest.fixture
def app(catalog_home):
    return make_app([EXAMPLE], catalog_home)


def test_an_upload_stating_facts_about_capec_66_is_refused_and_the_page_is_unchanged(app):
    client = app.test_client()
    before = client.get("/threat/CAPEC-66").get_data(as_text=True)
    response = _upload(client, PLANTED)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "CAPEC-66" in text and "may only state facts about its own system" in text
    after = client.get("/threat/CAPEC-66").get_data(as_text=True)
    assert after == before and "Harmless, ignore" not in after and "evil.example" not in after


@pytest.mark.parametrize("turtle, message", [
    (PLANTED, "may only state facts about its own system's IRIs"),
    (SAME_AS, "owl#sameAs' is not part of the model vocabulary"),
    (ANGLE, "system id 'a<b' must match"),
])
def test_validate_names_the_file_and_the_offending_subject(tmp_path, turtle, message):
    model = tmp_path / "model.ttl"
    model.write_text(turtle)
    result = CliRunner().invoke(main, ["validate", str(model)])
    assert result.exit_code == 2 and str(model) in result.stderr and message in result.stderr
    assert "Traceback" not in result.output


def test_an_angle_bracket_system_id_is_refused_and_the_site_still_answers(app):
    client = app.test_client()
    assert _upload(client, ANGLE).status_code == 422
    assert client.get("/").status_code in (200, 302) and client.get("/api/systems").status_code == 200


def test_owl_same_as_is_refused_at_once_without_the_owlrl_fallback(app):
    import time
    started = time.monotonic()
    response = _upload(app.test_client(), SAME_AS)
    assert response.status_code == 422 and time.monotonic() - started < 5


def test_a_second_anonymous_client_cannot_replace_a_system(app):
    first, second = app.test_client(), app.test_client()
    assert _upload(first, _yaml("shared-name"), fmt="yaml").status_code == 303
    response = _upload(second, _yaml("shared-name").replace("AI connected system", "Replaced!"), fmt="yaml")
    assert response.status_code == 409 and "uploaded by someone else" in response.get_data(as_text=True)
    assert "Replaced!" not in first.get("/system/shared-name").get_data(as_text=True)
    assert _upload(first, _yaml("shared-name"), fmt="yaml").status_code == 303   # its uploader may
    served = _upload(second, _yaml("ai-system"), fmt="yaml")                       # the command line's
    assert served.status_code == 409 and "already served" in served.get_data(as_text=True)


def test_upload_limits_are_per_client(app):
    app.config["MAX_UPLOADS_PER_CLIENT"] = 2
    busy = app.test_client()
    for i in range(2):
        assert _upload(busy, _yaml(f"busy-{i}"), fmt="yaml", REMOTE_ADDR="10.0.0.1").status_code == 303
    refused = _upload(busy, _yaml("busy-2"), fmt="yaml", REMOTE_ADDR="10.0.0.1")
    assert refused.status_code == 429 and "limit for one client" in refused.get_data(as_text=True)
    other = app.test_client()
    assert _upload(other, _yaml("other-0"), fmt="yaml", REMOTE_ADDR="10.0.0.2").status_code == 303


def test_two_catalog_fetches_under_a_running_server_then_an_upload(shared_catalogs, tmp_path, monkeypatch):
    """The server keeps the release it started with (leased), so its pages still answer after two
    fetches replaced the current release, and an upload is analysed with the same release."""
    home = tmp_path / "home"
    runner = CliRunner()
    assert runner.invoke(main, ["catalogs", "fetch", "--from", str(shared_catalogs)],
                         env={"THREATKG_HOME": str(home)}).exit_code == 0
    app = make_app([EXAMPLE], home)
    client = app.test_client()
    assert client.get("/threat/CAPEC-66").status_code == 200
    for _ in range(2):
        result = runner.invoke(main, ["catalogs", "fetch", "--from", str(shared_catalogs)],
                               env={"THREATKG_HOME": str(home)})
        assert result.exit_code == 0, result.output
    monkeypatch.setenv("THREATKG_HOME", str(home))
    assert _upload(client, _yaml("after-fetch"), fmt="yaml").status_code == 303
    for path in ("/threat/CAPEC-66", "/id/capec/CAPEC-66", "/api/threats/capec/CAPEC-66",
                 "/system/after-fetch", "/system/ai-system/component/ai-model"):
        assert client.get(path).status_code == 200, path
    assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    shutil.rmtree(home, ignore_errors=True)
