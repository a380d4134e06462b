"""pytm (OWASP/pytm) JSON models: the JSON input (`elements` with `__class__`, flows naming their
`source` and `sink`) and pytm's JSON dump (`actors`, `assets`, `findings`, `controls` dicts).
Elements and boundaries are referenced by name; catalogs/import/pytm.yaml maps classes, boundary
names, classifications, attributes, controls and finding responses."""

import datetime
import re
from pathlib import Path

NAME = "pytm"

NO_VALUE = (None, "", -1, 0, False, [], {}, "UNKNOWN", "NONE")


def detect(data) -> bool:
    """A pytm model: elements with a `__class__`, or the dump's actors and assets (never pytm's
    threat library, a list)."""
    if not isinstance(data, dict) or "system" in data:
        return False
    elements = data.get("elements")
    if isinstance(elements, list) and elements and all(isinstance(e, dict) and "__class__" in e for e in elements):
        return True
    return isinstance(data.get("actors"), list) and isinstance(data.get("assets"), list)


def _enum(value):
    """`Classification.PUBLIC` → `PUBLIC` (pytm's dump writes enums with their class)."""
    return value.rsplit(".", 1)[-1] if isinstance(value, str) else value


def _named(items, what: str, ctx) -> dict:
    """Name → item of a list of pytm objects; another type, a nameless or repeated name is a problem."""
    found = {}
    if not isinstance(items, list | None):
        ctx.fail(None, f"the {what} section is a list of objects; found {type(items).__name__}")
        return found
    for i, item in enumerate(items or []):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(item, dict):
            ctx.fail(f"{what}[{i}]", f"a pytm {what} is an object; found {type(item).__name__}")
        elif not isinstance(name, str) or not name:
            ctx.fail(f"{what}[{i}]", f"a pytm {what} needs a name")
        elif name in found and found[name] != item:
            ctx.fail(name, f"two pytm {what}s are named '{name}': references by name would be ambiguous")
        else:
            found[name] = item
    return found


def convert(data: dict, ctx) -> dict:
    m = ctx.mapping
    name = data.get("name")
    if not isinstance(name, str) or not name:
        ctx.fail(None, "a pytm model needs a name")
        name = "pytm-model"
    doc = {"system": {"id": ctx.ident(name), "name": name}}
    if isinstance(data.get("description"), str) and data["description"]:
        doc["system"]["description"] = data["description"]
    if data.get("assumptions"):
        ctx.warn(None, f"{len(data['assumptions'])} model assumptions are not kept (ThreatKG has no assumptions)")

    boundaries = _named(data.get("boundaries"), "boundary", ctx)
    elements = _named(data.get("elements") or [*(data.get("actors") or []), *(data.get("assets") or [])],
                      "element", ctx)
    flows = _named(data.get("flows"), "dataflow", ctx)
    objects = _named(data.get("data"), "data", ctx)

    zones = {b: ctx.ident(b) for b in boundaries}
    doc["zones"] = [_zone(b, zones, boundaries[b], m, ctx) for b in boundaries]
    ids = {e: ctx.ident(e) for e in elements}
    flow_ids = {f: ctx.ident(f) for f in flows}
    controls, components = [], []
    for ename, element in elements.items():
        components.append(_component(ename, element, ids[ename], zones, m, ctx))
        controls += _controls(element, ids[ename], m, ctx)
    if any("zone" not in c for c in components):
        unzoned = [c for c in components if "zone" not in c]
        spec = m["no_boundary"]
        zid = ctx.ident(spec["id"])
        doc["zones"].append({"id": zid, "label": spec["label"], "kind": spec["kind"]})
        for c in unzoned:
            c["zone"] = zid
        ctx.warn(None, f"{', '.join(c['label'] for c in unzoned)}: in no pytm boundary, put in zone {zid}")
    doc["components"] = components
    doc["flows"] = []
    for fname, flow in flows.items():
        doc["flows"].append(_flow(fname, flow, flow_ids[fname], ids, objects, m, ctx))
        controls += _controls(flow, flow_ids[fname], m, ctx)
    _data_facts(objects, elements, flows, ids, components, m, ctx)
    if not doc["zones"]:
        del doc["zones"]
    if controls:
        doc["controls"] = controls
    if decisions := _decisions(data, elements, flows, {**ids, **flow_ids}, m, ctx):
        doc["decisions"] = decisions
    return doc


