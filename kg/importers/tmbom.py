"""OWASP Threat Model Library models (TM-BOM JSON): trust zones, actors, components, data stores,
data sets and data flows, by symbolic name; threats with their CAPEC attack mechanisms become
decisions where a control in place mitigates them. What maps to what is catalogs/import/tmbom.yaml."""

import datetime

from kg.catalogs.entries import known_entries
from kg.ids import iri_of

NAME = "tmbom"

ELEMENTS = {"actor": "actors", "component": "components", "data_store": "data_stores"}
LEVELS = ["public", "internal", "confidential", "restricted"]
UNHELD = ("assumptions", "threat_personas", "risks", "diagrams")
HELD = {   # the fields read, by section; any other field with a value is said in one warning per section
    "actors": {"symbolic_name", "title", "description", "type", "trust_zone"},
    "components": {"symbolic_name", "title", "description", "trust_zone"},
    "data_stores": {"symbolic_name", "title", "description", "type", "trust_zone", "product"},
    "data_sets": {"symbolic_name", "title", "data_sensitivity", "placements"},
    "data_flows": {"symbolic_name", "title", "description", "source", "destination", "encrypted"},
}


def detect(data) -> bool:
    return isinstance(data, dict) and ("threat-model-library" in str(data.get("$schema", ""))
                                       or {"scope", "trust_zones", "data_flows"} <= data.keys())


def convert(data, ctx) -> dict:
    if not isinstance(data, dict) or not any(data.get(section) for section in ELEMENTS.values()):
        ctx.fail(None, "not a TM-BOM model: it has no actors, components or data_stores")
        return {}
    scope = data.get("scope") if isinstance(data.get("scope"), dict) else {}
    system = {"id": ctx.ident(str(scope.get("title") or "tmbom-model").lower()),
              "name": str(scope.get("title") or "TM-BOM model")}
    if scope.get("description"):
        system["description"] = str(scope["description"])
    if unheld := sorted(k for k, v in scope.items() if k not in ("title", "description") and v):
        ctx.warn("scope", f"{', '.join(unheld)}: ThreatKG holds no such facts of a system; not imported")
    zones, zone_ids = [], {}
    for z in _list(data, "trust_zones", ctx):
        zone_ids[z["symbolic_name"]] = _zone(z, zones, ctx)
    for b in _list(data, "trust_boundaries", ctx, named=False):
        ctx.warn(f"trust boundary {b.get('trust_zone_a')}|{b.get('trust_zone_b')}",
                 "a ThreatKG model has no boundary between two zones (crossings come from the zones); "
                 f"access control {_joined(b.get('access_control_methods'))}, authentication "
                 f"{_joined(b.get('authentication_methods'))} not imported")
    elements, components = {}, []
    for kind, section in ELEMENTS.items():
        for e in _list(data, section, ctx):
            if e["symbolic_name"] in elements:
                ctx.fail(e["symbolic_name"], f"symbolic name used twice (in {elements[e['symbolic_name']][0]} "
                                             f"and {section})")
                continue
            component = _component(kind, e, zones, zone_ids, ctx)
            elements[e["symbolic_name"]] = (section, component)
            components.append(component)
    held = _data_sets(_list(data, "data_sets", ctx), elements, ctx)
    flows = [flow for f in _list(data, "data_flows", ctx)
             if (flow := _flow(f, elements, components, zones, zone_ids, held, ctx))]
    doc = {"system": system, "zones": zones, "components": components, "flows": flows}
    if decisions := _decisions(data, zone_ids, ctx):
        doc["decisions"] = decisions
    for section, held_fields in HELD.items():
        ctx.unheld(section, data.get(section) if isinstance(data.get(section), list) else [], held_fields)
    ctx.unheld_sections(data, UNHELD)
    return doc


def _list(data, section, ctx, named=True) -> list:
    """The section's entries (mappings, each with a symbolic name when `named`); problems for the rest."""
    value = data.get(section)
    if value is None:
        return []
    if not isinstance(value, list):
        ctx.fail(section, f"must be a list, found {_kind(value)}")
        return []
    good = []
    for n, entry in enumerate(value, 1):
        if not isinstance(entry, dict):
            ctx.fail(f"{section}[{n}]", f"must be an object, found {_kind(entry)}")
        elif named and not (isinstance(entry.get("symbolic_name"), str) and entry["symbolic_name"]):
            ctx.fail(f"{section}[{n}]", "has no symbolic_name")
        else:
            good.append(entry)
    return good


def _seq(entry, key, ctx) -> list:
    """The list under `key` of a named entry (none: empty); a problem when it is something else."""
    value = entry.get(key)
    if value is None or isinstance(value, list):
        return value or []
    ctx.fail(entry["symbolic_name"], f"{key} must be a list, found {_kind(value)}")
    return []


