"""The data-flow diagram of a model as one self-contained SVG: trust zones as nested boxes ordered by
trust, components in classic DFD shapes, flows as arrows, and the boundary crossings the reasoning
pipeline inferred drawn in red with a marker where they leave one zone for another.

    render_svg(analysis, href=None, highlight=None) -> str

Everything is read from the analysis store (kg/queries/diagram-*.rq); the layout is deterministic
pure Python. Every model text is XML-escaped; the SVG references nothing outside itself.
"""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from itertools import pairwise

from rdflib import URIRef

# ---------------------------------------------------------------- geometry and sizes (px)
FONT, SMALL = 12, 10
CHAR, SMALL_CHAR, BOLD_CHAR = 6.6, 5.5, 7.0     # average glyph widths of the sans-serif font
LABEL_CHARS, LABEL_LINES = 22, 2
ZONE_LABEL_CHARS = 40
PAD, HEADER = 16, 34                            # zone padding and title band
GAP_X, GAP_Y, ZONE_GAP, MARGIN = 64, 40, 48, 20
LABEL_H = 14

RED, INK, MUTED, HIGHLIGHT = "#c0392b", "#333333", "#666666", "#e67e22"
ZONE_COLOURS = {  # (fill, stroke) by zone kind, then by trust rank
    "untrusted": ("#fdecea", "#d98880"), "dmz": ("#fef5e7", "#e0a84f"), "internal": ("#eaf2fb", "#7fa7d4"),
    "restricted": ("#f3ecf8", "#a989c5"), "development": ("#eaf7ee", "#7dbb91"),
}
RANK_COLOURS = {0: ZONE_COLOURS["untrusted"], 1: ZONE_COLOURS["dmz"]}
DEFAULT_ZONE = ("#f2f4f6", "#9aa5b1")
SHAPE_NAMES = {"external": "external entity", "process": "process", "store": "data store", "component": "component"}


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def inflate(self, d: float) -> "Box":
        return Box(self.x - d, self.y - d, self.w + 2 * d, self.h + 2 * d)

    def overlaps(self, other: "Box") -> bool:
        return (self.x < other.x + other.w and other.x < self.x + self.w
                and self.y < other.y + other.h and other.y < self.y + self.h)


# ---------------------------------------------------------------- the model, as the diagram needs it
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


# ---------------------------------------------------------------- text
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _esc(value) -> str:
    """Text safe in XML content and in double-quoted attributes."""
    return escape(_NOT_XML.sub("\ufffd", str(value)), quote=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:max(1, limit - 1)].rstrip() + "…"


def wrap(text: str, width: int = LABEL_CHARS, lines: int = LABEL_LINES) -> list[str]:
    """Greedy word wrap to at most `lines` lines of `width` characters; the last is cut with '…'."""
    words = [w[i:i + width] for w in text.split() for i in range(0, len(w), width)] or [""]
    out = [words[0]]
    for word in words[1:]:
        if len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = _clip(out[-1] + "…", width)
    return out


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _tag(name: str, attrs: dict, content: str | None = None) -> str:
    rendered = "".join(f' {k}="{_num(v) if isinstance(v, float) else _esc(v)}"'
                       for k, v in attrs.items() if v is not None)
    return f"<{name}{rendered}/>" if content is None else f"<{name}{rendered}>{content}</{name}>"


class _Ids:
    """Unique id attributes made of safe characters only."""

    def __init__(self):
        self.used: set[str] = set()

    def __call__(self, prefix: str, ident: str) -> str:
        base = f"dfd-{prefix}-" + re.sub(r"[^A-Za-z0-9_-]", "_", ident)[:60]
        token, n = base, 1
        while token in self.used:
            n += 1
            token = f"{base}-{n}"
        self.used.add(token)
        return token


# ---------------------------------------------------------------- layout
@dataclass
class Cell:
    w: float
    h: float


def _cell(components: list[Component]) -> Cell:
    """One size for every component box, large enough for the longest (wrapped) label."""
    longest = max([len(line) for c in components for line in wrap(c.label)] + [8])
    lines = max([len(wrap(c.label)) for c in components] + [1])
    return Cell(max(120.0, longest * CHAR + 24), 16 + lines * 15 + 14)


