"""The SPARQL 1.1 Protocol endpoint at /sparql over every served graph (kg.web.registry dataset):
GET ?query=, POST form-encoded query=, POST application/sparql-query. Results negotiated by Accept
or a `format` parameter. Every query is screened in the request thread (kg.query_guard: bounded size
and nesting, no word reading `service`), then parsed, checked (read-only, no SERVICE anywhere: a 400
with the parser's message otherwise) and evaluated in a confined child process (kg.query_worker: no
socket, bounded memory, killed at the time limit); a cap on result rows, on queries running at once
and on queries per client address (429 with Retry-After beyond it, so a few heavy clients cannot
take every slot)."""

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, redirect, request, url_for
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
    parse_query_results,
    serialize,
)
from werkzeug.exceptions import HTTPException

from kg.namespaces import PREFIXES
from kg.query_guard import READ_ONLY, Unsafe, check_parsed, screened
from kg.query_worker import Stopped, in_process, run_confined
from kg.web import registry

bp = Blueprint("sparql", __name__)

DEFAULTS = {
    "SPARQL_TIMEOUT": 30.0,      # seconds a query may run before the client gets a 503
    "SPARQL_MAX_ROWS": 10000,    # solutions or triples returned; more are cut (X-ThreatKG-Truncated)
    "SPARQL_MAX_RUNNING": 4,     # queries evaluated at once
    "SPARQL_PER_CLIENT": 1,      # queries one client address may have running at once (429 beyond)
    "SPARQL_MAX_LONG": 3,        # of them, running past 0.25 s (503 beyond: the other slots stay for quick ones)
    "SPARQL_MEMORY_MB": 512,     # memory one query may take beyond the server's own (503 beyond)
}
PREFIX_MAP = {p: str(ns) for p, ns in PREFIXES.items()}   # predeclared, as in the CLI and the console
# Prefixes written into RDF results; not id: (entry IRIs read better whole than as id:capec\\/CAPEC-66).
OUTPUT_PREFIXES = {p: ns for p, ns in PREFIX_MAP.items() if p != "id"}

# Media types offered, the standard ones first (the others are what some clients ask for).
SOLUTION_TYPES = {"application/sparql-results+json": QueryResultsFormat.JSON,
                  "application/sparql-results+xml": QueryResultsFormat.XML,
                  "text/csv": QueryResultsFormat.CSV,
                  "text/tab-separated-values": QueryResultsFormat.TSV,
                  "application/json": QueryResultsFormat.JSON,
                  "application/xml": QueryResultsFormat.XML}
GRAPH_TYPES = {"text/turtle": RdfFormat.TURTLE,
               "application/ld+json": RdfFormat.JSON_LD,
               "application/n-triples": RdfFormat.N_TRIPLES,
               "application/rdf+xml": RdfFormat.RDF_XML,
               "application/turtle": RdfFormat.TURTLE,
               "application/x-turtle": RdfFormat.TURTLE,
               "application/json": RdfFormat.JSON_LD,
               "text/plain": RdfFormat.N_TRIPLES}
# The `format` parameter (SPARQLWrapper sends it too): the media type it means for solutions and for graphs.
FORMAT_NAMES = {"json": ("application/sparql-results+json", "application/ld+json"),
                "xml": ("application/sparql-results+xml", "application/rdf+xml"),
                "csv": ("text/csv", None), "tsv": ("text/tab-separated-values", None),
                "turtle": (None, "text/turtle"), "ttl": (None, "text/turtle"),
                "json-ld": (None, "application/ld+json"), "jsonld": (None, "application/ld+json"),
                "n-triples": (None, "application/n-triples"), "nt": (None, "application/n-triples"),
                "rdf+xml": (None, "application/rdf+xml"), "rdfxml": (None, "application/rdf+xml")}
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class _Abandoned(Exception):
    """Raised in the worker when the deadline passed while it was still reading results."""


class Refused(Exception):
    """A request the endpoint will not or cannot answer: HTTP status and a message for the client."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Outcome:
    kind: str                                        # solutions | boolean | graph
    variables: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)   # pyoxigraph terms, None when unbound
    boolean: bool = False
    triples: list[Triple] = field(default_factory=list)
    truncated: bool = False


@bp.record_once
def _configure(state):
    for key, value in DEFAULTS.items():
        state.app.config.setdefault(key, value)
    state.app.extensions["sparql_slots"] = threading.BoundedSemaphore(state.app.config["SPARQL_MAX_RUNNING"])
    state.app.extensions["sparql_long_slots"] = threading.BoundedSemaphore(state.app.config["SPARQL_MAX_LONG"])
    state.app.extensions["sparql_clients"] = ({}, threading.Lock())


def check_read_only(sparql: str) -> str:
    """The text to evaluate, screened in the request thread (kg.query_guard.screened: size, nesting, no
    word reading `service`); a 400 otherwise. Its parse is checked in the query's child (check_parsed)."""
    try:
        return screened(sparql)
    except Unsafe as refused:
        raise Refused(400, str(refused)) from None