def _joined(values) -> str:
    return ", ".join(dict.fromkeys(map(str, values or []))) or "none"


def _words(*texts) -> str:
    return " ".join(str(t) for t in texts if t).lower().replace("-", " ").replace("_", " ")


def _zone(z, zones, ctx) -> str:
    m = ctx.mapping
    text = _words(z["symbolic_name"], z.get("title"), z.get("description"))
    kind = next((h["kind"] for h in m["zone_hints"] if h["word"] in text.split()), m["zone_default"])
    zone = {"id": ctx.ident(z["symbolic_name"]), "label": str(z.get("title") or z["symbolic_name"]), "kind": kind}
    if z.get("description"):
        zone["description"] = str(z["description"])
    zones.append(zone)
    return zone["id"]


def _zone_of(ref, what, zones, zone_ids, ctx) -> str:
    """The zone id of a trust zone reference; an undeclared one becomes a zone of its own (a warning)."""
    if ref not in zone_ids:
        if not isinstance(ref, str) or not ref:
            ctx.fail(what, "names no trust_zone")
            return "?"
        ctx.warn(what, f"trust zone '{ref}' is not among trust_zones; imported as a zone of its own")
        zone_ids[ref] = _zone({"symbolic_name": ref}, zones, ctx)
    return zone_ids[ref]


def _hinted(hints, *texts):
    words = set(_words(*texts).split())
    return next((h for h in hints if set(h["words"]) <= words), None)


def _component(kind, e, zones, zone_ids, ctx) -> dict:
    m, name = ctx.mapping, e["symbolic_name"]
    attributes = {}
    if kind == "actor":
        kinds = m["actor_types"].get(e.get("type"), m["actor_default"])
    else:
        hint = _hinted(m[f"{kind}_hints"], name, e.get("title"), e.get("product"))
        if hint:
            kinds = hint["kinds"]
            attributes |= hint.get("attributes") or {}
            if hint.get("technology"):
                attributes["technology"] = list(hint["technology"])
        elif kind == "data_store":
            kinds = m["data_store_types"].get(e.get("type"), m["data_store_default"])
        else:
            kinds = m["component_default"]
    component = {"id": ctx.ident(name), "label": str(e.get("title") or name), "kinds": list(kinds),
                 "zone": _zone_of(e.get("trust_zone"), name, zones, zone_ids, ctx)}
    if e.get("description"):
        component["description"] = str(e["description"]).strip()
    if attributes:
        component["attributes"] = attributes
    return component


def _data_sets(data_sets, elements, ctx) -> dict:
    """Data store symbolic name → titles of the data sets placed in it; each store's classification
    and attributes raised by its data sets' sensitivity."""
    m, held = ctx.mapping, {}
    for ds in data_sets:
        sensitivity = _seq(ds, "data_sensitivity", ctx)
        facts = [m["sensitivities"][s] for s in sensitivity if s in m["sensitivities"]]
        for unknown in [s for s in sensitivity if s not in m["sensitivities"]]:
            ctx.warn(ds["symbolic_name"], f"data sensitivity '{unknown}' maps to no classification")
        for placement in _seq(ds, "placements", ctx):
            store = placement.get("data_store") if isinstance(placement, dict) else None
            if elements.get(store, ("",))[0] != "data_stores":
                ctx.warn(ds["symbolic_name"], f"placed in '{store}', no data store of this model; "
                                              "its classification applies to none")
                continue
            held.setdefault(store, []).append(str(ds.get("title") or ds["symbolic_name"]))
            attributes = elements[store][1].setdefault("attributes", {})
            for fact in facts:
                for key, value in fact.items():
                    if key == "data_classification":
                        value = max(value, attributes.get(key, "public"), key=LEVELS.index)
                    attributes[key] = value
    return held


def _flow(f, elements, components, zones, zone_ids, held, ctx) -> dict | None:
    name, ends = f["symbolic_name"], {}
    for end in ("source", "destination"):
        ref = f.get(end)
        if not isinstance(ref, dict) or not isinstance(ref.get("object"), str):
            ctx.fail(name, f"{end} must be {{type, object: symbolic name}}")
            continue
        obj, typ = ref["object"], ref.get("type")
        if obj not in elements and typ == "actor":
            ctx.warn(name, f"{end} actor '{obj}' is not among actors; imported as an actor")
            component = {"id": ctx.ident(obj), "label": obj, "kinds": list(ctx.mapping["actor_default"]),
                         "zone": _zone_of(_outside(zone_ids), obj, zones, zone_ids, ctx)}
            elements[obj] = ("actors", component)
            components.append(component)
        elif obj not in elements:
            ctx.fail(name, f"{end} '{obj}' is no actor, component or data store of this model")
            continue
        elif elements[obj][0] != ELEMENTS.get(typ):
            ctx.warn(name, f"{end} '{obj}' is declared among {elements[obj][0]}, not as a {typ}; "
                           "taken as it is declared")
        ends[end] = obj
    if len(ends) < 2:
        return None
    flow = {"id": ctx.ident(name), "label": str(f.get("title") or name),
            "source": elements[ends["source"]][1]["id"], "target": elements[ends["destination"]][1]["id"]}
    if f.get("encrypted") is True:
        flow["protocol"] = ctx.mapping["encrypted_protocol"]
    if data := list(dict.fromkeys(d for end in ends.values() for d in held.get(end, []))):
        flow["data"] = data
    if f.get("description"):
        flow["description"] = str(f["description"])
    return flow