def _grid(n: int) -> tuple[int, int]:
    """Rows and columns for n components: columns filled top to bottom, taller than wide."""
    rows = min(n, math.ceil(math.sqrt(4 * n)))
    return rows, math.ceil(n / rows) if rows else 0


def _grid_size(n: int, cell: Cell) -> tuple[float, float]:
    rows, cols = _grid(n)
    if not n:
        return 0, 0
    return cols * cell.w + (cols - 1) * GAP_X, rows * cell.h + (rows - 1) * GAP_Y


def _frame(zone: Zone) -> tuple[float, float]:
    """Padding and title band of a zone (the diagram's root has none)."""
    return (PAD, HEADER) if zone.id is not None else (0, 0)


def _header_width(zone: Zone) -> float:
    if zone.id is None:
        return 0
    return len(_clip(zone.label, ZONE_LABEL_CHARS)) * BOLD_CHAR + len(zone.kind_label) * SMALL_CHAR + 32


@dataclass
class Tracks:
    """Column widths and row heights of a zone's child zones (the root's: one row)."""
    cols: int
    widths: list[float]
    heights: list[float]

    @property
    def size(self) -> tuple[float, float]:
        if not self.widths:
            return 0, 0
        return (sum(self.widths) + ZONE_GAP * (len(self.widths) - 1),
                sum(self.heights) + ZONE_GAP * (len(self.heights) - 1))


