"""Threat models written by other tools, read into ThreatKG's model format, so that every model
command takes them as they are (detected by content) and `threatkg import` writes them as YAML.

One module per source format in this package, found by name (a module whose name starts with `_`
is not a format). Each one has:

    NAME                 the format's name (`--format NAME`)
    detect(data) -> bool whether `data` is of this format: the parsed JSON or YAML document, or the
                         text of an XML file
    convert(data, ctx) -> dict
                         the ThreatKG model document (the YAML model format, as plain data)

How a format's element types, technologies, zone kinds and data classifications map onto ThreatKG
kinds and facts is data: catalogs/import/NAME.yaml, given to `convert` as `ctx.mapping`. What the
source carries that ThreatKG cannot hold is a warning naming the source element (`ctx.warn`), said
by every command that reads the file; what makes the file unusable is a problem (`ctx.fail`), all
of them reported together with exit code 2."""

import importlib
import json
import pkgutil
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType

import yaml

from kg.errors import InputError, Problem
from kg.model.source import load_yaml
from kg.paths import catalogs_data_dir

OWN = "threatkg"        # ThreatKG's own YAML model format


@dataclass
class Context:
    """What a converter reads (the file's name and folder, its format's mapping) and what it reports."""

    file: str
    mapping: dict
    folder: Path | None = None        # the source file's folder; None for text read from no file (an upload)
    warnings: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    taken: set = field(default_factory=set)

    def warn(self, element: str | None, message: str, line: int | None = None):
        """Something of the source element that the ThreatKG model cannot hold, or holds differently."""
        self.warnings.append(Problem(self.file, message, line=line, element=element))

    def fail(self, element: str | None, message: str, line: int | None = None):
        """Something that keeps the file from being a model (reported with every other problem)."""
        self.problems.append(Problem(self.file, message, line=line, element=element))

    def unheld(self, section: str, entries, held: set):
        """Warn once of the fields with a value in the section's entries that are not `held` (read)."""
        if fields := sorted({k for e in entries if isinstance(e, dict) for k, v in e.items() if k not in held and v}):
            self.warn(section, f"{', '.join(fields)}: ThreatKG holds no such facts; not imported")

    def unheld_sections(self, data: dict, sections):
        """Warn of each section of the source that ThreatKG holds nothing of."""
        for section in sections:
            if entries := data.get(section):
                self.warn(section, f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'}: ThreatKG holds "
                                   f"no {section.replace('_', ' ')}; not imported")

    def ident(self, *candidates) -> str:
        """A new ThreatKG element id (letters, digits, `.`, `_`, `-`) from the first usable candidate
        (a source id or name), unique in the model."""
        base = next((slug for c in candidates if c is not None and (slug := _slug(str(c)))), "element")
        ident, n = base, 2
        while ident in self.taken:
            ident, n = f"{base}-{n}", n + 1
        self.taken.add(ident)
        return ident


@dataclass
class Imported:
    format: str
    doc: dict                 # the ThreatKG model document
    warnings: list[Problem]


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-._")
    return slug[:80] if slug and slug[0].isalnum() else ""


@cache
def formats() -> dict[str, ModuleType]:
    """Format name → its converter module, in name order."""
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            found[module.NAME] = module
    return dict(sorted(found.items()))


def mapping(name: str) -> dict:
    """The format's mapping (catalogs/import/NAME.yaml), or {} when it has none."""
    path = catalogs_data_dir() / "import" / f"{name}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.is_file() else {}


def parse(text: str, name: str):
    """The document of a model file's text: the text itself for XML, else the parsed JSON of another
    tool's format or YAML (with line numbers, kg.model.source)."""
    head = text.lstrip()[:1]
    if head == "<":
        return text
    try:
        if head in "{[" and Path(name).suffix.lower() != ".yaml":
            try:
                doc = json.loads(text, parse_int=lambda digits: _json_int(digits, name))
                if detect(doc) != OWN:
                    return doc     # ThreatKG's own model is read as YAML (which JSON is), with its lines
            except json.JSONDecodeError as err:
                if Path(name).suffix.lower() == ".json":
                    raise InputError(Problem(name, f"malformed JSON: {err.msg}", line=err.lineno)) from None
        return load_yaml(text, name)
    except RecursionError:
        raise InputError(Problem(name, "malformed: lists or mappings nested too deeply")) from None


def _json_int(digits: str, name: str) -> int:
    """A JSON integer; one too long for Python to convert (over 4,300 digits) a problem of the file."""
    if len(digits) > 4300:
        raise InputError(Problem(name, f"malformed JSON: an integer of {len(digits):,} digits is too long"))
    return int(digits)


def detect(data) -> str:
    """The format of a parsed document: ThreatKG's own unless a converter recognises it."""
    if isinstance(data, dict) and "system" in data:
        return OWN
    return next((name for name, module in formats().items() if module.detect(data)), OWN)


def convert(data, name: str, fmt: str = "auto", folder: Path | None = None) -> Imported:
    """The ThreatKG model document of a parsed file in a foreign format (`fmt`, or detected);
    `folder`: the source file's folder (None: read from no file, so it includes nothing)."""
    fmt = detect(data) if fmt == "auto" else fmt
    if fmt not in formats():
        raise InputError(Problem(name, f"unknown format '{fmt}'; the formats are {', '.join(formats())}"))
    ctx = Context(name, mapping(fmt), folder)
    try:
        doc = formats()[fmt].convert(data, ctx)
    except (AttributeError, KeyError, TypeError, ValueError) as err:  # a shape the converter did not expect
        raise InputError([*ctx.problems, Problem(name, f"not a {fmt} model: unexpected structure ({_what(err)})")]) from None
    if ctx.problems:
        raise InputError(ctx.problems)
    return Imported(fmt, doc, ctx.warnings)


def _what(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"[:200]


def say(imported: Imported):
    """Raise each warning of an import as a Python warning (the CLI prints them as `warning:` lines,
    kept with the answers)."""
    for problem in imported.warnings:
        warnings.warn(f"{problem} (imported from {imported.format})", stacklevel=2)
