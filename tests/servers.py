"""Real SPARQL servers for the tests, on 127.0.0.1: Oxigraph (`oxigraph serve`) and Virtuoso.

Fixtures: `oxigraph` and `virtuoso` (one each per session: use graph names of your own) and
`fresh_oxigraph` (an empty server per test, which the test may stop or kill)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, unavailable

VIRTUOSO_START = REPO / ".ci" / "virtuoso-start"   # also starts the instance CI passes in $THREATKG_VIRTUOSO


@dataclass(frozen=True)
class Server:
    name: str
    base_url: str
    query_url: str
    update_url: str
    gsp_url: str | None          # Graph Store Protocol endpoint
    pid: int | None              # None for a server the tests did not start
    workdir: Path | None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except OSError:
        return False


@contextmanager
def oxigraph_server(workdir: Path):
    """An Oxigraph server storing its data in WORKDIR/db."""
    beside_python = Path(sys.executable).with_name("oxigraph")
    exe = str(beside_python) if beside_python.exists() else shutil.which("oxigraph")
    if exe is None:
        pytest.fail("the `oxigraph` command is missing: pip install '.[test]' installs it", pytrace=False)
    workdir.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{_free_port()}"
    log = workdir / "oxigraph.log"
    with log.open("wb") as out:
        process = subprocess.Popen([exe, "serve", "--location", str(workdir / "db"),
                                    "--bind", base.removeprefix("http://")],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not _answers(base + "/query?" + urllib.parse.urlencode({"query": "ASK {}"})):
            if process.poll() is not None or time.monotonic() > deadline:
                failure = "exited" if process.poll() is not None else "did not answer within 30 s"
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                pytest.fail(f"oxigraph at {base} {failure}; its output ends:\n{tail}", pytrace=False)
            time.sleep(0.2)
        yield Server("oxigraph", base, base + "/query", base + "/update", base + "/store", process.pid,
                     workdir)
    finally:
        process.terminate()
        process.wait()


@contextmanager
def virtuoso_server(workdir: Path):
    """A private Virtuoso storing its data in WORKDIR, started by .ci/virtuoso-start."""
    process = subprocess.Popen([sys.executable, str(VIRTUOSO_START), str(workdir)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = process.stdout.readline().split()
        if not started:
            pytest.fail(f"Virtuoso did not start:\n{process.stderr.read()}", pytrace=False)
        base, pid = started
        yield Server("virtuoso", base, base + "/sparql", base + "/sparql", None, int(pid), workdir)
    finally:
        process.terminate()
        process.wait()


@pytest.fixture(scope="session")
def oxigraph(tmp_path_factory):
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


@pytest.fixture
def fresh_oxigraph(tmp_path):
    with oxigraph_server(tmp_path / "oxigraph") as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory):
    """$THREATKG_VIRTUOSO (a base URL) when set, else a private instance."""
    if base := os.environ.get("THREATKG_VIRTUOSO", "").rstrip("/"):
        yield Server("virtuoso", base, base + "/sparql", base + "/sparql", None, None, None)
    elif shutil.which("virtuoso-t"):
        with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
            yield server
    else:
        unavailable("virtuoso-t is missing (apt-get install virtuoso-opensource)")
