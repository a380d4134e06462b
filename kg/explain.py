"""Why an element has an inferred fact: the asserted facts and ontology axioms behind it,
read off the OWL 2 RL patterns the ontology uses (subclass, hasValue, someValuesFrom,
intersection, subproperty, inverse, transitive, chain). Nothing here knows a threat by name."""

from collections import defaultdict
from functools import cached_property, lru_cache

from pyoxigraph import Literal as OxLiteral
from pyoxigraph import NamedNode, Store
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

from kg.namespaces import TM
from kg.queries import run

MAX_DEPTH = 12


class TBox:
    """The asserted axioms of the ontology, indexed for explanation."""

    def __init__(self, g: Graph):
        self.labels = {s: str(o) for s, o in g.subject_objects(RDFS.label)}
        self.phrases = {s: str(o) for s, o in g.subject_objects(TM.phrase)}
        self.subclasses = defaultdict(list)      # class → its direct (asserted) subclasses
        for sub, sup in g.subject_objects(RDFS.subClassOf):
            self.subclasses[sup].append(sub)
        for a, b in g.subject_objects(OWL.equivalentClass):
            self.subclasses[a].append(b)
            self.subclasses[b].append(a)
        self.restrictions = {}                   # restriction → (kind, property, filler)
        for r, p in g.subject_objects(OWL.onProperty):
            for kind in (OWL.hasValue, OWL.someValuesFrom, OWL.allValuesFrom):
                filler = g.value(r, kind)
                if filler is not None:
                    self.restrictions[r] = (kind, p, filler)
        self.intersections = {c: list(Collection(g, lst)) for c, lst in g.subject_objects(OWL.intersectionOf)}
        self.subproperties = defaultdict(list)
        for sub, sup in g.subject_objects(RDFS.subPropertyOf):
            self.subproperties[sup].append(sub)
        self.inverses = defaultdict(list)
        for a, b in g.subject_objects(OWL.inverseOf):
            self.inverses[a].append(b)
            self.inverses[b].append(a)
        self.transitive = set(g.subjects(RDF.type, OWL.TransitiveProperty))
        self.chains = defaultdict(list)
        for p, lst in g.subject_objects(OWL.propertyChainAxiom):
            self.chains[p].append(list(Collection(g, lst)))
        self.comments = {s: str(o) for s, o in g.subject_objects(RDFS.comment) if isinstance(s, BNode)}
        self.attachments = defaultdict(list)     # (property, value) → (class, restriction) carrying that hasValue
        for r, (kind, p, filler) in self.restrictions.items():
            if kind == OWL.hasValue:
                for cls in g.subjects(RDFS.subClassOf, r):
                    self.attachments[(p, filler)].append((cls, r))
        for index in (self.subclasses, self.subproperties, self.inverses):
            for key in index:   # a fixed order makes explanations the same from run to run
                index[key].sort(key=self._order)
        for key in self.attachments:
            self.attachments[key].sort(key=lambda pair: self._order(pair[0]))

    def _order(self, term) -> str:
        """Named terms by IRI, then anonymous class expressions by what they say (blank ids vary)."""
        if term in self.restrictions:
            return "~" + " ".join(map(str, self.restrictions[term]))
        if term in self.intersections:
            return "~~" + " ".join(map(str, self.intersections[term]))
        return str(term)

    def label(self, term) -> str:
        if term in self.labels:
            return self.labels[term]
        if term in self.restrictions and self.restrictions[term][0] == OWL.hasValue:
            _, p, value = self.restrictions[term]   # a class by what its members have
            return "element that " + self.say("", p, self.label(value)).strip()
        return str(term).rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    def say(self, subject: str, prop, obj: str) -> str:
        """A fact in words: the property's tm:phrase ({s}, {o}), else subject, label, object."""
        return self.phrases.get(prop, "{s} " + self.label(prop) + " {o}").format(s=subject, o=obj)


