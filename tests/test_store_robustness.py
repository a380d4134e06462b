"""A store on a SPARQL server that misbehaves: bad URLs, refused credentials, no answer, a server that
dies or is not a SPARQL server, an upload killed midway, several server processes on one store, and
removing systems. Every failure is exit 2 with one line naming the store, never a traceback."""

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner

from bench.generate import generate
from kg.cli import main
from kg.store import open_store, registry
from kg.systems import versions
from tests.conftest import EXAMPLE, REPO
from tests.servers import _free_port

CREDENTIALS = ("the store refused the credentials (HTTP 401): set THREATKG_STORE_USER and "
               "THREATKG_STORE_PASSWORD, or THREATKG_STORE_TOKEN")
TM = "https://w3id.org/threatkg/ont#"
REGISTRY = "https://w3id.org/threatkg/graph/registry"


# ------------------------------------------------------------ helpers
@pytest.fixture
def fail_fast(monkeypatch):
    """No retries: a failing store fails at once."""
    monkeypatch.setenv("THREATKG_STORE_RETRIES", "0")


def cli(*args):
    """Run `threatkg ARGS` in this process; the result's output holds stdout and stderr."""
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_store_error(result, *expected):
    """Exit 2, one line of message holding each expected text, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@contextmanager
def tiny_server(respond):
    """An http.server on 127.0.0.1 in a thread, answering every GET and POST with respond(handler,
    stop); yields (base URL, headers of each request received). `stop` is set when the server is
    closed (handlers that wait should wait on it)."""
    received, stop = [], threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(dict(self.headers))
            respond(self, stop)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="tiny-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _reply(handler, status, body=b"", content_type="text/plain", headers=()):
    try:
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except OSError:       # the client gave up first
        pass


def select(server, query: str) -> list[dict]:
    """Rows of a SELECT asked of the server directly (values as strings)."""
    response = requests.post(server.query_url, data={"query": query},
                             headers={"Accept": "application/sparql-results+json"}, timeout=30)
    response.raise_for_status()
    return [{k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]]


def triples_in(server, graph: str) -> int:
    [row] = select(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return int(row["n"])


def registry_mentions(server, iri: str) -> bool:
    return bool(select(server, f"SELECT * WHERE {{ GRAPH <{REGISTRY}> {{ {{ <{iri}> ?p ?o }} UNION "
                               f"{{ ?s ?p <{iri}> }} }} }} LIMIT 1"))


def pending_versions(server, system: str) -> list[dict]:
    """Versions of the system announced in the registry but never made current, with the number of
    triples their model graph holds so far."""
    return select(server, f"""
        PREFIX tm: <{TM}>
        SELECT ?version (COUNT(?s) AS ?triples) WHERE {{
          GRAPH <{REGISTRY}> {{
            ?version a tm:ModelVersion ; tm:versionOf ?system .
            ?system <http://purl.org/dc/terms/identifier> "{system}" .
            FILTER NOT EXISTS {{ ?system tm:currentVersion ?version }}
            FILTER NOT EXISTS {{ ?version <http://purl.org/dc/terms/issued> ?issued }}
          }}
          OPTIONAL {{ GRAPH ?version {{ ?s ?p ?o }} }}
        }} GROUP BY ?version""")


def write_model(path: Path, model: dict) -> Path:
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return path


def listed(url: str) -> dict[str, str]:
    """System id → current version, as `threatkg systems list` shows them."""
    result = cli("systems", "list", "--store", url, "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["system"]: row["version"] for row in json.loads(result.stdout)}


def subprocess_env(**extra) -> dict:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def stop(process: subprocess.Popen):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def kill_server(server):
    """SIGKILL a fresh_oxigraph and wait until its port refuses connections."""
    os.kill(server.pid, signal.SIGKILL)
    port = int(server.base_url.rsplit(":", 1)[1])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return
        time.sleep(0.05)
    pytest.fail(f"{server.base_url} still accepts connections after SIGKILL")


# ------------------------------------------------------------ 1. bad store URLs
@pytest.mark.parametrize("command", [["systems", "list"], ["threats", "ai-system"]], ids=["list", "threats"])
@pytest.mark.parametrize("url, message", [
    ("http://", "not a store URL"),
    ("http://127.0.0.1:{free}", "cannot connect: connection refused"),
    ("http://no-such-host.invalid:7878", "cannot resolve the host"),
], ids=["no-host", "nothing-listens", "unknown-host"])
def test_bad_store_url_is_exit_2_naming_it(command, url, message, fail_fast):
    url = url.format(free=_free_port())
    start = time.monotonic()
    assert_store_error(cli(*command, "--store", url), url, message)
    assert time.monotonic() - start < 15


def test_unknown_scheme_is_exit_2_naming_it(fail_fast, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)     # where a folder store would be made
    assert_store_error(cli("systems", "list", "--store", "htp://x"), "htp://x")
    assert not (tmp_path / "htp:").exists(), "an embedded store was created at ./htp:/x"


# ------------------------------------------------------------ 2. credentials
def _refuse(handler, stop):
    _reply(handler, 401, b"Unauthorized", headers=[("WWW-Authenticate", 'Basic realm="sparql"')])


@pytest.mark.parametrize("env, authorization", [
    ({}, None),
    ({"THREATKG_STORE_TOKEN": "s3cret-token"}, "Bearer s3cret-token"),
    ({"THREATKG_STORE_USER": "alice", "THREATKG_STORE_PASSWORD": "pa:ss"},
     "Basic " + base64.b64encode(b"alice:pa:ss").decode()),
], ids=["none", "token", "user-password"])
def test_refused_credentials(env, authorization, fail_fast, monkeypatch):
    for name in ("THREATKG_STORE_TOKEN", "THREATKG_STORE_USER", "THREATKG_STORE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with tiny_server(_refuse) as (url, received):
        assert_store_error(cli("systems", "list", "--store", url), url, CREDENTIALS)
        assert_store_error(cli("threats", "ai-system", "--store", url), url, CREDENTIALS)
    assert len(received) == 2      # refused credentials are not retried
    assert [h.get("Authorization") for h in received] == [authorization] * 2


# ------------------------------------------------------------ 3. no answer
def _too_slow(handler, stop):
    stop.wait(10)
    _reply(handler, 200)


def test_no_answer_within_the_timeout(fail_fast, monkeypatch):
    monkeypatch.setenv("THREATKG_STORE_TIMEOUT", "1")
    with tiny_server(_too_slow) as (url, received):
        start = time.monotonic()
        assert_store_error(cli("threats", "ai-system", "--store", url), url, "no answer within 1 s")
        assert time.monotonic() - start < 5
        start = time.monotonic()
        assert_store_error(cli("systems", "list", "--store", url), url, "no answer within 1 s")
        assert time.monotonic() - start < 5


# ------------------------------------------------------------ 4. the server goes away, or is no SPARQL server
def test_server_gone_after_an_add(fresh_oxigraph, with_catalogs, fail_fast):
    url = fresh_oxigraph.base_url
    added = cli("systems", "add", EXAMPLE, "--store", url)
    assert added.exit_code == 0, added.output
    assert cli("threats", "ai-system", "--store", url, "--format", "json").exit_code == 0
    kill_server(fresh_oxigraph)
    assert_store_error(cli("threats", "ai-system", "--store", url), url,
                       "cannot connect: connection refused (is the SPARQL server running?)")
    assert_store_error(cli("systems", "list", "--store", url), url, "cannot connect")


def test_server_gone_in_a_separate_process(fresh_oxigraph):
    """The installed command (python -m kg.cli) reports it the same way, exit 2 and no traceback."""
    kill_server(fresh_oxigraph)
    done = subprocess.run([sys.executable, "-m", "kg.cli", "threats", "ai-system", "--store", fresh_oxigraph.base_url],
                          capture_output=True, text=True, timeout=60, env=subprocess_env(THREATKG_STORE_RETRIES="0"))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(fresh_oxigraph.base_url) and "cannot connect" in line


def _html_page(handler, stop):
    _reply(handler, 200, b"<!doctype html><html><body><h1>Welcome</h1></body></html>", "text/html; charset=utf-8")


def test_not_a_sparql_server(fail_fast):
    with tiny_server(_html_page) as (url, _):
        for command in (["threats", "ai-system"], ["systems", "list"]):
            assert_store_error(cli(*command, "--store", url), url, "the answer is not SPARQL results (text/html)")


# ------------------------------------------------------------ 5. an upload killed midway
def test_killed_upload_leaves_the_previous_version(fresh_oxigraph, tmp_path, monkeypatch):
    url = fresh_oxigraph.base_url
    v1 = write_model(tmp_path / "v1.yaml", generate(300, system="killed"))
    changed = generate(300, seed=2, system="killed")
    changed["components"].append({"id": "extra", "label": "Extra store", "kinds": ["database"], "zone": "data"})
    v2 = write_model(tmp_path / "v2.yaml", changed)

    assert cli("systems", "add", v1, "--store", url).exit_code == 0
    [version1] = listed(url).values()
    before = cli("threats", "killed", "--store", url, "--format", "json")
    assert before.exit_code == 0, before.output

    # version 2, uploaded by many small INSERT requests, killed once part of its model graph is in
    upload = subprocess.Popen([sys.executable, "-m", "kg.cli", "systems", "add", str(v2), "--store", url],
                              env=subprocess_env(THREATKG_STORE_GSP="none"),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, pending = time.monotonic() + 60, []
        while not [p for p in pending if int(p["triples"]) > 0]:
            assert upload.poll() is None, f"the upload ended before it could be killed: {upload.stdout.read()!r}"
            assert time.monotonic() < deadline, "no pending version appeared within 60 s"
            time.sleep(0.01)
            pending = pending_versions(fresh_oxigraph, "killed")
        upload.send_signal(signal.SIGKILL)
        upload.wait(timeout=10)
    finally:
        stop(upload)
        upload.stdout.close()
    [killed] = pending_versions(fresh_oxigraph, "killed")    # still announced, never current
    killed_graph = killed["version"]
    assert triples_in(fresh_oxigraph, killed_graph) > 0

    # readers still get version 1, exactly as before
    assert listed(url) == {"killed": version1}
    after = cli("threats", "killed", "--store", url, "--format", "json")
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout) == json.loads(before.stdout)

    # the next upload drops what the killed one left (no grace) and becomes current
    from kg.model.load import load_model
    from kg.model.source import read_text
    monkeypatch.setattr(versions, "PENDING_GRACE", 0)
    store = open_store(url)
    stored = versions.add(store, load_model(str(v2)), read_text(v2))
    assert triples_in(fresh_oxigraph, killed_graph) == 0
    assert triples_in(fresh_oxigraph, killed_graph + "/inferred") == 0
    assert not registry_mentions(fresh_oxigraph, killed_graph)
    assert pending_versions(fresh_oxigraph, "killed") == []
    version3 = stored.iri.rsplit("/", 1)[-1]
    assert version3 not in (version1, killed_graph.rsplit("/", 1)[-1])
    assert listed(url) == {"killed": version3}
    assert registry.snapshot(store).systems["killed"].iri == stored.iri
    rows = json.loads(cli("threats", "killed", "--store", url, "--format", "json").stdout)
    assert "extra" in {r["component"] for r in rows}


# ------------------------------------------------------------ 6. two servers on one store
@contextmanager
def serving(url: str, home: Path):
    """`python -m kg.cli serve --store URL --port 0` in its own process; yields its base URL."""
    process = subprocess.Popen([sys.executable, "-m", "kg.cli", "serve", "--store", url, "--port", "0"],
                               env=subprocess_env(THREATKG_HOME=str(home)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines, started = [], threading.Event()

    def drain():                      # the announcement, then whatever else it logs (the pipe never fills)
        for line in process.stderr:
            lines.append(line)
            if line.startswith("serving "):
                started.set()
        started.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert started.wait(120) and process.poll() is None, f"serve did not start: {''.join(lines)}"
        base = re.search(r"at (http://\S+?)/ ", "".join(lines)).group(1)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/api/systems", timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"{base} does not answer: {''.join(lines)}"
            time.sleep(0.1)
        yield base
    finally:
        stop(process)
        reader.join(timeout=5)
        process.stderr.close()


def upload(base: str, name: str, text: str):
    """Upload a model through the server's form, as a browser would (CSRF token and session cookie)."""
    with requests.Session() as session:
        form = session.get(base + "/upload", timeout=30)
        assert form.status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        response = session.post(base + "/upload", data={"csrf_token": token},
                                files={"model": (name, text.encode("utf-8"), "application/yaml")},
                                allow_redirects=False, timeout=120)
    assert response.status_code == 303, response.text[:2000]
    return response.headers["Location"]


def eventually(check, seconds=15.0):
    """check()'s first truthy value within the time, else the test fails with its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"not within {seconds} s"
            return value
        time.sleep(0.2)


def test_two_servers_see_each_others_uploads(fresh_oxigraph, with_catalogs):
    url = fresh_oxigraph.base_url
    pushed = cli("catalogs", "push", "--store", url)
    assert pushed.exit_code == 0, pushed.output
    example = EXAMPLE.read_text(encoding="utf-8")
    second = example.replace("id: ai-system", "id: ai-system-2", 1).replace(
        "name: AI connected system", "name: AI connected system, second edition", 1)
    assert second != example

    def names(base):
        return {s["id"]: s["name"] for s in requests.get(base + "/api/systems", timeout=60).json()["systems"]}

    with serving(url, with_catalogs) as a, serving(url, with_catalogs) as b:
        assert names(a) == names(b) == {}
        assert upload(a, "ai-system.yaml", example).endswith("/system/ai-system")
        assert eventually(lambda: names(b)) == {"ai-system": "AI connected system"}
        assert requests.get(b + "/system/ai-system", timeout=60).status_code == 200
        assert requests.get(b + "/api/systems/ai-system/threats", timeout=60).json()

        upload(b, "ai-system-2.yaml", second)
        eventually(lambda: names(a) == {"ai-system": "AI connected system",
                                        "ai-system-2": "AI connected system, second edition"})
        page = requests.get(a + "/system/ai-system-2", timeout=60)
        assert page.status_code == 200 and "second edition" in page.text
        # a system kept in the store is never replaced through another server's upload page
        assert requests.get(b + "/upload", timeout=60).status_code == 200
    assert listed(url).keys() == {"ai-system", "ai-system-2"}


# ------------------------------------------------------------ 7. remove
def test_remove_unknown_system_names_it(oxigraph, fail_fast):
    name = f"no-such-system-{uuid.uuid4().hex[:8]}"
    assert_store_error(cli("systems", "remove", name, "--store", oxigraph.base_url), name, "no such system")


def test_remove_drops_the_system_and_its_graphs(oxigraph, tmp_path):
    url, system = oxigraph.base_url, f"removed-{uuid.uuid4().hex[:8]}"
    model = write_model(tmp_path / "small.yaml", generate(8, system=system))
    for _ in range(2):                        # two versions: current and previous
        assert cli("systems", "add", model, "--store", url).exit_code == 0
    versions = [row["version"] for row in select(oxigraph, f"""
        SELECT ?version WHERE {{ GRAPH <{REGISTRY}> {{ ?version <{TM}versionOf> ?system .
          ?system <http://purl.org/dc/terms/identifier> "{system}" }} }}""")]
    assert len(versions) == 2
    assert all(triples_in(oxigraph, v) > 0 and triples_in(oxigraph, v + "/inferred") > 0 for v in versions)
    assert system in listed(url)

    result = cli("systems", "remove", system, "--store", url)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{system}: removed\n"
    assert system not in listed(url)
    for version in versions:
        assert triples_in(oxigraph, version) == 0
        assert triples_in(oxigraph, version + "/inferred") == 0
        assert not registry_mentions(oxigraph, version)
    assert not select(oxigraph, f"""SELECT * WHERE {{ GRAPH <{REGISTRY}> {{
        ?s <http://purl.org/dc/terms/identifier> "{system}" }} }}""")
    assert_store_error(cli("systems", "remove", system, "--store", url), system, "no such system")