def run(store, sparql: str, *, max_rows: int, timeout: float, slots: threading.Semaphore,
        default_graphs: list[str] = (), named_graphs: list[str] = (), memory_mb: int = 512,
        long_slots: threading.Semaphore | None = None) -> Outcome:
    """Evaluate a read-only query; at most max_rows results. On an in-process pyoxigraph store the
    parse check and the evaluation run in a confined child process killed at the deadline, or once
    it runs long when every one of `long_slots` is taken (503); on a store behind a SPARQL server
    (whose own limits apply) the check runs in that child, the evaluation in a worker thread
    abandoned at the deadline."""
    sparql = check_read_only(sparql)
    options = _dataset(default_graphs, named_graphs)
    deadline = time.monotonic() + timeout
    if not slots.acquire(timeout=min(timeout, 5.0)):
        raise Refused(503, "The endpoint is busy with other queries: try again shortly.")
    held = []

    def may_go_on() -> bool:
        held.append(long_slots is None or long_slots.acquire(blocking=False))
        return held[-1]

    try:
        outcome = _in_child(store if in_process(store) else None, sparql, options, max_rows, timeout, memory_mb,
                            may_go_on)
    except BaseException:
        slots.release()
        raise
    finally:
        if held == [True] and long_slots is not None:
            long_slots.release()
    if outcome is not None:
        slots.release()
        return outcome
    box = {}

    def work():
        try:
            box["outcome"] = _evaluate(store, sparql, options, max_rows, deadline)
        except Exception as err:  # handed to the request thread below, without the frames that hold
            box["error"] = err.with_traceback(None)   # pyoxigraph results (they may only be freed here)
        finally:
            slots.release()

    worker = threading.Thread(target=work, name="sparql-query", daemon=True)
    try:
        worker.start()
    except RuntimeError:
        slots.release()
        raise
    worker.join(max(0.0, deadline - time.monotonic()))
    if worker.is_alive() or isinstance(box.get("error"), _Abandoned):
        raise Refused(503, f"The query ran longer than {timeout:g} s and was abandoned: narrow it down "
                           "(a LIMIT, more specific patterns).")
    error = box.get("error")
    if isinstance(error, SyntaxError):
        raise Refused(400, f"SPARQL syntax error: {error}")
    if isinstance(error, (OSError, ValueError, RuntimeError)):
        raise Refused(400, f"The query could not be evaluated: {error}")
    if error is not None:
        raise error
    return box["outcome"]


def _in_child(store, sparql, options, max_rows, timeout, memory_mb, may_go_on) -> Outcome | None:
    """In a confined child (kg.query_worker): the parse check, then, with a store, the evaluation."""
    def work() -> bytes:
        try:
            check_parsed(sparql)
        except Unsafe as refused:
            return json.dumps({"refused": str(refused)}).encode()
        if store is None:
            return b"{}"
        outcome = _evaluate(store, sparql, options, max_rows, float("inf"))
        if outcome.kind == "graph":
            body = serialize(outcome.triples, format=RdfFormat.N_TRIPLES)
        else:
            body = solutions_json(outcome).encode()
        return json.dumps({"kind": outcome.kind, "truncated": outcome.truncated}).encode() + b"\n" + body

    try:
        data = run_confined(work, timeout, memory_mb * 2**20, may_go_on)
    except Stopped as stopped:
        if stopped.kind == "syntax":
            raise Refused(400, f"SPARQL syntax error: {stopped}") from None
        if stopped.kind in ("error", "crashed"):
            raise Refused(400, f"The query could not be evaluated: {stopped}") from None
        raise Refused(503, str(stopped)) from None
    except OSError as err:   # no process could be started (fork: EAGAIN, ENOMEM)
        raise Refused(503, f"The server cannot start a query now ({err.strerror}): try again shortly.") from None
    head, _, body = data.partition(b"\n")
    meta = json.loads(head)
    if "refused" in meta:
        raise Refused(400, meta["refused"])
    if store is None:
        return None
    if meta["kind"] == "graph":
        triples = [quad.triple for quad in parse(body, RdfFormat.N_TRIPLES)]
        return Outcome("graph", triples=triples, truncated=meta["truncated"])
    results = parse_query_results(body, QueryResultsFormat.JSON)
    if isinstance(results, QueryBoolean):
        return Outcome("boolean", boolean=bool(results))
    variables = [v.value for v in results.variables]
    return Outcome("solutions", variables=variables, rows=[[s[v] for v in variables] for s in results],
                   truncated=meta["truncated"])


