"""The SPARQL console: an editor with the project's named queries as examples, results as a table
(rendered on the server) or downloaded as CSV / SPARQL JSON / Turtle. Queries run under the SPARQL
endpoint's rules (kg.web.sparql_endpoint.run): checked on their parsed form, SERVICE refused,
evaluated in a confined child, capped in rows, time and memory, one running query per client."""

import csv
import io
import re
from itertools import takewhile

from flask import Blueprint, Response, current_app, render_template, request
from pyoxigraph import BlankNode, NamedNode, RdfFormat, serialize

from kg.namespaces import PREFIXES
from kg.paths import queries_dir
from kg.web import registry
from kg.web.sparql_endpoint import (
    PREFIX_MAP,
    Outcome,
    Refused,
    one_client_share,
    run,
    solutions_json,
)

bp = Blueprint("console", __name__)

DEFAULT_EXAMPLE = "threats"
FORMATS = {"csv": ("text/csv", "csv"), "json": ("application/sparql-results+json", "srj"),
           "ttl": ("text/turtle", "ttl")}
_PARAMETER = re.compile(r"\$\w")   # a $name variable marks a query that needs parameters: not an example


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
        result = execute(query)
        if fmt in FORMATS:
            return download(result, fmt)
    except Refused as refused:   # the message is shown to the user
        headers = {"Retry-After": "5"} if refused.status in (429, 503) else {}
        return _page(named, query, None, str(refused)), refused.status, headers
    return _page(named, query, result, None)


def execute(sparql: str) -> Outcome:
    """Run a query through the SPARQL endpoint's machinery (checked on its parsed form, confined child
    process, deadline, shared slots, one share per client) over every graph, within the console's
    own row and time limits."""
    if not sparql.strip():
        raise Refused(400, "Write a query first.")
    config = current_app.config
    with one_client_share():
        return run(registry().dataset(), sparql, max_rows=config["CONSOLE_ROW_LIMIT"],
                   timeout=float(config["CONSOLE_TIME_LIMIT"]), slots=current_app.extensions["sparql_slots"],
                   memory_mb=int(config["SPARQL_MEMORY_MB"]), long_slots=current_app.extensions["sparql_long_slots"])


def _page(named, query, result, error):
    table = [[_cell(t) for t in row] for row in result.rows] if result else []
    turtle = _turtle(result.triples).decode("utf-8") if result and result.kind == "graph" else ""
    return render_template("console/console.html", examples=named, query=query, result=result, table=table,
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
    return serialize(triples, format=RdfFormat.TURTLE, prefixes=PREFIX_MAP)


def download(result: Outcome, fmt: str) -> Response:
    """The results as a file: CSV or SPARQL JSON for SELECT and ASK, Turtle for CONSTRUCT / DESCRIBE."""
    if (fmt == "ttl") != (result.kind == "graph"):
        raise Refused(400, "CONSTRUCT and DESCRIBE results download as Turtle; SELECT and ASK as CSV or JSON.")
    mimetype, extension = FORMATS[fmt]
    if fmt == "ttl":
        body = _turtle(result.triples)
    elif fmt == "csv":
        body = _csv(result)
    else:
        body = solutions_json(result)
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=results.{extension}"})


def _csv(result: Outcome) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if result.kind == "boolean":
        writer.writerow(["boolean"])
        writer.writerow(["true" if result.boolean else "false"])
        return out.getvalue()
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow(["" if t is None else (f"_:{t.value}" if isinstance(t, BlankNode) else t.value) for t in row])
    return out.getvalue()
