"""catalogs/sources.yaml: which files make up each catalog, where they come from, their sha256."""

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from kg.errors import InputError, Problem
from kg.paths import catalogs_data_dir

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GIT_BLOB = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class SourceFile:
    """One file of a catalog: its place in the staged layout, its official URL (if any) and its digest:
    sha256 and size, or (content not known ahead) the git blob id of the pinned commit and a size bound."""

    path: str
    sha256: str | None
    size: int
    url: str | None = None
    git_blob: str | None = None
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
    official: tuple[SourceFile, ...] = ()
    official_importer: str | None = None

    @property
    def folder(self) -> str:
        """The folder the importer reads (first segment of every file path)."""
        return PurePosixPath(self.files[0].path).parts[0]

    def layout(self, official: bool) -> tuple[str, tuple[SourceFile, ...]]:
        """(importer, files) of the publisher's downloads, or of the mirror layout."""
        if official and self.official:
            return self.official_importer or self.importer, self.official
        return self.importer, self.files


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
    official = spec.get("official") or {}
    if not isinstance(official, dict) or not isinstance(official.get("files", []), list) \
            or not isinstance(official.get("importer", ""), str):
        raise InputError(Problem(str(path), "expected {importer, files: [...]}", element=f"{where}.official"))
    source = CatalogSource(name, spec["version"], spec["importer"], spec["licence"],
                           tuple(_file(path, f"{where}.files[{i}]", f) for i, f in enumerate(files)),
                           dict(counts),
                           tuple(_file(path, f"{where}.official.files[{i}]", f, official=True)
                                 for i, f in enumerate(official.get("files", []))),
                           official.get("importer"))
    if len({PurePosixPath(f.path).parts[0] for f in source.files + source.official}) != 1:
        raise InputError(Problem(str(path), "all files of a catalog must share one folder",
                                 element=f"{where}.files"))
    if not source.official and any(f.url is None for f in source.files):
        raise InputError(Problem(str(path), "a catalog with files of no official url needs an 'official' "
                                            "list of the publisher's files", element=f"{where}.official"))
    return source


def _file(path: Path, where: str, spec, official: bool = False) -> SourceFile:
    def bad(key: str, message: str) -> InputError:
        return InputError(Problem(str(path), message, element=f"{where}.{key}"))

    if not isinstance(spec, dict):
        raise InputError(Problem(str(path), "expected a mapping", element=where))
    rel = spec.get("path")
    if not isinstance(rel, str) or len(PurePosixPath(rel).parts) < 2 or rel.startswith("/") \
            or ".." in PurePosixPath(rel).parts:
        raise bad("path", "expected a relative path <folder>/<file> without '..'")
    blob = spec.get("git_blob")
    if blob is not None and not (isinstance(blob, str) and _GIT_BLOB.match(blob)):
        raise bad("git_blob", "expected 40 lowercase hex digits")
    if blob is None and (not isinstance(spec.get("sha256"), str) or not _SHA256.match(spec["sha256"])):
        raise bad("sha256", "expected 64 lowercase hex digits (or a git_blob)")
    size = spec.get("max_size" if blob else "size")
    if not isinstance(size, int) or size <= 0:
        raise bad("max_size" if blob else "size", "expected a positive byte count")
    url = spec.get("url")
    if url is not None and not (isinstance(url, str) and re.match(r"^https?://", url)):
        raise bad("url", "expected an http(s) URL")
    if official and not url:
        raise bad("url", "an official file needs its url")
    if spec.get("zip_member") and not url:
        raise bad("zip_member", "a zip member needs a url")
    if not url and not spec.get("note"):
        raise bad("note", "a file without an official url needs a note saying why")
    return SourceFile(rel, None if blob else spec["sha256"], size, url, blob, spec.get("zip_member"),
                      spec.get("upstream"), spec.get("note"))
