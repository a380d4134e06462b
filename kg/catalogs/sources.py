"""catalogs/sources.yaml: which files make up each catalog, where they come from, their sha256."""

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from kg.errors import InputError, Problem
from kg.paths import catalogs_data_dir

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class SourceFile:
    """One file of a catalog: its place in a mirror, its official URL (if any) and its digest."""

    path: str
    sha256: str
    size: int
    url: str | None = None
    zip_member: str | None = None
    upstream: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class CatalogSource:
    """One catalog: version, importer module, licence, count patterns and files."""

    name: str
    version: str
    importer: str
    licence: str
    files: tuple[SourceFile, ...]
    counts: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        """The folder the importer reads (first segment of every file path)."""
        return PurePosixPath(self.files[0].path).parts[0]


def sources_file() -> Path:
    return catalogs_data_dir() / "sources.yaml"


def load_sources(path: Path | None = None) -> dict[str, CatalogSource]:
    """All catalogs of sources.yaml in file order, validated (InputError on any problem)."""
    path = path or sources_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise InputError(Problem(str(path), f"cannot read catalog sources: {err}")) from err
    catalogs = data.get("catalogs") if isinstance(data, dict) else None
    if not isinstance(catalogs, dict) or not catalogs:
        raise InputError(Problem(str(path), "expected a non-empty mapping", element="catalogs"))
    return {name: _catalog(path, name, spec) for name, spec in catalogs.items()}


def _catalog(path: Path, name: str, spec) -> CatalogSource:
    where = f"catalogs.{name}"
    if not isinstance(spec, dict):
        raise InputError(Problem(str(path), "expected a mapping", element=where))
    for key in ("version", "importer", "licence"):
        if not isinstance(spec.get(key), str) or not spec[key]:
            raise InputError(Problem(str(path), "missing or not a string", element=f"{where}.{key}"))
    files = spec.get("files")
    if not isinstance(files, list) or not files:
        raise InputError(Problem(str(path), "expected a non-empty list", element=f"{where}.files"))
    counts = spec.get("counts") or {}
    if not isinstance(counts, dict) or not all(isinstance(v, str) for v in counts.values()):
        raise InputError(Problem(str(path), "expected label: SPARQL pattern", element=f"{where}.counts"))
    source = CatalogSource(name, spec["version"], spec["importer"], spec["licence"],
                           tuple(_file(path, f"{where}.files[{i}]", f) for i, f in enumerate(files)),
                           dict(counts))
    if len({PurePosixPath(f.path).parts[0] for f in source.files}) != 1:
        raise InputError(Problem(str(path), "all files of a catalog must share one folder",
                                 element=f"{where}.files"))
    return source


def _file(path: Path, where: str, spec) -> SourceFile:
    def bad(key: str, message: str) -> InputError:
        return InputError(Problem(str(path), message, element=f"{where}.{key}"))

    if not isinstance(spec, dict):
        raise InputError(Problem(str(path), "expected a mapping", element=where))
    rel = spec.get("path")
    if not isinstance(rel, str) or len(PurePosixPath(rel).parts) < 2 or rel.startswith("/") \
            or ".." in PurePosixPath(rel).parts:
        raise bad("path", "expected a relative path <folder>/<file> without '..'")
    if not isinstance(spec.get("sha256"), str) or not _SHA256.match(spec["sha256"]):
        raise bad("sha256", "expected 64 lowercase hex digits")
    if not isinstance(spec.get("size"), int) or spec["size"] <= 0:
        raise bad("size", "expected a positive byte count")
    url = spec.get("url")
    if url is not None and not (isinstance(url, str) and re.match(r"^https?://", url)):
        raise bad("url", "expected an http(s) URL")
    if spec.get("zip_member") and not url:
        raise bad("zip_member", "a zip member needs a url")
    if not url and not spec.get("note"):
        raise bad("note", "a file without an official url needs a note saying why")
    return SourceFile(rel, spec["sha256"], spec["size"], url, spec.get("zip_member"),
                      spec.get("upstream"), spec.get("note"))
