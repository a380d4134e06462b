"""What the pages show about one served system, read from its assessment (kg.assessment: the threat
rows of every element, plain and rated with their residual risk, the excluded candidates, coverage by
each built-in profile), with what only pages need: the elements (zones, components, flows, controls),
counts by STRIDE category and zone, and the facts of one element (kinds, zone chain, attributes,
flows, controls, catalog links)."""

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from flask import current_app
from pyoxigraph import NamedNode
from rdflib import URIRef
from rdflib.namespace import RDF, RDFS

from kg.analysis import Analysis
from kg.assessment import Assessment
from kg.namespaces import model_iri
from kg.ontology import stride
from kg.profiles import DEFAULT_PROFILE, Profile, load
from kg.report import natural
from kg.web import registry

_lock = threading.Lock()


def by_risk(row: dict) -> tuple:
    """Sort key of rated rows: highest residual risk first, then element and threat id."""
    return -row["risk"]["score"], natural(row["component"]), natural(row["threat"])


@dataclass
class SystemView:
    system: str
    analysis: Analysis
    assessment: Assessment
    elements: dict[str, dict]                      # element id → {id, label, role, zone, source, target}
    rendered: dict = field(default_factory=dict)   # (page, mount point) → HTML (kg.web.pages)
    _pages: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def rows(self) -> list[dict]:
        """kg.threats.threat_rows, as the CLI and the API give them."""
        return self.assessment.rows

    @property
    def rated(self) -> list[dict]:
        """Copies of the rows with their `risk` (kg.risk)."""
        return self.assessment.rated

    @property
    def excluded(self) -> list[dict]:
        return self.assessment.excluded

    @property
    def name(self) -> str:
        label = self.analysis.model.graph.value(self.analysis.model.system_iri, RDFS.label)
        return str(label) if label else self.system

    def of_role(self, role: str) -> list[dict]:
        return [e for e in self.elements.values() if e["role"] == role]

    def rows_of(self, element: str) -> list[dict]:
        return [r for r in self.rows if r["component"] == element]

    def rated_of(self, element: str) -> list[dict]:
        return [r for r in self.rated if r["component"] == element]

    def folded_of(self, element: str) -> list[dict]:
        """The element's rated rows, each parent with its applicable descendants folded under it."""
        return self.assessment.threats(element)

    def excluded_of(self, element: str) -> list[dict]:
        """Catalog threats a route brings to the element that an applicability condition excludes."""
        return [r for r in self.excluded if r["component"] == element]

    def coverage(self, profile: str = DEFAULT_PROFILE) -> dict:
        """kg.coverage of the system by a built-in profile (the caller checks the name), computed once."""
        with self._lock:
            return self.assessment.coverage(_builtin(profile))

    def status(self, profile: str = DEFAULT_PROFILE) -> dict:
        """(element, threat id) → its state {state, by, requires, open} for the pairs the profile covers."""
        self.coverage(profile)
        return self.assessment.status(_builtin(profile))

    def open_risks(self, profile: str = DEFAULT_PROFILE) -> list[dict]:
        """The rated rows the profile leaves open, highest residual risk first."""
        status = self.status(profile)
        return sorted((r for r in self.rated if status.get((r["component"], r["threat"]), {}).get("open")),
                      key=by_risk)

    def implemented(self) -> dict[str, list[str]]:
        """Requirement IRI → the elements that implement it (their own or the system's)."""
        prefix, out = str(model_iri(self.system)) + "/", defaultdict(set)
        for s in self.analysis.named("implemented", system=self.analysis.model.system_iri):
            out[s["requirement"].value].add(s["element"].value[len(prefix):])
        return {req: sorted(elements, key=natural) for req, elements in out.items()}

    def pages(self, iri: str) -> list[str]:
        """The official pages of a catalog entry (rdfs:seeAlso)."""
        if iri not in self._pages:
            quads = self.analysis.store.quads_for_pattern(NamedNode(iri), NamedNode(str(RDFS.seeAlso)), None)
            self._pages[iri] = sorted({q.object.value for q in quads})
        return self._pages[iri]

    def stride_counts(self) -> list[dict]:
        """Per STRIDE category: (element, threat) pairs, distinct threats, elements exposed."""
        out = []
        for c in stride():
            rows = [r for r in self.rows if c.letter in r["stride"]]
            out.append({"letter": c.letter, "label": c.label, "id": c.id, "pairs": len(rows),
                        "threats": len({r["iri"] for r in rows}), "elements": len({r["component"] for r in rows})})
        return out

    def zone_counts(self) -> list[dict]:
        """The zone tree (depth-first), each zone with its own components and their threats by STRIDE
        letter; then one line for the flows."""
        children = defaultdict(list)
        for zone in self.of_role("zone"):
            children[zone["zone"]].append(zone["id"])
        out = []

        def visit(zone_id, depth):
            members = [e["id"] for e in self.of_role("component") if e["zone"] == zone_id]
            out.append(self._count_line(self.elements[zone_id], members, depth))
            for child in sorted(children[zone_id]):
                visit(child, depth + 1)

        for top in sorted(children[None]):
            visit(top, 0)
        flows = self.of_role("flow")
        if flows:
            out.append(self._count_line({"id": None, "label": "Data flows"}, [f["id"] for f in flows], 0))
        return out

    def _count_line(self, zone: dict, members: list[str], depth: int) -> dict:
        rows = [r for r in self.rows if r["component"] in members]
        letters = Counter(letter for r in rows for letter in r["stride"])
        return {"zone": zone, "depth": depth, "members": members, "pairs": len(rows),
                "letters": [letters.get(c.letter, 0) for c in stride()]}

    def facts(self, element: str) -> dict:
        """An element's kinds, zone chain, attributes, flows, covering controls, catalog links and, for a
        control, what it protects."""
        iri = URIRef(str(model_iri(self.system, element)))
        asserted = set(self.analysis.model.graph.objects(iri, RDF.type))
        classes = [{"iri": s["class"].value, "label": _value(s["label"]) or s["class"].value.rsplit("#", 1)[-1],
                    "kind": _value(s["kind"]), "asserted": URIRef(s["class"].value) in asserted}
                   for s in self.analysis.named("element-classes", element=iri)]
        return {
            "kinds": [c for c in _unique(classes, "iri") if c["asserted"]],
            "inferred": [c for c in _unique(classes, "iri") if not c["asserted"]],
            "zones": records(self.analysis.named("element-zones", element=iri)),
            "attributes": records(self.analysis.named("element-attributes", element=iri)),
            "flows": [{**f, "carries": ", ".join(sorted(filter(None, (f["carries"] or "").split("|"))))}
                      for f in records(self.analysis.named("element-flows", element=iri))],
            "controls": records(self.analysis.named("element-controls", element=iri)),
            "links": records(self.analysis.named("element-links", element=iri)),
            "protects": records(self.analysis.named("element-protects", element=iri)),
        }