def _tracks(zone: Zone) -> Tracks:
    k = len(zone.children)
    cols = k if zone.id is None else math.ceil(math.sqrt(k))
    if not k:
        return Tracks(0, [], [])
    cells = [(i // cols, i % cols, child.size) for i, child in enumerate(zone.children)]
    return Tracks(cols, [max(w for _, c, (w, _) in cells if c == col) for col in range(cols)],
                  [max(h for r, _, (_, h) in cells if r == row) for row in range(math.ceil(k / cols))])


def _content(zone: Zone, cell: Cell) -> tuple[tuple[float, float], Tracks, float]:
    """Size of the components' grid, the child zones' tracks, and the content width."""
    grid, tracks = _grid_size(len(zone.components), cell), _tracks(zone)
    kids_w = tracks.size[0]
    return grid, tracks, grid[0] + kids_w + (ZONE_GAP if grid[0] and kids_w else 0)


def measure(zone: Zone, cell: Cell) -> tuple[float, float]:
    """Natural size of a zone: its components' grid, then its child zones in a grid (the root:
    the top-level zones in one row)."""
    for child in zone.children:
        measure(child, cell)
    (_, grid_h), tracks, content_w = _content(zone, cell)
    pad, header = _frame(zone)
    zone.size = (max(content_w, _header_width(zone)) + 2 * pad, header + max(grid_h, tracks.size[1]) + pad)
    return zone.size


def _spread(sizes: list[float], extra: float) -> list[float]:
    return [s + extra / len(sizes) for s in sizes] if sizes else sizes


def place(zone: Zone, box: Box, cell: Cell) -> None:
    """Position a zone in `box` (at least its natural size), its components and its children."""
    zone.box = box
    pad, header = _frame(zone)
    (grid_w, grid_h), tracks, content_w = _content(zone, cell)
    top, inner_h = box.y + header, box.h - header - pad
    left = box.x + pad + (0 if tracks.widths else (box.w - 2 * pad - content_w) / 2)
    rows, _ = _grid(len(zone.components))
    for i, component in enumerate(zone.components):
        col, row = divmod(i, rows)
        component.box = Box(left + col * (cell.w + GAP_X),
                            top + (inner_h - grid_h) / 2 + row * (cell.h + GAP_Y), cell.w, cell.h)
    left += grid_w + (ZONE_GAP if grid_w and tracks.widths else 0)
    kids_w, kids_h = tracks.size
    widths = _spread(tracks.widths, box.x + box.w - pad - left - kids_w)
    heights = _spread(tracks.heights, inner_h - kids_h)
    for i, child in enumerate(zone.children):
        row, col = divmod(i, tracks.cols)
        place(child, Box(left + sum(widths[:col]) + col * ZONE_GAP, top + sum(heights[:row]) + row * ZONE_GAP,
                         widths[col], heights[row]), cell)


def layout(diagram: Diagram) -> Box:
    """Lay the whole diagram out; returns the bounding box of the zones and components."""
    cell = _cell(list(diagram.components.values()))
    w, h = measure(diagram.root, cell)
    place(diagram.root, Box(MARGIN, MARGIN, w, h), cell)
    return diagram.root.box


# ---------------------------------------------------------------- flow geometry
Point = tuple[float, float]
SAMPLES = 24
BENDS = (0, 45, -45, 90, -90, 150, -150, 230, -230)


def _border_point(box: Box, towards: Point, gap: float = 3) -> Point:
    """Where the ray from the box's centre to `towards` leaves the box (plus a small gap)."""
    (cx, cy), (tx, ty) = box.centre, towards
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    t = min(((box.w / 2 + gap) / abs(dx)) if dx else math.inf, ((box.h / 2 + gap) / abs(dy)) if dy else math.inf)
    return cx + dx * t, cy + dy * t


def _inside(p: Point, box: Box) -> bool:
    return box.x <= p[0] <= box.x + box.w and box.y <= p[1] <= box.y + box.h


def _segment_hits(p: Point, q: Point, box: Box) -> bool:
    """Whether the segment p–q meets the box (Liang–Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi in ((dx, box.x - p[0], box.x + box.w - p[0]), (dy, box.y - p[1], box.y + box.h - p[1])):
        if d == 0:
            if lo > 0 or hi < 0:
                return False
            continue
        a, b = sorted((lo / d, hi / d))
        t0, t1 = max(t0, a), min(t1, b)
        if t0 > t1:
            return False
    return True


def _exit(points: list[Point], box: Box) -> Point | None:
    """Where a polyline that starts inside the box first leaves it."""
    for p, q in pairwise(points):
        if _inside(p, box) and not _inside(q, box):
            dx, dy = q[0] - p[0], q[1] - p[1]
            ts = [(bound - p[0]) / dx for bound in (box.x, box.x + box.w) if dx and (bound - p[0]) / dx >= 0]
            ts += [(bound - p[1]) / dy for bound in (box.y, box.y + box.h) if dy and (bound - p[1]) / dy >= 0]
            t = min(ts)
            return p[0] + dx * t, p[1] + dy * t
    return None


def _ancestors(zones: dict[str, Zone], zone_id: str | None) -> list[str]:
    chain = []
    while zone_id in zones and zone_id not in chain:
        chain.append(zone_id)
        zone_id = zones[zone_id].parent
    return chain


def crossing_point(diagram: Diagram, points: list[Point], from_zone: str, to_zone: str) -> Point:
    """Where the flow drawn along `points` passes from the region of `from_zone` to that of `to_zone`:
    in the gap between the two sibling zones just below their common ancestor, or where it leaves
    the first when other zones lie between them."""
    up, down = _ancestors(diagram.zones, from_zone), _ancestors(diagram.zones, to_zone)
    outer = next((z for z in reversed(up) if z not in down), None)   # a child of the common ancestor
    inner = next((z for z in reversed(down) if z not in up), None)
    leave = _exit(points, diagram.zones[outer].box) if outer else None
    enter = _exit(points[::-1], diagram.zones[inner].box) if inner else None
    if leave and enter:
        near = math.dist(leave, enter) <= ZONE_GAP * 1.5
        return ((leave[0] + enter[0]) / 2, (leave[1] + enter[1]) / 2) if near else leave
    return leave or enter or points[len(points) // 2]


def _parallel_offsets(flows: list[Flow]) -> dict[str, float]:
    """Flows between the same two components bow apart, 16 px from each other."""
    groups: dict[tuple, list[Flow]] = {}
    for flow in flows:
        groups.setdefault(tuple(sorted((flow.source, flow.target))), []).append(flow)
    return {f.id: (i - (len(group) - 1) / 2) * 16 for group in groups.values() for i, f in enumerate(group)}


@dataclass
class Route:
    d: str                          # SVG path data
    points: list[Point]             # the path sampled, source end first


def _quadratic(p0: Point, c: Point, p1: Point) -> list[Point]:
    return [((1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * c[0] + t * t * p1[0],
             (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * c[1] + t * t * p1[1])
            for t in (i / SAMPLES for i in range(SAMPLES + 1))]


def _bent(a: Box, b: Box, bend: float) -> Route:
    """A path from box a to box b whose middle is `bend` px off the straight line (sign: side)."""
    (ax, ay), (bx, by) = a.centre, b.centre
    length = math.hypot(bx - ax, by - ay) or 1
    control = ((ax + bx) / 2 - (by - ay) / length * 2 * bend, (ay + by) / 2 + (bx - ax) / length * 2 * bend)
    p0, p1 = _border_point(a, control), _border_point(b, control)
    if not bend:
        return Route(f"M{_num(p0[0])},{_num(p0[1])} L{_num(p1[0])},{_num(p1[1])}", _quadratic(p0, p0, p1))
    return Route(f"M{_num(p0[0])},{_num(p0[1])} Q{_num(control[0])},{_num(control[1])} {_num(p1[0])},{_num(p1[1])}",
                 _quadratic(p0, control, p1))


def _loop(a: Box) -> Route:
    """A flow from a component to itself: a loop off its right side."""
    p0, p1 = (a.x + a.w - 24, a.y - 3), (a.x + a.w + 3, a.y + a.h / 2)
    c = (a.x + a.w + 36, a.y - 36)
    return Route(f"M{_num(p0[0])},{_num(p0[1])} Q{_num(c[0])},{_num(c[1])} {_num(p1[0])},{_num(p1[1])}",
                 _quadratic(p0, c, p1))


def _blocked(points: list[Point], obstacles: list[Box]) -> bool:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span = Box(min(xs) - 1, min(ys) - 1, max(xs) - min(xs) + 2, max(ys) - min(ys) + 2)
    near = [o for o in obstacles if o.overlaps(span)]
    return any(_segment_hits(p, q, o) for o in near for p, q in pairwise(points))


def route(diagram: Diagram, flow: Flow, offset: float, obstacles: dict[str, Box]) -> Route:
    """The path of a flow: straight when nothing is in the way, else bowed around other components
    (`obstacles`: the component boxes, slightly enlarged, by component id)."""
    a, b = diagram.components[flow.source].box, diagram.components[flow.target].box
    if flow.source == flow.target:
        return _loop(a)
    sign = 1 if (flow.source, flow.target) == tuple(sorted((flow.source, flow.target))) else -1
    others = [o for ident, o in obstacles.items() if ident not in (flow.source, flow.target)]
    first = None
    for bend in BENDS:
        candidate = _bent(a, b, sign * (offset + bend) if offset else bend)
        if not _blocked(candidate.points, others):
            return candidate
        first = first or candidate
    return first


def _label_box(points: list[Point], t: float, side: int, text: str) -> Box:
    """The label's box beside the flow at t (0 source … 1 target), on one side of it (0: on it)."""
    i = round(t * (len(points) - 1))
    (x, y), (px, py), (qx, qy) = points[i], points[max(i - 1, 0)], points[min(i + 1, len(points) - 1)]
    length = math.hypot(qx - px, qy - py) or 1
    nx, ny = -(qy - py) / length, (qx - px) / length
    w = len(text) * SMALL_CHAR + 6
    shift = side * (abs(nx) * w / 2 + abs(ny) * LABEL_H / 2 + 2)
    return Box(x + nx * shift - w / 2, y + ny * shift - LABEL_H / 2, w, LABEL_H)


def label_box(points: list[Point], text: str, taken: list[Box]) -> Box:
    """A spot beside the flow for its label that hides no component, marker or other label."""
    for t in (0.5, 0.375, 0.625, 0.25, 0.75, 0.125, 0.875):
        for side in (1, -1):
            box = _label_box(points, t, side, text)
            if not any(box.overlaps(other) for other in taken):
                return box
    return _label_box(points, 0.5, 0, text)


# ---------------------------------------------------------------- drawing
def _defs() -> str:
    def arrow(ident: str, colour: str) -> str:
        return _tag("marker", {"id": ident, "viewBox": "0 0 10 10", "refX": "10", "refY": "5",
                               "markerWidth": "9", "markerHeight": "9", "markerUnits": "userSpaceOnUse",
                               "orient": "auto-start-reverse"},
                    _tag("path", {"d": "M0,0 L10,5 L0,10 z", "fill": colour}))
    return _tag("defs", {}, arrow("dfd-arrow", INK) + arrow("dfd-arrow-crossing", RED))


def _zone_colours(zone: Zone) -> tuple[str, str]:
    return ZONE_COLOURS.get(zone.kind) or RANK_COLOURS.get(zone.rank, DEFAULT_ZONE)


def _link(url: str | None, content: str) -> str:
    return _tag("a", {"href": url}, content) if url else content


def draw_zone(zone: Zone, ids: _Ids, href, highlight: set) -> str:
    fill, stroke = _zone_colours(zone)
    hot = zone.id in highlight
    box, name = zone.box, _clip(zone.label, ZONE_LABEL_CHARS)
    title = f"{zone.label} ({zone.kind_label or 'trust zone'}, {zone.id})"
    heading = _tag("text", {"x": box.x + 12, "y": box.y + 21, "font-weight": "bold", "fill": INK},
                   _esc(name) + (_tag("tspan", {"font-weight": "normal", "font-size": SMALL, "fill": MUTED},
                                      _esc("  " + zone.kind_label)) if zone.kind_label else ""))
    return _tag("g", {"class": "zone highlight" if hot else "zone", "id": ids("zone", zone.id),
                      "data-element": zone.id},
                _tag("title", {}, _esc(title))
                + _tag("rect", {"x": box.x, "y": box.y, "width": box.w, "height": box.h, "rx": "12",
                                "fill": fill, "stroke": HIGHLIGHT if hot else stroke,
                                "stroke-width": "3" if hot else "1.5"})
                + _link(href(zone.id) if href else None, heading))


def _shape(component: Component, stroke: str, width: str) -> str:
    b = component.box
    common = {"stroke": stroke, "stroke-width": width}
    if component.shape == "store":
        hit = _tag("rect", {"x": b.x, "y": b.y, "width": b.w, "height": b.h, "fill": "#ffffff",
                            "fill-opacity": "0.85"})
        return hit + _tag("path", {"d": f"M{_num(b.x)},{_num(b.y)} h{_num(b.w)} M{_num(b.x)},{_num(b.y + b.h)} "
                                        f"h{_num(b.w)}", "fill": "none", **common})
    rx = {"external": "0", "process": _num(b.h / 2)}.get(component.shape, "6")
    return _tag("rect", {"x": b.x, "y": b.y, "width": b.w, "height": b.h, "rx": rx, "fill": "#ffffff", **common})


def draw_component(component: Component, ids: _Ids, href, highlight: set) -> str:
    b, hot = component.box, component.id in highlight
    lines = wrap(component.label)
    kinds = ", ".join(component.kinds)
    cx, top = b.x + b.w / 2, b.y + (b.h - len(lines) * 15 - 12) / 2 + 11
    text = "".join(_tag("tspan", {"x": cx, "y": top + i * 15}, _esc(line)) for i, line in enumerate(lines))
    body = (_tag("title", {}, _esc(f"{component.label} ({SHAPE_NAMES[component.shape]}"
                                   f"{': ' + kinds if kinds else ''}; {component.id})"))
            + _shape(component, HIGHLIGHT if hot else INK, "3" if hot else "1.4")
            + _tag("text", {"text-anchor": "middle", "fill": INK}, text))
    if kinds:
        body += _tag("text", {"x": cx, "y": top + len(lines) * 15 + 1, "text-anchor": "middle",
                              "font-size": SMALL, "font-style": "italic", "fill": MUTED},
                     _esc(_clip(kinds, int((b.w - 10) / SMALL_CHAR))))
    group = _tag("g", {"class": "component highlight" if hot else "component", "id": ids("component", component.id),
                       "data-element": component.id, "data-shape": component.shape}, body)
    return _link(href(component.id) if href else None, group)


def _diamond(x: float, y: float, title: str) -> str:
    d = f"M{_num(x)},{_num(y - 7)} L{_num(x + 7)},{_num(y)} L{_num(x)},{_num(y + 7)} L{_num(x - 7)},{_num(y)} z"
    return _tag("path", {"class": "crossing", "d": d, "fill": RED, "stroke": "#ffffff", "stroke-width": "1.5"},
                _tag("title", {}, _esc(title)))


def draw_flow(diagram: Diagram, flow: Flow, path: Route, mark: Point | None, label: Box, ids: _Ids, href,
              highlight: set) -> str:
    crossing, hot = bool(flow.crossings), flow.id in highlight
    colour = RED if crossing else INK
    marker = "url(#dfd-arrow-crossing)" if crossing else "url(#dfd-arrow)"
    source, target = diagram.components[flow.source], diagram.components[flow.target]
    arrow = "↔" if flow.bidirectional else "→"
    title = f"{flow.label}: {source.label} {arrow} {target.label}"
    if crossing:
        title += "; crosses " + ", ".join(sorted({c[2] or f"{c[0]} → {c[1]}" for c in flow.crossings}))
    body = _tag("title", {}, _esc(title)) + _tag("path", {
        "d": path.d, "fill": "none", "stroke": colour, "stroke-width": "3" if hot else "1.5",
        "stroke-dasharray": "7 4" if crossing else None, "marker-end": marker,
        "marker-start": marker if flow.bidirectional else None})
    if mark:
        body += _diamond(*mark, f"{flow.id} crosses a trust boundary")
    body += _tag("text", {"x": label.x + label.w / 2, "y": label.y + 10.5, "text-anchor": "middle",
                          "font-size": SMALL, "fill": colour, "stroke": "#ffffff", "stroke-width": "3",
                          "paint-order": "stroke", "font-weight": "bold" if hot else None},
                 _esc(_clip(flow.id, 28)))
    group = _tag("g", {"class": "flow highlight" if hot else "flow", "id": ids("flow", flow.id),
                       "data-element": flow.id, "data-crossing": "true" if crossing else "false"}, body)
    return _link(href(flow.id) if href else None, group)


def _legend_items() -> list[tuple[str, float]]:
    """(drawing at the origin, width) of each legend entry."""
    def entry(symbol: str, text: str, symbol_w: float = 34) -> tuple[str, float]:
        return (symbol + _tag("text", {"x": symbol_w + 6, "y": 13, "fill": INK, "font-size": SMALL}, _esc(text)),
                symbol_w + 12 + len(text) * SMALL_CHAR)
    line = {"x1": 0, "y1": 9, "x2": 34, "y2": 9, "stroke-width": "1.5"}
    return [
        entry(_tag("rect", {"x": 0, "y": 1, "width": 34, "height": 16, "fill": "#fff", "stroke": INK}),
              "external entity"),
        entry(_tag("rect", {"x": 0, "y": 1, "width": 34, "height": 16, "rx": 8, "fill": "#fff", "stroke": INK}),
              "process"),
        entry(_tag("path", {"d": "M0,1 h34 M0,17 h34", "stroke": INK, "fill": "none"}), "data store"),
        entry(_tag("line", {**line, "stroke": INK, "marker-end": "url(#dfd-arrow)"}), "data flow"),
        entry(_tag("line", {**line, "stroke": INK, "marker-end": "url(#dfd-arrow)",
                            "marker-start": "url(#dfd-arrow)"}), "bidirectional flow"),
        entry(_tag("line", {**line, "stroke": RED, "stroke-dasharray": "7 4",
                            "marker-end": "url(#dfd-arrow-crossing)"}) + _diamond(14, 9, "trust boundary crossing"),
              "flow crossing a trust boundary (◆ where it crosses)"),
    ]


def draw_legend(x: float, y: float) -> tuple[str, float]:
    """The legend in one row; returns the drawing and its width."""
    parts, left = [], 0.0
    for drawing, width in _legend_items():
        parts.append(_tag("g", {"transform": f"translate({_num(x + left)},{_num(y)})"}, drawing))
        left += width + 24
    return _tag("g", {"class": "legend"}, "".join(parts)), left


def _header_box(zone: Zone) -> Box:
    return Box(zone.box.x, zone.box.y, min(zone.box.w, _header_width(zone)), HEADER - 6)


def _all_zones(zone: Zone) -> list[Zone]:
    """Zones parents first, so children are drawn on top of their parents."""
    return [z for child in zone.children for z in [child] + _all_zones(child)]


def _draw_flows(diagram: Diagram, ids: _Ids, href, highlight: set) -> list[str]:
    obstacles = {c.id: c.box.inflate(4) for c in diagram.components.values()}
    taken = list(obstacles.values()) + [_header_box(z) for z in diagram.zones.values()]
    offsets, paths, marks = _parallel_offsets(diagram.flows), {}, {}
    for flow in diagram.flows:
        paths[flow.id] = route(diagram, flow, offsets[flow.id], obstacles)
        if flow.crossings:
            from_zone, to_zone, _ = flow.crossings[0]
            x, y = marks[flow.id] = crossing_point(diagram, paths[flow.id].points, from_zone, to_zone)
            taken.append(Box(x - 8, y - 8, 16, 16))
    drawn = []
    for flow in diagram.flows:
        label = label_box(paths[flow.id].points, _clip(flow.id, 28), taken)
        taken.append(label)
        drawn.append(draw_flow(diagram, flow, paths[flow.id], marks.get(flow.id), label, ids, href, highlight))
    return drawn


def render_svg(analysis, href: Callable[[str], str | None] | None = None,
               highlight: set[str] | None = None) -> str:
    """The data-flow diagram of the analysed model as SVG text. href(element id) gives the URL that a
    component, a flow or a zone's title links to (None: no link; the caller URL-quotes ids);
    `highlight`: the ids of the elements to emphasise."""
    return draw(read(analysis), href, set(highlight or ()))


def draw(diagram: Diagram, href=None, highlight: set = frozenset()) -> str:
    """Lay the diagram out and draw it: zones, then flows, then components on top, then the legend."""
    bounds = layout(diagram)
    ids = _Ids()
    legend_y = bounds.y + bounds.h + 28
    legend, legend_w = draw_legend(MARGIN, legend_y)
    width = max(bounds.x + bounds.w, MARGIN + legend_w) + MARGIN
    height = legend_y + 18 + MARGIN
    body = (_tag("title", {"id": "dfd-title"}, _esc(diagram.title))
            + _tag("desc", {}, _esc(f"{len(diagram.zones)} trust zones, {len(diagram.components)} components, "
                                    f"{len(diagram.flows)} data flows, "
                                    f"{sum(1 for f in diagram.flows if f.crossings)} crossing a trust boundary"))
            + _defs()
            + _tag("rect", {"x": 0, "y": 0, "width": width, "height": height, "fill": "#ffffff"})
            + _tag("g", {"class": "zones"}, "".join(draw_zone(z, ids, href, highlight)
                                                   for z in _all_zones(diagram.root)))
            + _tag("g", {"class": "flows"}, "".join(_draw_flows(diagram, ids, href, highlight)))
            + _tag("g", {"class": "components"}, "".join(draw_component(c, ids, href, highlight)
                                                        for c in sorted(diagram.components.values(),
                                                                        key=lambda c: c.order)))
            + legend)
    return _tag("svg", {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {_num(width)} {_num(height)}",
                        "width": width, "height": height, "role": "img", "aria-labelledby": "dfd-title",
                        "font-family": "Arial, Helvetica, Liberation Sans, sans-serif", "font-size": FONT}, body)
