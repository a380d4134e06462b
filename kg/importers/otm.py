"""Open Threat Model (OTM 0.1 and 0.2, JSON or YAML; https://github.com/iriusrisk/OpenThreatModel).

project → system; trustZones → zones (kind by well-known id, type or trust rating); components →
components (kinds and technology by type and tags, zone by parent); dataflows → flows; assets →
data classification; a threat mitigated on an element (threat state, or an implemented mitigation)
→ a `mitigated` decision on its STRIDE categories, justified by the mitigation's text. What has no
place in the model is a warning naming the OTM element. Mapping: catalogs/import/otm.yaml."""

import re
from datetime import date

from kg.errors import InputError, Problem
from kg.namespaces import TM
from kg.ontology import attributes, compiled, kinds, known_values

NAME = "otm"
KINDS_ATTRIBUTE = "threatkg-kinds"
INFERRED_ATTRIBUTE = "threatkg-inferred"     # a threat ThreatKG inferred: only its mitigations make decisions


def detect(data) -> bool:
    return isinstance(data, dict) and "otmVersion" in data


def component_kinds() -> set[str]:
    ancestors = compiled().ancestors
    return {name for name in kinds() if str(TM.Component) in ancestors.get(name, ())}


SECTIONS = ("otmVersion", "project", "representations", "trustZones", "components", "dataflows", "assets",
            "threats", "mitigations")


def convert(data, ctx) -> dict:
    if not isinstance(data, dict) or not set(data) & set(SECTIONS):    # forced on another document
        raise InputError(Problem(ctx.file, f"not an OTM model: it has none of {', '.join(SECTIONS)}"))
    m = ctx.mapping
    project = _record(data.get("project"), "project", ctx) or {}
    system = {"id": ctx.ident(project.get("id"), project.get("name"), "otm-model"),
              "name": str(project.get("name") or project.get("id") or "OTM model")}
    if project.get("description"):
        system["description"] = str(project["description"])
    for key in ("owner", "ownerContact", "tags"):
        if project.get(key):
            ctx.warn("project", f"{key} {project[key]!r} is not held")
    if representations := data.get("representations"):
        count = len(representations) if isinstance(representations, list) else 1
        ctx.warn("representations", f"{count} representations (diagrams, code) are not held")
    zones_in, components_in = _records(data, "trustZones", ctx), _records(data, "components", ctx)
    flows_in, assets = _records(data, "dataflows", ctx), {a["id"]: a for a in _records(data, "assets", ctx)}
    threats = {t["id"]: t for t in _records(data, "threats", ctx)}
    mitigations = {x["id"]: x for x in _records(data, "mitigations", ctx)}

    zones, zone_ids = _zones(zones_in, m, ctx)
    by_id = {c["id"]: c for c in components_in}
    ids = {c["id"]: ctx.ident(_readable(c["id"]), c.get("name"), c["id"]) for c in components_in}
    components = [_component(c, by_id, ids, zone_ids, assets, m, ctx) for c in components_in]
    made = [(f, flow) for f in flows_in if (flow := _flow(f, ids, assets, m, ctx))]
    decisions = [d for c in components_in
                 for d in _decisions(c, f"component {c['id']}", ids[c["id"]], threats, mitigations, m, ctx)]
    decisions += [d for f, flow in made
                  for d in _decisions(f, f"dataflow {f['id']}", flow["id"], threats, mitigations, m, ctx)]
    doc = {"system": system, "zones": zones, "components": components, "flows": [flow for _, flow in made]}
    if decisions:
        doc["decisions"] = decisions
    return doc


def _zones(zones_in, m, ctx) -> tuple[list[dict], dict[str, str]]:
    """The zones, and the ThreatKG id of each trust zone id."""
    ids = {z["id"]: ctx.ident(_readable(z["id"]), z.get("name"), z["id"]) for z in zones_in}
    zones = []
    for z in zones_in:
        element = f"trustZone {z['id']}"
        zone = {"id": ids[z["id"]], "label": str(z.get("name") or z["id"]), "kind": _zone_kind(z, m, ctx)}
        parent = z.get("parent") or {}
        if not isinstance(parent, dict):
            ctx.fail(element, f"parent must be a mapping (trustZone), not {parent!r}"[:200])
        elif parent.get("trustZone") is not None:
            if str(parent["trustZone"]) in ids:
                zone["parent"] = ids[str(parent["trustZone"])]
            else:
                ctx.fail(element, f"parent trustZone '{parent['trustZone']}' is no trust zone of the file")
        elif parent.get("component") is not None:
            ctx.warn(element, "a trust zone inside a component is not held: placed at the top level")
        if z.get("description"):
            zone["description"] = str(z["description"])
        zones.append(zone)
    _check_zone_cycles(zones_in, ctx)
    return zones, ids