def _dataset(default_graphs, named_graphs) -> dict:
    """Query options for the protocol's RDF dataset: the union of every graph unless the request names
    graphs (default-graph-uri / named-graph-uri), in which case exactly those."""
    options = {"prefixes": PREFIX_MAP}
    if not default_graphs and not named_graphs:
        return {**options, "use_default_graph_as_union": True}
    try:
        return {**options, "default_graph": [NamedNode(g) for g in default_graphs],
                "named_graphs": [NamedNode(g) for g in named_graphs]}
    except ValueError as err:
        raise Refused(400, f"Not an IRI in default-graph-uri / named-graph-uri: {err}") from None


def _evaluate(store, sparql: str, options: dict, max_rows: int, deadline: float) -> Outcome:
    results = store.query(sparql, **options)
    if isinstance(results, QueryBoolean):
        return Outcome("boolean", boolean=bool(results))
    solutions = isinstance(results, QuerySolutions)
    outcome = Outcome("solutions" if solutions else "graph",
                      variables=[v.value for v in results.variables] if solutions else [])
    items = outcome.rows if solutions else outcome.triples
    for item in results:
        if time.monotonic() > deadline:
            raise _Abandoned()
        if len(items) == max_rows:
            outcome.truncated = True
            break
        items.append(list(item) if solutions else item)
    return outcome


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint():
    try:
        sparql, default_graphs, named_graphs = _protocol_request()
        if sparql is None:
            return _no_query()
        config = current_app.config
        with one_client_share():
            outcome = run(registry().dataset(), sparql, max_rows=config["SPARQL_MAX_ROWS"],
                          timeout=float(config["SPARQL_TIMEOUT"]), slots=current_app.extensions["sparql_slots"],
                          default_graphs=default_graphs, named_graphs=named_graphs,
                          memory_mb=int(config["SPARQL_MEMORY_MB"]),
                          long_slots=current_app.extensions["sparql_long_slots"])
        return _respond(outcome)
    except Refused as refused:
        return _error(refused.status, str(refused))


@contextlib.contextmanager
def one_client_share():
    """At most SPARQL_PER_CLIENT queries of one client address at once (429 beyond), so a few heavy
    clients cannot take every slot."""
    running, lock = current_app.extensions["sparql_clients"]
    client, limit = request.remote_addr or "", int(current_app.config["SPARQL_PER_CLIENT"])
    with lock:
        if running.get(client, 0) >= limit:
            raise Refused(429, f"You already have {limit} quer{'y' if limit == 1 else 'ies'} running: "
                               "wait for the answer before sending the next.")
        running[client] = running.get(client, 0) + 1
    try:
        yield
    finally:
        with lock:
            running[client] -= 1
            if not running[client]:
                del running[client]


def _protocol_request() -> tuple[str | None, list[str], list[str]]:
    """The query and the dataset of a protocol request (None when there is no query)."""
    values = request.args if request.method == "GET" else _post_values()
    if "update" in values:
        raise Refused(400, READ_ONLY)
    queries = values.getlist("query")
    if len(queries) > 1:
        raise Refused(400, "Send exactly one query parameter.")
    sparql = queries[0] if queries else None
    if request.method == "POST" and request.mimetype == "application/sparql-query":
        sparql = _body_text()
    return sparql, values.getlist("default-graph-uri"), values.getlist("named-graph-uri")


def _post_values():
    mimetype = request.mimetype
    if mimetype == "application/sparql-update":
        raise Refused(400, READ_ONLY)
    if mimetype == "application/x-www-form-urlencoded":
        return request.values
    if mimetype == "application/sparql-query":
        return request.args
    raise Refused(415, "POST a query as application/x-www-form-urlencoded (query=…) "
                       "or as application/sparql-query.")


def _body_text() -> str:
    charset = request.mimetype_params.get("charset", "utf-8")
    try:
        return request.get_data().decode(charset)
    except (LookupError, UnicodeDecodeError):
        raise Refused(400, f"The query is not valid {charset} text.") from None


def _no_query():
    """A request without a query: browsers go to the console, other clients get a service description."""
    if request.accept_mimetypes.best == "text/html" and "console" in current_app.blueprints:
        return redirect(url_for("console.console"), 303)
    mimetype = _negotiate(GRAPH_TYPES, 1)
    return _rdf_response(service_description(_own_url()), mimetype)


def _own_url() -> str:
    """The endpoint's URL from the address the server listens on (never the client's Host header)."""
    environ = request.environ
    host, port, scheme = environ.get("SERVER_NAME", "localhost"), environ.get("SERVER_PORT", ""), request.scheme
    default = {"http": "80", "https": "443"}.get(scheme)
    netloc = host if not port or port == default else f"{host}:{port}"
    return f"{scheme}://{netloc}{request.script_root}{url_for('sparql.endpoint')}"


