"""The model and its inferred threats as Open Threat Model 0.2.0 JSON: zones, components (type = first
kind, all kinds in attributes `threatkg-kinds`, technologies as tags), dataflows (protocol as tag),
each element's threats with their state, the threats (STRIDE categories, CWE ids, likelihood and
impact scaled to 0-100) and the decisions as mitigations. kg.importers.otm reads it back."""

import json
from dataclasses import dataclass, field

from rdflib import URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from kg.importers.otm import INFERRED_ATTRIBUTE, KINDS_ATTRIBUTE
from kg.namespaces import TM
from kg.ontology import attributes, compiled, kinds, stride

NAME = "otm"
TRUST_RATINGS = {"untrusted": 10, "dmz": 40, "internal": 70, "development": 70, "restricted": 100}


@dataclass
class Element:
    id: str
    label: str
    kinds: list[str]
    description: str | None = None
    zone: str | None = None                       # zones: the parent; components: the zone
    attributes: dict = field(default_factory=dict)
    source: str | None = None                     # flows
    target: str | None = None
    protocol: str | None = None
    bidirectional: bool = False


def elements(model) -> dict[str, list[Element]]:
    """The zones, components and flows of a model (its asserted graph), in the order of its file."""
    g, names = model.graph, {URIRef(iri): name for name, iri in kinds().items()}
    props = {URIRef(iri): name for name, iri in attributes().items()}
    found = {"zones": [], "components": [], "flows": []}
    order = sorted(g.subjects(TM.partOf, model.system_iri), key=lambda s: (model.lines.get(s, 0), model.element_id(s)))
    for s in order:
        types = set(g.objects(s, RDF.type))

        def ref(prop):
            value = g.value(s, prop)
            return model.element_id(value) if value is not None else None
        label, description = g.value(s, RDFS.label), g.value(s, DCTERMS.description)
        ident = model.element_id(s)
        e = Element(ident, str(label) if label else ident, sorted(names[t] for t in types if t in names),
                    str(description) if description else None)
        if TM.DataFlow in types:
            e.source, e.target, e.protocol = ref(TM.source), ref(TM.target), g.value(s, TM.protocol)
            e.protocol = str(e.protocol) if e.protocol is not None else None
            e.bidirectional = str(g.value(s, TM.bidirectional)).lower() == "true"
            found["flows"].append(e)
        elif TM.Component in types or any(is_kind(k, TM.Component) for k in e.kinds):
            e.zone = ref(TM.inZone)
            for prop, name in props.items():
                values = [v.toPython() for v in g.objects(s, prop)]
                if values:
                    e.attributes[name] = values if len(values) > 1 else values[0]
            found["components"].append(e)
        elif TM.TrustZone in types or any(is_kind(k, TM.TrustZone) for k in e.kinds):
            e.zone = ref(TM.parentZone)
            found["zones"].append(e)
    return found


def is_kind(kind: str, base) -> bool:
    """Whether kind `kind` is `base` (a kind name or class IRI) or below it."""
    base = kinds().get(str(base), base)
    return kinds().get(kind) == str(base) or str(base) in compiled().ancestors.get(kind, ())


def _percent(level: float) -> float:
    """A likelihood or impact of kg.risk (1-5) on OTM's 0-100 scale."""
    return min(100, level * 20)


def stride_words(letters) -> list[str]:
    labels = {c.letter: c.label for c in stride()}
    return [labels[x] for x in letters if x in labels]


def export(assessment) -> str:
    model = assessment.analysis.model
    found, rows = elements(model), assessment.rated
    label = model.graph.value(model.system_iri, RDFS.label)
    description = model.graph.value(model.system_iri, DCTERMS.description)
    zones = [{"id": z.id, "name": z.label, "type": z.kinds[0] if z.kinds else "internal",
              "risk": {"trustRating": TRUST_RATINGS.get(z.kinds[0] if z.kinds else "", 50)},
              **({"description": z.description} if z.description else {}),
              **({"parent": {"trustZone": z.zone}} if z.zone else {})} for z in found["zones"]]
    threats, mitigations = {}, {}
    by_element = {}
    for row in rows:
        threats.setdefault(row["threat"], {
            "id": row["threat"], "name": row.get("label") or row["threat"],
            "description": f"{row['threat']} ({row.get('source') or 'ThreatKG'})",
            "categories": stride_words(row.get("stride") or []),
            "cwes": [row["threat"]] if row["threat"].startswith("CWE-") else [],
            "risk": {"likelihood": _percent(row["risk"]["likelihood"]), "impact": _percent(row["risk"]["impact"])},
            "attributes": {INFERRED_ATTRIBUTE: True}})
        ref = {"threat": row["threat"], "state": row["state"], "mitigations": []}
        if decision := row.get("decision"):
            mitigations.setdefault(decision["id"], {"id": decision["id"], "name": decision["justification"][:200],
                                                    "description": decision["justification"], "riskReduction": 100})
            state = "implemented" if decision["status"] == "mitigated" else decision["status"]
            ref["mitigations"].append({"mitigation": decision["id"], "state": state})
        by_element.setdefault(row["component"], []).append(ref)
    components = []
    for c in found["components"]:
        tech = c.attributes.get("technology")
        components.append({"id": c.id, "name": c.label, "type": c.kinds[0] if c.kinds else "process",
                           **({"description": c.description} if c.description else {}),
                           "parent": {"trustZone": c.zone},
                           "tags": [str(t) for t in (tech if isinstance(tech, list) else [tech] if tech else [])],
                           "attributes": {KINDS_ATTRIBUTE: c.kinds},
                           "threats": by_element.get(c.id, [])})
    flows = [{"id": f.id, "name": f.label, "source": f.source, "destination": f.target,
              "bidirectional": f.bidirectional, "tags": [f.protocol] if f.protocol else [],
              **({"description": f.description} if f.description else {}),
              "threats": by_element.get(f.id, [])} for f in found["flows"]]
    doc = {"otmVersion": "0.2.0",
           "project": {"name": str(label) if label else model.system, "id": model.system,
                       **({"description": str(description)} if description else {})},
           "trustZones": zones, "components": components, "dataflows": flows,
           "threats": list(threats.values()), "mitigations": list(mitigations.values())}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
