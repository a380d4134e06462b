"""The SPARQL console: an editor with the project's named queries as examples, results as a table
(rendered on the server) or downloaded as CSV / SPARQL JSON / Turtle. Read-only, capped in rows
and time; SERVICE is refused (it would make the server fetch any URL)."""

import csv
import io
import json
import re
import threading
from itertools import takewhile
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, render_template, request
from pyoxigraph import BlankNode, Literal, NamedNode, QueryBoolean, QuerySolutions, RdfFormat, serialize

from kg.namespaces import PREFIXES
from kg.paths import queries_dir
from kg.web import registry
from kg.web.sparql_endpoint import Refused, check_read_only

bp = Blueprint("console", __name__)

DEFAULT_EXAMPLE = "threats"
FORMATS = {"csv": ("text/csv", "csv"), "json": ("application/sparql-results+json", "srj"),
           "ttl": ("text/turtle", "ttl")}
_PARAMETER = re.compile(r"\$\w")   # a $name variable marks a query that needs parameters: not an example


class ConsoleError(Exception):
    """A query the console refuses or cannot run; the message is shown to the user."""


@dataclass
class Result:
    kind: str                                     # select | ask | graph
    variables: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)  # pyoxigraph terms, None when unbound
    boolean: bool | None = None
    triples: list = field(default_factory=list)
    truncated: bool = False


def examples() -> dict[str, dict]:
    """The named queries without parameters (variables written `$var`), by name: {text, about} where
    about is the query's leading comment."""
    out = {}
    for path in sorted(queries_dir().glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        if not any(_PARAMETER.search(line) for line in text.splitlines() if not line.lstrip().startswith("#")):
            comment = [line.lstrip("# ").rstrip() for line in takewhile(lambda l: l.startswith("#"), text.splitlines())]
            out[path.stem] = {"text": text, "about": " ".join(comment)}
    return out


@bp.get("/sparql-console")
def console():
    named = examples()
    name = request.args.get("example", DEFAULT_EXAMPLE)
    example = named.get(name) or named.get(DEFAULT_EXAMPLE) or {"text": ""}
    return _page(named, example["text"], None, None)


@bp.post("/sparql-console")
def run_console():
    named, query, fmt = examples(), request.form.get("query", ""), request.form.get("format", "html")
    try:
        result = execute(registry().dataset(), query, current_app.config["CONSOLE_ROW_LIMIT"],
                         current_app.config["CONSOLE_TIME_LIMIT"])
        if fmt in FORMATS:
            return download(result, fmt)
    except ConsoleError as err:
        return _page(named, query, None, str(err)), 400
    return _page(named, query, result, None)


def _page(named, query, result, error):
    table = [[_cell(t) for t in row] for row in result.rows] if result else []
    turtle = _turtle(result.triples).decode("utf-8") if result and result.kind == "graph" else ""
    return render_template("console.html", examples=named, query=query, result=result, table=table,
                           turtle=turtle, error=error, prefixes=PREFIXES,
                           endpoint="sparql" in current_app.blueprints)


def _cell(term) -> dict:
    """A result term as table text: IRIs shortened with the project's prefixes and linked to their page."""
    if term is None:
        return {"text": "", "iri": None}
    if isinstance(term, NamedNode):
        for prefix, ns in PREFIXES.items():
            if term.value.startswith(str(ns)) and len(term.value) > len(str(ns)):
                return {"text": f"{prefix}:{term.value[len(str(ns)):]}", "iri": term.value}
        return {"text": term.value, "iri": term.value}
    if isinstance(term, BlankNode):
        return {"text": f"_:{term.value}", "iri": None}
    return {"text": term.value, "iri": None}


def _turtle(triples) -> bytes:
    return serialize(triples, format=RdfFormat.TURTLE, prefixes={p: str(ns) for p, ns in PREFIXES.items()})


def execute(store, sparql: str, row_limit: int, time_limit: float) -> Result:
    """Run a query with the project's prefixes over every graph; at most row_limit rows or triples,
    abandoned after time_limit seconds (the evaluation itself cannot be interrupted)."""
    if not sparql.strip():
        raise ConsoleError("Write a query first.")
    try:
        check_read_only(sparql)
    except Refused as refused:
        raise ConsoleError(f"{refused} The console only queries this server's graphs.") from None
    box = {}

    def work():
        try:
            box["result"] = _evaluate(store, sparql, row_limit)
        except Exception as err:  # handed to the request thread below
            box["error"] = err

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(time_limit)
    if worker.is_alive():
        raise ConsoleError(f"The query ran longer than {time_limit:g} s and was abandoned: narrow it down.")
    error = box.get("error")
    if isinstance(error, SyntaxError):
        raise ConsoleError(f"SPARQL syntax error: {error}. The console runs queries only (no updates).")
    if isinstance(error, (OSError, ValueError)):
        raise ConsoleError(f"The query failed: {error}")
    if error is not None:
        raise error
    return box["result"]


def _evaluate(store, sparql: str, limit: int) -> Result:
    results = store.query(sparql, prefixes={p: str(ns) for p, ns in PREFIXES.items()},
                          use_default_graph_as_union=True)
    if isinstance(results, QueryBoolean):
        return Result("ask", boolean=bool(results))
    items = []
    for item in results:
        if len(items) == limit:
            if isinstance(results, QuerySolutions):
                return Result("select", [v.value for v in results.variables], items, truncated=True)
            return Result("graph", triples=items, truncated=True)
        items.append(list(item) if isinstance(results, QuerySolutions) else item)
    if isinstance(results, QuerySolutions):
        return Result("select", [v.value for v in results.variables], items)
    return Result("graph", triples=items)


def download(result: Result, fmt: str) -> Response:
    """The results as a file: CSV or SPARQL JSON for SELECT and ASK, Turtle for CONSTRUCT / DESCRIBE."""
    if (fmt == "ttl") != (result.kind == "graph"):
        raise ConsoleError("CONSTRUCT and DESCRIBE results download as Turtle; SELECT and ASK as CSV or JSON.")
    mimetype, extension = FORMATS[fmt]
    if fmt == "ttl":
        body = _turtle(result.triples)
    elif fmt == "csv":
        body = _csv(result)
    else:
        body = _json(result)
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=results.{extension}"})


def _csv(result: Result) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if result.kind == "ask":
        writer.writerow(["boolean"])
        writer.writerow(["true" if result.boolean else "false"])
        return out.getvalue()
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow(["" if t is None else (f"_:{t.value}" if isinstance(t, BlankNode) else t.value) for t in row])
    return out.getvalue()


def _json(result: Result) -> str:
    if result.kind == "ask":
        return json.dumps({"head": {}, "boolean": result.boolean})
    bindings = [{v: _json_term(t) for v, t in zip(result.variables, row) if t is not None} for row in result.rows]
    return json.dumps({"head": {"vars": result.variables}, "results": {"bindings": bindings}}, ensure_ascii=False)


def _json_term(term) -> dict:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if isinstance(term, Literal) and term.language:
        out["xml:lang"] = term.language
    elif isinstance(term, Literal) and term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        out["datatype"] = term.datatype.value
    return out
