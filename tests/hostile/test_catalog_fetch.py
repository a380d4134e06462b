"""Hostile sources for `catalogs fetch --from DIR` and `--base-url URL` (and hostile option values):
exit 2, a message naming the file or option, no traceback; the catalogs home (installed release and
manifest) byte for byte unchanged. The shared catalogs are copied or served for the files that are not
the hostile one, so each fetch gets as far as the hostile file."""

import gzip
import os
import io
import shutil
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

from kg.catalogs import download
from kg.catalogs.sources import SourceFile, load_sources
from kg.errors import InputError
from tests.hostile.checks import assert_refused, cli
from tests.hostile.corpus import DIGITS, alias_bomb, digest

HOSTILE = "cosai-risk-map/risks.yaml"        # the first file of the small catalog every case fetches
SIZE = next(f.size for f in load_sources()["cosai"].files if f.path == HOSTILE)
CONTENT = {   # content of the expected size at most, but not the expected content
    "xxe": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    "alias bomb": alias_bomb(), "nul bytes": b"risks:\x00\x00", "non-utf-8": b"risks: caf\xe9\n",
    "html page": b"<html><body>Not found</body></html>", "empty": b""}


@pytest.fixture(scope="module")
def home(tmp_path_factory, shared_catalogs):
    """A catalogs home with CoSAI installed; its digest is what must not change."""
    home = tmp_path_factory.mktemp("fetch-home")
    result = cli("catalogs", "fetch", "--from", shared_catalogs, "--only", "cosai", env={"THREATKG_HOME": str(home)})
    assert result.exit_code == 0, result.output
    return home


def fetch(home, *args):
    """A failed `catalogs fetch --only cosai ARGS`: the home unchanged, the output returned."""
    before = digest(home)
    result = cli("catalogs", "fetch", "--only", "cosai", *args, env={"THREATKG_HOME": str(home)})
    assert digest(home) == before, result.output
    return result


# ------------------------------------------------------------ --from DIR
def from_folder(tmp_path, shared_catalogs, make):
    """A --from folder with CoSAI's files, the hostile one made by `make(path)`."""
    folder = tmp_path / "from"
    shutil.copytree(shared_catalogs / "cosai-risk-map", folder / "cosai-risk-map")
    target = folder / HOSTILE
    target.unlink()
    make(target)
    return folder


def sparse(path):
    path.touch()
    with open(path, "r+b") as file:
        file.truncate(SIZE * 1000)


FROM_CASES = {
    **{name: (lambda data: lambda p: p.write_bytes(data))(data) for name, data in CONTENT.items()},
    "symlink out of the folder": lambda p: p.symlink_to("/etc/passwd"),
    "dangling symlink": lambda p: p.symlink_to(p.parent / "nowhere"),
    "/dev/zero": lambda p: p.symlink_to("/dev/zero"),
    "fifo": lambda p: os.mkfifo(p),
    "directory": lambda p: p.mkdir(),
    "huge sparse file": sparse,
}
FROM_SAYS = {"symlink out of the folder": "verification failed", "dangling symlink": "missing from the --from folder",
             "/dev/zero": "not a regular file", "fifo": "not a regular file", "directory": "is a directory",
             "huge sparse file": "larger than the expected"}


@pytest.mark.parametrize("name", FROM_CASES)
def test_from_a_hostile_folder(name, home, tmp_path, shared_catalogs):
    folder = from_folder(tmp_path, shared_catalogs, FROM_CASES[name])
    result = fetch(home, "--from", folder)
    assert_refused(result, HOSTILE, FROM_SAYS.get(name, "verification failed"), "previous install kept")


# ------------------------------------------------------------ --base-url URL
def gzip_bomb() -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as bomb:
        bomb.write(b"\x00" * (SIZE * 200))
    return buffer.getvalue()