def by_stride(rows: list[dict]) -> list[dict]:
    """Rated rows grouped by STRIDE category (a threat of several categories appears under each), then
    the rows without a category; in each group the highest residual risk first."""
    rows = sorted(rows, key=by_risk)
    groups = [{"letter": c.letter, "label": c.label, "id": c.id,
               "rows": [r for r in rows if c.letter in r["stride"]]} for c in stride()]
    groups.append({"letter": "", "label": "No STRIDE category", "id": None,
                   "rows": [r for r in rows if not r["stride"]]})
    return [g for g in groups if g["rows"]]


def view(system: str) -> SystemView | None:
    """The view of a served system, computed on first use and whenever its analysis changes."""
    analysis = registry().get(system)
    if analysis is None:
        return None
    cache = current_app.extensions.setdefault("system_views", {})
    with _lock:
        cached = cache.get(system)
        if cached is None or cached.analysis is not analysis:
            cached = cache[system] = _build(system, analysis)
        return cached


def _build(system: str, analysis: Analysis) -> SystemView:
    elements = {}
    for s in analysis.named("system-elements", system=analysis.model.system_iri):
        ident = s["elementId"].value
        elements.setdefault(ident, {"id": ident, "label": _value(s["label"]) or ident, "role": s["role"].value,
                                    "zone": _value(s["zoneId"]), "source": _value(s["sourceId"]),
                                    "target": _value(s["targetId"])})
    return SystemView(system, analysis, registry().assessment(system, analysis).prepare(), elements)


@lru_cache(maxsize=None)
def _builtin(name: str) -> Profile:
    """A built-in profile, read once per process."""
    return load(name)


def _value(term):
    return None if term is None else term.value


def records(solutions) -> list[dict]:
    """SELECT results as dicts of plain values (None when unbound)."""
    names = [v.value for v in solutions.variables]
    return [{n: _value(sol[n]) for n in names} for sol in solutions]


def _unique(items: list[dict], key: str) -> list[dict]:
    seen, out = set(), []
    for item in items:
        if item[key] not in seen:
            seen.add(item[key])
            out.append(item)
    return out
