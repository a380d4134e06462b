"""The model as the diagram needs it, read from the analysis store (kg/queries/diagram-*.rq)."""

import math
from dataclasses import dataclass, field

from rdflib import URIRef

from kg.diagram.geometry import Box


@dataclass
class Component:
    id: str
    label: str
    kinds: list[str]
    shape: str                     # external | process | store | component
    zone: str | None
    order: tuple
    box: Box | None = None


@dataclass
class Zone:
    id: str | None                 # None: the diagram itself (top-level zones, unzoned components)
    label: str = ""
    kind: str = ""
    kind_label: str = ""
    rank: int = 2
    parent: str | None = None
    order: tuple = ()
    children: list["Zone"] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)
    size: tuple[float, float] = (0, 0)
    box: Box | None = None


@dataclass
class Flow:
    id: str
    label: str
    source: str
    target: str
    bidirectional: bool
    order: tuple
    crossings: list[tuple[str, str, str]] = field(default_factory=list)   # (from zone, to zone, label)


@dataclass
class Diagram:
    title: str
    root: Zone
    zones: dict[str, Zone]
    components: dict[str, Component]
    flows: list[Flow]


def _rows(analysis, name: str) -> list[dict]:
    """The solutions of query `name` for the analysed system, as {variable: str or None}."""
    result = analysis.named(name, system=analysis.model.system_iri)
    names = [v.value for v in result.variables]
    return [{n: (s[n].value if s[n] is not None else None) for n in names} for s in result]


def read(analysis) -> Diagram:
    """Zones, components, flows and boundary crossings of the analysed system."""
    lines = analysis.model.lines

    def order(iri: str, ident: str) -> tuple:
        return lines.get(URIRef(iri), math.inf), ident

    zones = _read_zones(analysis, order)
    components = {r["componentId"]: Component(
        r["componentId"], r["label"] or r["componentId"], sorted(filter(None, (r["kinds"] or "").split("|"))),
        r["shape"], r["zoneId"] if r["zoneId"] in zones else None, order(r["component"], r["componentId"]))
        for r in _rows(analysis, "diagram-components")}
    flows = _read_flows(analysis, order, components)
    root = Zone(None)
    for zone in sorted(zones.values(), key=lambda z: (z.rank, z.order)):
        zones.get(zone.parent, root).children.append(zone)
    for component in sorted(components.values(), key=lambda c: c.order):
        (zones[component.zone] if component.zone else root).components.append(component)
    titles = [r["label"] for r in _rows(analysis, "diagram-system") if r["label"]]
    title = f"Data-flow diagram of {titles[0] if titles else analysis.model.system}"
    return Diagram(title, root, zones, components, flows)


def _read_zones(analysis, order) -> dict[str, Zone]:
    zones: dict[str, Zone] = {}
    for r in _rows(analysis, "diagram-zones"):
        if r["zoneId"] not in zones:  # a zone of two unrelated kinds: the first one names it
            zones[r["zoneId"]] = Zone(r["zoneId"], r["label"] or r["zoneId"], r["kind"] or "",
                                      r["kindLabel"] or "", int(r["rank"]), r["parentId"],
                                      order(r["zone"], r["zoneId"]))
    return zones


def _read_flows(analysis, order, components) -> list[Flow]:
    flows = {r["flowId"]: Flow(r["flowId"], r["label"] or r["flowId"], r["sourceId"], r["targetId"],
                               r["bidirectional"] == "true", order(r["flow"], r["flowId"]))
             for r in _rows(analysis, "diagram-flows")
             if r["sourceId"] in components and r["targetId"] in components}
    for r in _rows(analysis, "diagram-crossings"):
        if r["flowId"] in flows:
            flows[r["flowId"]].crossings.append((r["fromId"], r["toId"], r["boundaryLabel"] or ""))
    return sorted(flows.values(), key=lambda f: f.order)