def _readable(ident):
    """A source id worth keeping as a ThreatKG id: not a UUID nor a bare number."""
    text = str(ident)
    return None if re.fullmatch(r"[0-9a-fA-F-]{32,36}|\d+", text) else text


def _record(value, element, ctx) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        ctx.fail(element, f"must be a mapping, not {type(value).__name__}")
        return None
    return value


def _records(data, section, ctx) -> list[dict]:
    """The section's items that have an id (each other one a problem)."""
    items = data.get(section)
    if items is None:
        return []
    if not isinstance(items, list):
        ctx.fail(section, f"must be a list, not {type(items).__name__}")
        return []
    good = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            ctx.fail(f"{section}[{n}]", f"must be a mapping, not {type(item).__name__}")
        elif not isinstance(item.get("id"), (str, int)) or isinstance(item.get("id"), bool):
            ctx.fail(f"{section}[{n}]", "has no id")
        else:
            good.append({**item, "id": str(item["id"])})
    return good


def _strings(item, key, element, ctx) -> list[str]:
    """A field holding a list of names (tags, assets), each a string; else a problem."""
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
        ctx.fail(element, f"{key} must be a list of names, not {value!r}"[:200])
        return []
    return [str(v) for v in value if v is not None]


def _zone_kind(z, m, ctx) -> str:
    if z["id"] in m["zone_ids"]:
        return m["zone_ids"][z["id"]]
    if str(z.get("type", "")).lower() in m["zone_types"]:
        return m["zone_types"][str(z["type"]).lower()]
    rating = (z.get("risk") or {}).get("trustRating") if isinstance(z.get("risk"), dict) else None
    if isinstance(rating, (int, float)) and not isinstance(rating, bool):
        return next((band["kind"] for band in m["trust_ratings"] if rating <= band["max"]), "restricted")
    ctx.warn(f"trustZone {z['id']}", "no known type and no trust rating: taken as an internal zone")
    return "internal"


def _check_zone_cycles(zones_in, ctx):
    parents = {z["id"]: str(z["parent"]["trustZone"]) for z in zones_in
               if isinstance(z.get("parent"), dict) and z["parent"].get("trustZone") is not None}
    for start in parents:
        seen, here = [start], parents[start]
        while here in parents and here not in seen:
            seen.append(here)
            here = parents[here]
        if here == start:
            ctx.fail(f"trustZone {start}", f"trust zones nest in a cycle: {' → '.join([*seen, start])}")


def _component(c, by_id, ids, zone_ids, assets, m, ctx) -> dict:
    element = f"component {c['id']}"
    out = {"id": ids[c["id"]], "label": str(c.get("name") or c["id"])}
    if not isinstance(c.get("type"), (str, type(None))):
        ctx.fail(element, f"type must be a string, not {c['type']!r}"[:200])
        c = {**c, "type": None}
    kinds_, tech = _kinds(c, m, ctx), []
    out["kinds"] = kinds_
    zone = _zone_of(c, by_id, zone_ids, ctx)
    if zone:
        out["zone"] = zone
    if c.get("description"):
        out["description"] = str(c["description"])
    known = known_values(attributes()["technology"])
    for word in [c.get("type"), *_strings(c, "tags", element, ctx)]:
        token = m["technologies"].get(word) or (word if word in known else None)
        if token and token not in tech:
            tech.append(token)
        elif not token and word is not None and word != c.get("type"):
            ctx.warn(element, f"tag '{word}' maps to no technology (catalogs/import/otm.yaml technologies)")
    facts = {}
    if tech:
        facts["technology"] = tech if len(tech) > 1 else tech[0]
    if classification := _classification(c, assets, m, ctx):
        facts["data_classification"] = classification
    if facts:
        out["attributes"] = facts
    _not_held(c, element, m, ctx)
    return out


