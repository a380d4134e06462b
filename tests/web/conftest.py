"""Fixtures of the web tests: the app serving the example model with every catalog installed, its
Flask test client, and a live server (waitress in a thread on a free 127.0.0.1 port) for real HTTP
clients and the browser. All session-scoped: reasoning over the model and loading the catalogs
happen once."""

import threading
from contextlib import contextmanager

import pytest
from waitress import create_server

from kg.web import create_app
from tests.conftest import EXAMPLE

SYSTEM = "ai-system"


def make_app(models, home, **config):
    """An app over the model files, analysed with THREATKG_HOME=home (None: no catalogs, STRIDE only)."""
    with pytest.MonkeyPatch.context() as mp:
        if home is not None:
            mp.setenv("THREATKG_HOME", str(home))
        return create_app([str(m) for m in models], {"TESTING": True, **config})


@contextmanager
def serve(app):
    """Serve the app with waitress on 127.0.0.1 (a free port) in a daemon thread; yields the base URL."""
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-test", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def app(catalog_home):
    """The example model (ai-system) served with every catalog installed."""
    return make_app([EXAMPLE], catalog_home)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app):
    """Base URL of the app served by waitress on 127.0.0.1."""
    with serve(app) as url:
        yield url

