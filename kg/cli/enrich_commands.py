"""`threatkg enrich ID`: facts about a catalog entry from the allowlisted external SPARQL endpoints."""

import click

from kg.cli import main
from kg.cli.options import catalogs_store, output_format
from kg.enrichment import enrich
from kg.render import as_json, render
from kg.store import open_store, store_url
from kg.systems.releases import catalog_view

COLUMNS = ["relation", "object", "label", "endpoint", "fetched", "cache"]


@main.command("enrich")
@click.argument("official_id", metavar="ID")
@click.option("--refresh", is_flag=True, help="Ask the endpoints again even when the cached answer is fresh.")
@output_format("table", "json")
@catalogs_store
def enrich_command(official_id, refresh, fmt, store):
    """Facts about catalog entry ID (CWE-89, CAPEC-66, T1110 …) from external SPARQL endpoints.

    The enrichments and the allowlist of endpoints are catalogs/enrichment.yaml, extended or overridden by
    THREATKG_HOME/enrichment.yaml. Each fact names its origin: endpoint, URL, query, when it was fetched,
    and whether it came from the cache (THREATKG_HOME/cache/enrichment).

    Exit codes: 0 when the enrichment ran, even when an endpoint failed (each failure is printed on
    stderr, and listed under "sources" in JSON, while the other endpoints' facts are shown); 2 for an
    unknown id, no installed catalogs or an invalid enrichment.yaml."""
    url = store_url(store)
    facts = enrich(official_id, catalog_view(open_store(url)) if url else None, refresh=refresh)
    for source in facts.sources:
        if source.message:
            click.echo(f"{source.enrichment}: {source.endpoint} ({source.url}): {source.status}: {source.message}",
                       err=True)
    if not facts.sources:
        click.echo(f"no enrichment applies to {official_id}", err=True)
    if fmt == "json":
        click.echo(as_json(facts.as_dict()))
        return
    rows = [{"relation": f.relation, "object": f.object, "label": f.label, "endpoint": f.origin.endpoint,
             "fetched": f.origin.fetched,
             "cache": "stale" if f.origin.stale else "cached" if f.origin.cached else "fetched"} for f in facts]
    click.echo(render(rows, fmt, COLUMNS))
