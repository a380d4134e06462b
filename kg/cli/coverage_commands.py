"""`threatkg coverage MODEL --profile NAME`: what a requirement profile addresses, per component."""

import click

from kg.cli import main
from kg.cli.model_commands import assessed
from kg.coverage import DECIDED_STATES, STATES
from kg.cli.options import model_argument, output_format, profile_option, reasoner, store_option
from kg.profiles import load
from kg.render import as_json, render

COUNT_COLUMNS = ["threats", "mitigated", "required", "uncovered", "decided", "ratio", "implemented_ratio"]
COMPONENT_COLUMNS = ["component", "zone", *COUNT_COLUMNS]


def _summary_rows(result) -> tuple[list, list, list]:
    components = [_decided({**c, **{k: len(c[k]) for k in ("threats", *STATES)}}) for c in result["components"]]
    components.append(_decided({"component": "(system)", "zone": "", **result["totals"]}))
    properties = [_decided({"property": name, **p}) for name, p in result["properties"].items()]
    zones = [_decided({"zone": zone, **z}) for zone, z in result["zones"].items()]
    return components, properties, zones


def _decided(part: dict) -> dict:
    """The part with `decided`: its pairs a recorded decision accepts, transfers or calls a false positive."""
    return {**part, "decided": sum(part[s] for s in DECIDED_STATES)}


@main.command("coverage")
@model_argument
@profile_option(required=True)
@output_format("table", "json", "csv", "md")
@reasoner
@store_option
def coverage_command(model, profile_name, fmt, reasoner, store):
    """The state of each inherited threat per component, zone, STRIDE property and system: mitigated
    (an implemented requirement or existing control addresses it), required (only requirements of the
    profile not implemented yet do) or uncovered, unless a decision recorded in the model accepts it,
    transfers it or calls it a false positive (DECIDED). RATIO is how much the profile covers
    (mitigated + required), IMPLEMENTED_RATIO how much of it is in place."""
    profile = load(profile_name)
    with assessed(model, reasoner, store) as assessment:
        result = assessment.coverage(profile)
    if fmt == "json":
        click.echo(as_json(result))
        return
    components, properties, zones = _summary_rows(result)
    if fmt == "csv":
        click.echo(render(components, "csv", COMPONENT_COLUMNS))
        return
    heading = "## " if fmt == "md" else ""
    click.echo(f"{heading}Coverage of {result['system']} by {profile.id}: {profile.title}\n")
    click.echo(render(components, fmt, COMPONENT_COLUMNS))
    click.echo(f"\n{heading}Per STRIDE property\n")
    click.echo(render(properties, fmt, ["property", "category", *COUNT_COLUMNS, "unsatisfied_on"]))
    click.echo(f"\n{heading}Per zone\n")
    click.echo(render(zones, fmt, ["zone", *COUNT_COLUMNS]))
