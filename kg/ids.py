"""Catalog ids as users write them (CAPEC-66, v4.0.3-5.3.4, AML.M0015, riskDataPoisoning, Spoofing …)
→ entry IRIs, by the id forms listed in catalogs/ids.yaml."""

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml
from rdflib import URIRef

from kg.namespaces import ID
from kg.paths import catalogs_data_dir


@dataclass(frozen=True)
class IdForm:
    pattern: re.Pattern
    catalog: str
    kind: str          # threat | requirement | weakness | other
    example: str
    also: tuple = ()   # other kinds of entry the form names

    def names(self, kind: str) -> bool:
        return kind == self.kind or kind in self.also


@lru_cache(maxsize=1)
def forms() -> tuple[IdForm, ...]:
    entries = yaml.safe_load((catalogs_data_dir() / "ids.yaml").read_text(encoding="utf-8"))
    return tuple(IdForm(re.compile(e["pattern"], re.ASCII), e["catalog"], e["kind"], e["example"], tuple(e.get("also", ())))
                 for e in entries)


def form_of(official_id: str) -> IdForm | None:
    return next((f for f in forms() if f.pattern.match(official_id)), None)


def iri_of(official_id: str) -> URIRef | None:
    """The entry IRI of an official id, or None when the id has no known form."""
    form = form_of(official_id)
    return URIRef(f"{ID}{form.catalog}/{official_id}") if form else None


def known_forms(kind: str | None = None) -> str:
    """Examples of the id forms (of one kind), for error messages."""
    return ", ".join(f.example for f in forms() if kind in (None, f.kind))
