"""`threatkg report MODEL`: the threat-model document in Markdown, HTML, JSON or SARIF."""

import json
from pathlib import Path
from urllib.parse import quote

import click

from kg.cli import main
from kg.cli.model_commands import assessed
from kg.cli.options import model_argument, profile_option, reasoner, store_option
from kg.errors import InputError, Problem
from kg.profiles import DEFAULT_PROFILE, load
from kg.report import html, markdown, sarif

FORMATS = {"md": ".md", "html": ".html", "json": ".json", "sarif": ".sarif"}
SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json", ".sarif": "sarif"}


def _format(fmt: str | None, output: Path | None) -> str:
    """The format asked for, else the one the output file's suffix names, else Markdown."""
    if fmt:
        return fmt
    return SUFFIXES.get(output.suffix.lower(), "md") if output else "md"


def _check_output(output: Path) -> None:
    """Fail before any work when the report cannot be written there."""
    folder = output.parent
    if not folder.is_dir():
        raise InputError(Problem(str(output), f"cannot write the report: the folder '{folder}' does not exist "
                                              "(create it first)"))
    if output.is_dir():
        raise InputError(Problem(str(output), "cannot write the report: this is a folder; give a file name"))


def diagram_file(output: Path) -> Path:
    """Where a Markdown report's data-flow diagram goes: beside it, named after it."""
    return output.with_name(f"{output.stem}-dfd.svg")


def _text(data: dict, fmt: str, output: Path | None) -> str:
    if fmt == "html":
        return html.render(data)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif.log(data), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        return markdown.render(data)
    svg = diagram_file(output)
    svg.write_text(data["diagram"]["svg"], encoding="utf-8")
    return markdown.render(data, diagram_href=quote(svg.name))


@main.command("report")
@model_argument
@profile_option(DEFAULT_PROFILE)
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default=None,
              help="md, html, json or sarif (default: from the suffix of -o, else md).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write the report to this file (default: standard output).")
@reasoner
@store_option
def report(model, profile_name, fmt, output, reasoner, store):
    """The threat model of MODEL as a document: system, zones, data-flow diagram, threats per component
    with explanations and official catalog links, coverage by a requirement profile, and the open gaps
    ranked by residual risk.

    \b
    md     Markdown; with -o the diagram goes to FILE-dfd.svg beside it, on stdout it is embedded
           as a data: URI image
    html   one self-contained file (inline style and SVG, no script, nothing loaded when viewed)
    json   the report data as is
    sarif  SARIF 2.1.0: the open gaps as results at the elements' lines in MODEL"""
    if output is not None:
        _check_output(output)
    fmt = _format(fmt, output)
    profile = load(profile_name)
    with assessed(model, reasoner, store) as assessment:
        data = assessment.report(profile)
    text = _text(data, fmt, output)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"{output}: {fmt} report of {data['system']['id']} ({data['summary']['open']} open gaps "
               f"under {profile.id})", err=True)
