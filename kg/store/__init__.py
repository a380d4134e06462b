"""Where the knowledge graph lives (the backends; the systems kept in one are kg.systems): the
embedded pyoxigraph store (the default, in memory or on disk) or any SPARQL 1.1 server reached
through SPARQLWrapper. Both answer the same interface
(query, update, add_graph, drop_graph); `open_store` picks one from a URL."""

import os
import re
from pathlib import Path

from kg.errors import InputError, Problem
from kg.paths import home
from kg.store.base import StoreError
from kg.store.dataset import DatasetView
from kg.store.embedded import EmbeddedStore

__all__ = ["DatasetView", "StoreError", "open_store", "store_url"]

ENV = "THREATKG_STORE"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def store_url(option: str | None) -> str | None:
    """The store a command works on: its --store option, else $THREATKG_STORE, else None."""
    return option or os.environ.get(ENV) or None


def open_store(url: str | None):
    """`http(s)://…` a SPARQL server; `memory:` an in-memory store; `file:PATH`, a folder path or
    None an embedded store on disk (None: THREATKG_HOME/store)."""
    if url is None:
        return EmbeddedStore(home() / "store")
    if url.lower().startswith(("http://", "https://")):
        from kg.store.remote import RemoteStore
        return RemoteStore.from_url(url)
    if url == "memory:":
        return EmbeddedStore(None)
    if _SCHEME.match(url):
        raise StoreError(url, "not a store URL: expected http(s)://HOST[:PORT][/PATH], memory:, file:PATH or a folder")
    path = Path(url.removeprefix("file:"))
    if path.exists() and not path.is_dir():
        raise InputError(Problem(url, "not a store: give a folder for an embedded store, memory:, or the "
                                      "http(s):// URL of a SPARQL server"))
    return EmbeddedStore(path)
