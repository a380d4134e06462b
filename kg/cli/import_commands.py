"""`threatkg import SOURCE [-o MODEL.yaml]`: a threat model written by another tool (kg.importers),
written as a ThreatKG YAML model."""

import warnings
from pathlib import Path

import click
import yaml

from kg import atomic, importers
from kg.cli import main
from kg.errors import InputError, Problem
from kg.model.load import parse_model
from kg.model.source import read_text


@main.command("import")
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["auto", *importers.formats()]), default="auto", show_default=True,
              help="The source's format; auto: detected from its content.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The ThreatKG model file to write (default: standard output).")
def import_command(source, fmt, output):
    """Convert SOURCE (OTM, Threat Dragon v2, Threagile, TM-BOM, pytm JSON, draw.io) into a ThreatKG
    YAML model. Every model command also reads such files directly; this writes the model once, to
    edit and keep. What the source holds that the model cannot is said as `warning:` lines naming the
    source element; a file that is no model of the format exits 2 with one line per problem."""
    name = str(source)
    data = importers.parse(read_text(source), name)
    fmt = importers.detect(data) if fmt == "auto" else fmt
    if fmt == importers.OWN:
        raise InputError(Problem(name, "not a model of another tool (OTM, Threat Dragon, Threagile, TM-BOM, pytm, "
                                       "draw.io); a ThreatKG model needs no import"))
    imported = importers.convert(data, name, fmt, source.resolve().parent)
    text = (f"# Imported by threatkg import from {source.name} ({fmt}).\n"
            + yaml.safe_dump(imported.doc, sort_keys=False, allow_unicode=True, width=100))
    with warnings.catch_warnings():        # the import's own warnings are said below, once
        warnings.simplefilter("ignore")
        model = parse_model(text, str(output or source.with_suffix(".yaml")))     # the result is a valid model
    for problem in imported.warnings:
        click.echo(f"warning: {problem}", err=True)
    counts = ", ".join(f"{len(imported.doc.get(s) or [])} {s}" for s in ("components", "flows", "zones"))
    if output is None:
        click.echo(text, nl=False)
    elif why := atomic.write(output, text.encode("utf-8")):
        raise InputError(Problem(str(output), f"cannot write: {why}"))
    click.echo(f"{output or '(stdout)'}: ThreatKG model of {model.system} from {fmt} {name} ({counts}; "
               f"{len(imported.warnings)} warnings)", err=True)