def _outside(zone_ids) -> str:
    """The trust zone of an undeclared actor: a declared untrusted one (by its name), else `public`."""
    return next((z for z in zone_ids if "public" in z or "internet" in z), "public")


def _decisions(data, zone_ids, ctx) -> list:
    """A decision `mitigated` per control in place, threat it names, and CAPEC attack mechanism of
    that threat; warnings for controls not in place and threats no control in place covers."""
    m = ctx.mapping
    threats = {t["symbolic_name"]: t for t in _list(data, "threats", ctx)}
    date = _date(data.get("reviewed_at") or data.get("released_at"))
    decisions, covered = [], set()
    for c in _list(data, "controls", ctx):
        name, named = c["symbolic_name"], _seq(c, "threats", ctx)
        for missing in [t for t in named if t not in threats]:
            ctx.fail(name, f"threats: '{missing}' is no threat of this model")
        if c.get("status") not in m["implemented"]:
            ctx.warn(name, f"control '{c.get('title') or name}' is {c.get('status') or 'of no status'}, not in place: "
                           "no decision")
            continue
        boundary = c.get("trust_boundary") or {}
        scope = list(dict.fromkeys(zone_ids[z] for z in (boundary.get("trust_zone_a"), boundary.get("trust_zone_b"))
                                   if z in zone_ids))
        against = {}                                     # CAPEC id → the control's threats with it
        for t in (threats[t] for t in named if t in threats):
            capecs = [a.get("capec_id") for a in t.get("attack_mechanisms") or [] if isinstance(a, dict)]
            for capec in [c for c in capecs if not _known(c)]:
                ctx.warn(t["symbolic_name"], f"attack mechanism {capec!r} is no CAPEC entry of the installed catalogs: "
                                             "no decision about it")
            capecs = [c for c in capecs if _known(c)]
            if not capecs:
                ctx.warn(name, f"threat '{t['symbolic_name']}' names no known CAPEC attack mechanism: no decision")
            elif date is None:
                ctx.warn(name, "the model has no reviewed_at or released_at date, which a decision needs: no decision")
            else:
                covered.add(t["symbolic_name"])
                for capec in capecs:
                    against.setdefault(capec, []).append(t)
        for capec, mitigated in against.items():
            decision = {"id": ctx.ident(f"{name}-capec-{capec}"), "threat": f"CAPEC-{capec}"}
            if scope:
                decision["zones"] = scope
            decisions.append(decision | {"status": "mitigated", "justification": _justification(c, mitigated),
                                         "date": date})
    for t in threats.values():
        if t["symbolic_name"] not in covered:
            ctx.warn(t["symbolic_name"], f"threat '{t.get('title') or t['symbolic_name']}' ({_ids(t)}): no control in "
                                         "place mitigates it; its catalog threats stay open")
    return decisions


def _known(capec) -> bool:
    """Whether a capec_id names a CAPEC entry (of the installed catalogs, when some are)."""
    known = known_entries()
    return isinstance(capec, int) and (known is None or str(iri_of(f"CAPEC-{capec}")) in known)


def _ids(t) -> str:
    ids = [f"CAPEC-{a.get('capec_id')}" for a in t.get("attack_mechanisms") or [] if isinstance(a, dict)]
    ids += [f"CWE-{w.get('cwe_id')}" for w in t.get("weaknesses") or [] if isinstance(w, dict)]
    return ", ".join(ids) or "no CAPEC or CWE"


def _justification(c, threats) -> str:
    text = f"{c.get('title') or c['symbolic_name']}: {c.get('description') or ''}".strip().rstrip(":")
    against = "; ".join(f"{t.get('title') or t['symbolic_name']} ({_ids(t)})" for t in threats)
    return f"{text} (against {against})"


def _date(value) -> str | None:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    return str(value)[:10] if value else None


def _kind(value) -> str:
    """What a YAML or JSON value is, in words."""
    return next((word for t, word in ((list, "a list"), (dict, "a mapping"), (str, "text")) if isinstance(value, t)),
                type(value).__name__)
