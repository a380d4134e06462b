"""`threatkg catalogs fetch` (verified download, build, atomic install), `threatkg catalogs list`,
`threatkg catalogs verify` (the installed files against their digests) and `threatkg catalogs push`
(the installed release into a store)."""

import json
import os
import re
import sys
from pathlib import Path

import click

from kg.catalogs import index, install, installed
from kg.cli import main
from kg.cli.options import store_of_systems
from kg.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, InputError
from kg.render import table
from kg.store import open_store, store_url
from kg.systems import releases


@main.group()
def catalogs():
    """Install the official catalogs (verified downloads) and list what is installed."""


@catalogs.command()
@click.option("--from", "from_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Copy the files from a local folder laid out like the shared catalogs folder.")
@click.option("--base-url", metavar="URL", help="Download URL/<folder>/<file> from a mirror with that layout.")
@click.option("--only", metavar="NAMES", help="Comma-separated catalogs to fetch; the others stay as installed.")
def fetch(from_dir: Path | None, base_url: str | None, only: str | None):
    """Download, verify (size + sha256), build and install the catalogs.

    By default the files come from their official URLs (catalogs/sources.yaml). Nothing changes
    unless every step succeeds: a failed fetch keeps the previous install."""
    if from_dir and base_url:
        raise click.UsageError("use either --from or --base-url, not both")
    if from_dir and not from_dir.is_dir():
        raise click.BadParameter(f"{from_dir} is not a folder", param_hint="--from")
    if base_url and not re.match(r"^https?://[^/]+", base_url):
        raise click.BadParameter("expected an http(s) URL", param_hint="--base-url")
    names = [n.strip() for n in only.split(",") if n.strip()] if only else None
    kept = _kept_phrase()
    try:
        result = install.fetch(names, base_url=base_url, from_dir=from_dir)
    except InputError as err:
        _fail([str(p) for p in err.problems], kept, EXIT_BAD_INPUT)
    except OSError as err:
        _fail([f"{err.filename}: {err.strerror}" if err.filename else str(err)], kept, EXIT_INTERNAL)
    except KeyboardInterrupt:
        _fail(["interrupted"], kept, EXIT_INTERNAL)
    except Exception as err:  # an importer or reasoner bug: still say that nothing changed
        if os.environ.get("THREATKG_DEBUG"):
            raise
        _fail([f"internal error: {type(err).__name__}: {err} (set THREATKG_DEBUG=1 for a traceback)"],
              kept, EXIT_INTERNAL)
    fetched = names or list(result.catalogs)
    others = [n for n in result.catalogs if n not in fetched]
    origin = result.catalogs[fetched[0]]["source"]
    click.echo(f"installed release {result.release} in {result.path}")
    click.echo(f"fetched {', '.join(fetched)} from "
               + ("the publishers' downloads" if origin == "official" else origin)
               + (f"; kept {', '.join(others)} as installed" if others else ""))
    _table(result)


@catalogs.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_(fmt: str):
    """The installed catalogs: version, entry counts, sources digest, build time."""
    result = installed.current()
    root = installed.catalogs_root()
    if result is None:
        message = installed.not_installed_message()
        click.echo(json.dumps({"installed": False, "path": str(root), "catalogs": [], "message": message},
                              indent=2) if fmt == "json" else f"{root}: {message}")
        return
    if fmt == "json":
        manifest = result.manifest
        click.echo(json.dumps({"installed": True, "path": str(result.path), **manifest,
                               "catalogs": list(manifest["catalogs"].values())}, indent=2))
    else:
        _table(result)


def _kept_phrase() -> str:
    try:
        return "previous install kept" if installed.current() else "nothing was installed"
    except InputError:
        return "previous install left as it was"


def _fail(lines: list[str], kept: str, code: int):
    """Report a failed fetch; the last line says what happened to the install."""
    lines[-1] = f"{lines[-1]}; fetch failed, {kept}"
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


def _table(result: installed.Installation) -> None:
    rows = [{"catalog": name, "version": entry["version"], "graph": g["graph"], "triples": g["triples"],
             "counts": " ".join(f"{k}={v}" for k, v in g["counts"].items()), "source": entry["source"],
             "sha256": entry["sources_sha256"][:12], "built": entry["built"]}
            for name, entry in result.catalogs.items() for g in entry["graphs"]]
    click.echo(table(rows, ["catalog", "version", "graph", "triples", "counts", "source", "sha256", "built"]))
    inferred = result.manifest["inferred"]
    click.echo(f"inferred closure: {inferred['triples']} triples ({result.path / inferred['file']})")
    entry = result.manifest.get("indexes", {}).get(index.NAME)
    if index.usable(result) is not None:
        click.echo(f"answer index: {entry['triples']} triples ({result.path / entry['file']})")
    else:
        click.echo(f"answer index: {'of other rules' if entry else 'none'} (built by another ThreatKG version): "
                   "model commands load every graph until `threatkg catalogs fetch` builds it")


@catalogs.command("verify")
def verify_():
    """Check the installed source files against the manifest (sha256, size) and catalogs/sources.yaml."""
    from kg.catalogs.verify import verify

    result = installed.require()
    good, problems = verify(result)
    click.echo(f"release {result.release} in {result.path}")
    for line in good:
        click.echo(line)
    for line in problems:
        click.echo(line, err=True)
    if problems:
        sys.exit(EXIT_BAD_INPUT)


@catalogs.command("push")
@store_of_systems
def push(store):
    """Upload the installed catalog release to the store and make it current there."""
    release = releases.push(open_store(store_url(store)), installed.require())
    click.echo(f"catalogs: release {release.manifest['release']} is current ({len(release.graphs)} graphs)")
