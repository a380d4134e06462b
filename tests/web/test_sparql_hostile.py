"""Hostile SPARQL on the endpoint and the console. No text makes the server open a connection (a
local listener that fails the test if contacted), each of the two walls alone included: the check
on the parsed query (kg.query_guard) and the child that cannot open a socket (kg.query_worker).
Nothing crashes the server; runaway queries are stopped at the deadline with their CPU back at once
and their memory bounded; one client cannot take every slot; every refusal is a 4xx or 503 with a
message, never a 500 or a traceback; the Host header is never reflected."""

import os
import re
import socket
import threading
import time
from contextlib import contextmanager

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from kg import query_guard
from kg.query_guard import NO_SERVICE, READ_ONLY, Unsafe, check_parsed, screened
from kg.store.dataset import DatasetView
from kg.store.embedded import EmbeddedStore
from kg.web import sparql_endpoint
from kg.web.sparql_endpoint import Refused, run
from tests.web.conftest import serve

SECRET = "SECRET-FROM-INTERNAL-SERVICE"
TIMEOUT = 2.0
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
PATHS = "SELECT (COUNT(*) AS ?n) WHERE { ?a (rdfs:subClassOf|!<http://x/none>)*/(!<http://x/none>)* ?b }"
DEEP = "ASK {" + "{" * 5000 + "}" * 5000 + "}"
CHEAP = "ASK { ?s ?p ?o }"


# ---------------------------------------------------------------- the listener and the queries


@contextmanager
def listening():
    """A local HTTP listener on a free port answering SPARQL JSON with a secret; yields (url, contacts)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    contacts = []

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            contacts.append(conn.recv(65536)[:200])
            body = ('{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"literal","value":"'
                    + SECRET + '"}}]}}').encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql", contacts
    finally:
        server.close()


@pytest.fixture(scope="module")
def _listener():
    with listening() as found:
        yield found


@pytest.fixture
def listener(_listener):
    """The listener's URL; the test fails if anything connected to it while the test ran."""
    url, contacts = _listener
    contacts.clear()
    yield url
    time.sleep(0.2)
    assert contacts == [], f"the server opened a connection to the listener: {contacts[:1]}"


