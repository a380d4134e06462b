"""Fetch, verify, build and install the catalogs under THREATKG_HOME, atomically.

Layout of <THREATKG_HOME>/catalogs/:
  current -> releases/<id>        a relative symlink: the only thing a fetch changes in place
  releases/<id>/manifest.json     what is installed (read through kg.catalogs.installed)
  releases/<id>/sources/...       the verified source files as fetched (usable with --from)
  releases/<id>/graphs/*.nq       each CatalogGraph as N-Quads in its named graph GRAPH[name/version]
  releases/<id>/inferred.nq       the reasoner's closure over all the graphs
  releases/<id>/indexes/*.nq      the answer index: the quads model answers read (kg.catalogs.index)
  releases/.staging-<id>/         a fetch in progress
  .lock                           flock held by the running fetch (POSIX)

Atomicity: a fetch builds a complete release in a staging folder, renames it to releases/<id>, then
points `current` at it by os.replace of a fresh symlink (rename(2), atomic on POSIX). Releases are
never modified afterwards and readers resolve `current` once, so they see the old or the new release,
never a mix. A failed, corrupt, truncated or killed fetch leaves the current release untouched and at
most a staging folder, which the next fetch deletes. The release just replaced is kept for readers
still using it; older ones are deleted.

With --only, the other catalogs keep their files (hard-linked, or copied, from the current release).
CAPEC's derived STRIDE links use the CWE graph of the same fetch, else the installed one; when a
fetch changes the CWE version the installed CAPEC was derived with, CAPEC is rebuilt from its kept
sources.
"""

import hashlib
import importlib
import json
import os
import re
import secrets
import shutil
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import click
from rdflib import Graph

from kg import __version__
from kg.catalogs import index, installed
from kg.catalogs.download import fetch_file, sha256_of
from kg.catalogs.rdfbuild import CatalogGraph
from kg.catalogs.sources import CatalogSource, load_sources
from kg.catalogs.steps import run as run_steps
from kg.errors import InputError, Problem
from kg.namespaces import GRAPH, PREFIXES


def fetch(only: list[str] | None = None, *, base_url: str | None = None, from_dir: Path | None = None,
          home_dir: Path | None = None) -> installed.Installation:
    """Download, verify and build the selected catalogs (all by default) and install them."""
    sources = load_sources()
    names = _select(sources, only)
    root = installed.catalogs_root(home_dir)
    (root / "releases").mkdir(parents=True, exist_ok=True)
    with _lock(root):
        _remove_leftovers(root)
        previous = _previous(home_dir)
        release = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
        staging = root / "releases" / f".staging-{release}"
        staging.mkdir()
        try:
            origin = base_url or (str(from_dir.resolve()) if from_dir else "official")
            _build_release(staging, release, sources, names, previous, origin, base_url, from_dir)
            _switch(root, staging, release, previous)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return installed.current(home_dir)


def _select(sources: dict[str, CatalogSource], only: list[str] | None) -> list[str]:
    if not only:
        return list(sources)
    unknown = [n for n in only if n not in sources]
    if unknown:
        raise InputError(Problem("--only", f"unknown catalog {', '.join(unknown)}; "
                                           f"choose from {', '.join(sources)}"))
    return [n for n in sources if n in only]


@contextmanager
def _lock(root: Path):
    import fcntl  # POSIX only, like the symlink swap; imported here so other commands load anywhere

    with open(root / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(Problem(str(root), "another `threatkg catalogs fetch` is running")) from None
        yield


def _remove_leftovers(root: Path) -> None:
    """Staging folders and temporary links of fetches that died (we hold the lock: none is running)."""
    for path in [*(root / "releases").glob(".staging-*"), *root.glob(".current-*")]:
        if path.is_symlink() or path.is_file():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)


def _previous(home_dir: Path | None) -> installed.Installation | None:
    try:
        return installed.current(home_dir)
    except InputError as err:
        click.echo(f"{err}; building a fresh install", err=True)
        return None


