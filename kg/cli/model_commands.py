"""Commands over one system model: validate, threats, query, export."""

import contextlib
import sys
import warnings
from pathlib import Path

import click
from rdflib.namespace import RDF

from kg import answers, exporters
from kg.analysis import analyse
from kg.assessment import Assessment
from kg.catalogs import installed
from kg.catalogs.installed import not_installed_message
from kg.cli import main
from kg.cli.options import model_argument, output_format, reasoner, store_option
from kg.errors import InputError, Problem
from kg.export import FORMATS, export_model
from kg.model.load import load_model
from kg.namespaces import TM
from kg.render import render
from kg.store import open_store, registry, store_url
from kg.systems import versions
from kg.threats import threat_rows

THREAT_COLUMNS = ["component", "threat", "stride", "source", "provenance", "risk", "state", "folded", "via"]


def analysed(model_path, engine, store=None, whole=False):
    """The model file analysed here (with `whole`, over every catalog graph rather than the answer
    index), or, with a store (--store or $THREATKG_STORE), the stored system of that name."""
    url = store_url(store)
    if url is not None:
        target = open_store(url)
        return versions.analysis(target, registry.snapshot(target), model_path, engine)
    with warnings_on_stderr():
        analysis = analyse(load_model(model_path), engine, whole=whole)
    if analysis.catalogs is None:
        click.echo(f"note: STRIDE only, {not_installed_message()}", err=True)
    return analysis


@contextlib.contextmanager
def assessed(model_path, engine, store=None):
    """The assessment of the model file, its answers kept (kg.answers) for the next command about the
    same file, or of the stored system of that name (with a store)."""
    url = store_url(store)
    if url is not None:
        target = open_store(url)
        yield versions.assessment(target, registry.snapshot(target), model_path, engine)
        return
    catalogs = installed.current()
    kept = answers.location(model_path, engine, catalogs.release if catalogs else None)

    def analysis():
        with recorded_warnings() as messages:
            made = analyse(load_model(model_path), engine, with_catalogs=catalogs is not None, catalogs=catalogs)
        assessment.answers["warnings"] = messages    # kept with the answers, said again when they are read
        return made

    assessment = Assessment(analysis, answers.read(kept))
    if catalogs is None:
        click.echo(f"note: STRIDE only, {not_installed_message()}", err=True)
    try:
        yield assessment
    finally:
        for message in assessment.answers.get("warnings", []):
            click.echo(f"warning: {message}", err=True)
    if assessment.computed:
        answers.write(kept, assessment.answers)


@contextlib.contextmanager
def recorded_warnings():
    """The messages of the warnings raised inside (unknown technology tokens, reasoner fallbacks),
    in a list filled when the block ends."""
    messages = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield messages
    messages += [str(w.message) for w in caught]


@contextlib.contextmanager
def warnings_on_stderr():
    """Warnings raised inside as `warning:` lines."""
    with recorded_warnings() as messages:
        yield
    for message in messages:
        click.echo(f"warning: {message}", err=True)


def _print(text: str):
    """Echo text ending in exactly one newline (CSV and Turtle bring their own)."""
    click.echo(text, nl=not text.endswith("\n"))


def _read_query(path: str) -> str:
    """The text of a query file; a pipe or a device is never opened (it would block or never end)."""
    if not Path(path).is_file():
        raise InputError(Problem(path, "not a regular file (a device, pipe or socket): a query is a file"))
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputError(Problem(path, f"not UTF-8 text (byte {err.start})")) from None


@main.command()
@model_argument
def validate(model):
    """Check MODEL (YAML or Turtle) against the format and the SHACL shapes.

    Prints every problem as FILE:LINE: ELEMENT: MESSAGE and exits 2 when there is one; warns about
    decisions that match no inherited threat (stale) or have expired."""
    with warnings_on_stderr():
        m = load_model(model)
    click.echo(f"{model}: valid ({len(m.graph)} triples, system '{m.system}')")
    if (None, RDF.type, TM.Decision) in m.graph:   # the file's own threat rows, never a stored system's
        from kg.decisions import findings
        with warnings_on_stderr():
            analysis = analyse(m)
            found = findings(analysis, threat_rows(analysis, explain=False))
        for finding in found:
            where = f"{model}:{finding['line']}" if finding["line"] else model
            click.echo(f"warning: {where}: {finding['message']}", err=True)


@main.command()
@model_argument
@click.option("--component", help="Only this component or flow (its id).")
@output_format("table", "json", "csv")
@reasoner
@store_option
@click.option("--sort", type=click.Choice(["component", "risk"]), default="component", show_default=True,
              help="risk: highest residual risk first.")
def threats(model, component, fmt, reasoner, store, sort):
    """The threats each component and flow of MODEL inherits, and why, with their residual risk.

    A catalog threat with several applicable children is one row, its children folded under it
    (FOLDED; JSON: `folded`, with each child's row)."""
    with assessed(model, reasoner, store) as assessment:
        rows = assessment.threats(component)
    if component and not rows:
        raise InputError(Problem(model, "no such component or flow, or it inherits no threat", element=component))
    if sort == "risk":
        rows.sort(key=lambda r: (-r["risk"]["score"], r["component"], r["threat"]))
    if fmt != "json":  # one explanation per line keeps the table readable; json has them all
        rows = [{**r, "risk": f"{r['risk']['score']:g} {r['risk']['rating']}",
                 "folded": " ".join(c["threat"] for c in r.get("folded", [])),
                 "via": r["via"][0] + (f"  (+{len(r['via']) - 1} more)" if len(r["via"]) > 1 else "")}
                for r in rows]
    _print(render(rows, fmt, THREAT_COLUMNS))


@main.command()
@model_argument
@click.argument("query", required=False)
@click.option("-f", "--file", "query_file", type=click.Path(exists=True, dir_okay=False), help="Read the query from FILE.rq.")
@output_format("table", "json", "csv")
@reasoner
@store_option
def query(model, query, query_file, fmt, reasoner, store):
    """Run a SPARQL query over MODEL, the ontology and everything inferred."""
    if bool(query) == bool(query_file):
        raise click.UsageError("give either QUERY or -f FILE.rq")
    sparql = query if query else _read_query(query_file)
    analysis = analysed(model, reasoner, store, whole=True)
    # imported here: its query guard loads rdflib's SPARQL parser, which only this command needs
    from kg.sparql import run_query
    _print(run_query(analysis.store, sparql, fmt, source=query_file or "QUERY"))


@main.command()
@model_argument
@click.option("--format", "fmt", type=click.Choice([*FORMATS, *exporters.formats()]), default="ttl", show_default=True,
              help="RDF (ttl, nt, jsonld), or another tool's format with the inferred threats and their states.")
@click.option("--inferred", is_flag=True, help="Add what the reasoner inferred about the model's elements (RDF).")
@reasoner
@store_option
def export(model, fmt, inferred, reasoner, store):
    """Print MODEL as RDF (Turtle, N-Triples or JSON-LD), or in another tool's format (kg.exporters)
    with its inferred threats, their residual risk and their states."""
    if fmt in exporters.formats():
        with assessed(model, reasoner, store) as assessment:
            sys.stdout.write(exporters.formats()[fmt].export(assessment))
        return
    analysis = analysed(model, reasoner, store) if inferred or store_url(store) else None
    m = analysis.model if analysis else load_model(model)
    sys.stdout.write(export_model(m, fmt, analysis))