class Hostile(BaseHTTPRequestHandler):
    """/<case>/<path>: the shared file, except HOSTILE, which gets the case's answer."""

    def do_GET(self):
        case, _, path = unquote(self.path).lstrip("/").partition("/")
        if path != HOSTILE:
            return self.answer(200, (self.server.shared / path).read_bytes())
        if case in CONTENT:
            return self.answer(200, CONTENT[case])
        answers = {
            "huge body": lambda: self.answer(200, b"\x00" * (SIZE * 4)),
            "content-length of 5000 digits": lambda: self.answer(200, b"x", {"Content-Length": DIGITS}),
            "content-length not a number": lambda: self.answer(200, b"x", {"Content-Length": "many"}),
            "negative content-length": lambda: self.answer(200, b"x", {"Content-Length": "-5"}),
            "redirect loop": lambda: self.answer(302, b"", {"Location": self.path}),
            "redirect to file:": lambda: self.answer(302, b"", {"Location": "file:///etc/passwd"}),
            "gzip bomb": lambda: self.answer(200, gzip_bomb(), {"Content-Encoding": "gzip"}),
            "server error": lambda: self.answer(500, b"Traceback (most recent call last): boom"),
        }
        answers[case]()

    def answer(self, status, body, headers=None):
        headers = {"Content-Length": str(len(body)), **(headers or {})}
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def mirror(shared_catalogs):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.shared = shared_catalogs
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(download, "BACKOFF", 0.0)
    monkeypatch.setattr(download, "TIMEOUT", (2, 2))


URL_SAYS = {"huge body": "larger than the expected", "gzip bomb": "larger than the expected",
            "redirect loop": "too many redirects", "redirect to file:": "not a valid http(s) URL",
            "server error": "HTTP 500", "content-length of 5000 digits": "verification failed",
            "content-length not a number": "verification failed", "negative content-length": "verification failed"}


@pytest.mark.parametrize("case", [*CONTENT, *URL_SAYS])
def test_from_a_hostile_mirror(case, home, mirror, quick):
    result = fetch(home, "--base-url", f"{mirror}/{case}")
    assert_refused(result, HOSTILE, URL_SAYS.get(case, "verification failed"), "previous install kept")
    assert "Traceback (most recent call last): boom" not in result.output


# ------------------------------------------------------------ option values
@pytest.mark.parametrize("args, says", [
    (["--base-url", "file:///etc/passwd"], "--base-url"),
    (["--base-url", "ftp://127.0.0.1/"], "--base-url"),
    (["--base-url", "http://[::1"], "not a valid http(s) URL"),
    (["--base-url", "http://127.0.0.1:99999/"], "not a valid http(s) URL"),
    (["--base-url", f"http://127.0.0.1:{DIGITS}/"], "not a valid http(s) URL"),
    (["--base-url", "http://127.0.0.1\x00.evil/"], "not a valid http(s) URL"),
    (["--only", "../cosai"], "unknown catalog ../cosai"),
    (["--only", "CAPEC-99999999"], "unknown catalog CAPEC-99999999"),
    (["--only", "cosai\u200b"], "unknown catalog"),
    (["--from", "/dev/zero"], "--from"),
], ids=["file url", "ftp url", "bad ipv6", "port out of range", "port of 5000 digits", "nul in host",
        "only ../", "only a threat id", "only zero-width", "from a device"])
def test_hostile_option_values(args, says, home, quick):
    assert_refused(fetch(home, *args), says)


# ------------------------------------------------------------ zip archives (the official downloads of CWE)
def archive(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("members, says", [
    ({"../../evil.xml": b"x", "cwec.xml": b"\x00" * (1 << 24)}, "larger than the expected"),   # slip + bomb
    ({"../../cwec.xml": b"<x/>"}, "has no member cwec.xml"),
    ({"/etc/cwec.xml": b"<x/>", "cwec.xml": b"<x/>"}, "verification failed"),
], ids=["zip slip and bomb", "member only outside", "absolute member"])
def test_zip_slip_and_bombs_write_nothing_outside(members, says, tmp_path, monkeypatch):
    """The member named in sources.yaml is the only one read, and no more than its size of it."""
    data = archive(members)
    monkeypatch.setattr(download, "_download", lambda url, out, *args, **kw: out.write_bytes(data))
    spec = SourceFile("cwe/cwec.xml", "0" * 64, 4, url="https://example.invalid/cwe.zip", zip_member="cwec.xml")
    dest = tmp_path / "a" / "b" / "staging" / spec.path
    with pytest.raises(InputError, match=says) as refused:
        download.fetch_file(spec, dest)
    assert "cwec.xml" in str(refused.value) or "cwe.zip" in str(refused.value)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) in ([], ["cwec.xml.part"],
                                                                           ["cwec.xml.zip.part"],
                                                                           ["cwec.xml.part", "cwec.xml.zip.part"])