def _not_held(item, element, m, ctx):
    """Warn about an element's `attributes` and `properties` (OTM 0.1), which the model cannot hold."""
    keys = []
    for field in ("attributes", "properties"):
        value = item.get(field)
        if isinstance(value, dict):
            keys += [str(k) for k in value if k != KINDS_ATTRIBUTE and k not in m["ignored_attributes"]]
        elif value is not None:
            ctx.fail(element, f"{field} must be a mapping, not {type(value).__name__}")
    if keys:
        ctx.warn(element, f"attributes not held: {', '.join(keys)}")


def _kinds(c, m, ctx) -> list[str]:
    known, kind = component_kinds(), c.get("type")
    attrs = c.get("attributes") if isinstance(c.get("attributes"), dict) else {}
    stated = [k for k in attrs.get(KINDS_ATTRIBUTE) or [] if k in known]
    if stated:
        return stated
    if kind in m["types"]:
        return list(m["types"][kind])
    if kind in known:
        return [kind]
    generic = next((g["kind"] for g in m["generic"] if re.search(g["pattern"], str(kind), re.I)), "process")
    ctx.warn(f"component {c['id']}", f"type '{kind}' maps to no ThreatKG kind (catalogs/import/otm.yaml types): "
                                     f"taken as a {generic}")
    return [generic]


def _zone_of(c, by_id, zone_ids, ctx) -> str | None:
    """The zone id of a component: its trust zone, or that of the component it is inside."""
    element, here, chain = f"component {c['id']}", c, [c["id"]]
    while True:
        parent = here.get("parent")
        if not parent:
            ctx.fail(element, "has no parent trust zone (every ThreatKG component sits in a zone)")
            return None
        if not isinstance(parent, dict):
            ctx.fail(element, f"parent must be a mapping (trustZone or component), not {parent!r}"[:200])
            return None
        if parent.get("trustZone") is not None:
            zone = str(parent["trustZone"])
            if zone not in zone_ids:
                ctx.fail(element, f"parent trustZone '{zone}' is no trust zone of the file")
                return None
            if len(chain) > 1:
                ctx.warn(element, f"a component inside component {chain[1]} is not held: placed in its zone")
            return zone_ids[zone]
        inner = str(parent.get("component"))
        if inner not in by_id:
            ctx.fail(element, f"parent component '{inner}' is no component of the file")
            return None
        if inner in chain:
            ctx.fail(element, f"components nest in a cycle: {' → '.join([*chain, inner])}")
            return None
        chain.append(inner)
        here = by_id[inner]


def _classification(c, assets, m, ctx) -> str | None:
    held = c.get("assets") or {}
    if not isinstance(held, dict):
        ctx.fail(f"component {c['id']}", "assets must be a mapping of processed and stored assets")
        return None
    element = f"component {c['id']}"
    names = [*_strings(held, "processed", element, ctx), *_strings(held, "stored", element, ctx)]
    levels = []
    for name in names:
        asset = assets.get(str(name))
        if asset is None:
            ctx.fail(f"component {c['id']}", f"asset '{name}' is no asset of the file")
            continue
        value = asset["risk"].get("confidentiality") if isinstance(asset.get("risk"), dict) else None
        if isinstance(value, (int, float)):
            bands = m["classifications"]
            levels.append(next((i for i, band in enumerate(bands) if value >= band["min"]), len(bands) - 1))
    return m["classifications"][min(levels)]["value"] if levels else None


