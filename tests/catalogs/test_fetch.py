"""`threatkg catalogs fetch` / `list`: real downloads from a local HTTP mirror of the shared catalogs,
sha256 verification, atomic install (failed, corrupt, truncated and killed fetches keep the previous
install), --from, --only."""

import functools
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from kg.catalogs import download, installed
from kg.catalogs.sources import SourceFile, load_sources
from kg.cli import main
from kg.errors import InputError

REPO = Path(__file__).resolve().parents[2]
EXPECTED = {
    "capec/3.9": {"attack_patterns": 615, "deprecated": 56, "mitigations": 884},
    "cwe/4.15": {"weaknesses": 964, "categories": 409, "views": 54},
    "asvs/4.0.3": {"requirements": 286, "with_cwe": 268},
    "asvs/5.0.0": {"requirements": 345},
    "atlas/5.6.0": {"techniques": 170, "tactics": 16, "mitigations": 35, "case_studies": 57},
    "cosai/2026-06-10": {"components": 23, "risks": 36, "controls": 35},
    "owasp-top10/2021": {"categories": 10},
    "owasp-top10/2025": {"categories": 10},
    "owasp-llm-top10/2025": {"categories": 10},
}


class _Handler(SimpleHTTPRequestHandler):
    """Serves the catalogs folder; server.faults[path] breaks one file, server.extra adds files."""

    def do_GET(self):
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        if rel in self.server.extra:
            return self._send(self.server.extra[rel])
        fault = self.server.faults.get(rel)
        if fault is None:
            return super().do_GET()
        body = (Path(self.directory) / rel).read_bytes()
        if fault == "corrupt":
            self._send(body[:100] + bytes([body[100] ^ 1]) + body[101:])
        elif fault == "truncate":
            self._send(body[: len(body) // 2])
        else:  # "cut": the connection closes mid-file; "stall": it hangs there until released
            self._send(body, upto=len(body) // 2)
            if fault == "stall":
                self.server.stalled.set()
                self.server.release.wait(60)

    def _send(self, body: bytes, upto: int | None = None):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:upto])
        self.wfile.flush()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(shared_catalogs):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(shared_catalogs)))
    httpd.faults, httpd.extra = {}, {}
    httpd.stalled, httpd.release = threading.Event(), threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def faults(server):
    server.release.clear()
    yield server.faults
    server.faults.clear()
    server.extra.clear()
    server.release.set()


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(download, "BACKOFF", 0.0)
    monkeypatch.setattr(download, "TIMEOUT", (2, 0.5))


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["catalogs", *args], env={"THREATKG_HOME": str(home)})


@pytest.fixture(scope="module")
def home(tmp_path_factory, server):
    """One full fetch + build of every catalog through the HTTP mirror, shared by the module."""
    home = tmp_path_factory.mktemp("home")
    started = time.monotonic()
    result = run(home, "fetch", "--base-url", server.url)
    assert result.exit_code == 0, result.output
    print(f"full fetch + build: {time.monotonic() - started:.1f} s")
    return home


def counts(home: Path) -> dict[str, dict[str, int]]:
    return {g["graph"]: g["counts"] for entry in installed.require(home).catalogs.values() for g in entry["graphs"]}


def assert_kept(home: Path, before: installed.Installation, result):
    """The fetch failed with exit 2, said so, and the previous install is still the current one."""
    assert result.exit_code == 2, result.output
    assert "previous install kept" in result.stderr
    assert "Traceback" not in result.output
    after = installed.require(home)
    assert after.path == before.path and after.manifest == before.manifest
    assert all(f.is_file() for f in after.graph_files())
    assert not list((installed.catalogs_root(home) / "releases").glob(".staging-*"))


def test_sources_match_the_shared_files(shared_catalogs):
    for source in load_sources().values():
        for f in source.files:
            assert download.sha256_of(shared_catalogs / f.path) == (f.sha256, f.size), f.path
            assert f.url or f.note


