"""Requirement profiles (catalogs/profiles/*.yaml, or a user's YAML file): a named set of
requirements, of threats that must be addressed, or of security properties.

    id, title, description
    kind: requirements | threats | properties
    ids: [...]                                  # official ids, or
    select: {query: NAME, with: {var: value}}   # a named query (kg/queries/NAME.rq) selecting them;
                                                # `with` binds its variables: integers stay numbers,
                                                # strings are catalog entries (asvs/v4.0.3)
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode

from kg.catalogs.entries import unknown_entry
from kg.errors import InputError, Problem
from kg.ids import iri_of
from kg.model.source import load_yaml, read_text
from kg.namespaces import ID
from kg.paths import catalogs_data_dir, queries_dir
from kg.queries import run

KINDS = {"requirements": "requirement", "threats": "threat", "properties": "requirement"}
FIELDS = {"id", "title", "description", "kind", "ids", "select"}
QUERY_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")          # a name in kg/queries, never a path
ENTRY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)*$", re.ASCII)


DEFAULT_PROFILE = "stride-properties"   # what pages and reports show when no profile is chosen


@dataclass(frozen=True)
class Profile:
    id: str
    title: str
    kind: str
    description: str = ""
    ids: tuple = ()
    select: dict | None = None

    def members(self, store) -> set[str]:
        """The IRIs of the profile's requirements (or threats, for kind threats)."""
        if self.select is None:
            return {str(iri_of(i)) for i in self.ids}
        variable = KINDS[self.kind]
        bindings = {k: _term(v) for k, v in (self.select.get("with") or {}).items()}
        return {sol[variable].value for sol in run(store, self.select["query"], **bindings)}


def _term(value):
    return Literal(str(value), datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")) \
        if isinstance(value, int) else NamedNode(str(ID) + str(value))


def builtin() -> dict[str, Path]:
    return {p.stem: p for p in sorted((catalogs_data_dir() / "profiles").glob("*.yaml"))}


def load(name_or_path: str) -> Profile:
    """A built-in profile by name, or a profile file by path."""
    path = builtin().get(name_or_path) or Path(name_or_path)
    if not os.path.lexists(path):
        raise InputError(Problem(name_or_path, f"no such profile (built-in: {', '.join(builtin())}; "
                                               "or give the path of a profile YAML file)"))
    return _validated(load_yaml(read_text(path, "profile"), str(path)), str(path))


def _validated(doc, file: str) -> Profile:
    def bad(message, element=None):
        return InputError(Problem(file, message, element=element))
    if not isinstance(doc, dict):
        raise bad("a profile is a mapping with id, title, kind and ids or select")
    if isinstance(doc.get("id"), (list, dict)):
        raise bad("id: a string")
    element = str(doc.get("id", "profile"))
    if set(doc) - FIELDS:
        raise bad(f"unknown fields {sorted(set(doc) - FIELDS)} (allowed: {sorted(FIELDS)})", element)
    if texts := [key for key in ("title", "description") if isinstance(doc.get(key), (list, dict))]:
        raise bad(f"{', '.join(texts)}: a string", element)
    if doc.get("kind") not in KINDS:
        raise bad(f"kind: one of {', '.join(KINDS)}", element)
    if ("ids" in doc) == ("select" in doc):
        raise bad("give either ids (a list of official ids) or select (a named query)", element)
    ids = doc.get("ids") or []
    if not isinstance(ids, list) or any(iri_of(str(i)) is None for i in ids):
        unknown = [i for i in (ids if isinstance(ids, list) else [ids]) if iri_of(str(i)) is None]
        raise bad(f"ids: not catalog ids: {unknown}", element)
    if missing := [i for i in ids if unknown_entry(str(iri_of(str(i))))]:
        raise bad(f"ids: not entries of the installed catalogs: {missing}", element)
    select = doc.get("select")
    if select is not None:
        _check_select(select, bad, element)
    return Profile(element, str(doc.get("title", element)), doc["kind"], str(doc.get("description", "")).strip(),
                   tuple(str(i) for i in ids), select)


def _check_select(select, bad, element) -> None:
    """A named query of kg/queries (a name, never a path) and bindings of its variables to integers or
    catalog entries (asvs/v4.0.3)."""
    if not isinstance(select, dict) or not isinstance(select.get("query"), str) or set(select) - {"query", "with"}:
        raise bad("select: a mapping with a query name and optional `with` bindings", element)
    name = select["query"]
    if not QUERY_NAME.match(name) or not (queries_dir() / f"{name}.rq").is_file():
        raise bad(f"select: no named query {name!r} in {queries_dir()}", element)
    bindings = select.get("with") or {}
    if not isinstance(bindings, dict):
        raise bad("select: `with` is a mapping of the query's variables to values", element)
    for variable, value in bindings.items():
        if isinstance(value, bool) or not (isinstance(value, int) or isinstance(value, str) and ENTRY.match(value)):
            raise bad(f"select: with.{variable}: an integer or a catalog entry such as asvs/v4.0.3; "
                      f"found {str(value)[:80]!r}", element)
