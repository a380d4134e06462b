"""`threatkg systems …`: many systems in one store (embedded or a SPARQL server), and questions
across them."""

from pathlib import Path

import click

from kg.catalogs import installed
from kg.catalogs.entries import unknown_entry
from kg.cli import main
from kg.cli.model_commands import _print, _read_query
from kg.cli.options import output_format, profile_option, reasoner
from kg.cli.options import store_of_systems as store_option
from kg.coverage import IN_PLACE
from kg.errors import InputError, Problem
from kg.ids import iri_of, known_forms
from kg.model.load import load_model
from kg.model.source import read_text
from kg.profiles import load
from kg.render import render
from kg.store import DatasetView, open_store, registry, store_url
from kg.systems import across, releases, versions

def _open(store):
    return open_store(store_url(store))


@main.group("systems")
def systems_group():
    """Many systems in one store: list, add, remove, and ask across them."""


@systems_group.command("list")
@store_option
@output_format("table", "json")
def list_systems(store, fmt):
    """The systems in the store, each with its current version."""
    snap = registry.snapshot(_open(store))
    rows = [{"system": v.system, "version": v.iri.rsplit("/", 1)[-1], "created": v.created, "source": v.source_name}
            for v in sorted(snap.systems.values(), key=lambda v: v.system)]
    _print(render(rows, fmt, ["system", "version", "created", "source"]))
    if fmt != "json":
        release = snap.release.manifest["release"] if snap.release else "none (threatkg catalogs push)"
        click.echo(f"catalog release: {release}", err=True)


@systems_group.command("add")
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@store_option
@reasoner
def add_systems(models, store, reasoner):
    """Validate each MODEL file and store it as the new version of its system (atomically: readers
    see the previous version until the new one is complete). The installed catalogs are pushed first
    when the store has none."""
    target = _open(store)
    loaded = [(path, load_model(path)) for path in models]     # every file valid before anything is stored
    if releases.ensure(target) is None:
        click.echo(f"note: the store has no catalogs and none are installed here: STRIDE only "
                   f"({installed.not_installed_message()})", err=True)
    for path, model in loaded:
        version = versions.add(target, model, read_text(Path(path)), reasoner)
        click.echo(f"{model.system}: stored version {version.iri.rsplit('/', 1)[-1]} from {path}")


@systems_group.command("remove")
@click.argument("names", nargs=-1, required=True)
@store_option
def remove_systems(names, store):
    """Remove systems and every version of them from the store."""
    target = _open(store)
    for name in names:
        versions.remove(target, name)
        click.echo(f"{name}: removed")


@systems_group.command("threat")
@click.argument("threat_id")
@store_option
@profile_option(what="What counts as addressing a threat besides what each system implements or has in place",
                unset="nothing more")
@click.option("--open", "only_open", is_flag=True, help="Only where the threat is open: required (not implemented yet) or uncovered.")
@output_format("table", "json", "csv")
def threat_across(threat_id, store, profile_name, only_open, fmt):
    """Which systems and components inherit THREAT_ID (e.g. CAPEC-66), and whether each leaves it open
    under the profile (default: only what is implemented or in place counts)."""
    iri = iri_of(threat_id)
    if iri is None:
        raise InputError(Problem(threat_id, f"not a catalog id (known forms: {known_forms()})"))
    if unknown_entry(str(iri)):
        raise InputError(Problem(threat_id, "no installed catalog has this entry"))
    rows = across.exposed(_open(store), str(iri), load(profile_name) if profile_name else IN_PLACE)
    if only_open:
        rows = [r for r in rows if r["open"]]
    _print(render(rows, fmt, ["system", "component", "threat", "state", "by", "requires"]))


@systems_group.command("coverage")
@store_option
@profile_option(required=True)
@output_format("table", "json", "csv")
def coverage_across(store, profile_name, fmt):
    """The profile's coverage of every system in the store, one line per system."""
    rows = across.coverage_by_system(_open(store), load(profile_name))
    _print(render(rows, fmt, ["system", "components", "threats", "mitigated", "required", "uncovered", "ratio", "implemented_ratio",
                             "weakest"]))


@systems_group.command("query")
@click.argument("query", required=False)
@click.option("-f", "--file", "query_file", type=click.Path(exists=True, dir_okay=False), help="Read the query from FILE.rq.")
@store_option
@output_format("table", "json", "csv")
def query_across(query, query_file, store, fmt):
    """SPARQL over every system's current version and the catalogs (each in its named graph)."""
    if bool(query) == bool(query_file):
        raise click.UsageError("give either QUERY or -f FILE.rq")
    from kg.sparql import (
        run_query,  # its query guard loads rdflib's SPARQL parser: only this command needs it
    )
    target = _open(store)
    view = DatasetView(target, *registry.snapshot(target).dataset())
    _print(run_query(view, query or _read_query(query_file), fmt, source=query_file or "QUERY"))

