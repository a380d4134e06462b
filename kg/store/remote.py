"""A SPARQL 1.1 server as the store, reached through SPARQLWrapper: queries and updates by the
SPARQL Protocol (POST, form-encoded, the dataset as default-graph-uri / named-graph-uri), bulk loads
by the Graph Store Protocol when the server has one, else by INSERT … WHERE {} in chunks that never split
a blank node's triples. Credentials, timeout and retries come from the environment."""

import ast
import http.client
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from functools import partial

from pyoxigraph import (
    BlankNode,
    QueryResultsFormat,
    RdfFormat,
    parse,
    parse_query_results,
    serialize,
)
from SPARQLWrapper import POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from kg.store.base import StoreError
from kg.store.sparql_text import form, with_dataset, with_values

RESULTS_XML = "application/sparql-results+xml"
GRAPH_TYPES = {"application/n-triples": RdfFormat.N_TRIPLES, "text/plain": RdfFormat.N_TRIPLES,
               "text/turtle": RdfFormat.TURTLE, "application/rdf+xml": RdfFormat.RDF_XML}
GRAPH_ACCEPT = "application/n-triples, text/plain;q=0.9, text/turtle;q=0.8, application/rdf+xml;q=0.5"
CHUNK = 1000                  # triples per INSERT request (Virtuoso's parser fails at about 1,500)
RETRIED_STATUS = {502, 503, 504}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@dataclass(frozen=True)
class Endpoints:
    query: str
    update: str
    gsp: str | None           # Graph Store Protocol, for bulk loads (None: INSERT DATA)

    @classmethod
    def of(cls, url: str) -> "Endpoints":
        """A server's base URL (Oxigraph: /query, /update, /store) or a single SPARQL endpoint URL
        (…/sparql: Virtuoso, Fuseki's /ds/sparql, GraphDB …); THREATKG_STORE_UPDATE and
        THREATKG_STORE_GSP (or `none`) override the guesses."""
        parts = urllib.parse.urlsplit(url)
        if not parts.hostname:
            raise StoreError(url, "not a store URL: expected http(s)://HOST[:PORT][/PATH]")
        if parts.path.strip("/"):
            query, update, gsp = url, url, None
        else:
            base = url.rstrip("/")
            query, update, gsp = base + "/query", base + "/update", base + "/store"
        update = os.environ.get("THREATKG_STORE_UPDATE", update)
        gsp = os.environ.get("THREATKG_STORE_GSP", gsp or "")
        return cls(query, update, None if gsp in ("", "none") else gsp)


