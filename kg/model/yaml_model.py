"""The documented YAML model format → RDF. Structure is checked here (sections, keys, ids,
kind names); references, types and zone cycles are checked by the SHACL shapes."""

import difflib
import re
import warnings
from functools import lru_cache

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from kg.catalogs.entries import unknown_entry
from kg.errors import Problem
from kg.ids import form_of, iri_of, known_forms
from kg.model.source import Mapping
from kg.namespaces import TM, model_iri
from kg.ontology import attributes, capabilities, compiled, kinds, known_values

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_ELEMENTS = 25_000   # zones, components, flows and controls of one model (10,000 components reason in ~25 s)

SECTIONS = {
    "system": {"id", "name", "description"},
    "zones": {"id", "label", "kind", "parent", "description"},
    "components": {"id", "label", "kinds", "zone", "attributes", "does", "does_not", "description"},
    "flows": {"id", "label", "source", "target", "protocol", "data", "bidirectional", "description"},
    "controls": {"id", "label", "kind", "protects", "mitigates", "description"},
    "requirements": {"id", "components"},
    "decisions": {"id", "threat", "subtree", "stride", "elements", "kinds", "zones", "status", "justification",
                  "owner", "date", "expires", "ticket"},
}

NOUNS = {TM.TrustZone: "zone", TM.Component: "component", TM.Control: "control"}