def test_malformed_sources_yaml(tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text("catalogs:\n  x:\n    version: '1'\n    importer: x\n    licence: y\n"
                   "    files:\n      - {path: x/a.json, sha256: abc, size: 3, url: https://e.org/a}\n")
    with pytest.raises(InputError, match=r"catalogs.x.files\[0\].sha256"):
        load_sources(bad)


def test_full_fetch_counts(home):
    found = counts(home)
    for graph, expected in EXPECTED.items():
        assert {k: found[graph][k] for k in expected} == expected, graph
    current = installed.require(home)
    assert current.catalogs["capec"]["stride_cwe"] == "4.15"
    assert found["capec/3.9"]["with_stride"] > 0
    assert current.inferred_file.is_file() and current.manifest["inferred"]["triples"] > 0
    files = current.catalogs["atlas"]["files"]
    assert files[0]["from"].startswith("http://127.0.0.1:") and len(files[0]["sha256"]) == 64
    assert current.manifest["threatkg_version"] and current.catalogs["cwe"]["built"]
    assert {p.name for p in current.graph_files(["asvs"])} == {"asvs-4.0.3.nq", "asvs-5.0.0.nq"}


def test_list(home, tmp_path):
    listed = run(home, "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    graphs = {g["graph"]: g["counts"] for c in data["catalogs"] for g in c["graphs"]}
    assert graphs["capec/3.9"]["attack_patterns"] == 615 and graphs["cosai/2026-06-10"]["risks"] == 36
    table = run(home, "list")
    assert table.exit_code == 0 and "capec/3.9" in table.stdout and "attack_patterns=615" in table.stdout
    for fmt in ("table", "json"):
        empty = run(tmp_path, "list", "--format", fmt)
        assert empty.exit_code == 0 and "threatkg catalogs fetch" in empty.stdout


@pytest.mark.parametrize("fault", ["corrupt", "truncate", "cut"])
def test_bad_download_keeps_previous_install(home, server, faults, quick_retries, fault):
    before = installed.require(home)
    faults["atlas/ATLAS.yaml"] = fault
    result = run(home, "fetch", "--base-url", server.url, "--only", "atlas")
    assert_kept(home, before, result)
    if fault == "cut":
        assert "connection closed before the end of the file" in result.stderr
    else:
        assert "atlas/ATLAS.yaml" in result.stderr and load_sources()["atlas"].files[0].sha256 in result.stderr
    assert "atlas/5.6.0" in run(home, "list").stdout


def test_network_errors_keep_previous_install(home, server, faults, quick_retries):
    before = installed.require(home)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    faults["cosai-risk-map/risks.yaml"] = "stall"
    cases = [(server.url + "/missing", "HTTP 404"), (f"http://127.0.0.1:{closed_port}", "connection refused"),
             (server.url, "timed out")]
    for base_url, message in cases:
        result = run(home, "fetch", "--base-url", base_url, "--only", "cosai")
        assert_kept(home, before, result)
        assert message in result.stderr and len(result.stderr.strip().splitlines()[-1]) < 400


def test_bad_options(home, tmp_path, server):
    before = installed.require(home)
    for args, message in [(["--only", "capec,nope"], "unknown catalog nope"),
                          (["--from", str(tmp_path), "--only", "atlas"], "missing from the --from folder")]:
        result = run(home, "fetch", *args)
        assert_kept(home, before, result)
        assert message in result.stderr
    both = run(home, "fetch", "--from", str(tmp_path), "--base-url", server.url)
    assert both.exit_code == 2 and "not both" in both.output


def test_zip_member(tmp_path, server, faults):
    member = b"<Weakness_Catalog/>\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("cwec_test.xml", member)
    server.extra.update({"cwe.zip": buffer.getvalue(), "plain.zip": member})
    sha = hashlib.sha256(member).hexdigest()
    spec = SourceFile("cwe/cwec_test.xml", sha, len(member), url=server.url + "/cwe.zip", zip_member="cwec_test.xml")
    download.fetch_file(spec, tmp_path / spec.path)
    assert (tmp_path / spec.path).read_bytes() == member
    not_zip = SourceFile(spec.path, sha, len(member), url=server.url + "/plain.zip", zip_member="cwec_test.xml")
    with pytest.raises(InputError, match="not a zip archive"):
        download.fetch_file(not_zip, tmp_path / "again" / spec.path)


def test_killed_fetch_keeps_previous_install(home, server, faults):
    before = installed.require(home)
    faults["atlas/ATLAS.yaml"] = "stall"
    server.stalled.clear()
    env = {**os.environ, "THREATKG_HOME": str(home), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "catalogs", "fetch", "--base-url", server.url,
                             "--only", "atlas"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert server.stalled.wait(60), "the fetch never reached the stalled file"
        partial = installed.catalogs_root(home) / "releases"
        deadline = time.monotonic() + 30
        while not list(partial.glob(".staging-*/sources/atlas/ATLAS.yaml.part")):
            assert time.monotonic() < deadline, "no partial download in the staging folder"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    after = installed.require(home)
    assert after.path == before.path and after.manifest == before.manifest
    assert run(home, "list").exit_code == 0
    # the next fetch clears what the killed one left behind
    result = run(home, "fetch", "--base-url", server.url + "/missing", "--only", "atlas")
    assert_kept(home, before, result)


def test_from_dir_and_only(home, shared_catalogs, server):
    before = installed.require(home)
    result = run(home, "fetch", "--from", str(shared_catalogs), "--only", "cosai")
    assert result.exit_code == 0, result.output
    after = installed.require(home)
    assert after.release != before.release
    assert after.catalogs["cosai"]["source"] == str(shared_catalogs.resolve())
    assert counts(home)["cosai/2026-06-10"] == before.catalogs["cosai"]["graphs"][0]["counts"]
    assert {n: e for n, e in after.catalogs.items() if n != "cosai"} == \
           {n: e for n, e in before.catalogs.items() if n != "cosai"}
    assert os.path.samefile(after.graph_files(["cwe"])[0], before.graph_files(["cwe"])[0])

    result = run(home, "fetch", "--base-url", server.url, "--only", "atlas")
    assert result.exit_code == 0, result.output
    last = installed.require(home)
    assert last.release != after.release
    assert not os.path.samefile(last.graph_files(["atlas"])[0], after.graph_files(["atlas"])[0])
    assert last.catalogs["atlas"]["graphs"][0]["counts"] == EXPECTED["atlas/5.6.0"]
    assert {n: e for n, e in last.catalogs.items() if n != "atlas"} == \
           {n: e for n, e in after.catalogs.items() if n != "atlas"}
    releases = [p.name for p in (installed.catalogs_root(home) / "releases").iterdir()]
    assert sorted(releases) == sorted([after.release, last.release])


def test_capec_stride_uses_the_cwe_graph(home, tmp_path, shared_catalogs):
    """CAPEC alone derives STRIDE without CWE; fetching CWE later rebuilds CAPEC from its kept
    sources; fetching CAPEC alone again uses the installed CWE graph."""
    full = counts(home)["capec/3.9"]["with_stride"]
    fresh = tmp_path / "home"
    stride = []
    for only in ("capec", "cwe", "capec"):
        result = run(fresh, "fetch", "--from", str(shared_catalogs), "--only", only)
        assert result.exit_code == 0, result.output
        capec = installed.require(fresh).catalogs["capec"]
        stride.append((capec["stride_cwe"], capec["graphs"][0]["counts"]["with_stride"]))
    assert stride[0][0] is None and 0 < stride[0][1] < full
    assert stride[1:] == [("4.15", full), ("4.15", full)]
