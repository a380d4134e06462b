"""`threatkg coverage MODEL --profile NAME`: what a requirement profile addresses, per component."""

import click

from kg.cli import main
from kg.cli.model_commands import assessed
from kg.cli.options import model_argument, output_format, profile_option, reasoner, store_option
from kg.profiles import load
from kg.render import as_json, render

COMPONENT_COLUMNS = ["component", "zone", "threats", "addressed", "open", "ratio"]


def _summary_rows(result) -> tuple[list, list, list]:
    components = [{**c, "threats": len(c["threats"]), "addressed": len(c["addressed"]), "open": len(c["open"])}
                  for c in result["components"]]
    components.append({"component": "(system)", "zone": "", **result["totals"]})
    properties = [{"property": name, **p, "unsatisfied_on": p["unsatisfied_on"]}
                  for name, p in result["properties"].items()]
    zones = [{"zone": zone, **z} for zone, z in result["zones"].items()]
    return components, properties, zones


@main.command("coverage")
@model_argument
@profile_option(required=True)
@output_format("table", "json", "csv", "md")
@reasoner
@store_option
def coverage_command(model, profile_name, fmt, reasoner, store):
    """Inherited threats per component: addressed (by which requirement or control, and how) and open."""
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
    click.echo(render(properties, fmt, ["property", "category", "threats", "addressed", "ratio", "unsatisfied_on"]))
    click.echo(f"\n{heading}Per zone\n")
    click.echo(render(zones, fmt, ["zone", "threats", "addressed", "open", "ratio"]))
