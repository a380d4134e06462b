"""The model and its inferred threats as a Threat Dragon v2 model: one diagram whose actor, process,
store and flow cells carry `data.threats` (title, STRIDE type, status from the threat's state,
severity from its risk rating, mitigation from its decision). A model imported from Threat Dragon
keeps its source cells and their layout; another is laid out as a grid of cells per zone, zones as
nested trust boundary boxes. kg.importers.threat_dragon reads it back (kinds in `threatkgKinds`)."""

import json
import math
from pathlib import Path

from rdflib.namespace import DCTERMS, RDFS

from kg import importers
from kg.exporters.otm import elements, is_kind, stride_words
from kg.importers import threat_dragon
from kg.importers.threat_dragon import INFERRED, KINDS_FIELD, ZONE_KIND_FIELD
from kg.model.source import read_text

NAME = "threat-dragon"
VERSION = "2.3.0"
STATUS = {"mitigated": "Mitigated", "accepted": "Accepted", "transferred": "Transferred",
          "false-positive": "NotApplicable"}           # any other state: Open
SEVERITY = {"critical": "High", "high": "High", "medium": "Medium", "low": "Low"}
TYPES = {"actor": "tm.Actor", "process": "tm.Process", "store": "tm.Store"}
W, H, GAP, PAD, HEADER = 160, 80, 40, 30, 30


def export(assessment) -> str:
    model = assessment.analysis.model
    found = elements(model)
    threats, kept = {}, model.imported == NAME          # a Threat Dragon file holds its decisions itself
    for row in assessment.rated:
        threats.setdefault(row["component"], []).append(_threat(row, kept or not row.get("decision")))
    if kept:
        doc = _keep(model, found, threats)
    else:
        label = model.graph.value(model.system_iri, RDFS.label)
        description = model.graph.value(model.system_iri, DCTERMS.description)
        title = str(label) if label else model.system
        diagram = {"id": 0, "title": title, "diagramType": "STRIDE", "version": VERSION,
                   "thumbnail": "./public/content/images/thumbnail.stride.jpg", "cells": _layout(found, threats)}
        doc = {"version": VERSION,
               "summary": {"title": title, "id": _cell_id(model.system), "owner": "",
                           "description": str(description or "")},
               "detail": {"contributors": [], "reviewer": "", "threatTop": len(assessment.rated), "diagramTop": 1,
                          "diagrams": [diagram]}}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _threat(row, inferred: bool) -> dict:
    """A rated row as a Threat Dragon threat; `inferred`: marked as ThreatKG's (kg.importers.threat_dragon
    takes an unmarked one's status as a decision)."""
    decision = row.get("decision") or {}
    return {"id": f"{INFERRED if inferred else ''}{row['component']}/{row['threat']}",
            "title": row.get("label") or row["threat"],
            "type": (stride_words(row.get("stride") or []) or ["Tampering"])[0],
            "status": STATUS.get(row["state"], "Open"), "severity": SEVERITY.get(row["risk"]["rating"], "Low"),
            "description": f"{row['threat']} ({row.get('source') or 'ThreatKG'}); state {row['state']}",
            "mitigation": decision.get("justification") or "", "modelType": "STRIDE"}


def _shape(kind_names) -> str:
    if any(is_kind(k, "external-entity") for k in kind_names):
        return "actor"
    if any(is_kind(k, "data-store") for k in kind_names):
        return "store"
    return "process"


def _set_threats(data: dict, kinds_: list[str] | None, listed: list[dict]):
    """A cell's threats: its own (not ThreatKG's of an earlier export) and ThreatKG's; for an element, its kinds."""
    own = [t for t in data.get("threats") or [] if not str(t.get("id", "")).startswith(INFERRED)]
    data["threats"] = listed = own + listed
    data["hasOpenThreats"] = any(t["status"] == "Open" for t in listed)
    if kinds_ is not None:
        data[KINDS_FIELD] = kinds_