def federated(url: str) -> dict[str, str]:
    """SERVICE written every way we could think of, alone and nested, by name."""
    body = "{ ?s ?p ?o }"
    host = url.removeprefix("http://")
    words = {"upper": "SERVICE", "lower": "service", "mixed": "SeRvIcE", "middle dot": "SERV\u00b7ICE",
             "combining acute": "SERVI\u0301CE", "undertie": "SERV\u203fICE", "character tie": "SERV\u2040ICE",
             "zero-width after": "SERVICE\u200b", "zero-width before": "\u200bSERVICE",
             "zero-width joiner": "SER\u200dVICE", "full-width": "\uff33\uff25\uff32\uff36\uff29\uff23\uff25",
             "dotted I": "SERV\u0130CE", "soft hyphen": "SERV\u00adICE", "long s": "\u017fERVICE",
             "escaped S": "\\u0053ERVICE", "escaped E": "S\\U00000045RVICE", "escaped all": "".join(
                 f"\\u{ord(c):04x}" for c in "service")}
    out = {f"keyword {name}": f"SELECT * WHERE {{ {word} <{url}> {body} }}" for name, word in words.items()}
    out.update({
        "tab and newline": f"SELECT * WHERE {{\tSERVICE\n<{url}>\n{body} }}",
        "no spaces": f"SELECT * WHERE{{SERVICE<{url}>{{?s ?p ?o}}}}",
        "silent": f"SELECT * WHERE {{ SERVICE SILENT <{url}> {body} }}",
        "silent glued": f"SELECT * WHERE {{ SERVICESILENT <{url}> {body} }}",
        "silent lower": f"select * {{ service silent <{url}> {body} }}",
        "variable from BIND": f"SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {body} }}",
        "variable from VALUES": f"SELECT * WHERE {{ VALUES ?e {{ <{url}> }} SERVICE ?e {body} }}",
        "unbound variable": f"SELECT * WHERE {{ SERVICE ?var {body} }}",
        "after a lone CR in a comment": f"ASK {{ # a comment\r SERVICE <{url}> {body} \n }}",
        "after a number": f"ASK {{ ?s ?p 1SERVICE <{url}> {body} }}",
        "after true": f"ASK {{ ?s ?p trueSERVICE <{url}> {body} }}",
        "prefixed IRI glued": f"PREFIX : <{url}> ASK {{ SERVICE:x {body} }}",
        "relative IRI": f"BASE <{url}> SELECT * WHERE {{ SERVICE <> {body} }}",
        "escaped IRI": f"SELECT * WHERE {{ SERVICE <http\\u003A//{host}> {body} }}",
        "sub-query": f"SELECT * WHERE {{ {{ SELECT * WHERE {{ service <{url}> {body} }} }} }}",
        "three sub-queries deep": "SELECT * WHERE { { SELECT * WHERE { { SELECT * WHERE { { SELECT * WHERE "
                                  f"{{ SERVICE <{url}> {body} }} }} }} }} }} }} }}",
        "optional sub-query": f"SELECT * WHERE {{ OPTIONAL {{ {{ SELECT * WHERE {{ SERVICE <{url}> {body} }} }} }} }}",
        "filter exists": f"ASK {{ FILTER EXISTS {{ SERVICE <{url}> {body} }} }}",
        "filter not exists": f"ASK {{ ?x ?y ?z FILTER NOT EXISTS {{ SERVICE <{url}> {body} }} }}",
        "bind exists": f"SELECT ?b WHERE {{ BIND(EXISTS {{ SERVICE <{url}> {body} }} AS ?b) }}",
        "having exists": f"SELECT ?s WHERE {{ ?s ?p ?o }} GROUP BY ?s HAVING (EXISTS {{ SERVICE <{url}> {body} }})",
        "order by exists": f"SELECT * WHERE {{ ?s ?p ?o }} ORDER BY (EXISTS {{ SERVICE <{url}> {body} }})",
        "minus": f"SELECT * WHERE {{ ?x ?y ?z MINUS {{ SERVICE <{url}> {body} }} }}",
        "union": f"SELECT * WHERE {{ {{ ?x ?y ?z }} UNION {{ SERVICE <{url}> {body} }} }}",
        "graph": f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{url}> {body} }} }}",
        "construct": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {body} }}",
        "describe": f"DESCRIBE ?s WHERE {{ SERVICE <{url}> {body} }}",
        "after an escaped hash": f"PREFIX : <http://example.org/> SELECT * {{ ?s :a\\# ?o . SERVICE <{url}> {body} }}",
        "after an escaped quote": f"PREFIX ex: <http://example.org/> SELECT * {{ ?s ex:a\\' ?o . "
                                  f"SERVICE <{url}> {body} }}",
        "after a comment": f"SELECT * WHERE {{ # comment\nSERVICE <{url}> {body} }}",
        "after a string": f'SELECT * WHERE {{ ?s ?p "x" . SERVICE <{url}> {body} }}',
        "update with service": f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {body} }}",
        "load": f"LOAD <{url}>",
        "load silent into a graph": f"LOAD SILENT <{url}> INTO GRAPH <urn:g>",
    })
    return out


