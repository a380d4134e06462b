"""Threagile models (threagile.yaml, v1): technical assets, trust boundaries, communication links,
data assets and risk tracking, with `includes:` followed inside the file's folder. What maps to
what is catalogs/import/threagile.yaml."""

import datetime
import re
from pathlib import Path

from kg.catalogs.entries import known_entries
from kg.errors import InputError
from kg.ids import iri_of
from kg.model.source import MAX_BYTES, load_yaml, read_text

NAME = "threagile"

MAX_INCLUDE_DEPTH = 5
MAX_INCLUDED_FILES = 50
UNHELD = ("shared_runtimes", "individual_risk_categories", "abuse_cases", "security_requirements", "questions")
HELD = {   # the fields read, by section; any other field with a value is said in one warning per section
    "technical_assets": {"id", "type", "technology", "technologies", "tags", "internet", "confidentiality", "integrity",
                         "out_of_scope", "justification_out_of_scope", "data_assets_processed", "data_assets_stored",
                         "data_formats_accepted", "communication_links", "description", "owner"},
    "communication_links": {"target", "protocol", "authentication", "authorization", "data_assets_sent",
                            "data_assets_received", "description"},
}
LEVELS = ["public", "internal", "confidential", "restricted"]


def detect(data) -> bool:
    return isinstance(data, dict) and ("threagile_version" in data or isinstance(data.get("technical_assets"), dict))


def convert(data, ctx) -> dict:
    if not isinstance(data, dict):
        ctx.fail(None, "not a Threagile model: a Threagile model is a YAML mapping")
        return {}
    data = _with_includes(data, ctx, Path(ctx.file), [Path(ctx.file).resolve()], {"files": 0, "bytes": 0})
    m = ctx.mapping
    assets = _keyed(data, "technical_assets", ctx)
    if not assets and not ctx.problems:
        ctx.fail("technical_assets", "not a Threagile model: it has no technical assets")
    data_assets = {a["id"]: (title, a) for title, a in _keyed(data, "data_assets", ctx).items()
                   if _has_id(a, title, "data asset", ctx)}
    boundaries = _keyed(data, "trust_boundaries", ctx)
    ids = {a["id"]: ctx.ident(a["id"], title) for title, a in assets.items()
           if _has_id(a, title, "technical asset", ctx)}
    zone_ids = {b["id"]: ctx.ident(b["id"], title) for title, b in boundaries.items()
                if _has_id(b, title, "trust boundary", ctx)}
    title = data.get("title") or "Threagile model"
    system = {"id": ctx.ident(_kebab(title)), "name": str(title)}
    if description := (data.get("business_overview") or {}).get("description"):
        system["description"] = str(description).strip()
    zones, zone_of = _zones(boundaries, zone_ids, ids, ctx)
    if outside := [a for a in ids if a not in zone_of]:
        zone = dict(m["outside_zone"], id=ctx.ident(m["outside_zone"]["id"]))
        zones.append(zone)
        zone_of |= dict.fromkeys(outside, zone["id"])
    components = [_component(t, a, ids, zone_of, data_assets, ctx) for t, a in assets.items() if a.get("id") in ids]
    flows, controls, link_ids = _flows(assets, ids, data_assets, ctx)
    doc = {"system": system, "zones": zones, "components": components, "flows": flows}
    if controls:
        doc["controls"] = controls
    if decisions := _decisions(_keyed(data, "risk_tracking", ctx), ids, link_ids, zone_ids, ctx):
        doc["decisions"] = decisions
    links = [link for a in assets.values() if isinstance(a.get("communication_links"), dict)
             for link in a["communication_links"].values() if isinstance(link, dict)]
    for section, entries in (("technical_assets", assets.values()), ("communication_links", links)):
        ctx.unheld(section, entries, HELD[section])
    ctx.unheld_sections(data, UNHELD)
    return doc