class YamlModel:
    """Builds the RDF graph of one YAML model and collects every structural problem."""

    def __init__(self, doc, file: str):
        self.doc, self.file = doc, file
        self.graph = Graph()
        self.lines: dict[URIRef, int] = {}
        self.problems: list[Problem] = []
        self.system = ""
        self.sections: dict[str, str] = {}   # element id → its section
        self.complete = True  # nothing left out, so references to other elements can be checked

    def problem(self, message, line=None, element=None, drops=False):
        """Record a problem; `drops` when it leaves a section or element out of the graph."""
        self.problems.append(Problem(self.file, message, line=line, element=element))
        self.complete = self.complete and not drops

    def build(self):
        doc = self.doc
        if not isinstance(doc, dict):
            self.problem(f"a model is a YAML mapping with the sections {', '.join(SECTIONS)}; "
                         f"found {_what(doc)}", line=1, drops=True)
            return self
        for key in doc:
            if key not in SECTIONS:
                self.problem(f"unknown section '{key}'{_suggest(key, SECTIONS)}", line=doc.key_lines.get(key),
                             drops=True)
        self._system(doc.get("system"))
        if not self.system:
            return self
        sizes = {s: len(doc[s]) for s in ("zones", "components", "flows", "controls") if isinstance(doc.get(s), list)}
        if sum(sizes.values()) > MAX_ELEMENTS:
            self.problem(f"{sum(sizes.values()):,} elements ({', '.join(f'{n:,} {s}' for s, n in sizes.items())}); "
                         f"the limit for one model is {MAX_ELEMENTS:,}: split the system", line=1, drops=True)
            return self
        seen: dict[str, int] = {}
        for section in ("zones", "components", "flows", "controls"):
            for item in self._items(doc, section):
                self._element(section, item, seen)
        for item in self._items(doc, "requirements"):
            self._requirement(item, seen)
        for item in self._items(doc, "decisions"):
            self._decision(item, seen)
        return self

    # ------------------------------------------------------------ sections
    def _system(self, sys):
        if not isinstance(sys, dict) or not isinstance(sys.get("id"), str):
            self.problem("section 'system' must be a mapping with an 'id'", line=getattr(sys, "line", 1),
                         drops=True)
            return
        self._unknown_keys("system", sys, sys["id"])
        if not ID_PATTERN.match(sys["id"]):
            self.problem(f"id '{sys['id']}' must match {ID_PATTERN.pattern}", line=sys.line, element=sys["id"],
                         drops=True)
            return
        self.system = sys["id"]
        iri = model_iri(self.system)
        self.lines[iri] = sys.line
        self.graph.add((iri, RDF.type, TM.System))
        self.graph.add((iri, DCTERMS.identifier, Literal(self.system)))
        self._text(iri, RDFS.label, sys, "name", sys["id"])
        self._text(iri, DCTERMS.description, sys, "description", sys["id"])

    def _items(self, doc, section):
        items = doc.get(section)
        if items is None:
            return []
        if not isinstance(items, list):
            self.problem(f"section '{section}' must be a list", line=doc.key_lines.get(section), drops=True)
            return []
        good = []
        for item, line in zip(items, items.item_lines):
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                good.append(item)
            else:
                self.problem(f"each entry of '{section}' must be a mapping with a string 'id'", line=line, drops=True)
        return good

    def _new_id(self, item, seen, element) -> bool:
        """Whether the item's id is well-formed and not taken (ids are unique across the model)."""
        eid = item["id"]
        if not ID_PATTERN.match(eid):
            self.problem(f"id must match {ID_PATTERN.pattern}", line=item.line, element=element, drops=True)
            return False
        if eid in seen:
            self.problem(f"duplicate id (first defined at line {seen[eid]})", line=item.line, element=element)
            return False
        seen[eid] = item.line
        return True

    def _element(self, section, item, seen):
        eid = item["id"]
        if not self._new_id(item, seen, eid):
            return
        self.sections[eid] = section
        self._unknown_keys(section, item, eid)
        iri = self.iri(eid)
        self.lines[iri] = item.line
        g = self.graph
        g.add((iri, DCTERMS.identifier, Literal(eid)))
        g.add((iri, TM.partOf, model_iri(self.system)))
        self._text(iri, RDFS.label, item, "label", eid, default=eid)
        self._text(iri, DCTERMS.description, item, "description", eid)
        getattr(self, "_" + section)(iri, item, eid)

    def _zones(self, iri, item, eid):
        self._kinds(iri, item, eid, "kind", TM.TrustZone)
        self._ref(iri, TM.parentZone, item.get("parent"))

    def _components(self, iri, item, eid):
        self._kinds(iri, item, eid, "kinds", TM.Component)
        self._ref(iri, TM.inZone, item.get("zone"))
        for key, prop in (("does", TM.does), ("does_not", TM.doesNot)):
            self._capabilities(iri, item, eid, key, prop)
        attrs = item.get("attributes")
        if attrs is None:
            return
        if not isinstance(attrs, dict):
            self.problem("'attributes' must be a mapping", line=item.key_lines.get("attributes"), element=eid)
            return
        known = attributes()
        for key, value in attrs.items():
            line = attrs.key_lines.get(key) if isinstance(attrs, Mapping) else item.line
            if key not in known:
                self.problem(f"unknown attribute '{key}'{_suggest(key, known)}", line=line, element=eid)
                continue
            for one in _as_list(value):   # one value, or a list of them (technology: [python, postgresql])
                if isinstance(one, (dict, list)) or one is None:
                    self.problem(f"attribute '{key}' takes a value or a list of values", line=line, element=eid)
                else:
                    self.graph.add((iri, URIRef(known[key]), Literal(one)))
                    self._known(URIRef(known[key]), one, f"attributes.{key}", line, eid)

    def _capabilities(self, iri, item, eid, key, prop):
        """`does:` / `does_not:`: capability tokens (ontologies/capabilities.ttl)."""
        known = capabilities()
        for token in _as_list(item.get(key)):
            if isinstance(token, str) and token in known:
                self.graph.add((iri, prop, URIRef(known[token])))
            else:
                self.problem(f"{key}: unknown capability {token!r}{_suggest(token, known)}",
                             line=item.key_lines.get(key), element=eid)

    def _known(self, prop, value, field, line, eid):
        """Warn about a technology or protocol token that no axiom gives a meaning to."""
        known = known_values(str(prop))
        if known and isinstance(value, str) and value not in known:
            warnings.warn(f"{self.file}:{line}: {eid}: {field}: '{value}' implies nothing ThreatKG knows"
                          f"{_suggest(value, known)}", stacklevel=2)

    def _flows(self, iri, item, eid):
        self.graph.add((iri, RDF.type, TM.DataFlow))
        self._ref(iri, TM.source, item.get("source"))
        self._ref(iri, TM.target, item.get("target"))
        self._literal(iri, TM.protocol, item.get("protocol"))
        self._known(TM.protocol, item.get("protocol"), "protocol", item.key_lines.get("protocol"), eid)
        self._literal(iri, TM.bidirectional, item.get("bidirectional"))
        for value in _as_list(item.get("data")):
            self._literal(iri, TM.carries, value)

    def _controls(self, iri, item, eid):
        self._kinds(iri, item, eid, "kind", TM.Control)
        for target in _as_list(item.get("protects")):
            self._ref(iri, TM.protects, target)
        for threat in _as_list(item.get("mitigates")):
            self._catalog_ref(iri, TM.mitigates, threat, ("threat", "weakness"), item, eid, "mitigates")

    def _requirement(self, item, seen):
        """An implemented requirement: system-wide, or for the listed components only."""
        rid = item["id"]
        self._unknown_keys("requirements", item, rid)
        holders = []
        for component in _as_list(item.get("components")):
            if component in seen:
                holders.append(self.iri(component))
            else:
                self.problem(f"components: '{component}' is not an element of this model",
                             line=item.key_lines.get("components"), element=rid)
        for holder in holders or [model_iri(self.system)]:
            self._catalog_ref(holder, TM.implements, rid, ("requirement",), item, rid, "id")

    def _decision(self, item, seen):
        """A decision about some threats of some elements (kg.model.yaml_decisions)."""
        from kg.model.yaml_decisions import Decision   # it reads this module's helpers
        if self._new_id(item, seen, f"decision {item['id']}"):
            Decision(self, item).build()

    def _catalog_ref(self, iri, prop, official_id, kinds_allowed, item, eid, key):
        form = form_of(official_id) if isinstance(official_id, str) else None
        if form is None or form.kind not in kinds_allowed:
            examples = ", ".join(known_forms(k) for k in kinds_allowed)
            self.problem(f"{key}: '{official_id}' is not a catalog id of a {' or '.join(kinds_allowed)} "
                         f"(such as {examples})", line=item.key_lines.get(key, item.line), element=eid)
            return
        if unknown_entry(str(iri_of(official_id))):
            self.problem(f"{key}: '{official_id}' is not an entry of the installed catalogs",
                         line=item.key_lines.get(key, item.line), element=eid)
            return
        self.graph.add((iri, prop, iri_of(official_id)))

    # ------------------------------------------------------------ helpers
    def iri(self, eid):
        return model_iri(self.system, eid)

    def _kinds(self, iri, item, eid, key, base):
        """The classes of the element's kinds; `base` alone when it names no known kind."""
        classes = [self._kind(name, item, eid, key, base) for name in _as_list(item.get(key))]
        for cls in [c for c in classes if c] or [base]:
            self.graph.add((iri, RDF.type, cls))

    def _kind(self, name, item, eid, key, base):
        """The class of one kind name, or None once reported."""
        known = _kinds_of(base)
        if not isinstance(name, str):
            self.problem(f"'{key}' must name kinds as strings; found {name!r}",
                         line=item.key_lines.get(key), element=eid)
        elif name in known:
            return URIRef(known[name])
        else:
            self.problem(f"unknown kind '{name}' for a {NOUNS[base]}{_suggest(name, known)}",
                         line=item.key_lines.get(key), element=eid)
        return None

    def _ref(self, iri, prop, value):
        """A reference to another element by id; SHACL checks that it exists and has the right type."""
        if value is None:
            return
        if isinstance(value, str) and ID_PATTERN.match(value):
            self.graph.add((iri, prop, self.iri(value)))
        else:
            self.graph.add((iri, prop, Literal(value)))  # a literal where an element belongs: SHACL reports it

    def _text(self, iri, prop, item, key, eid, default=None):
        """The text field `key` of `item` as a literal; a list or a mapping there is a problem."""
        value = item.get(key, default)
        if isinstance(value, (list, dict)):
            self.problem(f"{key}: at most one, a string", line=item.line, element=eid)
        else:
            self._literal(iri, prop, value)

    def _literal(self, iri, prop, value):
        if value is not None:
            self.graph.add((iri, prop, Literal(value)))

    def _unknown_keys(self, section, item, eid):
        for key in item:
            if key not in SECTIONS[section]:
                self.problem(f"unknown field '{key}'{_suggest(key, SECTIONS[section])}",
                             line=item.key_lines.get(key), element=eid)


@lru_cache(maxsize=None)
def _kinds_of(base) -> dict[str, str]:
    """The kind names (→ class IRI) whose class is `base` or below it."""
    ancestors = compiled().ancestors
    return {name: cls for name, cls in kinds().items() if str(base) in ancestors.get(name, ())}


def _what(value) -> str:
    """A YAML value's shape, in words."""
    return "a list" if isinstance(value, list) else "nothing" if value is None else "a single value"


def _as_list(value) -> list:
    """A YAML value that may be one item or a list of them, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _suggest(word, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