def harmless(url: str) -> list[str]:
    """Queries that name the listener's URL without asking anyone to fetch it (or only in a comment):
    answered, no connection."""
    return [f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }} LIMIT 1",
            f"SELECT * FROM NAMED <{url}> WHERE {{ ?s ?p ?o }} LIMIT 1",
            f"DESCRIBE <{url}>", f"SELECT * WHERE {{ GRAPH <{url}> {{ ?s ?p ?o }} }}",
            f'SELECT ?i WHERE {{ BIND(IRI("{url}") AS ?i) }}', f'ASK {{ FILTER(STR(<{url}>) = "SERVICE") }}',
            f"ASK {{ # a comment\u2028 SERVICE <{url}> {{ ?s ?p ?o }}\n }}",
            # the escape is read before the grammar (by every parser: the text evaluated is the one
            # checked), so the quote ends the string and the rest is a comment
            f'ASK {{ ?s ?p "a\\u0022 }} #" . SERVICE <{url}> {{ ?s ?p ?o }} }}']


def checked(sparql: str) -> str:
    """Both parts of the check, here in the test's process."""
    text = screened(sparql)
    check_parsed(text)
    return text


def switch_the_check_off(monkeypatch):
    """Both parts of the endpoint's check off: the text reaches pyoxigraph as sent."""
    monkeypatch.setattr(sparql_endpoint, "check_read_only", lambda sparql: sparql)
    monkeypatch.setattr(sparql_endpoint, "check_parsed", lambda sparql: None)


def text(response) -> str:
    return response.get_data(as_text=True)


def console_post(client, sparql, **overrides):
    page = text(client.get("/sparql-console", **overrides))
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    return client.post("/sparql-console", data={"csrf_token": token, "query": sparql, "format": "html"}, **overrides)


def every_way(client, sparql):
    """The responses to the query sent as GET, form POST, application/sparql-query POST and in the console."""
    return [client.get("/sparql", query_string={"query": sparql}),
            client.post("/sparql", data={"query": sparql}),
            client.post("/sparql", data=sparql.encode(), content_type="application/sparql-query"),
            console_post(client, sparql)]


def assert_clean(response):
    """No secret in any answer; no traceback or internal detail in a refusal."""
    body = text(response)
    assert SECRET not in body
    if response.status_code != 200:
        assert "Traceback" not in body and not re.search(r'File "[^"]*", line \d+|\w\.py\b', body)
        assert "internal" not in body.lower() and "The query failed" not in body


@pytest.fixture
def hostile(app, monkeypatch):
    """The served example with short limits."""
    for key, value in {"SPARQL_TIMEOUT": TIMEOUT, "CONSOLE_TIME_LIMIT": TIMEOUT, "SPARQL_MEMORY_MB": 256}.items():
        monkeypatch.setitem(app.config, key, value)
    return app


# ---------------------------------------------------------------- SERVICE: both walls, then each alone


def test_the_listener_sees_what_an_unconfined_store_fetches():
    """The premise of the tests below: pyoxigraph itself performs a SERVICE request and returns the answer."""
    with listening() as (url, contacts):
        rows = list(Store().query(f"SELECT ?s WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"))
    assert contacts and rows[0]["s"].value == SECRET


@pytest.mark.parametrize("name", sorted(federated("http://h/")))
def test_the_check_refuses_every_spelling(name):
    with pytest.raises(Unsafe) as refused:
        checked(federated("http://127.0.0.1:9/sparql")[name])
    message = str(refused.value)
    assert message in (NO_SERVICE, READ_ONLY) or message.startswith("SPARQL syntax error: "), message


def test_the_parse_tree_walk_alone_refuses_every_spelling(monkeypatch):
    """Without the belt (the normalised keyword scan), the walk of the parse tree still finds every
    SERVICE that rdflib's grammar accepts; the other spellings are syntax errors or updates to it."""
    monkeypatch.setattr(query_guard, "_bare_words", lambda text: "")
    not_parsed = {name for name in federated("http://h/") if name.startswith("keyword ")} - {
        "keyword upper", "keyword lower", "keyword mixed", "keyword long s", "keyword escaped S",
        "keyword escaped E", "keyword escaped all"} | {"silent glued", "after a number", "after true",
                                                       "after an escaped hash"}
    for name, sparql in federated("http://127.0.0.1:9/sparql").items():
        with pytest.raises(Unsafe) as refused:
            checked(sparql)
        if name in not_parsed:
            assert str(refused.value).startswith("SPARQL syntax error: "), name
        elif name.startswith(("update", "load")):
            assert str(refused.value) == READ_ONLY, name
        else:
            assert str(refused.value) == NO_SERVICE, name


