"""The allowlist of external endpoints and the enrichments that use them: catalogs/enrichment.yaml, plus
THREATKG_HOME/enrichment.yaml whose entries add to or replace those of the same name. Checked on load:
an InputError names the file, the entry and the field."""

import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError, Problem
from kg.model.source import load_yaml, read_text
from kg.namespaces import ID
from kg.paths import catalogs_data_dir, home, queries_dir

CONFIG = "enrichment.yaml"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    description: str
    timeout: float           # seconds per request
    retries: int             # on connection failures and HTTP 502/503/504
    max_age: int             # seconds a cached answer stays fresh


@dataclass(frozen=True)
class Enrichment:
    name: str
    description: str
    applies_to: str          # IRI prefix of the entries it enriches
    start: str               # namespace of the skos:exactMatch target the query starts from
    endpoint: Endpoint
    query: str               # kg/queries/<query>.rq
    relation: str


def load_config() -> list[Enrichment]:
    """Every enrichment, its endpoint resolved from the allowlist; InputError listing all problems."""
    documents = [(path, _document(path)) for path in (catalogs_data_dir() / CONFIG, home() / CONFIG)
                 if os.path.lexists(path)]     # a pipe or a dangling link there is a problem, not "no file"
    problems, endpoints, enrichments = [], {}, {}
    for path, document in documents:
        for raw in _entries(document, "endpoints", path, problems):
            endpoints[raw["name"]] = _endpoint(raw, path, problems)
    for path, document in documents:
        for raw in _entries(document, "enrichments", path, problems):
            enrichments[raw["name"]] = _enrichment(raw, path, endpoints, problems)
    if problems:
        raise InputError(problems)
    return list(enrichments.values())


def _document(path: Path) -> dict:
    """The file's mapping, read within a model's limits (size, aliases, nesting; kg.model.source)."""
    document = load_yaml(read_text(path, "configuration"), str(path)) or {}
    if not isinstance(document, dict) or set(document) - {"endpoints", "enrichments"}:
        raise InputError(Problem(str(path), "expected a mapping with the lists `endpoints` and `enrichments`"))
    return document


def _entries(document: dict, section: str, path: Path, problems: list) -> list[dict]:
    """The section's entries that are mappings with a valid, unique name (the others become problems)."""
    entries = document.get(section) or []
    if not isinstance(entries, list):
        problems.append(Problem(str(path), "expected a list", element=section))
        return []
    named = {}
    for i, raw in enumerate(entries, 1):
        name = raw.get("name") if isinstance(raw, dict) else None
        if not (isinstance(name, str) and NAME.match(name)):
            problems.append(Problem(str(path), "name: expected lower-case letters, digits and -",
                                    element=f"{section}[{i}]"))
        elif name in named:
            problems.append(Problem(str(path), f"name: {name} is used twice in this file", element=f"{section}[{i}]"))
        else:
            named[name] = raw
    return list(named.values())


def _check(raw: dict, fields: dict, path: Path, where: str, problems: list) -> bool:
    """Each field present and passing its test, no unknown field; a problem per failure otherwise."""
    before = len(problems)
    for key in sorted(set(raw) - set(fields)):
        problems.append(Problem(str(path), f"{key}: unknown field (fields: {', '.join(fields)})", element=where))
    for key, (test, expected) in fields.items():
        if key not in raw or not test(raw[key]):
            got = f", got {raw[key]!r}" if key in raw else " (missing)"
            problems.append(Problem(str(path), f"{key}: expected {expected}{got}", element=where))
    return len(problems) == before


def _endpoint(raw: dict, path: Path, problems: list) -> Endpoint | None:
    fields = {"name": (_is_text, "a name"), "url": (_is_url, "an http(s) URL"), "description": (_is_text, "a text"),
              "timeout": (lambda v: _is_number(v, 1), "seconds (≥ 1)"),
              "retries": (lambda v: _is_number(v, 0) and isinstance(v, int), "a whole number ≥ 0"),
              "max_age": (lambda v: _is_number(v, 0) and isinstance(v, int), "whole seconds ≥ 0")}
    if not _check(raw, fields, path, f"endpoint {raw['name']}", problems):
        return None
    return Endpoint(raw["name"], raw["url"], raw["description"], float(raw["timeout"]), raw["retries"],
                    raw["max_age"])


def _enrichment(raw: dict, path: Path, endpoints: dict, problems: list) -> Enrichment | None:
    allowed = sorted(endpoints)   # an invalid endpoint is reported once, not again by each enrichment using it
    fields = {"name": (_is_text, "a name"), "description": (_is_text, "a text"),
              "applies_to": (_applies_to, "{catalog: NAME} or {iri_prefix: IRI}"),
              "start": (_is_url, "the IRI namespace of a skos:exactMatch target"),
              "endpoint": (lambda v: v in allowed,
                           f"the name of an allowlisted endpoint ({', '.join(allowed)}), never a URL"),
              "query": (_is_query, "the name of a query kg/queries/enrich-NAME.rq"),
              "relation": (_is_text, "a text")}
    if not _check(raw, fields, path, f"enrichment {raw['name']}", problems):
        return None
    applies = raw["applies_to"]
    prefix = applies.get("iri_prefix") or f"{ID}{applies.get('catalog')}/"
    return Enrichment(raw["name"], raw["description"], prefix, raw["start"], endpoints[raw["endpoint"]],
                      raw["query"], raw["relation"])


def _applies_to(value) -> bool:
    """{catalog: NAME} (its entries are under …/id/NAME/) or {iri_prefix: IRI}."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key, target), = value.items()
    return (key == "catalog" and isinstance(target, str) and bool(NAME.match(target))) or \
        (key == "iri_prefix" and _is_url(target))


def _is_query(value) -> bool:
    return isinstance(value, str) and NAME.match(value) is not None and value.startswith("enrich-") \
        and (queries_dir() / f"{value}.rq").is_file()


def _is_number(value, minimum) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= minimum


def _is_url(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port                           # a port out of range or no number: ValueError
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _is_text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())