# ------------------------------------------------------------ includes
def _with_includes(data, ctx, path: Path, chain: list[Path], read: dict):
    """The document with the files of its `includes:` merged in (maps by key, lists appended, the
    including file's scalars kept), each a file inside the source file's folder; `read`: the files
    and bytes included so far (together at most MAX_INCLUDED_FILES and a model's MAX_BYTES)."""
    includes = data.pop("includes", None) if isinstance(data, dict) else None
    if not includes:
        return data
    if ctx.folder is None:
        ctx.fail("includes", "a model read from no file (an upload, a stored version) includes nothing")
        return data
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        ctx.fail("includes", "must be a list of file names")
        return data
    if len(chain) > MAX_INCLUDE_DEPTH:
        ctx.fail("includes", f"{path.name}: includes nest deeper than {MAX_INCLUDE_DEPTH} files")
        return data
    for name in includes:
        target = _include_path(name, path, ctx)
        if target is None:
            continue
        if target in chain:
            ctx.fail("includes", f"{name}: include cycle ({' → '.join(p.name for p in [*chain, target])})")
            continue
        read["files"] += 1
        if read["files"] > MAX_INCLUDED_FILES:
            ctx.fail("includes", f"more than {MAX_INCLUDED_FILES} included files")
            return data
        try:
            text = read_text(target)
            read["bytes"] += len(text)
            if read["bytes"] > MAX_BYTES:
                ctx.fail("includes", f"{name}: the included files are over {MAX_BYTES:,} bytes together, "
                                     "the limit for a model")
                return data
            included = load_yaml(text, str(target))
        except InputError as err:
            ctx.problems.extend(err.problems)
            continue
        if not isinstance(included, dict):
            ctx.fail("includes", f"{name}: an included file is a Threagile YAML mapping")
            continue
        _merge(data, _with_includes(included, ctx, target, [*chain, target], read), name, ctx)
    return data


def _include_path(name: str, including: Path, ctx) -> Path | None:
    """The included file, or None (a problem) when it would be outside the source file's folder."""
    if Path(name).is_absolute():
        ctx.fail("includes", f"{name}: an absolute path; includes are files inside {ctx.folder}")
        return None
    target = (including.parent / name).resolve()      # resolves symbolic links too
    if not target.is_relative_to(ctx.folder):
        ctx.fail("includes", f"{name}: outside the source file's folder {ctx.folder} (via '..' or a symbolic "
                             "link); includes are files inside it")
        return None
    return target


def _merge(into: dict, extra: dict, name: str, ctx):
    for key, value in extra.items():
        if key not in into or into[key] is None:
            into[key] = value
        elif isinstance(into[key], dict) and isinstance(value, dict):
            for title in value.keys() & into[key].keys():
                ctx.fail(f"{key}.{title}", f"defined both in {name} and in the file that includes it")
            into[key] = {**into[key], **value}
        elif isinstance(into[key], list) and isinstance(value, list):
            into[key] = [*into[key], *value]


# ------------------------------------------------------------ elements
def _keyed(data, section, ctx) -> dict:
    value = data.get(section)
    if value is None:
        return {}
    if not isinstance(value, dict):
        ctx.fail(section, f"must be a mapping of title → entry, found {_kind(value)}")
        return {}
    for title, entry in value.items():
        if not isinstance(entry, dict):
            ctx.fail(f"{section}.{title}", f"must be a mapping, found {_kind(entry)}")
    return {t: e for t, e in value.items() if isinstance(e, dict)}


def _has_id(entry, title, what, ctx) -> bool:
    if isinstance(entry.get("id"), str) and entry["id"]:
        return True
    ctx.fail(str(title), f"{what} has no id")
    return False


def _refs(entry, key, known, where, what, ctx) -> list:
    """The ids listed under `key`, each one of `known` (else a problem naming it)."""
    value = entry.get(key) or []
    if not isinstance(value, list):
        ctx.fail(where, f"{key} must be a list of ids")
        return []
    missing = [v for v in value if v not in known]
    for ref in missing:
        ctx.fail(where, f"{key}: '{ref}' is no {what} of this model")
    return [v for v in value if v in known]


def _zones(boundaries, zone_ids, ids, ctx):
    """Zones (boundaries, nested by trust_boundaries_nested) and each asset's zone (its innermost boundary)."""
    m = ctx.mapping
    parent, zone_of, zones = {}, {}, []
    for title, b in boundaries.items():
        if b.get("id") not in zone_ids:
            continue
        for child in _refs(b, "trust_boundaries_nested", zone_ids, title, "trust boundary", ctx):
            if child in parent:
                ctx.fail(title, f"trust_boundaries_nested: '{child}' is nested in '{parent[child]}' too")
            parent[child] = b["id"]
    for bid in zone_ids:                                  # a boundary nested in itself, at any depth
        seen, at = [bid], parent.get(bid)
        while at is not None and at not in seen:
            seen, at = [*seen, at], parent.get(at)
        if at == bid:
            ctx.fail(bid, f"trust boundaries nest in a cycle: {' in '.join([*seen, bid])}")
            return [], {}
    depth = {bid: _depth(bid, parent) for bid in zone_ids}
    for title, b in boundaries.items():
        if b.get("id") not in zone_ids:
            continue
        zone = {"id": zone_ids[b["id"]], "label": str(title), "kind": _zone_kind(title, b, m, ctx)}
        if b["id"] in parent:
            zone["parent"] = zone_ids[parent[b["id"]]]
        if b.get("description"):
            zone["description"] = str(b["description"])
        zones.append(zone)
        for asset in _refs(b, "technical_assets_inside", ids, title, "technical asset", ctx):
            if asset in zone_of and depth[zone_of[asset]] == depth[b["id"]]:
                ctx.warn(asset, f"inside both trust boundaries '{zone_of[asset]}' and '{b['id']}'; "
                                f"a ThreatKG component is in one zone: '{zone_of[asset]}'")
            elif asset not in zone_of or depth[b["id"]] > depth[zone_of[asset]]:
                zone_of[asset] = b["id"]
    return zones, {asset: zone_ids[bid] for asset, bid in zone_of.items()}


