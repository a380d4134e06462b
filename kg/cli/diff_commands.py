"""`threatkg diff OLD NEW`: what a change to a threat model changes, with exit code 3 when a
--fail-on condition holds (for CI gates)."""

import json
import sys

import click

from kg.catalogs import installed
from kg.catalogs.installed import not_installed_message
from kg.cli import main
from kg.cli.model_commands import warnings_on_stderr
from kg.cli.options import profile_option, reasoner
from kg.diff import compare, formats, sources
from kg.errors import EXIT_GATE
from kg.profiles import DEFAULT_PROFILE, load

GATES = {
    "new-critical": lambda s: s["gained_critical"] > 0,
    "new-high": lambda s: s["gained_critical"] + s["gained_high"] > 0,
    "coverage-drop": lambda s: bool(s["coverage_dropped"]),
    "stale-decision": lambda s: s["decisions"] > 0,
}


def _releases(old_release: str | None, new_release: str | None):
    """The catalog releases of the two sides: the named installed ones, else the current one."""
    current = installed.current()
    old = installed.named(old_release) if old_release else current
    new = installed.named(new_release) if new_release else current
    if old is None or new is None:
        click.echo(f"note: STRIDE only, {not_installed_message()}", err=True)
    return old, new


def _sides(old_arg: str, new_arg: str | None, store: str | None, releases: bool):
    """The two sources: OLD and NEW, or, comparing two releases, the one MODEL twice."""
    if new_arg is None and not releases:
        raise click.UsageError("give OLD and NEW, or one MODEL with --old-release and --new-release")
    if new_arg is not None and releases:
        raise click.UsageError("--old-release/--new-release compare one MODEL: give only it")
    old = sources.resolve(old_arg, store)
    return old, (sources.resolve(new_arg, store) if new_arg else old)


def failed(summary: dict, gates: tuple[str, ...]) -> list[str]:
    """The --fail-on conditions that hold."""
    return [gate for gate in gates if GATES[gate](summary)]


@main.command("diff")
@click.argument("old")
@click.argument("new", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown", "sarif"]), default="table",
              show_default=True, help="markdown: a pull-request comment; sarif: the newly open threats.")
@profile_option(what="A profile to compare states and coverage under (repeatable)", unset=DEFAULT_PROFILE,
                multiple=True)
@click.option("--fail-on", "gates", multiple=True, type=click.Choice(list(GATES)),
              help="Exit 3 when this holds (repeatable): a gained threat rated critical (new-high: high or "
                   "critical), a profile's coverage ratio dropping, a decision newly stale or expired.")
@click.option("--old-release", metavar="ID", help="The installed catalog release of OLD (default: the current one).")
@click.option("--new-release", metavar="ID", help="The installed catalog release of NEW (default: the current one).")
@click.option("--store", "store", metavar="URL", default=None,
              help="Read NAME@VERSION arguments (VERSION: an id of `systems list`, current or previous) from "
                   "this store (default $THREATKG_STORE).")
@reasoner
def diff(old, new, fmt, profile_names, gates, old_release, new_release, store, reasoner):
    """What changed from OLD to NEW: elements, flows, zones, controls and implemented requirements
    added, removed or changed; threats gained and lost per element; states and coverage per profile;
    decisions newly stale or expired.

    \b
    OLD, NEW  a model file; REV:path, the file at a git revision of the current repository
              (origin/main:model.yaml); or NAME@VERSION of a stored system (with --store)
    MODEL --old-release ID --new-release ID
              one model under two installed catalog releases

    Exit codes: 0, or 3 when a --fail-on condition holds (the output is printed either way);
    2 bad input."""
    profiles = [load(name) for name in (profile_names or [DEFAULT_PROFILE])]
    old_source, new_source = _sides(old, new, store, bool(old_release or new_release))
    old_catalogs, new_catalogs = _releases(old_release, new_release)
    with warnings_on_stderr():
        before = old_source.assess(reasoner, old_catalogs)
        after = new_source.assess(reasoner, new_catalogs)
    result = compare(before, after, profiles)
    old_name = f"{old}@{old_catalogs.release}" if old_release else old
    new_name = f"{new or old}@{new_catalogs.release}" if new_release else (new or old)
    _echo(result, fmt, old_name, new_name, after, new_source)
    if held := failed(result["summary"], gates):
        click.echo(f"threatkg diff: failing on {', '.join(held)}", err=True)
        sys.exit(EXIT_GATE)


def _echo(result: dict, fmt: str, old_name: str, new_name: str, after, new_source) -> None:
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    elif fmt == "sarif":
        click.echo(json.dumps(formats.as_sarif(result, after.analysis.model, new_source.path), indent=2,
                              ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(formats.as_markdown(result, old_name, new_name), nl=False)
    else:
        click.echo(formats.as_table(result, old_name, new_name))