def test_every_spelling_is_refused_by_the_endpoint_and_the_console(hostile, listener):
    client = hostile.test_client()
    for name, sparql in federated(listener).items():
        for response in every_way(client, sparql):
            assert response.status_code == 400, (name, response.status_code, text(response))
            assert "SERVICE is disabled" in text(response) or "read-only" in text(response) \
                or "SPARQL syntax error" in text(response), (name, text(response))
            assert_clean(response)


def test_queries_that_only_name_a_url_are_answered_without_fetching_it(hostile, listener):
    client = hostile.test_client()
    for sparql in harmless(listener):
        for response in every_way(client, sparql):
            assert response.status_code == 200, (sparql, text(response))
            assert_clean(response)


def test_the_confined_child_alone_cannot_connect(hostile, listener, monkeypatch):
    """The second wall: with the check switched off, every spelling reaches pyoxigraph, whose child
    process cannot open a socket: an error (400), or with SILENT no solution; never the secret."""
    switch_the_check_off(monkeypatch)
    monkeypatch.setitem(hostile.config, "SPARQL_MAX_ROWS", 5)
    monkeypatch.setitem(hostile.config, "CONSOLE_ROW_LIMIT", 5)
    client, refused_sockets = hostile.test_client(), 0
    for name, sparql in federated(listener).items():
        for response in (client.post("/sparql", data={"query": sparql}), console_post(client, sparql)):
            assert response.status_code in (200, 400), (name, response.status_code, text(response))
            assert_clean(response)
            refused_sockets += "Too many open files" in text(response)
    assert refused_sockets >= 2 * 15     # so many tried to connect and could not


