"""`threatkg explain`: why a threat applies to a component or flow, or why not."""

import json

import click

from kg.catalogs.entries import unknown_entry
from kg.cli import main
from kg.cli.model_commands import analysed
from kg.cli.options import model_argument, output_format, reasoner, store_option
from kg.errors import InputError, Problem
from kg.ids import iri_of
from kg.why import lines, verdict


@main.command()
@model_argument
@click.argument("component")
@click.argument("threat")
@output_format("text", "json", default="text")
@reasoner
@store_option
def explain(model, component, threat, fmt, reasoner, store):
    """Why THREAT (CAPEC-66, AML.T0051, riskPromptInjection, Spoofing …) applies to COMPONENT (a
    component or flow id) of MODEL, or why not: which applicability condition excluded it and what
    fact in the model would make it apply."""
    iri = iri_of(threat)
    if iri is not None and unknown_entry(str(iri)):
        raise InputError(Problem(threat, "no installed catalog has this entry"))
    analysis = analysed(model, reasoner, store)
    v = verdict(analysis, component, threat, model)
    click.echo(json.dumps(v, indent=2, ensure_ascii=False) if fmt == "json" else "\n".join(lines(v)))
