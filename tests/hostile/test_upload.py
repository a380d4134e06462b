"""Hostile models on /upload, as a file (multipart, as API clients send them) and pasted: a 4xx page
naming the file and the element, no traceback or server detail; /api/systems unchanged."""

import html
import io
import re

import pytest

from tests.conftest import EXAMPLE
from tests.hostile.checks import assert_refused_page
from tests.hostile.corpus import include_cases, model_cases
from tests.web.conftest import make_app

CASES = [c for c in model_cases() + include_cases() if c.special in (None, "symlink-out")]
PASTABLE = [c for c in CASES if c.text]     # an empty paste is no upload: test_hostile_file_names_and_sizes


@pytest.fixture(scope="module")
def app(catalog_home):
    return make_app([EXAMPLE], catalog_home)


@pytest.fixture
def client(app, with_catalogs):
    """A client (the catalogs installed, as for the server's whole life); the test fails if /api/systems
    changed while it ran."""
    client = app.test_client()
    before = client.get("/api/systems").get_json()
    yield client
    assert client.get("/api/systems").get_json() == before


def token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/upload").get_data(as_text=True)).group(1)


def upload_file(client, name: str, data: bytes, **form):
    return client.post("/upload", content_type="multipart/form-data",
                       data={"csrf_token": token(client), "model": (io.BytesIO(data), name), **form})


def paste(client, text: str, fmt: str):
    return client.post("/upload", data={"csrf_token": token(client), "format": fmt, "text": text})


def unescaped(response):
    """The response with its text unescaped, so that messages compare as the CLI prints them."""
    response.set_data(html.unescape(response.get_data(as_text=True)))
    return response


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_hostile_file(case, client):
    response = unescaped(upload_file(client, case.file, case.data))
    assert_refused_page(response, case.file, *([case.element] if case.element else []), case.says)


@pytest.mark.parametrize("case", PASTABLE, ids=lambda c: c.name)
def test_a_hostile_paste(case, client):
    fmt = "turtle" if case.file.endswith(".ttl") else "yaml"
    response = unescaped(paste(client, case.text, fmt))
    says = [case.says] if case.file.endswith((".yaml", ".ttl")) else []
    assert_refused_page(response, f"pasted.{'ttl' if fmt == 'turtle' else 'yaml'}", *says)


@pytest.mark.parametrize("name, data, says, status", [
    ("huge.yaml", b"#" * (2 * 1024 * 1024 + 1), "", 413),
    ("model.exe", b"system: {id: x}\n", "model.exe: a model file ends in", 400),
    ("../../../etc/passwd.yaml", b"- x\n", "etc_passwd.yaml", 422),
    ("\u202elmay.exe", b"system: {id: x}\n", "a model file ends in", 400),
    ("model\x00.yaml", b"- x\n", "model.yaml", 422),
    ("", b"", "Choose a model file or paste a model.", 400),
], ids=["over the request limit", "not a model suffix", "path in the name", "rtl override in the name",
        "nul in the name", "no file"])
def test_hostile_file_names_and_sizes(name, data, says, status, client):
    response = unescaped(upload_file(client, name, data))
    assert_refused_page(response, says, status=(status,))
    assert "/etc/" not in response.get_data(as_text=True)


def test_no_csrf_token(client):
    response = client.post("/upload", data={"format": "yaml", "text": EXAMPLE.read_text()})
    assert_refused_page(response, status=(400,))


def test_fields_given_twice_or_of_another_kind(client):
    response = client.post("/upload", data={"csrf_token": token(client), "format": ["turtle", "yaml"],
                                            "text": ["- a\n", "- b\n"]})
    assert_refused_page(unescaped(response), "pasted.ttl", status=(422,))
