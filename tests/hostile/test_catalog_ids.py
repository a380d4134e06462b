"""Catalog ids that no installed catalog has, or that only look like ids, on every command and page
that takes one: exit 2 / 404 naming the id, never a traceback."""

from urllib.parse import quote

import pytest

from tests.conftest import EXAMPLE
from tests.hostile.checks import assert_refused, assert_refused_page, cli
from tests.web.conftest import make_app

IDS = ["CAPEC-99999999", "AML.T9999", "v9.9.9-9.9.9", "CAPEC-" + "9" * 5000, "CAPEC-\u0666\u0666",
       "CAP\u0415C-66", "CAPEC-66\u200b", "\u202eCAPEC-66", "../../etc/passwd", "CAPEC-66\x00"]
NAMES = ["unknown capec", "unknown atlas", "unknown asvs version", "5000 digits", "arabic-indic digits",
         "cyrillic E", "zero-width space", "rtl override", "path", "nul byte"]


@pytest.fixture(scope="module")
def app(catalog_home):
    return make_app([EXAMPLE], catalog_home)


@pytest.mark.parametrize("ident", IDS, ids=NAMES)
@pytest.mark.parametrize("command", [["map"], ["explain", EXAMPLE, "ai-model"], ["enrich"]],
                         ids=["map", "explain", "enrich"])
def test_commands(command, ident, with_catalogs):
    result = cli(*command, ident)
    assert_refused(result, ident[:60].replace("\x00", ""))


@pytest.mark.parametrize("ident", IDS, ids=NAMES)
def test_systems_threat(ident, tmp_path, with_catalogs):
    assert_refused(cli("systems", "threat", ident, "--store", "memory:"), ident[:60].replace("\x00", ""))


@pytest.mark.parametrize("ident", IDS, ids=NAMES)
def test_pages(ident, app, with_catalogs):
    client = app.test_client()
    for path in (f"/threat/{quote(ident)}", f"/api/enrichment/{quote(ident)}", f"/api/threats/capec/{quote(ident)}"):
        assert_refused_page(client.get(path), status=(400, 404))