def _depth(bid, parent) -> int:
    n = 0
    while bid in parent:
        bid, n = parent[bid], n + 1
    return n


def _zone_kind(title, b, m, ctx) -> str:
    words = set(re.split(r"[^a-z0-9]+", f"{b['id']} {title}".lower()))
    if hint := next((kind for word, kind in m["zone_hints"].items() if word in words), None):
        return hint
    if b.get("type") not in m["zone_kinds"]:
        ctx.warn(b["id"], f"trust boundary type '{b.get('type')}' maps to no zone kind; taken as internal")
    return m["zone_kinds"].get(b.get("type"), "internal")


def _component(title, a, ids, zone_of, data_assets, ctx) -> dict:
    m = ctx.mapping
    techs = a.get("technologies") if isinstance(a.get("technologies"), list) else [a.get("technology")]
    mapped = [m["technologies"][t] for t in techs if t in m["technologies"]]
    for tech in (t for t in techs if t not in m["technologies"]):
        ctx.warn(a["id"], f"technology '{tech}' maps to no ThreatKG kind; taken as its type '{a.get('type')}'")
    if a.get("type") not in m["types"]:
        ctx.fail(a["id"], f"type '{a.get('type')}' is none of {', '.join(m['types'])}")
    kinds = [k for facts in mapped for k in facts.get("kinds") or []] or [m["types"].get(a.get("type"), "process")]
    component = {"id": ids[a["id"]], "label": str(title), "kinds": list(dict.fromkeys(kinds)),
                 "zone": zone_of[a["id"]]}
    if a.get("description"):
        component["description"] = str(a["description"])
    attributes = {k: v for facts in mapped for k, v in (facts.get("attributes") or {}).items()}
    technology = [*(t for facts in mapped for t in facts.get("technology") or []),
                  *(m["tags"][t] for t in a.get("tags") or [] if t in m["tags"])]
    if technology:
        attributes["technology"] = list(dict.fromkeys(technology))
    if a.get("internet") is True:
        attributes["internet_facing"] = True
    if a.get("owner"):
        attributes["owner"] = str(a["owner"])
    formats = a.get("data_formats_accepted") or []
    if does := list(dict.fromkeys(c for f in formats if isinstance(f, str) for c in m["data_formats"].get(f, []))):
        component["does"] = does
    if level := _classification(a, data_assets, ctx):
        attributes["data_classification"] = level
    if attributes:
        component["attributes"] = attributes
    if a.get("out_of_scope"):
        why = a.get("justification_out_of_scope")
        ctx.warn(a["id"], "out of scope" + (f" ({why})" if why else "") +
                 ": ThreatKG has no out-of-scope elements; imported, its threats are listed")
    return component


def _classification(a, data_assets, ctx) -> str | None:
    """The highest of the asset's confidentiality and integrity and of the data assets it stores or processes."""
    m = ctx.mapping
    levels = [m["confidentiality"].get(a.get("confidentiality")), m["integrity"].get(a.get("integrity"))]
    for key in ("data_assets_stored", "data_assets_processed"):
        for ref in _refs(a, key, data_assets, a["id"], "data asset", ctx):
            levels.append(m["confidentiality"].get(data_assets[ref][1].get("confidentiality")))
    return max((lv for lv in levels if lv), key=LEVELS.index, default=None)