def _zone(bname, zones, boundary, m, ctx) -> dict:
    kind = next(z["kind"] for z in m["zones"] if re.search(z["pattern"], bname, re.I))
    zone = {"id": zones[bname], "label": bname, "kind": kind}
    _place(zone, "parent", bname, boundary, zones, ctx)
    if boundary.get("description"):
        zone["description"] = boundary["description"]
    return zone


def _place(out: dict, key: str, name: str, source: dict, zones: dict, ctx):
    """Set out[key] to the zone of the source's `inBoundary`; a boundary no one names is a problem."""
    boundary = _ref_name(source.get("inBoundary"))
    if boundary is None:
        return
    if boundary in zones:
        out[key] = zones[boundary]
    else:
        ctx.fail(name, f"inBoundary: no boundary is named '{boundary}'")


def _ref_name(value):
    """A reference by name: the name itself, or the `name` of an embedded object."""
    return value.get("name") if isinstance(value, dict) else value or None


def _component(ename, element, eid, zones, m, ctx) -> dict:
    klass = element.get("__class__", "Asset")
    kinds = list(m["classes"].get(klass) or [])
    if not kinds:
        ctx.warn(ename, f"pytm class '{klass}' has no ThreatKG kind (catalogs/import/pytm.yaml): kept as a process")
        kinds = ["process"]
    component = {"id": eid, "label": ename, "kinds": kinds}
    _place(component, "zone", ename, element, zones, ctx)
    if element.get("description"):
        component["description"] = element["description"]
    does, attrs = [], {}
    for key, value in element.items():
        scalar = isinstance(value, (str, bool, int, float))
        facts = (m["attributes"].get(key) or {}).get(_enum(value)) if scalar else None
        if facts is not None:
            kinds += [k for k in facts.get("kinds", []) if k not in kinds]
            does += [d for d in facts.get("does", []) if d not in does]
            attrs.update(facts.get("attributes", {}))
        elif key not in m["ignored"] and key not in m["attributes"] and _enum(value) not in NO_VALUE:
            ctx.warn(ename, f"pytm attribute {key}={_enum(value)!r} is not kept (no mapping in catalogs/import/pytm.yaml)")
    if len(kinds) > 1 and kinds[0] in ("data-store", "process"):   # a subkind replaces the bare DFD type
        kinds.remove(kinds[0])
    component["kinds"] = kinds
    if level := _level(element.get("maxClassification"), m):
        attrs.setdefault("data_classification", level)
    if OS := element.get("OS"):
        ctx.warn(ename, f"operating system '{OS}' is not kept (ThreatKG knows no OS tokens)")
    if element.get("inScope") is False:
        ctx.warn(ename, "out of scope in pytm; ThreatKG assesses it like every element")
    if element.get("assumptions"):
        ctx.warn(ename, f"{len(element['assumptions'])} assumptions are not kept")
    if does:
        component["does"] = does
    if attrs:
        component["attributes"] = attrs
    return component


def _level(value, m):
    return m["classifications"].get(_enum(value)) if value is not None else None


def _names(value) -> list[str]:
    return [_ref_name(v) for v in value] if isinstance(value, list) else []


def _flow(fname, flow, fid, ids, objects, m, ctx) -> dict:
    out = {"id": fid, "label": fname}
    for end, key in (("source", "source"), ("sink", "target")):
        ref = _ref_name(flow.get(end))
        if ref in ids:
            out[key] = ids[ref]
        else:
            ctx.fail(fname, f"{end}: no element is named '{ref}'" if ref else f"a pytm dataflow needs a {end}")
    if protocol := flow.get("protocol"):
        renamed = {k.lower(): v for k, v in (m.get("protocols") or {}).items()}
        out["protocol"] = renamed.get(protocol.lower(), re.sub(r"[^a-z0-9+.-]", "", protocol.lower()))
    data = _names(flow.get("data"))
    for missing in [d for d in data if d not in objects]:
        ctx.fail(fname, f"data: no data object is named '{missing}'")
    if data:
        out["data"] = data
    if flow.get("note") or flow.get("description"):
        out["description"] = "\n".join(t for t in (flow.get("description"), flow.get("note")) if t)
    ports = [f"{k} {flow[k]}" for k in ("srcPort", "dstPort", "port") if flow.get(k) not in NO_VALUE]
    if ports:
        ctx.warn(fname, f"{', '.join(ports)} not kept (ThreatKG flows have no ports)")
    return out