def _flow(f, ids, assets, m, ctx) -> dict | None:
    element = f"dataflow {f['id']}"
    ends = {}
    for key, field in (("source", "source"), ("target", "destination")):
        end = f.get(field)
        if end is None:
            ctx.fail(element, f"has no {field}")
        elif str(end) not in ids:
            ctx.fail(element, f"{field} '{end}' is no component of the file")
        else:
            ends[key] = ids[str(end)]
    if len(ends) < 2:
        return None
    out = {"id": ctx.ident(_readable(f["id"]), f.get("name"), f["id"]), "label": str(f.get("name") or f["id"]), **ends}
    known = known_values(str(TM.protocol))
    tags = _strings(f, "tags", element, ctx)
    protocols = [m["protocols"].get(t) or t for t in tags if t in m["protocols"] or t in known]
    for tag in tags:
        if tag not in m["protocols"] and tag not in known:
            ctx.warn(element, f"tag '{tag}' maps to no protocol (catalogs/import/otm.yaml protocols)")
    if protocols:
        out["protocol"] = protocols[0]
    if f.get("bidirectional"):
        out["bidirectional"] = True
    for name in _strings(f, "assets", element, ctx):
        if str(name) in assets:
            out.setdefault("data", []).append(str(assets[str(name)].get("name") or name))
        else:
            ctx.fail(element, f"asset '{name}' is no asset of the file")
    if f.get("description"):
        out["description"] = str(f["description"])
    _not_held(f, element, m, ctx)
    return out


def _decisions(item, element, target, threats, mitigations, m, ctx) -> list[dict]:
    """The decisions of an element's threats: by the state of their mitigations (justified by the
    mitigations' text), else by their own state (but for the threats ThreatKG inferred); the rest is
    said in one warning."""
    decisions, undecided, taken = [], [], set()
    refs = item.get("threats") or []
    if not isinstance(refs, list):
        ctx.fail(element, "threats must be a list")
        return []
    for ref in refs:
        if not isinstance(ref, dict) or str(ref.get("threat")) not in threats:
            which = ref.get("threat") if isinstance(ref, dict) else ref
            ctx.fail(element, f"threat {which!r} is no threat of the file")
            continue
        threat = threats[str(ref["threat"])]
        name = str(threat.get("name") or threat["id"])
        status, texts = _status(ref, threat, element, mitigations, m, ctx)
        if status is None:
            undecided.append(name)
            continue
        words = [w.lower() for w in _strings(threat, "categories", f"threat {threat['id']}", ctx)]
        stride = [m["categories"][w] for w in words if w in m["categories"]]
        if not stride:
            cwes = f" (its cwes {', '.join(map(str, threat['cwes']))} are weaknesses, not threats)" \
                if isinstance(threat.get("cwes"), list) and threat["cwes"] else ""
            ctx.warn(element, f"{status} threat '{name}' has no STRIDE category ThreatKG knows{cwes}: no decision")
            continue
        for category in dict.fromkeys(stride):
            justification = f"{name}: {'; '.join(texts)}"
            if (category, status, justification) not in taken:       # one decision, however many threats say it
                taken.add((category, status, justification))
                decisions.append({"id": ctx.ident(f"{target}-{name}-{category}"), "threat": category,
                                  "elements": [target], "status": status, "justification": justification,
                                  "date": date.today().isoformat()})
    if undecided:
        ctx.warn(element, f"{len(undecided)} threats that record no decision are not held (ThreatKG infers the "
                          f"threats): {'; '.join(undecided)[:300]}")
    return decisions


def _status(ref, threat, element, mitigations, m, ctx) -> tuple[str | None, list[str]]:
    """The decision status of an element's threat and the texts that justify it, or (None, [])."""
    listed = ref.get("mitigations") if isinstance(ref.get("mitigations"), list) else []
    for x in listed:
        state = str(x.get("state", "")).lower() if isinstance(x, dict) else ""
        if state in m["mitigation_states"]:
            chosen = [y for y in listed if isinstance(y, dict) and str(y.get("state", "")).lower() == state]
            found = [mitigations.get(str(y.get("mitigation"))) for y in chosen]
            if None in found:
                ctx.fail(element, f"threat {threat['id']}: a {state} mitigation is no mitigation of the file")
                return None, []
            return m["mitigation_states"][state], [_text(y) for y in found]
    inferred = isinstance(threat.get("attributes"), dict) and threat["attributes"].get(INFERRED_ATTRIBUTE)
    state = str(ref.get("state", "")).lower()
    if not inferred and state in m["threat_states"]:
        return m["threat_states"][state], [_text(threat)]
    return None, []


def _text(item) -> str:
    name, description = str(item.get("name") or item["id"]), item.get("description")
    return f"{name} ({description})" if description and description != name else name
