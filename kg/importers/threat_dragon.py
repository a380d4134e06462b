"""OWASP Threat Dragon v2 (https://owasp.org/www-project-threat-dragon/) JSON.

summary → system; actor/process/store cells → components (kinds by shape, name and flags); flow
cells → flows (protocol, isEncrypted, isBidirectional; isPublicNetwork → the target is internet
facing); trust-boundary-box cells → zones holding the elements (and boxes) whose centre lies in them,
the smallest box first; trust-boundary-curve cells split a zone into regions, one per side of the
curves that cross a flow; threats Mitigated / NotApplicable / ... → decisions with their mitigation
text, Open ones are left to the inference. Mapping: catalogs/import/threat-dragon.yaml."""

import math
import re
from datetime import date

from kg.importers.otm import component_kinds

NAME = "threat-dragon"
ELEMENTS = ("actor", "process", "store")
KINDS_FIELD, ZONE_KIND_FIELD = "threatkgKinds", "threatkgZoneKind"   # written by kg.exporters.threat_dragon
INFERRED = "threatkg:"      # the id prefix of the threats ThreatKG inferred (left to the inference on import)


def detect(data) -> bool:
    return (isinstance(data, dict) and isinstance(data.get("detail"), dict) and "diagrams" in data["detail"]
            and isinstance(data.get("summary"), dict))


def convert(data, ctx) -> dict:
    return convert_cells(data, ctx)[0]


def convert_cells(data, ctx) -> tuple[dict, dict[str, str]]:
    """The model document, and the ThreatKG id of each source cell that became an element or a flow."""
    summary, detail = data.get("summary"), data.get("detail")
    if not isinstance(summary, dict) or not isinstance(detail, dict):
        ctx.fail(None, "a Threat Dragon model has a summary and a detail mapping")
        return {}, {}
    named = summary.get("id") if isinstance(summary.get("id"), str) else None      # kg.exporters.threat_dragon's
    system = {"id": ctx.ident(named, summary.get("title"), "threat-dragon-model"),
              "name": str(summary.get("title") or "Threat Dragon model")}
    if summary.get("description"):
        system["description"] = str(summary["description"])
    diagrams, made = detail.get("diagrams"), {}
    if not isinstance(diagrams, list):
        ctx.fail("detail.diagrams", f"must be a list, not {type(diagrams).__name__}")
        return {"system": system}, made
    doc = {"system": system, "zones": [], "components": [], "flows": [], "decisions": []}
    for n, diagram in enumerate(diagrams):
        if isinstance(diagram, dict) and "diagramJson" in diagram:
            ctx.fail(f"diagram {n}", "a Threat Dragon v1 diagram: open and save the model in Threat Dragon 2 first")
        elif not isinstance(diagram, dict) or not isinstance(diagram.get("cells"), list):
            ctx.fail(f"diagram {n}", "has no list of cells")
        else:
            made.update(_diagram(diagram, doc, ctx))
    return {k: v for k, v in doc.items() if v}, made


def _name(cell) -> str:
    data, attrs = cell.get("data") or {}, cell.get("attrs")
    label = attrs.get("label") if isinstance(attrs, dict) else None
    label = label.get("text") if isinstance(label, dict) else None
    return str(data.get("name") or label or "").strip()


def _box(cell):
    p, s = cell.get("position"), cell.get("size")
    try:
        box = float(p["x"]), float(p["y"]), float(p["x"]) + float(s["width"]), float(p["y"]) + float(s["height"])
    except (KeyError, TypeError, ValueError):
        return None
    return box if all(map(math.isfinite, box)) else None


