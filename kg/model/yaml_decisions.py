"""The `decisions:` section of a YAML model → tm:Decision resources (ontologies/decisions.ttl). Every
field is checked here, with the ids it names (elements, kinds, zones, catalog threats of the installed
release); SHACL checks the form of the result, as for any model."""

import datetime
from urllib.parse import urlsplit

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF

from kg.catalogs.entries import known_entries
from kg.ids import form_of, iri_of, known_forms
from kg.model.lane import NOT_IN_IRIS
from kg.model.yaml_model import SECTIONS, _as_list, _kinds_of, _suggest
from kg.namespaces import TM, model_iri
from kg.ontology import decision_statuses, stride

FIELDS = SECTIONS["decisions"]
THREATS = {"threat": TM.decidesThreat, "subtree": TM.decidesSubtree, "stride": TM.decidesStride}
SCOPES = {"elements": TM.appliesToElement, "kinds": TM.appliesToKind, "zones": TM.appliesToZone}
SCOPE_SECTIONS = {"elements": ("components", "flows"), "zones": ("zones",)}
SCOPE_NOUNS = {"elements": "a component or flow", "zones": "a zone"}


class Decision:
    """One entry of `decisions:`, added to the model's graph; its problems recorded on the model."""

    def __init__(self, model, item):
        """`model`: the YamlModel being built, its elements already read."""
        self.model, self.item = model, item
        self.name = f"decision {item['id']}"
        self.iri = model_iri(model.system, item["id"])

    def problem(self, key, message, at=None):
        """A problem with field `key` (None: the entry), at the line of field `at` or of `key`."""
        self.model.problem(f"{key}: {message}" if key else message,
                           line=self.item.key_lines.get(at or key, self.item.line), element=self.name)

    def add(self, prop, value):
        self.model.graph.add((self.iri, prop, value))

    def build(self):
        item = self.item
        for key in item:
            if key not in FIELDS:
                self.problem(None, f"unknown field '{key}'{_suggest(key, FIELDS)}", at=key)
        self.model.lines[self.iri] = item.line
        self.add(RDF.type, TM.Decision)
        self.add(DCTERMS.identifier, Literal(item["id"]))
        self.add(TM.decisionOf, model_iri(self.model.system))
        self._threat()
        for key in SCOPES:
            for value in _as_list(item.get(key)):
                self._scope(key, value)
        self._status()
        for key in ("justification", "owner"):
            self._text(key, required=key == "justification")
        date = self._date("date", DCTERMS.date, required=True)
        expires = self._date("expires", TM.expires)
        if date and expires and expires < date:
            self.problem("expires", f"{expires} is before the decision's date {date}")
        self._ticket()

    def _threat(self):
        given = [key for key in THREATS if key in self.item]
        if len(given) != 1:
            found = f" (found {', '.join(given)})" if given else ""
            self.problem(None, f"give exactly one of threat, subtree or stride{found}")
        for key in given:
            iri = self._stride(self.item[key]) if key == "stride" else self._catalog_threat(key, self.item[key])
            if iri is not None:
                self.add(THREATS[key], URIRef(iri))

    def _catalog_threat(self, key, value) -> str | None:
        form = form_of(value) if isinstance(value, str) else None
        if form is None or not form.names("threat"):
            self.problem(key, f"{value!r} is not a catalog id of a threat (such as {known_forms('threat')})")
            return None
        iri = str(iri_of(value))
        known = known_entries()
        if known is not None and iri not in known:
            self.problem(key, f"'{value}' is not an entry of the installed catalogs")
            return None
        return iri

    def _stride(self, value) -> str | None:
        categories = {c.letter: c.iri for c in stride()} | {c.id: c.iri for c in stride()}
        if isinstance(value, str) and value in categories:
            return categories[value]
        self.problem("stride", f"{value!r} is not a STRIDE letter or category{_suggest(value, categories)} "
                               f"(one of {', '.join(categories)})")
        return None

    def _scope(self, key, value):
        if key == "kinds":
            known = _kinds_of(TM.Component)
            if isinstance(value, str) and value in known:
                self.add(TM.appliesToKind, URIRef(known[value]))
            else:
                self.problem(key, f"unknown component kind {value!r}{_suggest(value, known)}")
        elif isinstance(value, str) and self.model.sections.get(value) in SCOPE_SECTIONS[key]:
            self.add(SCOPES[key], self.model.iri(value))
        else:
            self.problem(key, f"{value!r} is not {SCOPE_NOUNS[key]} of this model")

    def _status(self):
        statuses = decision_statuses()
        value = self.item.get("status")
        if isinstance(value, str) and value in statuses:
            self.add(TM.decisionStatus, URIRef(statuses[value]))
        elif value is None:
            self.problem("status", f"required: one of {', '.join(sorted(statuses))}")
        else:
            self.problem("status", f"{value!r} is not a decision status{_suggest(value, statuses)}; "
                                   f"one of {', '.join(sorted(statuses))}")

    def _text(self, key, required=False):
        value = self.item.get(key)
        if isinstance(value, str) and value.strip():
            self.add(TM[key], Literal(value.strip()))
        elif value is not None or required:
            self.problem(key, "required: a non-empty text" if value is None else f"a non-empty text; found {value!r}")

    def _date(self, key, prop, required=False) -> datetime.date | None:
        value = self.item.get(key)
        if isinstance(value, str):
            try:
                value = datetime.date.fromisoformat(value)
            except ValueError:
                pass
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            self.add(prop, Literal(value))
            return value
        if value is not None or required:
            found = value.isoformat(" ") if isinstance(value, datetime.datetime) else repr(value)
            self.problem(key, "required: a date (YYYY-MM-DD)" if value is None
                         else f"a date (YYYY-MM-DD); found {found}")
        return None

    def _ticket(self):
        value = self.item.get("ticket")
        if value is None:
            return
        try:
            parts = urlsplit(value) if isinstance(value, str) else None
        except ValueError:    # an unclosed [IPv6] host
            parts = None
        if parts and parts.scheme in ("http", "https") and parts.netloc and not NOT_IN_IRIS.search(value):
            self.add(TM.ticket, URIRef(value))
        else:
            self.problem("ticket", f"an http(s) URL; found {value!r}")