def _keep(model, found, threats) -> dict:
    """The source file, its element and flow cells given the model's threats and kinds."""
    doc = importers.parse(read_text(Path(model.file)), model.file)
    made = threat_dragon.convert_cells(doc, importers.Context(model.file, importers.mapping(NAME)))[1]
    current = {e.id: e for section in ("components", "flows") for e in found[section]}
    for diagram in doc["detail"]["diagrams"]:
        for cell in diagram["cells"]:
            for part in (cell.get("attrs") or {}).values():     # X6 writes null for a solid line; the schema
                if isinstance(part, dict) and part.get("strokeDasharray", "") is None:   # wants a string
                    part["strokeDasharray"] = "none"
            if (ident := made.get(cell["id"])) in current:
                element = current[ident]
                _set_threats(cell.setdefault("data", {}), element.kinds if cell["shape"] != "flow" else None,
                             threats.get(ident, []))
    return doc


def _layout(found, threats) -> list[dict]:
    """Cells of every zone (a box around its elements' grid and its child zones' boxes, in a row)."""
    cells, z = [], [0]
    children = {}
    for zone in found["zones"]:
        children.setdefault(zone.zone, []).append(zone)
    members = {}
    for c in found["components"]:
        members.setdefault(c.zone, []).append(c)

    def place(zone, x, y) -> tuple[float, float]:
        top = y + (HEADER if zone else 0)
        inner = members.get(zone.id if zone else None, [])
        cols = max(1, math.ceil(math.sqrt(len(inner))))
        for i, c in enumerate(inner):
            z[0] += 1
            data = {"type": TYPES[_shape(c.kinds)], "name": c.label, "description": c.description or "",
                    "outOfScope": False}
            _set_threats(data, c.kinds, threats.get(c.id, []))
            cells.append({"id": _cell_id(c.id), "shape": _shape(c.kinds), "zIndex": z[0],
                          "position": {"x": x + PAD + (i % cols) * (W + GAP), "y": top + PAD + (i // cols) * (H + GAP)},
                          "size": {"width": W, "height": H}, "attrs": {"text": {"text": c.label}}, "data": data})
        rows = math.ceil(len(inner) / cols)
        width, height = cols * (W + GAP) if inner else 0, rows * (H + GAP) if inner else 0
        cx = x + PAD
        tallest = 0
        for child in children.get(zone.id if zone else None, []):
            w, h = place(child, cx, top + PAD + height)
            cx, tallest = cx + w + GAP, max(tallest, h)
        width = max(width, cx - x - PAD)
        size = (width + 2 * PAD, top - y + height + tallest + 2 * PAD)
        if zone:
            cells.append({"id": _cell_id(zone.id), "shape": "trust-boundary-box", "zIndex": -1,
                          "position": {"x": x, "y": y}, "size": {"width": size[0], "height": size[1]},
                          "attrs": {"label": {"text": zone.label}},
                          "data": {"type": "tm.BoundaryBox", "name": zone.label, "isTrustBoundary": True,
                                   "hasOpenThreats": False, ZONE_KIND_FIELD: zone.kinds[0] if zone.kinds else ""}})
        return size

    place(None, 0, 0)
    encrypted = set(importers.mapping(NAME)["encrypted"].values())
    for f in found["flows"]:
        data = {"type": "tm.Flow", "name": f.label, "description": f.description or "", "outOfScope": False,
                "isBidirectional": f.bidirectional, "isEncrypted": f.protocol in encrypted, "isPublicNetwork": False,
                "protocol": f.protocol or "", "isTrustBoundary": False}
        _set_threats(data, None, threats.get(f.id, []))
        line = {"targetMarker": {"name": "block"}, **({"sourceMarker": {"name": "block"}} if f.bidirectional else {})}
        cells.append({"id": _cell_id(f.id), "shape": "flow", "zIndex": 10, "attrs": {"line": line},
                      "source": {"cell": _cell_id(f.source)}, "target": {"cell": _cell_id(f.target)}, "data": data})
    return cells


def _cell_id(ident: str) -> str:
    return ident if len(ident) > 1 else f"{ident}-cell"