def _centre(box):
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _inside(point, box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _diagram(diagram, doc, ctx) -> dict[str, str]:
    """Add the diagram's zones, components, flows and decisions to `doc`; the ids its cells became."""
    m = ctx.mapping
    cells, seen = [], set()
    for n, cell in enumerate(diagram["cells"]):
        if not isinstance(cell, dict) or not isinstance(cell.get("id"), str) or not isinstance(cell.get("shape"), str):
            ctx.fail(f"cell {n}", "must be a mapping with a string id and shape")
        elif not isinstance(cell.get("data", {}), dict):
            ctx.fail(f"cell {cell['id']}", "data must be a mapping")
        elif cell["id"] in seen:
            ctx.fail(f"cell {cell['id']}", "a second cell with this id")
        else:
            cells.append(cell)
            seen.add(cell["id"])
    elements = {c["id"]: c for c in cells if c["shape"] in ELEMENTS}
    boxes = [c for c in cells if c["shape"] == "trust-boundary-box"]
    curves = [c for c in cells if c["shape"] == "trust-boundary-curve"]
    flows = [c for c in cells if c["shape"] == "flow"]
    for cell in cells:
        if cell["shape"] == "td-text-block":
            ctx.warn(f"text {cell['id']}", f"a text block is not held: {_name(cell)[:80]!r}")
        elif cell["shape"] not in (*ELEMENTS, "flow", "trust-boundary-box", "trust-boundary-curve"):
            ctx.warn(f"cell {cell['id']}", f"shape '{cell['shape']}' is not held")
    geometry = {}
    for cell in [*elements.values(), *boxes]:
        if (box := _box(cell)) is None:
            ctx.fail(f"cell {cell['id']}", "has no position and size")
        else:
            geometry[cell["id"]] = box
    if len(geometry) < len(elements) + len(boxes):
        return {}

    zone_of = _zones(boxes, geometry, doc, ctx)                 # box id → zone id
    ids = {}
    for cell in elements.values():
        ids[cell["id"]] = ctx.ident(_name(cell).replace("\n", " "), cell["shape"])
    ends = {f["id"]: _ends(f, elements, geometry, ctx) for f in flows}
    placed = {e: _container(geometry[e], boxes, geometry, zone_of) for e in elements}
    placed = _regions(placed, elements, curves, flows, ends, geometry, doc, ctx)
    if outside := [e for e in elements if placed.get(e) is None]:
        title = str(diagram.get("title") or "Diagram")
        zone = {"id": ctx.ident(f"{title}-outside"), "label": f"{title}: outside the trust boundaries",
                "kind": m["outside_kind"]}
        doc["zones"].append(zone)
        ctx.warn(f"diagram {diagram.get('id')}", f"{len(outside)} elements lie in no trust boundary box nor region: "
                                                 f"zone {zone['id']} ({zone['kind']})")
        placed.update(dict.fromkeys(outside, zone["id"]))
    for cell in elements.values():
        doc["components"].append(_component(cell, ids[cell["id"]], placed.get(cell["id"]), m, ctx))
        doc["decisions"] += _decisions(cell, ids[cell["id"]], m, ctx)
    for flow in flows:
        if (pair := ends[flow["id"]]) is not None:
            fid = ctx.ident(_name(flow).replace("\n", " ") or f"{ids[pair[0]]}-to-{ids[pair[1]]}")
            doc["flows"].append(_flow(flow, fid, ids[pair[0]], ids[pair[1]], doc, m, ctx))
            doc["decisions"] += _decisions(flow, fid, m, ctx)
            ids[flow["id"]] = fid
    return ids


def _container(box, boxes, geometry, zone_of, whole=False):
    """The zone of the smallest other trust boundary box that holds the centre of `box` (`whole`: all of it)."""
    points = [box[:2], box[2:]] if whole else [_centre(box)]
    holding = [b for b in boxes if geometry[b["id"]] != box and all(_inside(p, geometry[b["id"]]) for p in points)]
    return zone_of[min(holding, key=lambda b: _area(geometry[b["id"]]))["id"]] if holding else None


def _area(box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _zones(boxes, geometry, doc, ctx) -> dict:
    m, zone_of = ctx.mapping, {}
    for box in boxes:
        label = _name(box) or "Trust boundary"
        zone_of[box["id"]] = ctx.ident(label.replace("\n", " "), "zone")
    for box in boxes:
        label = _name(box) or "Trust boundary"
        kind = (box.get("data") or {}).get(ZONE_KIND_FIELD)
        if kind not in {"untrusted", "dmz", "internal", "restricted", "development"}:
            kind = next((z["kind"] for z in m["zone_names"] if re.search(z["pattern"], label, re.I)), m["zone_kind"])
        zone = {"id": zone_of[box["id"]], "label": label, "kind": kind}
        if (parent := _container(geometry[box["id"]], boxes, geometry, zone_of, whole=True)):
            zone["parent"] = parent
        doc["zones"].append(zone)
    return zone_of


def _point(end):
    """The (x, y) of a curve or flow end or vertex given as a point, else None."""
    if not isinstance(end, dict) or not all(isinstance(end.get(k), (int, float)) for k in ("x", "y")):
        return None
    point = float(end["x"]), float(end["y"])
    return point if all(map(math.isfinite, point)) else None


def _ends(flow, elements, geometry, ctx):
    """The (source, target) element ids of a flow; a loose end is snapped to a nearby element."""
    found = []
    for key in ("source", "target"):
        end = flow.get(key)
        if not isinstance(end, dict):
            ctx.fail(f"flow {flow['id']}", f"has no {key}")
            return None
        if end.get("cell") is not None:
            if not isinstance(end["cell"], str) or end["cell"] not in elements:
                ctx.fail(f"flow {flow['id']}", f"{key} cell '{end['cell']}' is no actor, process or store "
                                               "of the diagram")
                return None
            found.append(end["cell"])
            continue
        point = _point(end)
        near = sorted((_distance(point, geometry[e]), e) for e in elements) if point else []
        if near and near[0][0] <= ctx.mapping["snap"]:
            ctx.warn(f"flow {flow['id']}", f"{key} is a loose point: taken as attached to "
                                           f"'{_name(elements[near[0][1]])}' ({near[0][0]:.0f} px away)")
            found.append(near[0][1])
        else:
            ctx.warn(f"flow {flow['id']}", f"{key} is attached to no element: the flow is not held")
            return None
    return tuple(found)


def _distance(point, box) -> float:
    return math.hypot(max(box[0] - point[0], 0, point[0] - box[2]), max(box[1] - point[1], 0, point[1] - box[3]))


def _polyline(cell, geometry, ends=None):
    """The points of a curve (its source, vertices, target), or of a flow between element centres."""
    if ends:
        start, stop = _centre(geometry[ends[0]]), _centre(geometry[ends[1]])
    else:
        start, stop = _point(cell.get("source")), _point(cell.get("target"))
        if start is None or stop is None:
            return []
    vertices = cell.get("vertices") if isinstance(cell.get("vertices"), list) else []
    middle = [point for v in vertices if (point := _point(v))]
    return [start, *middle, stop]


def _cross(o, a, b) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _crosses(line, other) -> bool:
    for p, q in zip(line, line[1:]):
        for r, s in zip(other, other[1:]):
            if _cross(p, q, r) * _cross(p, q, s) < 0 and _cross(r, s, p) * _cross(r, s, q) < 0:
                return True
    return False


def _side(point, line) -> bool:
    """Which side of a polyline a point lies on (by its nearest segment)."""
    def distance(p, q):
        dx, dy = q[0] - p[0], q[1] - p[1]
        t = max(0.0, min(1.0, ((point[0] - p[0]) * dx + (point[1] - p[1]) * dy) / (dx * dx + dy * dy or 1)))
        return math.hypot(point[0] - p[0] - t * dx, point[1] - p[1] - t * dy)
    p, q = min(zip(line, line[1:]), key=lambda seg: distance(*seg))
    return _cross(p, q, point) > 0


def _regions(placed, elements, curves, flows, ends, geometry, doc, ctx) -> dict:
    """Split each zone (and the diagram outside every box) into one region per side of the trust
    boundary curves that cross one of its flows."""
    m = ctx.mapping
    lines = {c["id"]: _polyline(c, geometry) for c in curves}
    paths = {f["id"]: _polyline(f, geometry, ends[f["id"]]) for f in flows if ends[f["id"]]}
    cutting = {}
    for f, path in paths.items():
        for c, line in lines.items():
            if line and _crosses(path, line):
                cutting.setdefault(c, []).append(f)
    for c in curves:
        if c["id"] not in cutting:
            ctx.warn(f"trust-boundary-curve {c['id']}", "crosses no flow: not held")
    sides = {e: tuple(_side(_centre(geometry[e]), lines[c]) for c in cutting) for e in placed}
    by_zone = {}
    for e, zone in placed.items():
        by_zone.setdefault(zone, {}).setdefault(sides[e], []).append(e)
    names = {z["id"]: z["label"] for z in doc["zones"]}
    named = [_name(c) for c in curves if c["id"] in cutting and _name(c)]
    boundary = f"trust boundary {', '.join(named)}" if named else f"{len(cutting)} trust boundary curves"
    for zone, groups in by_zone.items():
        if len(groups) < 2:
            continue
        for n, members in enumerate(sorted(groups.values(), key=lambda g: sorted(geometry[e][:2] for e in g)), 1):
            label = f"{names.get(zone, 'Diagram')} region {n} of {len(groups)} (split by {boundary})"
            actors = all(elements[e]["shape"] == "actor" for e in members)
            region = {"id": ctx.ident(f"{zone or 'diagram'}-region-{n}"), "label": label,
                      "kind": m["actors_region"] if actors else m["zone_kind"]}
            if zone:
                region["parent"] = zone
            doc["zones"].append(region)
            for e in members:
                placed[e] = region["id"]
    for f, pair in ends.items():
        if pair and placed.get(pair[0]) == placed.get(pair[1]) and any(f in fs for fs in cutting.values()):
            ctx.warn(f"flow {f}", "crosses a trust boundary curve, but its ends lie on the same side: one zone")
    return placed


def _component(cell, ident, zone, m, ctx) -> dict:
    data, shape, element = cell.get("data") or {}, cell["shape"], f"{cell['shape']} {cell['id']}"
    name = " ".join(_name(cell).split())
    out = {"id": ident, "label": name or ident}
    kinds, attributes = list(m["shapes"][shape]), {}
    stated = [k for k in data.get(KINDS_FIELD) or [] if k in component_kinds()]
    rule = next((r for r in m["names"].get(shape, []) if re.search(r["pattern"], name, re.I)), None)
    if stated:
        kinds = stated
    elif rule:
        kinds = list(rule["kinds"])
    if rule and rule.get("technology"):
        attributes["technology"] = rule["technology"]
    for flag, effect in m["flags"].items():
        if data.get(flag) is True:
            kinds += [k for k in effect.get("kinds", []) if k not in kinds and not stated]
            attributes.update(effect.get("attributes", {}))
    out["kinds"] = kinds
    if zone:
        out["zone"] = zone
    if data.get("description"):
        out["description"] = str(data["description"])
    if attributes:
        out["attributes"] = attributes
    if data.get("outOfScope") is True:
        reason = f" ({data['reasonOutOfScope']})" if data.get("reasonOutOfScope") else ""
        ctx.warn(element, f"out of scope in Threat Dragon{reason}: kept, ThreatKG has no scope")
    return out


def _flow(cell, fid, source, target, doc, m, ctx) -> dict:
    data, element = cell.get("data") or {}, f"flow {cell['id']}"
    out = {"id": fid, "label": _name(cell).replace("\n", " ") or fid, "source": source, "target": target}
    protocol = str(data.get("protocol") or "").strip().lower()
    token = m["protocols"].get(protocol)
    if protocol and token is None:
        ctx.warn(element, f"protocol '{data['protocol']}' maps to no protocol token "
                          "(catalogs/import/threat-dragon.yaml protocols)")
    if data.get("isEncrypted") is True:
        token = m["encrypted"].get(token or "", token)
    if token:
        out["protocol"] = token
    if data.get("isBidirectional") is True:
        out["bidirectional"] = True
    if data.get("description"):
        out["description"] = str(data["description"])
    if data.get("isPublicNetwork") is True:
        receiver = next(c for c in doc["components"] if c["id"] == target)
        if "external-entity" not in receiver["kinds"] and "user" not in receiver["kinds"]:
            receiver.setdefault("attributes", {}).update(m["public_network"])
    if data.get("outOfScope") is True:
        reason = f" ({data['reasonOutOfScope']})" if data.get("reasonOutOfScope") else ""
        ctx.warn(element, f"out of scope in Threat Dragon{reason}: kept, ThreatKG has no scope")
    return out


def _decisions(cell, target, m, ctx) -> list[dict]:
    data, element = cell.get("data") or {}, f"{cell['shape']} {cell['id']}"
    threats = data.get("threats") or []
    if not isinstance(threats, list):
        ctx.fail(element, "threats must be a list")
        return []
    decisions, open_ = [], []
    for threat in threats:
        if not isinstance(threat, dict):
            ctx.fail(element, "a threat must be a mapping")
            continue
        title = str(threat.get("title") or threat.get("id") or "threat").strip()
        status = str(threat.get("status") or "").strip().lower()
        if status in m["open_statuses"] or str(threat.get("id", "")).startswith(INFERRED):
            open_.append(title)
            continue
        if status not in m["statuses"]:
            ctx.warn(element, f"threat '{title}': status '{threat.get('status')}' maps to no decision status")
            continue
        category = m["types"].get(str(threat.get("type") or "").strip().lower())
        if category is None:
            ctx.warn(element, f"threat '{title}': type '{threat.get('type')}' maps to no STRIDE category: no decision")
            continue
        text = str(threat.get("mitigation") or "").strip() or str(threat.get("description") or "").strip() or title
        decisions.append({"id": ctx.ident(f"{target}-{title}"), "threat": category, "elements": [target],
                          "status": m["statuses"][status], "justification": f"{title}: {text}",
                          "date": date.today().isoformat()})
    if open_:
        ctx.warn(element, f"{len(open_)} threats that record no decision are not held (ThreatKG infers the threats): "
                          f"{'; '.join(open_)[:300]}")
    return decisions