def _build_release(staging: Path, release: str, sources: dict[str, CatalogSource], names: list[str],
                   previous: installed.Installation | None, origin: str, base_url: str | None,
                   from_dir: Path | None) -> None:
    entries = {name: _fetch_catalog(staging, sources[name], origin, base_url, from_dir) for name in names}
    if _capec_stale(names, previous, sources):
        click.echo("capec: rebuilding from the installed sources to derive STRIDE with the new CWE", err=True)
        entries["capec"] = _reuse_sources(staging, previous, "capec")
    _build_catalogs(staging, sources, entries, previous)
    if previous:
        for name, entry in previous.catalogs.items():
            if name not in entries:
                entries[name] = _keep(staging, previous, entry)
    catalogs = {n: entries[n] for n in [*sources, *entries] if n in entries}
    files = [staging / g["file"] for entry in catalogs.values() for g in entry["graphs"]]
    inferred = _materialize(staging, files)
    manifest = {"format": installed.MANIFEST_FORMAT, "release": release, "built": _now(),
                "threatkg_version": __version__, "catalogs": catalogs, "inferred": inferred,
                "indexes": {index.NAME: index.build(files + [staging / inferred["file"]], staging)}}
    _write_json(staging / installed.MANIFEST, manifest)


def _fetch_catalog(staging: Path, source: CatalogSource, origin: str, base_url: str | None,
                   from_dir: Path | None) -> dict:
    """Fetch the publisher's files by default, else the mirror layout (or, in a --from folder that
    holds the publisher's files instead, those: an installed release's sources folder); the manifest
    records the sha256 and size of what was fetched."""
    official = base_url is None and (from_dir is None or (
        source.official and not (from_dir / source.files[0].path).exists()
        and (from_dir / source.official[0].path).exists()))
    importer, specs = source.layout(official)
    files = []
    for f in specs:
        dest = staging / "sources" / f.path
        came_from = fetch_file(f, dest, base_url=base_url, from_dir=from_dir)
        sha256, size = sha256_of(dest)
        files.append({"path": f.path, "sha256": sha256, "size": size, "from": came_from})
    return {"name": source.name, "version": source.version, "importer": importer,
            "licence": source.licence, "source": origin, "built": _now(), "files": files,
            "sources_sha256": _combined_sha256(files)}


def _capec_stale(names: list[str], previous: installed.Installation | None,
                 sources: dict[str, CatalogSource]) -> bool:
    """CWE is being fetched alone, and the installed CAPEC was not derived with its version."""
    return ("cwe" in names and "capec" not in names and previous is not None and "capec" in previous.catalogs
            and previous.catalogs["capec"].get("stride_cwe") != sources["cwe"].version)


def _reuse_sources(staging: Path, previous: installed.Installation, name: str) -> dict:
    entry = {k: v for k, v in previous.catalogs[name].items() if k not in ("graphs", "stride_cwe")}
    for f in entry["files"]:
        _link(previous.path / "sources" / f["path"], staging / "sources" / f["path"])
    return {**entry, "built": _now()}


def _build_catalogs(staging: Path, sources: dict[str, CatalogSource], entries: dict[str, dict],
                    previous: installed.Installation | None) -> None:
    """Run the importers on the staged sources, then the derivation steps (kg.catalogs.steps) over
    their graphs (with the installed CWE graph when CAPEC is built without CWE); write graphs and counts."""
    built = {}
    for name in entries:
        started = time.monotonic()
        built[name] = _build(name, entries[name]["importer"], staging / "sources" / sources[name].folder)
        _check_versions(sources[name], built[name])
        entries[name]["build_seconds"] = round(time.monotonic() - started, 1)
    cwe, cwe_version = [], entries.get("cwe", {}).get("version")
    if "capec" in built and "cwe" not in built:
        cwe, cwe_version = _installed_graph(previous, "cwe")
        if not cwe:
            click.echo("capec: no CWE graph fetched or installed: STRIDE derived from CAPEC alone "
                       "(fetch cwe to add the related-weakness rule)", err=True)
    if "capec" in built:
        entries["capec"]["stride_cwe"] = cwe_version
    run_steps([cg for graphs in built.values() for cg in graphs], cwe)
    for name, graphs in built.items():
        entries[name]["graphs"] = [_write_graph(cg, sources[name], staging) for cg in graphs]


def _build(name: str, importer: str, folder: Path) -> list[CatalogGraph]:
    click.echo(f"{name}: building from {folder.name}/ ({importer})", err=True)
    module = importlib.import_module(f"kg.catalogs.{importer}")
    return module.build(folder)