def _controls(element, eid, m, ctx) -> list[dict]:
    """The ThreatKG controls of the pytm controls set to true on an element or flow."""
    found = []
    for key, value in (element.get("controls") or {}).items():
        if value is not True and not (isinstance(value, str) and value):
            continue
        if spec := m["controls"].get(key):
            found.append({"id": ctx.ident(f"{eid}-{key}"), "label": f"pytm control {key}", "kind": spec["kind"],
                          "protects": [eid], "mitigates": list(spec["mitigates"])})
        else:
            ctx.warn(element["name"], f"pytm control {key}={value!r} is not kept (no mapping in catalogs/import/pytm.yaml)")
    return found


def _data_facts(objects, elements, flows, ids, components, m, ctx):
    """What the data objects tell of the elements that hold them (process them, or are data stores
    that a flow carrying them enters): the highest classification, personal data (isPII),
    credentials (isCredentials)."""
    by_id = {c["id"]: c for c in components}
    order = list(dict.fromkeys(v for v in m["classifications"].values() if v))
    for dname, obj in objects.items():
        holders = set(_names(obj.get("processedBy")))
        holders |= {e for e, el in elements.items() if dname in _names(el.get("data"))}
        holders |= {sink for f in flows.values() if dname in _names(f.get("data"))
                    and elements.get(sink := _ref_name(f.get("sink")), {}).get("__class__") == "Datastore"}
        level = _level(obj.get("classification"), m)
        if not holders & set(elements) and (level or obj.get("isPII") or obj.get("isCredentials")):
            ctx.warn(dname, "held by no element (it only crosses flows): its classification is not kept")
        for holder in holders & set(elements):
            attrs = by_id[ids[holder]].setdefault("attributes", {})
            if level:
                attrs["data_classification"] = max([level, attrs.get("data_classification", level)], key=order.index)
            if obj.get("isPII"):
                attrs["stores_personal_data"] = True
            if obj.get("isCredentials"):
                attrs["stores_credentials"] = True


def _decisions(data, elements, flows, ids, m, ctx) -> list[dict]:
    """A decision for each pytm finding with a response, about the threats its references name."""
    found, seen, unanswered = [], set(), 0
    listed = [*(data.get("findings") or []), *(f for e in [*elements.values(), *flows.values()]
                                                for f in e.get("findings") or [])]
    for finding in listed:
        target = _ref_name(finding.get("target") or finding.get("element"))
        key = (target, finding.get("threat_id"), finding.get("id"))
        if key in seen:
            continue
        seen.add(key)
        where = f"finding {finding.get('id') or finding.get('threat_id')} on {target}"
        response = (finding.get("response") or "").strip().lower()
        if not response:
            unanswered += 1
            continue
        if target not in ids:
            ctx.fail(where, f"target: no element or dataflow is named '{target}'")
            continue
        status = m["responses"].get(response)
        threats = list(dict.fromkeys(spec["threat"].format(*match.groups())
                                     for spec in m["threat_references"]
                                     for match in re.finditer(spec["pattern"], finding.get("references") or "")))
        if status is None:
            ctx.warn(where, f"response '{response}' is none of {', '.join(m['responses'])}: not kept")
        elif not threats:
            ctx.warn(where, f"{finding.get('threat_id')}: its references name no threat ThreatKG knows "
                            "(no CAPEC id): the response is not kept")
        for threat in threats if status else []:
            found.append({"id": ctx.ident(f"pytm-{finding.get('threat_id')}-{threat}-{ids[target]}"),
                          "threat": threat, "elements": [ids[target]], "status": status,
                          "justification": f"pytm finding {finding.get('threat_id')} "
                                           f"({finding.get('description') or 'no description'}): {response}",
                          "date": _date(ctx)})
    if unanswered:
        ctx.warn(None, f"{unanswered} pytm findings without a response are not kept (ThreatKG infers its own threats)")
    return found


def _date(ctx) -> str:
    """When the responses were recorded: the source file's date (else today)."""
    path = Path(ctx.file)
    when = datetime.date.fromtimestamp(path.stat().st_mtime) if path.is_file() else datetime.date.today()
    return when.isoformat()