class RemoteStore:
    def __init__(self, endpoints: Endpoints, timeout: float = 60.0, retries: int = 2, headers: dict | None = None):
        """`headers` go with every request (credentials: see `from_url`)."""
        self.endpoints, self.timeout, self.retries = endpoints, timeout, retries
        self.where = endpoints.query
        self._headers = dict(headers or {})

    @classmethod
    def from_url(cls, url: str) -> "RemoteStore":
        try:
            timeout = float(os.environ.get("THREATKG_STORE_TIMEOUT", "60"))
            retries = int(os.environ.get("THREATKG_STORE_RETRIES", "2"))
        except ValueError:
            raise StoreError("THREATKG_STORE_TIMEOUT / THREATKG_STORE_RETRIES", "must be numbers") from None
        return cls(Endpoints.of(url), timeout, retries, _auth_headers())

    # ------------------------------------------------------------ SPARQL protocol
    def query(self, sparql: str, default_graph: list[str] | None = None, named_graphs: list[str] | None = None,
              bindings: dict | None = None):
        """pyoxigraph results (solutions, boolean or triples) of a query evaluated by the server. The
        dataset goes into the query as FROM / FROM NAMED (as protocol parameters, Virtuoso echoes each
        graph back in a response header, and HTTP clients refuse more than 100 headers)."""
        sparql = with_values(sparql, {k: str(v) for k, v in (bindings or {}).items()})
        if default_graph is not None or named_graphs is not None:
            sparql = with_dataset(sparql, default_graph or [], named_graphs or [])
        graph_form = form(sparql) in ("CONSTRUCT", "DESCRIBE")
        client = self._client(self.endpoints.query, sparql, form(sparql) or "SELECT")
        client.addCustomHttpHeader("Accept", GRAPH_ACCEPT if graph_form else RESULTS_XML)
        body, content_type = self._send(partial(_read, client), sparql)
        try:
            if graph_form:
                return Triples(parse(body, GRAPH_TYPES.get(content_type, RdfFormat.N_TRIPLES)))
            return parse_query_results(body, QueryResultsFormat.XML)
        except SyntaxError as err:
            raise StoreError(self.where, f"the answer is not SPARQL results ({content_type or 'no content type'}): "
                                         f"{err}") from None

    def update(self, sparql: str) -> None:
        client = self._client(self.endpoints.update, sparql, "INSERT")
        self._send(partial(_read, client), sparql)

    def _client(self, url: str, sparql: str, kind: str) -> SPARQLWrapper:
        """A SPARQLWrapper for one request; `kind` (SELECT … or INSERT for any update) is set here,
        since SPARQLWrapper's own guess misreads comments and may send a query as an update."""
        client = SPARQLWrapper(url, updateEndpoint=self.endpoints.update)
        client.setMethod(POST)
        client.setOnlyConneg(True)
        client.setTimeout(int(max(1, self.timeout)))
        for name, value in self._headers.items():
            client.addCustomHttpHeader(name, value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # its guess of the form, replaced below
            client.setQuery(ascii_only(sparql))
        client.queryType = kind
        return client

    # ------------------------------------------------------------ bulk loads
    def add_graph(self, graph: str, ntriples: bytes) -> None:
        """Add N-Triples to a named graph: one Graph Store Protocol POST, or INSERT requests in chunks."""
        if self.endpoints.gsp:
            url = f"{self.endpoints.gsp}?{urllib.parse.urlencode({'graph': graph})}"
            request = urllib.request.Request(url, data=ntriples, method="POST",
                                             headers={"Content-Type": "application/n-triples", **self._headers})
            self._send(partial(_urlopen, request, self.timeout), f"POST {url}")
            return
        for chunk in chunks(ntriples, CHUNK):   # not INSERT DATA: Virtuoso refuses blank nodes there
            self.update(f"INSERT {{ GRAPH <{graph}> {{\n{chunk}}} }} WHERE {{}}")

    def drop_graph(self, graph: str) -> None:
        self.update(f"DROP SILENT GRAPH <{graph}>")

    def flush(self) -> None:
        """Nothing to do: the server persists each request."""

    # ------------------------------------------------------------ errors and retries
    def _send(self, request, what: str):
        """Run a request, retrying connection failures and 502/503/504; StoreError when it fails."""
        for attempt in range(self.retries + 1):
            try:
                return request()
            except Exception as err:  # noqa: BLE001  (every failure becomes one clear StoreError)
                retry, message, about_request = _diagnose(err, self.timeout)
                if not retry or attempt == self.retries:
                    raise StoreError(self.where, f"{message} (request: {_excerpt(what)})" if about_request
                                     else message) from None
                time.sleep(0.5 * 2 ** attempt)
        raise AssertionError("unreachable")


class Triples(list):
    """The triples of a CONSTRUCT or DESCRIBE, serializable like pyoxigraph's QueryTriples."""

    def serialize(self, output=None, format=RdfFormat.N_TRIPLES):
        return serialize(self, output, format)


def _read(client: SPARQLWrapper) -> tuple[bytes, str]:
    response = client.query().response
    return response.read(), response.headers.get("Content-Type", "").split(";")[0].strip()


def _urlopen(request, timeout: float) -> tuple[bytes, str]:
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read(), response.headers.get("Content-Type", "")


def _auth_headers() -> dict[str, str]:
    """Authorization from THREATKG_STORE_TOKEN (bearer) or THREATKG_STORE_USER/_PASSWORD (basic)."""
    token, user = os.environ.get("THREATKG_STORE_TOKEN"), os.environ.get("THREATKG_STORE_USER")
    if token:
        return {"Authorization": f"Bearer {token}"}
    if user:
        import base64
        pair = f"{user}:{os.environ.get('THREATKG_STORE_PASSWORD', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    return {}


def _diagnose(err: Exception, timeout: float) -> tuple[bool, str, bool]:
    """(worth retrying, a message for the user, whether the request itself is to blame) for a failure."""
    status = getattr(err, "code", None)
    detail = ""
    if isinstance(err, SPARQLWrapperException):
        status = {"QueryBadFormed": 400, "Unauthorized": 401, "EndPointNotFound": 404, "URITooLong": 414,
                  "EndPointInternalError": 500}.get(type(err).__name__)
        lines = str(err).split("Response:", 1)[-1].strip().splitlines()
        detail = _unquote(lines[0]) if lines else type(err).__name__
    if isinstance(err, urllib.error.HTTPError):
        detail = _body(err)
    if status in (401, 403):
        return False, (f"the store refused the credentials (HTTP {status}): set THREATKG_STORE_USER and "
                       "THREATKG_STORE_PASSWORD, or THREATKG_STORE_TOKEN"), False
    if status == 404:
        return False, "no SPARQL endpoint at this URL (HTTP 404)", False
    if status is not None:
        return status in RETRIED_STATUS, f"the store answered HTTP {status}: {detail or 'no details'}", status < 500
    reason = getattr(err, "reason", err)
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return False, f"no answer within {timeout:g} s", True
    if isinstance(reason, ConnectionRefusedError):
        return True, "cannot connect: connection refused (is the SPARQL server running?)", False
    if isinstance(reason, socket.gaierror):
        return False, f"cannot resolve the host ({reason.strerror or reason})", False
    if isinstance(reason, (ConnectionError, http.client.HTTPException, OSError)):
        return True, f"the connection failed: {reason or type(reason).__name__}", False
    return False, f"the request failed: {type(err).__name__}: {err}", True


def _unquote(text: str) -> str:
    """SPARQLWrapper quotes the server's answer as a bytes literal (b'...'): its text."""
    if text[:2] in ("b'", 'b"') and text[-1:] == text[1]:
        try:
            return ast.literal_eval(text).decode("utf-8", "replace")
        except (ValueError, SyntaxError):
            pass
    return text


def _body(err: urllib.error.HTTPError) -> str:
    try:
        text = err.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return text.splitlines()[0][:300] if text else ""


def ascii_only(sparql: str) -> str:
    """The request with every non-ASCII character written as a SPARQL \\u / \\U escape (Virtuoso
    reads a form-encoded body in a narrow charset and turns them into '?')."""
    return _NON_ASCII.sub(lambda m: f"\\u{ord(m[0]):04X}" if ord(m[0]) <= 0xFFFF else f"\\U{ord(m[0]):08X}", sparql)


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


def chunks(ntriples: bytes, size: int):
    """N-Triples text in pieces of about `size` triples; the triples that share blank nodes stay in
    one piece, since each request has its own blank node scope."""
    triples = list(parse(ntriples, RdfFormat.N_TRIPLES))
    parent = {}

    def root(node):
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for t in triples:
        blanks = [x for x in (t.subject, t.object) if isinstance(x, BlankNode)]
        for b in blanks[1:]:
            parent[root(b)] = root(blanks[0])
    groups = {}
    for t in triples:
        blank = next((x for x in (t.subject, t.object) if isinstance(x, BlankNode)), None)
        groups.setdefault(root(blank) if blank is not None else id(t), []).append(t)
    piece = []
    for group in groups.values():
        piece += group
        if len(piece) >= size:
            yield "".join(f"{t} .\n" for t in piece)
            piece = []
    if piece:
        yield "".join(f"{t} .\n" for t in piece)
