"""Requirement profiles (catalogs/profiles/*.yaml, or a user's YAML file): a named set of
requirements, of threats that must be addressed, or of security properties.

    id, title, description
    kind: requirements | threats | properties
    ids: [...]                                  # official ids, or
    select: {query: NAME, with: {var: value}}   # a named query (kg/queries/NAME.rq) selecting them;
                                                # `with` binds its variables: integers stay numbers,
                                                # strings are catalog entries (asvs/v4.0.3)
"""

from dataclasses import dataclass
from pathlib import Path

import yaml
from pyoxigraph import Literal, NamedNode

from kg.errors import InputError, Problem
from kg.ids import iri_of
from kg.namespaces import ID
from kg.paths import catalogs_data_dir, queries_dir
from kg.queries import run

KINDS = {"requirements": "requirement", "threats": "threat", "properties": "requirement"}
FIELDS = {"id", "title", "description", "kind", "ids", "select"}


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
    if not path.is_file():
        raise InputError(Problem(name_or_path, f"no such profile (built-in: {', '.join(builtin())}; "
                                               "or give the path of a profile YAML file)"))
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise InputError(Problem(str(path), f"malformed profile: {err}")) from None
    return _validated(doc, str(path))


def _validated(doc, file: str) -> Profile:
    def bad(message, element=None):
        return InputError(Problem(file, message, element=element))
    if not isinstance(doc, dict):
        raise bad("a profile is a mapping with id, title, kind and ids or select")
    element = str(doc.get("id", "profile"))
    if set(doc) - FIELDS:
        raise bad(f"unknown fields {sorted(set(doc) - FIELDS)} (allowed: {sorted(FIELDS)})", element)
    if doc.get("kind") not in KINDS:
        raise bad(f"kind: one of {', '.join(KINDS)}", element)
    if ("ids" in doc) == ("select" in doc):
        raise bad("give either ids (a list of official ids) or select (a named query)", element)
    ids = doc.get("ids") or []
    if not isinstance(ids, list) or any(iri_of(str(i)) is None for i in ids):
        unknown = [i for i in (ids if isinstance(ids, list) else [ids]) if iri_of(str(i)) is None]
        raise bad(f"ids: not catalog ids: {unknown}", element)
    select = doc.get("select")
    if select is not None and (not isinstance(select, dict) or not isinstance(select.get("query"), str)):
        raise bad("select: a mapping with a query name and optional `with` bindings", element)
    if select is not None and not (queries_dir() / f"{select['query']}.rq").is_file():
        raise bad(f"select: no named query '{select['query']}' in {queries_dir()}", element)
    return Profile(element, str(doc.get("title", element)), doc["kind"], str(doc.get("description", "")).strip(),
                   tuple(str(i) for i in ids), select)