def _check_versions(source: CatalogSource, graphs: list[CatalogGraph]) -> None:
    """Each graph's version (read from the files) must be the catalog's or one of its '+' parts."""
    for cg in graphs:
        if cg.version not in (source.version, *source.version.split("+")):
            raise InputError(Problem(source.folder, f"the files hold {cg.name} version {cg.version}; "
                                                    f"catalogs/sources.yaml expects {source.version}"))


def _installed_graph(previous: installed.Installation | None, name: str) -> tuple[list[tuple[Path, dict]], str | None]:
    """The first graph of an installed catalog as [(N-Quads file, manifest entry)], and the catalog
    version; nothing when it is not installed."""
    if previous is None or name not in previous.catalogs:
        return [], None
    info = previous.catalogs[name]["graphs"][0]
    return [(previous.path / info["file"], info)], previous.catalogs[name]["version"]


def _write_graph(cg: CatalogGraph, source: CatalogSource, staging: Path) -> dict:
    key = f"{cg.name}/{cg.version}"
    rel = f"graphs/{_safe(cg.name)}-{_safe(cg.version)}.nq"
    if (staging / rel).exists():
        raise RuntimeError(f"two catalogs built the graph {key}")
    _write_nquads(cg.graph, GRAPH[key], staging / rel)
    counts = _counts(cg.graph, source.counts)
    click.echo(f"{source.name}: {key}: {len(cg.graph)} triples; "
               + ", ".join(f"{k} {v}" for k, v in counts.items()), err=True)
    return {"graph": key, "iri": str(GRAPH[key]), "file": rel, "source": cg.source,
            "triples": len(cg.graph), "counts": counts}


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]", "_", text)


def _write_nquads(graph: Graph, iri, path: Path) -> None:
    """N-Triples lines of the graph with the graph name inserted before the final dot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = f"<{iri}> .\n".encode()
    with open(path, "wb") as fh:
        for line in graph.serialize(format="nt", encoding="utf-8").splitlines():
            if line.strip():
                fh.write(line.rstrip()[:-1] + suffix)
        fh.flush()
        os.fsync(fh.fileno())


def _counts(graph: Graph, patterns: dict[str, str]) -> dict[str, int]:
    """COUNT(DISTINCT ?e) of each labelled pattern of sources.yaml over the graph."""
    return {label: int(next(iter(graph.query(f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ {pattern} }}",
                                             initNs=PREFIXES)))[0])
            for label, pattern in patterns.items()}


def _keep(staging: Path, previous: installed.Installation, entry: dict) -> dict:
    """An unchanged catalog: its sources and graph files linked from the current release."""
    for f in entry["files"]:
        _link(previous.path / "sources" / f["path"], staging / "sources" / f["path"])
    for g in entry["graphs"]:
        _link(previous.path / g["file"], staging / g["file"])
    return entry


def _link(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _materialize(staging: Path, files: list[Path]) -> dict:
    from kg.reasoning import materialize_catalogs

    click.echo(f"reasoning over {len(files)} graphs", err=True)
    started = time.monotonic()
    triples = materialize_catalogs(files, staging / "inferred.nq")
    return {"file": "inferred.nq", "triples": triples, "seconds": round(time.monotonic() - started, 1)}


def _switch(root: Path, staging: Path, release: str, previous: installed.Installation | None) -> None:
    """Publish the staged release: rename it into place, then swap the `current` symlink."""
    final = root / "releases" / release
    os.rename(staging, final)
    link = root / f".current-{release}"
    try:
        os.symlink(Path("releases") / release, link)
        os.replace(link, root / "current")
    except OSError:
        shutil.rmtree(final, ignore_errors=True)
        raise
    _fsync_dir(root)
    keep = {release, previous.path.name if previous else None}
    for old in (root / "releases").iterdir():   # a release a running server reads is kept until it stops
        if not old.name.startswith(".") and old.name not in keep and not installed.in_use(old):
            shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def _combined_sha256(files: list[dict]) -> str:
    """One digest over the sorted (sha256, path) lines of a catalog's files."""
    lines = sorted(f"{f['sha256']}  {f['path']}" for f in files)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