def _flows(assets, ids, data_assets, ctx):
    """A flow per communication link, a control per authentication and authorization they use, and
    the flow id of each Threagile link id (`asset>link-title`, as risk ids name links)."""
    m, flows, guarded, link_ids = ctx.mapping, [], {}, {}
    for a in (a for a in assets.values() if a.get("id") in ids):
        links = a.get("communication_links") or {}
        if not isinstance(links, dict):
            ctx.fail(a["id"], "communication_links must be a mapping of title → link")
            continue
        for title, link in links.items():
            where = f"{a['id']}>{title}"
            if not isinstance(link, dict):
                ctx.fail(where, "a communication link is a mapping")
                continue
            if link.get("target") not in ids:
                ctx.fail(where, f"target '{link.get('target')}' is no technical asset of this model")
                continue
            flow = {"id": ctx.ident(f"{a['id']}-{_kebab(title)}"), "label": str(title),
                    "source": ids[a["id"]], "target": ids[link["target"]]}
            if (protocol := m["protocols"].get(link.get("protocol"))) is not None:
                flow["protocol"] = protocol
            elif link.get("protocol") not in (None, "unknown-protocol"):
                ctx.warn(where, f"protocol '{link['protocol']}' maps to no ThreatKG protocol token; left out")
            sent = _refs(link, "data_assets_sent", data_assets, where, "data asset", ctx)
            received = _refs(link, "data_assets_received", data_assets, where, "data asset", ctx)
            if labels := [str(data_assets[d][0]) for d in dict.fromkeys([*sent, *received])]:
                flow["data"] = labels
            if received:
                flow["bidirectional"] = True
            if link.get("description"):
                flow["description"] = str(link["description"])
            for key in ("authentication", "authorization"):
                value = link.get(key)
                if value in m[key]:
                    guarded.setdefault((key, value), []).append(flow["id"])
                elif value not in (None, "none"):
                    ctx.warn(where, f"{key} '{value}' maps to no ThreatKG control; left out")
            link_ids[f"{a['id']}>{_kebab(title)}"] = flow["id"]
            flows.append(flow)
    controls = [{"id": ctx.ident(f"{key}-{value}"), "label": f"{key.capitalize()}: {value} (Threagile)",
                 "kind": m[key][value]["kind"], "protects": flow_ids, "mitigates": list(m[key][value]["mitigates"])}
                for (key, value), flow_ids in guarded.items()]
    return flows, controls, link_ids


def _kebab(title) -> str:
    return "-".join(str(title).lower().replace("_", "-").split())


# ------------------------------------------------------------ risk tracking
def _decisions(tracking, ids, link_ids, zone_ids, ctx) -> list:
    """A decision per tracked risk whose category maps to a threat: the risk id's assets and links
    are its elements, its trust boundaries its zones (`*` or none of them: every element)."""
    m, decisions = ctx.mapping, []
    for key, entry in tracking.items():
        key = str(key)
        category, *parts = key.split("@")
        if not isinstance(entry, dict):
            ctx.fail(f"risk_tracking.{key}", "must be a mapping")
            continue
        text = f"'{entry.get('justification') or ''}'"
        threat = m["risk_categories"].get(category)
        kinds = threat.get("kinds") if isinstance(threat, dict) else None
        threat = threat.get("threat") if isinstance(threat, dict) else threat
        status = m["statuses"].get(entry.get("status"))
        if threat is None:
            ctx.warn(key, f"risk category '{category}' maps to no ThreatKG threat; not a decision: {text}")
            continue
        if (known := known_entries()) is not None and str(iri_of(threat)) not in known:
            ctx.warn(key, f"'{threat}' (of risk category '{category}') is no entry of the installed catalogs; "
                          f"not a decision: {text}")
            continue
        if status is None:
            ctx.warn(key, f"status '{entry.get('status')}' is no ThreatKG decision status; not a decision: {text}")
            continue
        if not entry.get("justification") or not entry.get("date"):
            ctx.warn(key, f"a decision needs a justification and a date; not a decision: {text}")
            continue
        named = [p for p in parts if p != "*"]
        if unknown := [p for p in named if p not in ids and p not in link_ids and p not in zone_ids]:
            ctx.warn(key, f"names {', '.join(unknown)}, no technical asset, link or trust boundary of this model; "
                          f"not a decision: {text}")
            continue
        decision = {"id": ctx.ident(f"risk-{key.replace('*', 'all')}"), "threat": threat}
        if elements := [ids.get(p) or link_ids[p] for p in named if p not in zone_ids]:
            decision["elements"] = list(dict.fromkeys(elements))
        if zones := [zone_ids[p] for p in named if p in zone_ids]:
            decision["zones"] = list(dict.fromkeys(zones))
        if kinds and not elements:
            decision["kinds"] = list(kinds)
        decision |= {"status": status, "justification": _justification(entry), "date": _date(entry["date"])}
        if entry.get("checked_by"):
            decision["owner"] = str(entry["checked_by"])
        if str(entry.get("ticket") or "").startswith(("http://", "https://")):
            decision["ticket"] = str(entry["ticket"])
        decisions.append(decision)
    return decisions


def _justification(entry) -> str:
    text = str(entry["justification"]).strip()
    ticket = entry.get("ticket")
    return f"{text} (ticket {ticket})" if ticket and not str(ticket).startswith(("http://", "https://")) else text


def _date(value) -> str:
    return value.isoformat()[:10] if isinstance(value, (datetime.date, datetime.datetime)) else str(value)


def _kind(value) -> str:
    """What a YAML or JSON value is, in words."""
    return next((word for t, word in ((list, "a list"), (dict, "a mapping"), (str, "text")) if isinstance(value, t)),
                type(value).__name__)