def service_description(endpoint_iri: str) -> list[Triple]:
    """SPARQL 1.1 Service Description of this endpoint, naming every graph it serves."""
    sd, formats = "http://www.w3.org/ns/sparql-service-description#", "http://www.w3.org/ns/formats/"
    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    service, dataset = NamedNode(endpoint_iri), BlankNode("dataset")
    triples = [Triple(service, rdf_type, NamedNode(sd + "Service")),
               Triple(service, NamedNode(sd + "endpoint"), service),
               Triple(service, NamedNode(sd + "supportedLanguage"), NamedNode(sd + "SPARQL11Query")),
               Triple(service, NamedNode(sd + "feature"), NamedNode(sd + "UnionDefaultGraph")),
               Triple(service, NamedNode(sd + "defaultDataset"), dataset),
               Triple(dataset, rdf_type, NamedNode(sd + "Dataset"))]
    triples += [Triple(service, NamedNode(sd + "resultFormat"), NamedNode(formats + name))
                for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                             "SPARQL_Results_TSV", "Turtle", "JSON-LD", "N-Triples", "RDF_XML")]
    for graph in sorted(registry().dataset().named_graphs(), key=lambda g: g.value):
        named = BlankNode()
        triples += [Triple(dataset, NamedNode(sd + "namedGraph"), named),
                    Triple(named, NamedNode(sd + "name"), graph)]
    return triples


def _respond(outcome: Outcome) -> Response:
    if outcome.kind == "graph":
        response = _rdf_response(outcome.triples, _negotiate(GRAPH_TYPES, 1))
    else:
        mimetype = _negotiate(SOLUTION_TYPES, 0)
        body = solutions_json(outcome)
        if SOLUTION_TYPES[mimetype] != QueryResultsFormat.JSON:
            body = parse_query_results(body, QueryResultsFormat.JSON).serialize(format=SOLUTION_TYPES[mimetype])
        response = Response(body, mimetype=mimetype)
    if outcome.truncated:
        response.headers["X-ThreatKG-Truncated"] = f"true; limit={current_app.config['SPARQL_MAX_ROWS']}"
    return response


def _negotiate(offered: dict, kind: int) -> str:
    """The media type to answer with: the `format` parameter, else the Accept header, else the first offered."""
    name = request.values.get("format", "").strip().lower()
    if name:
        mimetype = FORMAT_NAMES.get(name, (name, name))[kind]
        if mimetype not in offered:
            raise Refused(406, f"format={name} is not available for this kind of result; use one of: "
                               f"{', '.join(_names(kind))}.")
        return mimetype
    accept = request.accept_mimetypes
    if not accept:
        return next(iter(offered))
    mimetype = accept.best_match(list(offered))
    if mimetype is None:
        raise Refused(406, f"None of the accepted media types is available for this kind of result; "
                           f"offered: {', '.join(list(offered)[:4])}.")
    return mimetype


def _names(kind: int) -> list[str]:
    return [name for name, types in FORMAT_NAMES.items() if types[kind]]


def _rdf_response(triples: list[Triple], mimetype: str) -> Response:
    fmt = GRAPH_TYPES[mimetype]
    prefixes = OUTPUT_PREFIXES if fmt in (RdfFormat.TURTLE, RdfFormat.RDF_XML, RdfFormat.JSON_LD) else None
    return Response(serialize(triples, format=fmt, prefixes=prefixes), mimetype=mimetype)


def solutions_json(outcome: Outcome) -> str:
    """SELECT or ASK results as SPARQL 1.1 Query Results JSON."""
    if outcome.kind == "boolean":
        return json.dumps({"head": {}, "boolean": outcome.boolean})
    bindings = [{v: _json_term(t) for v, t in zip(outcome.variables, row) if t is not None} for row in outcome.rows]
    return json.dumps({"head": {"vars": outcome.variables}, "results": {"bindings": bindings}}, ensure_ascii=False)


def _json_term(term) -> dict:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate),
                                            "object": _json_term(term.object)}}
    out = {"type": "literal", "value": term.value}
    if isinstance(term, Literal) and term.language:
        out["xml:lang"] = term.language
    elif isinstance(term, Literal) and term.datatype.value != XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def _error(status: int, message: str) -> Response:
    """Protocol errors as plain text (what SPARQL clients show their users)."""
    response = Response(message + "\n", status=status, mimetype="text/plain")
    if status in (429, 503):
        response.headers["Retry-After"] = "5"
    return response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    """Errors raised while reading the request (413 too large, 400 bad form) as plain text too."""
    return _error(error.code or 500, error.description or error.name)


@bp.after_request
def _cors(response: Response) -> Response:
    """Any origin may query (no cookies or credentials are involved): notebooks, YASGUI."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
    response.headers["Access-Control-Expose-Headers"] = "X-ThreatKG-Truncated"
    response.headers["Vary"] = "Accept"
    return response
