"""The model commands end to end through click: help, threats, query, export, and the exit codes."""

import csv
import io
import json

import click
import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.cli import main, model_commands
from kg.model.load import load_model
from kg.namespaces import TM
from tests.conftest import EXAMPLE

RUNNER = CliRunner()
SELECT = "SELECT ?c WHERE { ?c a tm:Component } ORDER BY ?c"
COMPONENTS = 9


def run(*args, code=0):
    """Run `threatkg ARGS`, check the exit code and that no traceback leaked out."""
    result = RUNNER.invoke(main, [str(a) for a in args], prog_name="threatkg", catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def problem_lines(result) -> list[str]:
    """stderr without the notes and warnings that come along (e.g. "no catalogs installed")."""
    return [line for line in result.stderr.splitlines() if not line.startswith(("note: ", "warning: "))]


def _command_paths(group, path=()):
    yield path
    ctx = click.Context(group)
    for name in group.list_commands(ctx):     # (loads each command's module)
        command = group.get_command(ctx, name)
        yield from _command_paths(command, path + (name,)) if isinstance(command, click.Group) else [path + (name,)]


@pytest.mark.parametrize("path", list(_command_paths(main)), ids=lambda p: " ".join(p) or "threatkg")
def test_help(path):
    assert "Usage: threatkg" in run(*path, "--help").stdout


# ------------------------------------------------------------ threats
@pytest.fixture(scope="module")
def threat_rows() -> list[dict]:
    return json.loads(run("threats", EXAMPLE, "--format", "json").stdout)


def test_threats_json_rows(threat_rows):
    assert threat_rows
    for row in threat_rows:
        assert {"component", "threat", "stride", "source", "via", "provenance"} <= row.keys()
        assert row["via"] and all(isinstance(v, str) and v for v in row["via"])
    assert {r["component"] for r in threat_rows} >= {"ai-model", "data-layer", "model-to-data"}


def test_threats_csv(threat_rows):
    text = run("threats", EXAMPLE, "--format", "csv").stdout
    assert not text.endswith("\n\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["component", "threat", "stride", "source", "provenance", "risk", "state", "folded", "via"]
    assert {r["state"] for r in rows} == {"mitigated", "uncovered"}
    assert [(r["component"], r["threat"]) for r in rows] == [(r["component"], r["threat"]) for r in threat_rows]


def test_threats_of_one_component(threat_rows):
    table = run("threats", EXAMPLE, "--component", "ai-model").stdout
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["COMPONENT", "THREAT"]
    assert len(lines) == 2 + sum(r["component"] == "ai-model" for r in threat_rows)
    assert all(line.startswith("ai-model ") for line in lines[2:])


def test_threats_of_an_unknown_component():
    result = run("threats", EXAMPLE, "--component", "nosuch", code=2)
    assert problem_lines(result) == [f"{EXAMPLE}: nosuch: no such component or flow, or it inherits no threat"]


# ------------------------------------------------------------ query
def test_query_table():
    lines = run("query", EXAMPLE, SELECT).stdout.splitlines()
    assert lines[0] == "c" and lines[-1] == f"({COMPONENTS} rows)"
    assert "https://w3id.org/threatkg/model/ai-system/ai-model" in lines


def test_query_json():
    results = json.loads(run("query", EXAMPLE, SELECT, "--format", "json").stdout)
    assert results["head"]["vars"] == ["c"]
    assert len(results["results"]["bindings"]) == COMPONENTS


def test_query_csv_from_file(tmp_path):
    query_file = tmp_path / "components.rq"
    query_file.write_text(SELECT, encoding="utf-8")
    rows = list(csv.reader(io.StringIO(run("query", EXAMPLE, "-f", query_file, "--format", "csv").stdout)))
    assert rows[0] == ["c"] and len(rows) == 1 + COMPONENTS


def test_query_syntax_error():
    [line] = problem_lines(run("query", EXAMPLE, "SELECT ?c WHERE { ?c a tm:Component ", code=2))
    assert line.startswith("QUERY: SPARQL syntax error")


def test_query_file_not_utf8(tmp_path):
    query_file = tmp_path / "bad.rq"
    query_file.write_bytes(b"SELECT \xff")
    assert problem_lines(run("query", EXAMPLE, "-f", query_file, code=2)) == [f"{query_file}: not UTF-8 text (byte 7)"]


@pytest.mark.parametrize("args", [[], [SELECT, "-f", str(EXAMPLE)]], ids=["neither", "both"])
def test_query_needs_exactly_one_query(args):
    result = run("query", EXAMPLE, *args, code=2)
    assert "Usage:" in result.stderr and "give either QUERY or -f FILE.rq" in result.stderr


# ------------------------------------------------------------ export
@pytest.fixture(scope="module")
def asserted() -> Graph:
    return load_model(EXAMPLE).graph


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's JSON-LD parser
@pytest.mark.parametrize("fmt, rdf_format", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_export_parses_back(asserted, fmt, rdf_format):
    graph = Graph().parse(data=run("export", EXAMPLE, "--format", fmt).stdout, format=rdf_format)
    assert isomorphic(graph, asserted)


def test_export_inferred(asserted):
    graph = Graph().parse(data=run("export", EXAMPLE, "--inferred").stdout, format="turtle")
    assert len(graph) > len(asserted)
    assert (None, TM.exposedTo, None) in graph
    assert (None, TM.exposedTo, None) not in asserted


# ------------------------------------------------------------ exit codes
def test_internal_error_exits_1_without_traceback(monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.delenv("THREATKG_DEBUG", raising=False)
    monkeypatch.setattr(model_commands, "load_model", broken)
    result = run("validate", EXAMPLE, code=1)
    assert result.stderr.startswith("internal error: RuntimeError: boom")
    assert result.stdout == ""