class Names:
    """Readable names of terms: an element's id, a catalog entry's identifier, a class's label, or a
    literal's text (every identifier of the store read in one query, on first use)."""

    def __init__(self, store, tbox: TBox):
        self.store, self.tbox = store, tbox

    @cached_property
    def _identifiers(self) -> dict[str, str]:
        found = {}
        for sol in run(self.store, "identifiers"):
            found.setdefault(sol["term"].value, sol["id"].value)
        return found

    def __call__(self, term) -> str:
        if isinstance(term, Literal):
            return str(term)
        return self._identifiers.get(str(term)) or self.tbox.label(term)


class Explainer:
    """Explains facts of a reasoned store (asserted triples known) against the ontology's axioms."""

    def __init__(self, store: Store, asserted: set, tbox: TBox, names: Names | None = None):
        """`store` holds the reasoned model; `names` reads identifiers (default: from the same store)."""
        self.store, self.asserted, self.tbox = store, asserted, tbox
        self.name = names or Names(store, tbox)
        self._facts = {}   # (element, prop, value) → its explanations: each fact is explained once
        self._reads = {}   # (subject, property) → what the store says of it (see _read)

    # ------------------------------------------------------------ public
    def fact(self, element: str, prop: URIRef, value) -> list[list[str]]:
        """Every explanation of the inferred fact `element prop value`, one step list each:
        one per class axiom (hasValue restriction) that attaches the value to a class of the element."""
        key = (element, prop, value)
        if key not in self._facts:
            self._facts[key] = self._explain(element, prop, value)
        return [list(steps) for steps in self._facts[key]]

    def _explain(self, element: str, prop: URIRef, value) -> list[list[str]]:
        x = URIRef(element)
        found = []
        for cls, restriction in self.tbox.attachments.get((prop, value), []):
            if self._has_type(x, cls):
                steps = self._why_type(x, cls, frozenset())
                if steps is not None:
                    found.append(steps + [self._every(cls, prop, value, restriction)])
        if not found:
            steps = self._why_prop(x, prop, value, frozenset())
            found.append(steps or [self.tbox.say(self.name(x), prop, self.name(value)) + " (OWL 2 RL entailment)"])
        return _dedupe(found)

    def _every(self, cls, prop, value, restriction) -> str:
        why = self.tbox.comments.get(restriction)
        return self.tbox.say(f"every {self.tbox.label(cls)}", prop, self.name(value)) + (f" ({why})" if why else "")

    # ------------------------------------------------------------ types
    def _has_type(self, x, cls) -> bool:
        if isinstance(cls, BNode):  # restriction or intersection nodes: check their meaning instead
            return self._holds_class_expression(x, cls)
        return self._holds(x, RDF.type, cls)

    def _holds_class_expression(self, x, cls) -> bool:
        if cls in self.tbox.restrictions:
            kind, p, filler = self.tbox.restrictions[cls]
            if kind == OWL.hasValue:
                return self._holds(x, p, filler)
            if kind == OWL.someValuesFrom:
                return any(filler == OWL.Thing or self._has_type(y, filler) for y in self._objects(x, p))
            return False
        if cls in self.tbox.intersections:
            return all(self._has_type(x, m) for m in self.tbox.intersections[cls])
        return False

    def _why_type(self, x, cls, seen):
        if (x, cls) in seen or len(seen) > MAX_DEPTH:
            return None
        seen = seen | {(x, cls)}
        if not isinstance(cls, BNode) and self._asserted(x, RDF.type, cls):
            return [f"{self.name(x)} is {_a(self.tbox.label(cls))}"]
        if cls in self.tbox.restrictions:
            return self._why_restriction(x, cls, seen)
        if cls in self.tbox.intersections:
            steps = []
            for member in self.tbox.intersections[cls]:
                part = self._why_type(x, member, seen)
                if part is None:
                    return None
                steps += part
            return steps
        for sub in self.tbox.subclasses.get(cls, []):
            if sub != cls and self._has_type(x, sub):
                steps = self._why_type(x, sub, seen)
                if steps is not None:
                    if isinstance(cls, BNode):
                        return steps
                    link = (f"{_a(self.tbox.label(sub))} is a kind of {self.tbox.label(cls)}"
                            if not isinstance(sub, BNode) else f"so {self.name(x)} is {_a(self.tbox.label(cls))}")
                    return steps + [link]
        return None

    def _why_restriction(self, x, r, seen):
        kind, p, filler = self.tbox.restrictions[r]
        if kind == OWL.hasValue:
            return self._why_prop(x, p, filler, seen)
        if kind == OWL.someValuesFrom:
            for y in self._objects(x, p):
                if filler == OWL.Thing or self._has_type(y, filler):
                    first = self._why_prop(x, p, y, seen)
                    rest = [] if filler == OWL.Thing else self._why_type(y, filler, seen)
                    if first is not None and rest is not None:
                        return first + rest
        return None

    # ------------------------------------------------------------ properties
    def _why_prop(self, x, p, y, seen):
        if (x, p, y) in seen or len(seen) > MAX_DEPTH:
            return None
        seen = seen | {(x, p, y)}
        if self._asserted(x, p, y):
            return [self.tbox.say(self.name(x), p, self.name(y))]
        for sub in self.tbox.subproperties.get(p, []):
            if sub != p and self._holds(x, sub, y):
                steps = self._why_prop(x, sub, y, seen)
                if steps:
                    return steps
        for inverse in self.tbox.inverses.get(p, []):
            if self._holds(y, inverse, x):
                steps = self._why_prop(y, inverse, x, seen)
                if steps:
                    return steps
        for chain in self.tbox.chains.get(p, []) + ([[p, p]] if p in self.tbox.transitive else []):
            steps = self._why_chain(x, chain, y, seen)
            if steps:
                return steps
        for cls, restriction in self.tbox.attachments.get((p, y), []):   # a value every member of a class has
            if self._has_type(x, cls):
                steps = self._why_type(x, cls, seen)
                if steps is not None:
                    return steps + [self._every(cls, p, y, restriction)]
        return None

    def _why_chain(self, x, chain, y, seen):
        if len(chain) == 1:
            return self._why_prop(x, chain[0], y, seen) if self._holds(x, chain[0], y) else None
        for z in self._objects(x, chain[0]):
            if z == x:
                continue
            rest = self._why_chain(z, chain[1:], y, seen)
            if rest:
                first = self._why_prop(x, chain[0], z, seen)
                if first:
                    return first + rest
        return None

    # ------------------------------------------------------------ store access
    def _asserted(self, s, p, o) -> bool:
        return _term(o) in self._read(s, p)[1]

    def _holds(self, s, p, o) -> bool:
        return _term(o) in self._read(s, p)[0]

    def _objects(self, s, p):
        """Named objects of (s, p), sorted so explanations are deterministic."""
        return self._read(s, p)[2]

    def _read(self, s, p) -> tuple:
        """(s, p)'s objects, those asserted, and its named objects sorted as rdflib IRIs: the store
        is read once per (subject, property)."""
        key = (s, p)
        if key not in self._reads:
            quads = list(self.store.quads_for_pattern(_term(s), NamedNode(str(p)), None))
            self._reads[key] = ({q.object for q in quads}, {q.object for q in quads if q.triple in self.asserted},
                                sorted(URIRef(q.object.value) for q in quads if isinstance(q.object, NamedNode)))
        return self._reads[key]


@lru_cache(maxsize=65536)
def _term(o):
    """rdflib term → pyoxigraph term (literals included)."""
    if isinstance(o, URIRef):
        return NamedNode(str(o))
    if isinstance(o, Literal):
        return OxLiteral(str(o), datatype=NamedNode(str(o.datatype))) if o.datatype else OxLiteral(str(o), language=o.language)
    return o


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _dedupe(explanations):
    unique = []
    for steps in explanations:
        if steps not in unique:
            unique.append(steps)
    return unique
