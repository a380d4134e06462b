"""Hostile SPARQL on `threatkg query` and `threatkg systems query`: exit 2 with a message naming the
problem (never a traceback, an internal error or a segfault), SERVICE refused whatever its spelling,
and, with the check switched off, a child process that can neither connect nor take the command down."""

import subprocess
import sys

import pytest
from click.testing import CliRunner
from pyoxigraph import Literal, NamedNode, Quad, Store

from kg import sparql
from kg.cli import main
from kg.errors import InputError
from kg.query_guard import NO_SERVICE, READ_ONLY
from kg.sparql import run_query
from tests.conftest import EXAMPLE, REPO
from tests.web.test_sparql_hostile import DEEP, federated, listening


@pytest.fixture
def listener():
    """A local listener's URL; the test fails if anything connected to it."""
    with listening() as (url, contacts):
        yield url
    assert contacts == [], f"the command opened a connection to the listener: {contacts[:1]}"


def small_store() -> Store:
    store = Store()
    store.extend(Quad(NamedNode(f"urn:s{i}"), NamedNode("urn:p"), Literal(i)) for i in range(3))
    return store


def cli(*args, query: str, tmp_path):
    """`threatkg ARGS -f FILE` with the query in FILE (as users hand over long queries)."""
    query_file = tmp_path / "query.rq"
    query_file.write_text(query, encoding="utf-8", newline="")
    return CliRunner().invoke(main, [*args, "-f", str(query_file)])


def assert_refused(result, *messages):
    assert result.exit_code == 2, result.output
    assert any(m in result.stderr for m in messages), result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output


@pytest.mark.parametrize("name", sorted(federated("http://h/")))
def test_every_spelling_of_service_is_refused(name, listener):
    with pytest.raises(InputError) as refused:
        run_query(small_store(), federated(listener)[name], "table")
    message = str(refused.value)
    assert message.startswith("QUERY: ")
    assert NO_SERVICE in message or READ_ONLY in message or "SPARQL syntax error: " in message


@pytest.mark.parametrize("name", ["keyword upper", "keyword middle dot", "keyword combining acute",
                                  "after a lone CR in a comment", "three sub-queries deep", "unbound variable"])
def test_threatkg_query_refuses_service(name, listener, tmp_path):
    result = cli("query", str(EXAMPLE), query=federated(listener)[name], tmp_path=tmp_path)
    assert_refused(result, "SERVICE is disabled")
    assert str(tmp_path / "query.rq") in result.stderr      # the message names the file


@pytest.mark.parametrize("sparql, message", [
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "read-only"),
    ("SELECT ?x WHERE { ?x ?y }", "SPARQL syntax error: "),
    ("SELECT * WHERE { BIND(1 AS ?x) BIND(2 AS ?x) }", "SPARQL syntax error: "),
    ("SELECT * WHERE { ?s ?p '\\uD800' }", "is no Unicode character"),
    ("\x00SELECT", "SPARQL syntax error: "),
    ("ASK {} #" + "x" * 200_000, "the limit is 100,000"),
    ("SELECT * WHERE { FILTER(" + "(" * 500 + "1" + ")" * 500 + ") }", "nests 502 groups deep"),
])
def test_threatkg_query_reports_bad_queries(sparql, message, tmp_path):
    assert_refused(cli("query", str(EXAMPLE), query=sparql, tmp_path=tmp_path), message)


def test_deep_nesting_is_exit_2_not_a_segfault(tmp_path, empty_home):
    """In a process of its own (a segfault would end the test run): pyoxigraph crashed at 5,000 levels."""
    query_file = tmp_path / "deep.rq"
    query_file.write_text(DEEP)
    done = subprocess.run([sys.executable, "-m", "kg.cli", "query", str(EXAMPLE), "-f", str(query_file)],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
                          env={"PATH": "/usr/bin:/bin", "THREATKG_HOME": str(empty_home)})
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert f"{query_file}: The query nests 5001 groups deep; the limit is 64." in done.stderr
    assert "Traceback" not in done.stderr


def test_the_confined_child_alone_cannot_connect_nor_crash_the_command(listener, monkeypatch):
    """The second wall: with the check switched off, SERVICE reaches pyoxigraph in a child that cannot
    open a socket, and the nesting that segfaults pyoxigraph ends only that child."""
    monkeypatch.setattr(sparql, "screened", lambda text: text)
    monkeypatch.setattr(sparql, "check_parsed", lambda text: None)
    with pytest.raises(InputError, match="query failed: Too many open files"):
        run_query(small_store(), f"SELECT * WHERE {{ SERVICE <{listener}> {{ ?s ?p ?o }} }}", "table")
    assert "(1 rows)" in run_query(small_store(), f"SELECT * WHERE {{ SERVICE SILENT <{listener}> {{ ?s ?p ?o }} }}",
                                   "table")
    with pytest.raises(InputError, match="query failed: The query engine crashed on this query"):
        run_query(small_store(), DEEP, "table")
    assert run_query(small_store(), "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "csv").splitlines() == ["n", "3"]


def test_systems_query_on_an_embedded_store_follows_the_same_rules(tmp_path, listener):
    result = cli("systems", "query", "--store", str(tmp_path / "one"), query=federated(listener)["sub-query"],
                 tmp_path=tmp_path)
    assert_refused(result, "SERVICE is disabled")
    result = cli("systems", "query", "--store", str(tmp_path / "two"), "--format", "csv", query="ASK { }",
                 tmp_path=tmp_path)     # a folder of its own: this process still holds the first one's lock
    assert result.exit_code == 0 and result.stdout.strip() == "true", result.output
