"""`threatkg map ID`: requirements ↔ threats over the installed catalogs."""

import click

from kg.analysis import catalog_store
from kg.cli import main
from kg.cli.options import catalogs_store, output_format
from kg.mapping import map_id
from kg.render import render
from kg.store import open_store, store_url
from kg.systems.releases import catalog_view

COLUMNS = ["requirement", "threat", "via", "provenance"]


@main.command("map")
@click.argument("official_id", metavar="ID")
@output_format("table", "json", "csv")
@catalogs_store
def map_command(official_id, fmt, store):
    """The threats requirement ID addresses, or the requirements that cover threat ID.

    ID is a requirement (v4.0.3-5.3.4, v5.0.0-1.2.4, A03:2021, LLM01:2025, AML.M0015, a CoSAI
    control, a security property) or a threat (CAPEC-66, AML.T0051, a CoSAI risk, a STRIDE
    category). Each row shows the chain of links and its provenance (official, derived, curated)."""
    url = store_url(store)
    rows = map_id(catalog_view(open_store(url)) if url else catalog_store(), official_id)
    if not rows:
        click.echo(f"no mapping found for {official_id}", err=True)
    click.echo(render(rows, fmt, COLUMNS))
