"""draw.io / diagrams.net diagrams (`<mxfile>` with plain or compressed pages, or a bare
`<mxGraphModel>`): vertices are components, containers are zones, edges are flows. Which style
makes which kind or zone is catalogs/import/drawio.yaml, extended by THREATKG_HOME/import/drawio.yaml.
Parsed with defusedxml only (entity declarations and external references refused); a compressed
page may inflate to no more than a model file may hold."""

import html
import re
import urllib.parse
import zlib
from base64 import b64decode
from binascii import Error as Base64Error
from xml.etree.ElementTree import Element, ParseError

import yaml
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from kg.errors import InputError, Problem
from kg.model.source import MAX_BYTES
from kg.paths import home

NAME = "drawio"

_ROOT = re.compile(r"<(mxfile|mxGraphModel)[\s>/]")


def detect(data) -> bool:
    """The text of a draw.io file (its root element is mxfile or mxGraphModel)."""
    return isinstance(data, str) and _ROOT.search(data) is not None


def convert(data: str, ctx) -> dict:
    m = _mapping(ctx)
    root = _xml(data, ctx.file, None)
    pages = [root] if root.tag == "mxGraphModel" else None
    if pages is None:
        if root.tag != "mxfile":
            raise InputError(Problem(ctx.file, f"root element is <{root.tag}>: a draw.io file is <mxfile> or <mxGraphModel>"))
        pages = [_page(d, i, ctx) for i, d in enumerate(root.iter("diagram"))]
    name = root.get("name") or next((d.get("name") for d in root.iter("diagram") if d.get("name")), None)
    title = (name if name and not re.fullmatch(r"Page-\d+", name) else None) or _stem(ctx.file)
    doc = {"system": {"id": ctx.ident(title), "name": title}, "zones": [], "components": [], "flows": []}
    for n, model in enumerate(p for p in pages if p is not None):
        _convert_page(model, f"page{n + 1}:" if len(pages) > 1 else "", m, doc, ctx)
    if not doc["components"]:
        ctx.fail(None, "the diagram has no shape ThreatKG can read as a component")
    for section in ("zones", "flows"):
        if not doc[section]:
            del doc[section]
    return doc


def _stem(file: str) -> str:
    base = file.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"(\.drawio)?(\.xml)?$", "", base) or "drawio-diagram"


def _mapping(ctx) -> dict:
    """The built-in mapping with the user's own (THREATKG_HOME/import/drawio.yaml) put first."""
    m = dict(ctx.mapping)
    path = home() / "import" / "drawio.yaml"
    if not path.is_file():
        return m
    try:
        mine = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as err:
        raise InputError(Problem(str(path), f"unreadable draw.io mapping: {str(err).splitlines()[0]}")) from None
    if not isinstance(mine, dict):
        raise InputError(Problem(str(path), "a draw.io mapping is a YAML mapping (zones, shapes, zone_labels, ...)"))
    for key, value in mine.items():
        if isinstance(value, list) and isinstance(m.get(key), list):
            m[key] = value + m[key]
        elif isinstance(value, dict) and isinstance(m.get(key), dict):
            m[key] = {**m[key], **value}
        else:
            m[key] = value
    for key in ("zones", "zone_labels", "shapes"):
        for entry in m.get(key) or []:
            try:
                re.compile(entry["pattern"])
            except (re.error, TypeError, KeyError) as err:
                raise InputError(Problem(str(path), f"{key}: {entry!r}: not a pattern ({err})")) from None
    return m


def _xml(text: str, file: str, what: str | None) -> Element:
    """The root element of XML text (`what`: the page it is, None for the file itself)."""
    where = f"{what}: " if what else ""
    try:
        return SafeET.fromstring(text)
    except DefusedXmlException as err:
        raise InputError(Problem(file, f"{where}refused unsafe XML ({type(err).__name__}: entity declarations "
                                       "and external references are not read)")) from None
    except ParseError as err:
        line = None if what else err.position[0]
        raise InputError(Problem(file, f"{where}malformed XML: {err}", line=line)) from None


def _page(diagram: Element, i: int, ctx) -> Element | None:
    """A page's mxGraphModel: its child, or its compressed text (base64 of raw DEFLATE of the
    URL-encoded XML), inflated to at most MAX_BYTES."""
    where = f"diagram {diagram.get('name') or diagram.get('id') or i + 1}"
    model = diagram.find("mxGraphModel")
    if model is not None:
        return model
    if len(diagram):
        raise InputError(Problem(ctx.file, f"{where}: the page is <{diagram[0].tag}>, not <mxGraphModel>"))
    text = (diagram.text or "").strip()
    if not text:
        ctx.warn(where, "an empty page")
        return None
    try:
        inflater = zlib.decompressobj(-15)
        raw = inflater.decompress(b64decode(text, validate=True), MAX_BYTES + 1)
    except (Base64Error, ValueError, zlib.error) as err:
        raise InputError(Problem(ctx.file, f"{where}: not a compressed draw.io page ({err})")) from None
    if len(raw) > MAX_BYTES or inflater.unconsumed_tail:
        raise InputError(Problem(ctx.file, f"{where}: the compressed page inflates beyond {MAX_BYTES:,} bytes, "
                                           "the limit for a model"))
    xml = urllib.parse.unquote(raw.decode("utf-8", errors="replace"))
    if len(xml) > MAX_BYTES:
        raise InputError(Problem(ctx.file, f"{where}: the page is over {MAX_BYTES:,} bytes, the limit for a model"))
    model = _xml(xml, ctx.file, where)
    if model.tag != "mxGraphModel":
        raise InputError(Problem(ctx.file, f"{where}: the page is <{model.tag}>, not <mxGraphModel>"))
    return model


