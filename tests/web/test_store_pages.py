"""`threatkg serve --store URL` serves the same pages and answers as the model served from its file:
the example stored in an Oxigraph server, every page reachable from the overview compared byte for
byte (CSRF tokens aside) with the in-memory app's."""

import re
from urllib.parse import urlencode

import pytest

from kg.profiles import builtin
from tests.conftest import EXAMPLE
from tests.servers import oxigraph_server
from tests.web.conftest import SYSTEM, make_app

START = ["/", f"/system/{SYSTEM}", "/api/systems", f"/api/systems/{SYSTEM}", f"/api/systems/{SYSTEM}/threats",
         f"/api/systems/{SYSTEM}/coverage?profile=asvs-4.0.3-L1", "/api/catalogs", "/api/threats/CAPEC-66",
         "/api/map/CAPEC-66", "/api/map/v4.0.3-5.3.4", "/id/capec/CAPEC-66", "/search?q=injection",
         f"/system/{SYSTEM}/coverage?profile=asvs-4.0.3-L1",
         "/sparql?" + urlencode({"query": "SELECT ?threat WHERE { ?element dcterms:identifier 'data-layer' ; "
                                          "tm:exposedTo ?threat } ORDER BY ?threat"})]
PAGES = 150
TOKENS = re.compile(rb'(name="csrf_token" value=|name="csrf-token" content=)"[^"]*"')
LINKS = re.compile(rb'href="(/[^"#]*)"')
SYSTEM_NAV = re.compile(rb'<nav class="system-nav".*?</nav>\n', re.S)   # a store's systems link to their versions


@pytest.fixture(scope="module")
def stored_app(catalog_home, tmp_path_factory):
    """The example added to an Oxigraph server of its own (the shared one holds other systems)."""
    with oxigraph_server(tmp_path_factory.mktemp("pages-store")) as server:
        yield make_app([EXAMPLE], catalog_home, STORE=server.base_url)


def _get(client, path):
    response = client.get(path)
    return response.status_code, SYSTEM_NAV.sub(b"", TOKENS.sub(rb"\1", response.data))


def test_a_store_backed_server_serves_the_same_pages(app, stored_app):
    memory, stored = app.test_client(), stored_app.test_client()
    todo, seen, compared = list(START), set(), 0
    while todo and compared < PAGES:
        path = todo.pop(0).replace("&amp;", "&")
        if path in seen or path.startswith("/static") or "format=" in path:
            continue
        seen.add(path)
        expected = _get(memory, path)
        assert _get(stored, path) == expected, path
        compared += 1
        todo += [link.decode() for link in LINKS.findall(expected[1])]
    assert compared == PAGES


def test_store_backed_pages_read_the_answers_kept_with_the_version(stored_app, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("computed by the server, not read from the kept answers")
    for name in ("candidates", "add_risk", "profile_coverage", "fold_pairs"):
        monkeypatch.setattr(f"kg.assessment.{name}", refuse)
    stored_app.extensions.pop("system_views", None)
    client = stored_app.test_client()
    paths = [f"/system/{SYSTEM}", f"/system/{SYSTEM}/component/ai-model", f"/api/systems/{SYSTEM}/threats",
             *(f"/system/{SYSTEM}/coverage?profile={name}" for name in sorted(builtin()))]
    for path in paths:
        assert client.get(path).status_code == 200, path