def test_an_embedded_store_on_disk_is_queried_in_the_confined_child(tmp_path, listener, monkeypatch):
    """`serve --store DIR`: the same child, over RocksDB files opened by the server."""
    embedded = EmbeddedStore(tmp_path / "store")
    graph = NamedNode("urn:g")
    embedded.oxigraph.extend(Quad(NamedNode(f"urn:s{i}"), NamedNode("urn:p"), Literal(i), graph) for i in range(5))
    view, slots = DatasetView(embedded, ["urn:g"], ["urn:g"]), threading.BoundedSemaphore(1)
    outcome = run(view, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", max_rows=10, timeout=5, slots=slots)
    assert outcome.rows[0][0].value == "5"
    switch_the_check_off(monkeypatch)
    with pytest.raises(Refused) as refused:
        run(view, f"SELECT * WHERE {{ SERVICE <{listener}> {{ ?s ?p ?o }} }}", max_rows=10, timeout=5, slots=slots)
    assert refused.value.status == 400


class ServerStore:
    """A store that is not evaluated in this process (as a SPARQL server's): only the check runs in the child."""

    def __init__(self, store):
        self.store = store

    def query(self, sparql, **options):
        return self.store.query(sparql, **options)


def test_a_store_behind_a_server_gets_the_same_check(listener):
    store, slots = ServerStore(Store()), threading.BoundedSemaphore(1)
    for sparql in federated(listener).values():
        with pytest.raises(Refused) as refused:
            run(store, sparql, max_rows=10, timeout=5, slots=slots)
        assert refused.value.status == 400
    assert run(store, "ASK {}", max_rows=10, timeout=5, slots=slots).boolean is True


# ---------------------------------------------------------------- malformed, deep, large


@pytest.mark.parametrize("sparql", [
    "SELECT * WHERE { SERVICE ?var { ?s ?p ?o } }",
    "SELECT ?x WHERE { ?x ?y }",
    "SELECT * WHERE { ?s <not an iri> ?o }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY",
    "SELECT * WHERE { ?s ?p ?o } LIMIT -1",
    "SELECT * WHERE { ?s ?p 'unterminated }",
    "SELECT * WHERE { ?s ?p ?o ",
    "SELECT * WHERE { ?s ?p ?o } }",
    "SELECT * WHERE { BIND(1 AS ?x) BIND(2 AS ?x) }",
    "SELECT (1 AS ?x) (2 AS ?x) WHERE {}",
    "SELECT ?x WHERE { ?s ?p ?o } GROUP BY ?s",
    "SELECT * WHERE { ?s ?p '\\uD800' }",
    "SELECT * WHERE { ?s ?p '\\u005Cu0041' }",
    "SELECT * WHERE { ?s ?p ?o } VALUES ?x { 1 2 } VALUES ?y { 3 }",
    "ASK { ?s ?p \"a\\q\" }",
    "\x00SELECT",
    "\ufeffASK {}",
    "",
    "   ",
    "PREFIX ex: <http://example.org/>",
    "SELECT * WHERE { ?s ?p ?o . FILTER(?o = ) }",
    "SELECT * { ?s (<urn:p>|)* ?o }",
    "CONSTRUCT { ?s ?p } WHERE { ?s ?p ?o }",
    "DESCRIBE",
    "ASK { ?s ?p ?o } LIMIT 99999999999999999999999999999",
])
def test_malformed_or_unsupported_queries_are_400_with_a_message(hostile, sparql):
    client = hostile.test_client()
    for response in every_way(client, sparql)[:3]:
        body = text(response).strip()
        assert response.status_code == 400, (sparql, response.status_code, body)
        assert body and len(body) < 2000
        assert_clean(response)


def test_the_limits_come_before_the_store(hostile):
    client = hostile.test_client()
    hidden = "ASK { # a comment\r" + "{" * 5000 + "}" * 5000 + "\n }"    # pyoxigraph ends a comment at CR
    for sparql, message in [(DEEP, "nests 5001 groups deep"), (hidden, "nests 5001 groups deep"),
                            ("SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }", "nests"),
                            ("ASK { ?s ?p " + "[ <urn:p> " * 5000 + "1" + " ]" * 5000 + " }", "nests"),
                            ("ASK {} #" + "x" * 200_000, "characters long; the limit is 100,000")]:
        for response in every_way(client, sparql):
            assert response.status_code == 400 and message in text(response), text(response)[:200]
    strings = "ASK { ?s ?p \"" + "{" * 5000 + "\" }"            # brackets in strings do not nest
    assert client.post("/sparql", data={"query": strings}).status_code == 200


def test_long_queries_are_parsed_and_answered(hostile, monkeypatch):
    """rdflib's parser recurses once per triple: the child gives it room (a server thread could not).
    The parse takes about 1 s alone, more on a busy machine: this test gives it the default timeout."""
    monkeypatch.setitem(hostile.config, "SPARQL_TIMEOUT", 30.0)
    many = "SELECT (COUNT(*) AS ?n) WHERE { " + "".join(f"OPTIONAL {{ ?s <urn:p{i}> ?o{i} }} " for i in range(600)) \
        + "?s rdfs:label ?l } "
    response = hostile.test_client().post("/sparql", data={"query": many})
    assert response.status_code == 200, text(response)[:300]


def test_a_slow_parse_is_stopped_at_the_timeout_without_stalling_the_server(hostile):
    """A 90 KB FILTER chain takes rdflib's parser some 15 s: in the child, killed at the timeout, while
    the server's threads (which share one interpreter lock) go on answering."""
    slow = "ASK { FILTER(" + " || ".join(["?a = 1"] * 9000) + ") }"
    answer = {}
    thread = threading.Thread(target=lambda: answer.setdefault("slow", hostile.test_client().post(
        "/sparql", data={"query": slow}, environ_overrides={"REMOTE_ADDR": "10.0.2.1"})))
    started = time.monotonic()
    thread.start()
    time.sleep(0.3)
    cheap_started = time.monotonic()
    assert hostile.test_client().get("/sparql", query_string={"query": CHEAP}).status_code == 200
    assert time.monotonic() - cheap_started < 1.0
    thread.join()
    assert answer["slow"].status_code == 503 and "longer than 2 s" in text(answer["slow"])
    assert time.monotonic() - started < TIMEOUT + 2.0


def test_a_crash_of_the_query_engine_leaves_the_server_up(hostile, monkeypatch):
    """Even past the check, the nesting that segfaults pyoxigraph only ends the query's child."""
    switch_the_check_off(monkeypatch)
    with serve(hostile) as url:
        client = hostile.test_client()
        response = client.post("/sparql", data={"query": DEEP})
        assert response.status_code == 400 and "crashed" in text(response)
        assert_clean(response)
        assert _http(url, "/sparql?query=ASK%7B%7D").startswith(b"HTTP/1.1 200")


# ---------------------------------------------------------------- runaway queries: time, CPU, memory


def _children() -> set[int]:
    """The pids of this process's children."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                out.add(int(entry))
    return out


def _rss_mb(pid) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        return 0.0


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


@pytest.mark.parametrize("sparql", [CARTESIAN, PATHS], ids=["cartesian product", "property paths"])
def test_a_runaway_query_is_stopped_at_the_timeout_and_gives_back_its_cpu_and_memory(hostile, sparql):
    client, before = hostile.test_client(), _children()
    served_mb, peak, done = _rss_mb(os.getpid()), [0.0], threading.Event()

    def sample():       # the largest resident size of a query child while it runs
        while not done.is_set():
            peak[0] = max([peak[0]] + [_rss_mb(pid) for pid in _children() - before])
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    response = client.post("/sparql", data={"query": sparql})
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    assert response.status_code == 503 and response.headers["Retry-After"], text(response)
    assert "was stopped" in text(response) and ("longer than 2 s" in text(response) or "memory" in text(response))
    assert elapsed < TIMEOUT + 2.0
    assert _children() - before == set()                     # the child is gone: its CPU is back
    cpu = _cpu()
    time.sleep(1.0)
    assert _cpu() - cpu < 0.3                                # no thread of the server still evaluates it
    assert peak[0] < served_mb + 256 + 64                    # the child stayed under its memory cap
    assert _rss_mb(os.getpid()) < served_mb + 100            # and the server did not grow
    assert client.get("/sparql", query_string={"query": CHEAP}).status_code == 200


def test_the_console_stops_a_runaway_query_too(hostile):
    client = hostile.test_client()
    started = time.monotonic()
    response = console_post(client, CARTESIAN)
    assert response.status_code == 503 and "was stopped" in text(response)
    assert time.monotonic() - started < TIMEOUT + 2.0 and response.headers["Retry-After"]


def test_the_server_stays_up_and_answers_under_hostile_queries(hostile):
    """Over real HTTP (waitress), the deep, the runaway and the federated queries in parallel; the
    cheap query still answers meanwhile and afterwards."""
    with serve(hostile) as url:
        dotted = "SELECT * WHERE { SERV\u00b7ICE <http://127.0.0.1:9/> { ?s ?p ?o } }"
        hostile_queries = [DEEP, PATHS, CARTESIAN, dotted]
        answers = {}

        def send(i, sparql):
            answers[i] = _http(url, "/sparql", sparql, f"127.0.0.{i + 2}")

        threads = [threading.Thread(target=send, args=item) for item in enumerate(hostile_queries)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        assert _http(url, "/sparql?query=ASK%7B%7D").startswith(b"HTTP/1.1 200")
        for thread in threads:
            thread.join()
        statuses = [answers[i].split(b" ", 2)[1] for i in range(len(hostile_queries))]
        assert statuses == [b"400", b"503", b"503", b"400"], statuses
        assert _http(url, "/sparql?query=ASK%7B%7D").startswith(b"HTTP/1.1 200")


def _http(url: str, path: str, query: str | None = None, source: str = "127.0.0.1", headers: str = "") -> bytes:
    """A raw HTTP/1.1 request to the served app from a loopback address of its own (each one is a client
    of its own); the whole response."""
    from urllib.parse import quote
    host, port = url.removeprefix("http://").split(":")
    if query is not None:
        body = ("query=" + quote(query)).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n")
    else:
        body, head = b"", f"GET {path} HTTP/1.1\r\n" + ("" if "Host:" in headers else f"Host: {host}:{port}\r\n")
    with socket.create_connection((host, int(port)), timeout=30, source_address=(source, 0)) as conn:
        conn.sendall((head + headers + "Connection: close\r\n\r\n").encode() + body)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data


# ---------------------------------------------------------------- fairness


def test_one_client_cannot_take_every_slot(hostile):
    """Three heavy clients run at once; a second query from one of them is a 429 with Retry-After,
    in the endpoint and the console, while a fourth client still gets its answer."""
    results = {}

    def heavy(address):
        client = hostile.test_client()
        results[address] = client.post("/sparql", data={"query": CARTESIAN}, environ_overrides={"REMOTE_ADDR": address})

    heavies = [threading.Thread(target=heavy, args=(f"10.0.1.{i}",)) for i in range(3)]
    for thread in heavies:
        thread.start()
    time.sleep(0.5)
    client = hostile.test_client()
    again = client.post("/sparql", data={"query": CHEAP}, environ_overrides={"REMOTE_ADDR": "10.0.1.0"})
    console_again = console_post(client, CHEAP, environ_overrides={"REMOTE_ADDR": "10.0.1.1"})
    other = client.get("/sparql", query_string={"query": CHEAP}, environ_overrides={"REMOTE_ADDR": "10.0.1.9"})
    for thread in heavies:
        thread.join()
    assert again.status_code == 429 and "already have 1 query running" in text(again)
    assert again.headers["Retry-After"]
    assert console_again.status_code == 429 and console_again.headers["Retry-After"]
    assert other.status_code == 200 and other.json["boolean"] is True
    assert [results[f"10.0.1.{i}"].status_code for i in range(3)] == [503, 503, 503]
    after = client.post("/sparql", data={"query": CHEAP}, environ_overrides={"REMOTE_ADDR": "10.0.1.0"})
    assert after.status_code == 200                     # its share is back once its query was stopped


# ---------------------------------------------------------------- the Host header


def test_the_host_header_is_never_reflected(hostile):
    client = hostile.test_client()
    description = client.get("/sparql", headers={"Host": "evil.example:1234", "Accept": "text/turtle"})
    assert description.status_code == 200 and "evil.example" not in text(description)
    assert "<http://localhost/sparql>" in text(description)


@pytest.mark.parametrize("host", ["a" * 70_000, "a" * 254, "evil.example/x", "x y", "\u00fcn\u00ef.example",
                                  "evil.example:99999999", "<script>"])
def test_a_bad_host_header_is_400_with_the_usual_headers(hostile, host):
    client = hostile.test_client()
    for path in ("/", "/sparql", "/sparql-console", "/system/ai-system", "/api/systems"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400 and "Host header" in text(response)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "default-src" in response.headers["Content-Security-Policy"]


def test_a_long_host_header_over_http_is_400_with_the_usual_headers(hostile):
    with serve(hostile) as url:
        response = _http(url, "/sparql", headers=f"Host: {'a' * 70_000}\r\n")
        head = response.partition(b"\r\n\r\n")[0]
        assert head.startswith(b"HTTP/1.1 400") and b"X-Frame-Options: DENY" in head
        assert b"Content-Security-Policy" in head
