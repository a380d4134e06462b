"""Uploads stay in their lane: a model may state facts about its own system only, an anonymous client
cannot replace another's system, limits are per client, validation and reasoning run in a bounded
child process (never the owlrl fallback unless configured), and a running server keeps its catalog
release across `catalogs fetch` runs."""

import re
import resource
import shutil
import threading
import time

import pytest
import yaml
from click.testing import CliRunner

from bench.generate import generate
from kg.cli import main
from kg.model import lane
from kg.web import upload_worker
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
BIG = yaml.safe_dump(generate(1000, system="big"))   # about 6 s of validation and reasoning
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
    pages = {"/threat/CAPEC-66": {}, "/id/capec/CAPEC-66": {"Accept": "text/turtle"}, "/api/threats/capec/CAPEC-66": {}}
    before = {url: client.get(url, headers=headers).get_data(as_text=True) for url, headers in pages.items()}
    response = _upload(client, PLANTED)
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "pasted.ttl" in text
    assert ("&#39;https://w3id.org/threatkg/id/capec/CAPEC-66&#39;: a model may only state facts about its own "
            "system&#39;s IRIs (https://w3id.org/threatkg/model/planted/…)") in text
    for url, headers in pages.items():
        after = client.get(url, headers=headers).get_data(as_text=True)
        assert after == before[url] and "Harmless, ignore" not in after and "evil.example" not in after, url
    assert "planted" not in client.get("/api/systems").get_data(as_text=True)


def test_an_angle_bracket_system_id_is_refused_and_the_site_still_answers(app):
    client = app.test_client()
    response = _upload(client, ANGLE)
    assert response.status_code == 422 and "system id &#39;a&lt;b&#39; must match" in response.get_data(as_text=True)
    assert client.get("/").status_code in (200, 302)
    systems = client.get("/api/systems")
    assert systems.status_code == 200 and "a<b" not in systems.get_data(as_text=True)


def test_owl_same_as_is_refused_at_once(app):
    started = time.monotonic()
    response = _upload(app.test_client(), SAME_AS)
    assert response.status_code == 422 and time.monotonic() - started < 5
    assert "owl#sameAs&#39; is not part of the model vocabulary" in response.get_data(as_text=True)


def test_an_upload_needing_the_owlrl_fallback_is_refused_naming_the_construct(app, monkeypatch):
    """The second wall, behind the lane (bypassed here): the worker refuses before owlrl runs."""
    monkeypatch.setattr(lane, "problems", lambda *args: [])
    started = time.monotonic()
    response = _upload(app.test_client(), SAME_AS)
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and time.monotonic() - started < 5
    assert "fast reasoner does not implement owl:sameAs, and uploads are not reasoned with the slow owlrl" in text
    assert "merged" not in app.test_client().get("/api/systems").get_data(as_text=True)


@pytest.mark.slow
def test_the_owlrl_fallback_runs_on_an_upload_when_configured(catalog_home, monkeypatch):
    monkeypatch.setattr(lane, "problems", lambda *args: [])
    app = make_app([], catalog_home, UPLOAD_OWLRL_FALLBACK=True)
    assert _upload(app.test_client(), SAME_AS).status_code == 303
    assert app.extensions["registry"].get("merged").inference.engine == "owlrl"


def test_validation_and_reasoning_stop_at_the_upload_timeout(app):
    app.config["UPLOAD_TIMEOUT"] = 0.3
    started = time.monotonic()
    response = _upload(app.test_client(), BIG, fmt="yaml")
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and time.monotonic() - started < 3
    assert "pasted.yaml" in text and "took longer than 0.3 s, the limit for an upload" in text
    assert "big" not in app.extensions["registry"].systems()


MEMORY_LIMIT_RUN = """
import json, sys
from tests.web.conftest import make_app
from tests.web.test_upload_lane import BIG, _upload
app = make_app([], sys.argv[1])
app.config["UPLOAD_MEMORY_MB"] = 10
response = _upload(app.test_client(), BIG, fmt="yaml")
print(json.dumps([response.status_code, response.get_data(as_text=True), app.extensions["registry"].systems()]))
"""


def test_validation_and_reasoning_stop_at_the_upload_memory_limit(catalog_home):
    """In a fresh server process: the limit counts address space beyond the server's, and a long-running
    process (this test session) has freed heap the child could reuse without growing, which a fresh
    server has not, so the child must meet the limit there."""
    import json
    import subprocess
    import sys
    from pathlib import Path
    run = subprocess.run([sys.executable, "-c", MEMORY_LIMIT_RUN, str(catalog_home)], capture_output=True,
                         text=True, timeout=300, cwd=Path(__file__).resolve().parents[2])
    status, text, systems = json.loads(run.stdout.strip().splitlines()[-1])
    assert status == 422
    assert "needed more than 10 MB, the limit for an upload" in text
    assert "big" not in systems


def test_validation_and_reasoning_run_in_a_child_process(app):
    """The CPU of a 1,000-component upload is spent by the child, not by the server's threads."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    assert _upload(app.test_client(), BIG, fmt="yaml").status_code == 303
    own_after, children_after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    server = own_after.ru_utime - own.ru_utime + own_after.ru_stime - own.ru_stime
    child = children_after.ru_utime - children.ru_utime + children_after.ru_stime - children.ru_stime
    assert child > 2 * server, (child, server)


def test_one_upload_at_a_time_per_client_and_uploads_running_in_all(app, monkeypatch):
    """While a client's upload is being validated, its next one is a 429; past UPLOADS_RUNNING, others
    get a 503; once it is done, both may upload again."""
    started, release = threading.Event(), threading.Event()
    prepare = upload_worker.prepare

    def held(*args):
        started.set()
        release.wait(30)
        return prepare(*args)

    monkeypatch.setattr(upload_worker, "prepare", held)
    app.config["UPLOADS_RUNNING"] = 1
    first = threading.Thread(target=_upload, args=(app.test_client(), _yaml("held"), "yaml"),
                             kwargs={"REMOTE_ADDR": "10.0.1.1"})
    first.start()
    try:
        assert started.wait(30)
        again = _upload(app.test_client(), _yaml("again"), fmt="yaml", REMOTE_ADDR="10.0.1.1")
        assert again.status_code == 429 and "previous upload is still being validated" in again.get_data(as_text=True)
        other = _upload(app.test_client(), _yaml("other"), fmt="yaml", REMOTE_ADDR="10.0.1.2")
        assert other.status_code == 503 and "validating other uploads" in other.get_data(as_text=True)
    finally:
        release.set()
        first.join(60)
    assert {"held"} <= set(app.extensions["registry"].systems())
    assert _upload(app.test_client(), _yaml("other"), fmt="yaml", REMOTE_ADDR="10.0.1.2").status_code == 303


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


@pytest.mark.slow
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