class _Cell:
    """One mxCell, with the attributes of the <object>/<UserObject> that wraps it."""

    def __init__(self, cell: Element, wrapper: Element | None):
        own = dict(wrapper.attrib) if wrapper is not None else {}
        self.id = own.pop("id", None) or cell.get("id")
        self.label = _plain(own.pop("label", None) or cell.get("value") or "")
        self.properties = {k: v for k, v in own.items() if k not in ("placeholders", "tooltip", "link")}
        self.style = cell.get("style") or ""
        self.parent, self.source, self.target = cell.get("parent"), cell.get("source"), cell.get("target")
        self.vertex, self.edge = cell.get("vertex") == "1", cell.get("edge") == "1"
        tokens = [t for t in self.style.split(";") if t]
        styles = dict(t.split("=", 1) for t in tokens if "=" in t)
        bare = [t for t in tokens if "=" not in t]
        self.shape = styles.get("shape") or (bare[0] if bare else "")
        self.bidirectional = styles.get("startArrow", "none") != "none" and styles.get("endArrow") != "none"
        geometry = cell.find("mxGeometry")
        box = [_number(geometry.get(k) if geometry is not None else None) for k in ("x", "y", "width", "height")]
        self.box = box if geometry is None or geometry.get("relative") != "1" else [0, 0, 0, 0]


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _plain(value: str) -> str:
    """A label without its HTML (draw.io labels with html=1)."""
    text = re.sub(r"<br\s*/?>|</(div|p)>", " ", value, flags=re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def _cells(model: Element, prefix: str, ctx) -> dict[str, _Cell]:
    root = model.find("root")
    if root is None:
        raise InputError(Problem(ctx.file, f"{prefix or 'the diagram'}: <mxGraphModel> has no <root>"))
    cells = {}
    for child in root:
        cell = child if child.tag == "mxCell" else child.find("mxCell")
        if cell is None:
            ctx.warn(child.get("id"), f"<{child.tag}> is not a diagram cell: not kept")
            continue
        c = _Cell(cell, None if child is cell else child)
        if not c.id:
            ctx.warn(None, "a cell without an id: not kept")
        elif c.id in cells:
            ctx.fail(f"{prefix}{c.id}", "two cells have this id")
        else:
            cells[c.id] = c
    for i in cells:
        chain = _ancestors(i, cells)
        last = cells[chain[-1]].parent if chain else cells[i].parent
        if last == i or last in chain:
            ctx.fail(f"{prefix}{i}", "its parent chain is a cycle")
            raise InputError(ctx.problems)
    return cells


def _first(entries, cell: _Cell, m: dict):
    rectangle = cell.shape in m["rectangle_shapes"] or not cell.shape
    return next((e for e in entries or [] if re.search(e["pattern"], cell.style)
                 and ("rectangle" not in e.get("shapes", []) or rectangle)), None)


def _convert_page(model: Element, prefix: str, m: dict, doc: dict, ctx):
    cells = _cells(model, prefix, ctx)
    vertices = {i: c for i, c in cells.items() if c.vertex and not re.search(m["skipped"], c.style)}
    parents = {c.parent for c in vertices.values()}
    zones = {i: _first(m["zones"], c, m) or ({"kind": None} if i in parents else None) for i, c in vertices.items()}
    zones = {i: z for i, z in zones.items() if z is not None}
    ids = {i: ctx.ident(cells[i].label, f"{prefix}{i}") for i in [*zones, *(v for v in vertices if v not in zones)]}
    origin = {i: _origin(i, cells) for i in vertices}

    def zone_of(i):
        """The nearest enclosing zone: by containment (parent), else by geometry (the smallest
        larger zone around it)."""
        if (parent := next((a for a in _ancestors(i, cells) if a in zones), None)) is not None:
            return parent
        x, y, w, h = origin[i]
        around = [z for z in zones if _inside((x, y, w, h), origin[z]) and origin[z][2] * origin[z][3] > w * h
                  and i not in _ancestors(z, cells)]
        return min(around, key=lambda z: origin[z][2] * origin[z][3], default=None)

    for i, spec in zones.items():
        cell = vertices[i]
        label = cell.label or f"zone {i}"
        by_label = next((z["kind"] for z in m["zone_labels"] if re.search(z["pattern"], label, re.I)), None)
        zone = {"id": ids[i], "label": label, "kind": by_label or spec["kind"] or m["default_zone"]["kind"]}
        if (parent := zone_of(i)) is not None:
            zone["parent"] = ids[parent]
        for key, value in cell.properties.items():
            ctx.warn(f"{prefix}{i}", f"property {key}={value!r} of a container is not kept")
        doc["zones"].append(zone)
    outside = None
    for i, cell in vertices.items():
        if i in zones:
            continue
        component = _component(cell, ids[i], f"{prefix}{i}", m, ctx)
        zone = zone_of(i)
        if zone is None:
            if outside is None:
                spec = m["default_zone"]
                outside = ctx.ident(f"{prefix}{spec['id']}")
                doc["zones"].append({"id": outside, "label": spec["label"], "kind": spec["kind"]})
            ctx.warn(f"{prefix}{i}", f"{component['label']} is in no container: put in zone {outside}")
        component["zone"] = ids[zone] if zone is not None else outside
        doc["components"].append(component)
    labels = {c.parent: c.label for c in cells.values()
              if c.vertex and c.label and c.parent in cells and cells[c.parent].edge}
    roots = {i for i, c in cells.items() if c.parent is None}
    for i, cell in cells.items():
        if cell.edge:
            if flow := _flow(cell, i, prefix, ids, zones, labels, m, ctx):
                doc["flows"].append(flow)
        elif not cell.vertex and cell.parent not in roots and i not in roots:
            ctx.warn(f"{prefix}{i}", "a cell that is neither a shape nor an edge: not kept")
        elif cell.vertex and i not in vertices and cell.label and not cells.get(cell.parent, cell).edge:
            ctx.warn(f"{prefix}{i}", f"text '{cell.label[:60]}' is an annotation: not kept")


def _ancestors(i: str, cells: dict) -> list[str]:
    """The cells that hold cell i, nearest first (a parent cycle ends the walk; _cells reports it)."""
    found, parent = [], cells[i].parent
    while parent in cells and parent not in found and parent != i:
        found.append(parent)
        parent = cells[parent].parent
    return found


def _origin(i: str, cells: dict) -> tuple:
    """A cell's box in page coordinates (geometry is relative to the parent's)."""
    x, y, w, h = cells[i].box
    for parent in _ancestors(i, cells):
        if not cells[parent].vertex:
            break
        x, y = x + cells[parent].box[0], y + cells[parent].box[1]
    return x, y, w, h


def _inside(inner, outer) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ow > 0 and oh > 0 and ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _component(cell: _Cell, eid: str, where: str, m: dict, ctx) -> dict:
    spec = _first(m["shapes"], cell, m)
    if spec is None:
        ctx.warn(where, f"shape '{cell.shape}' has no ThreatKG kind (catalogs/import/drawio.yaml or "
                        "THREATKG_HOME/import/drawio.yaml): kept as a process")
        spec = {"kinds": ["process"]}
    label = cell.label or spec.get("label") or cell.shape or cell.id
    component = {"id": eid, "label": label, "kinds": list(spec["kinds"])}
    attrs = {k: spec[k] for k in ("technology", "stores_credentials", "stores_personal_data") if k in spec}
    for key, value in cell.properties.items():
        target = m["properties"].get(key)
        if target == "kinds":
            component["kinds"] = [k.strip() for k in value.split(",") if k.strip()]
        elif target and target != "protocol":
            attrs[target] = value.lower() in ("1", "true", "yes") if target in _BOOLEANS else value
        else:
            ctx.warn(where, f"property {key}={value!r} is not kept")
    if attrs:
        component["attributes"] = attrs
    return component


_BOOLEANS = {"internet_facing", "stores_credentials", "stores_personal_data", "processes_untrusted_input"}


def _flow(cell: _Cell, i: str, prefix: str, ids: dict, zones: dict, labels: dict, m: dict, ctx) -> dict | None:
    where = f"{prefix}{i}"
    ends = {}
    for end in ("source", "target"):
        ref = getattr(cell, end)
        if ref is None:
            ctx.warn(where, f"edge without a {end}: not kept as a flow (connect both ends in draw.io)")
            return None
        if ref not in ids:
            ctx.warn(where, f"edge {end} '{ref}' is no shape of the diagram: not kept as a flow")
            return None
        if ref in zones:
            ctx.warn(where, f"edge {end} is the container '{ref}', not a component: not kept as a flow")
            return None
        ends[end] = ids[ref]
    label = cell.label or labels.get(i, "")
    named = label if label and len(label) < 40 else f"{ends['source']}-to-{ends['target']}"
    flow = {"id": ctx.ident(named, f"{prefix}{i}"), **ends}
    if label:
        flow["label"] = label
    if cell.bidirectional:
        flow["bidirectional"] = True
    if protocol := cell.properties.get("protocol"):
        flow["protocol"] = protocol.lower()
    for key, value in cell.properties.items():
        if key != "protocol":
            ctx.warn(where, f"property {key}={value!r} is not kept")
    return flow
