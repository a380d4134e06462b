"""The two sides of a diff, one argument each: a model file, `REV:path` (the file at a git revision
of the current folder's repository), or `NAME@VERSION` of a system in a store (VERSION: the id
`systems list` shows, `current` or `previous`); each analysed like a file under a catalog release."""

import subprocess
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode

from kg.analysis import analyse
from kg.assessment import Assessment
from kg.catalogs.installed import Installation
from kg.errors import InputError, Problem
from kg.model.load import parse_model
from kg.model.source import read_text
from kg.namespaces import model_iri
from kg.queries import text
from kg.store import open_store, registry, store_url

ROLES = ("current", "previous")


@dataclass(frozen=True)
class Source:
    """One side: what the user named, the model file's path (where SARIF points), and its text."""

    argument: str
    path: str
    text: str

    def assess(self, engine: str, catalogs: Installation | None) -> Assessment:
        """The model analysed under the release (None: STRIDE only)."""
        model = parse_model(self.text, self.path)
        return Assessment(analyse(model, engine, with_catalogs=catalogs is not None, catalogs=catalogs))


def resolve(argument: str, store: str | None = None) -> Source:
    """The source an argument names: an existing file, else NAME@VERSION with a store, else REV:path,
    else a file (whose absence the loader reports)."""
    if Path(argument).exists():
        return Source(argument, argument, read_text(Path(argument)))
    url = store_url(store)
    if url is not None and "@" in argument:
        return stored(argument, url)
    if ":" in argument:
        return at_revision(argument)
    return Source(argument, argument, read_text(Path(argument)))


def at_revision(argument: str) -> Source:
    """REV:path read with `git show` in the current folder's repository."""
    revision, path = argument.split(":", 1)
    if not revision or not path:
        raise InputError(Problem(argument, "give REV:path (a git revision and a file path), e.g. origin/main:model.yaml"))
    try:
        shown = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise InputError(Problem(argument, "git is not installed: REV:path needs it")) from None
    if shown.returncode != 0:
        reason = shown.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(Problem(argument, f"git cannot show it: {reason[-1] if reason else 'no output'}"))
    try:
        return Source(argument, path, shown.stdout.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise InputError(Problem(argument, f"not UTF-8 text (byte {err.start})")) from None


def stored(argument: str, url: str) -> Source:
    """NAME@VERSION of a system in the store: the model file that version was made from."""
    name, version = argument.rsplit("@", 1)
    systems, kept = _kept(url, name)
    if name not in systems:
        raise InputError(Problem(argument, f"no such system in the store {url} (stored: {', '.join(systems) or 'none'})"))
    if version not in kept:
        raise InputError(Problem(argument, f"no version '{version}' of {name} in the store: only the current and "
                                           f"the previous versions are kept, older ones are dropped "
                                           f"(kept: {', '.join(sorted(kept))})"))
    source_name, source_text = kept[version]
    return Source(argument, source_name, source_text)


def _kept(url: str, name: str) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """The store's systems, and each kept version of `name` (by id, `current` and `previous`) →
    (file name, text). The store is closed on return (an embedded one is locked while open)."""
    found = open_store(url)
    kept = {}
    for row in found.query(text("store-version-sources"), None, None, {"system": NamedNode(str(model_iri(name)))}):
        entry = (row["sourceName"].value, row["sourceText"].value)
        kept[row["version"].value.rsplit("/", 1)[-1]] = entry
        kept.update({role: entry for role in ROLES if row[role].value == "true"})
    return sorted(registry.snapshot(found).systems), kept
