"""Drawing the laid-out diagram as SVG: zones, flows, components and the legend. Every model text is
XML-escaped; the SVG references nothing outside itself."""

import re
from html import escape

from kg.diagram.geometry import Box, Point
from kg.diagram.layout import HEADER, MARGIN, header_width, layout
from kg.diagram.reading import Component, Diagram, Flow, Zone
from kg.diagram.routes import Route, crossing_point, label_box, parallel_offsets, route
from kg.diagram.text import FONT, SMALL, SMALL_CHAR, ZONE_LABEL_CHARS, clip, num, wrap

RED, INK, MUTED, HIGHLIGHT = "#c0392b", "#333333", "#666666", "#e67e22"
ZONE_COLOURS = {  # (fill, stroke) by zone kind, then by trust rank
    "untrusted": ("#fdecea", "#d98880"), "dmz": ("#fef5e7", "#e0a84f"), "internal": ("#eaf2fb", "#7fa7d4"),
    "restricted": ("#f3ecf8", "#a989c5"), "development": ("#eaf7ee", "#7dbb91"),
}
RANK_COLOURS = {0: ZONE_COLOURS["untrusted"], 1: ZONE_COLOURS["dmz"]}
DEFAULT_ZONE = ("#f2f4f6", "#9aa5b1")
SHAPE_NAMES = {"external": "external entity", "process": "process", "store": "data store", "component": "component"}

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _esc(value) -> str:
    """Text safe in XML content and in double-quoted attributes."""
    return escape(_NOT_XML.sub("\ufffd", str(value)), quote=True)


def _tag(name: str, attrs: dict, content: str | None = None) -> str:
    rendered = "".join(f' {k}="{num(v) if isinstance(v, float) else _esc(v)}"'
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
    box, name = zone.box, clip(zone.label, ZONE_LABEL_CHARS)
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
        return hit + _tag("path", {"d": f"M{num(b.x)},{num(b.y)} h{num(b.w)} M{num(b.x)},{num(b.y + b.h)} "
                                        f"h{num(b.w)}", "fill": "none", **common})
    rx = {"external": "0", "process": num(b.h / 2)}.get(component.shape, "6")
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
                     _esc(clip(kinds, int((b.w - 10) / SMALL_CHAR))))
    group = _tag("g", {"class": "component highlight" if hot else "component", "id": ids("component", component.id),
                       "data-element": component.id, "data-shape": component.shape}, body)
    return _link(href(component.id) if href else None, group)


def _diamond(x: float, y: float, title: str) -> str:
    d = f"M{num(x)},{num(y - 7)} L{num(x + 7)},{num(y)} L{num(x)},{num(y + 7)} L{num(x - 7)},{num(y)} z"
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
                 _esc(clip(flow.id, 28)))
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
        parts.append(_tag("g", {"transform": f"translate({num(x + left)},{num(y)})"}, drawing))
        left += width + 24
    return _tag("g", {"class": "legend"}, "".join(parts)), left


def _header_box(zone: Zone) -> Box:
    return Box(zone.box.x, zone.box.y, min(zone.box.w, header_width(zone)), HEADER - 6)


def _all_zones(zone: Zone) -> list[Zone]:
    """Zones parents first, so children are drawn on top of their parents."""
    return [z for child in zone.children for z in [child] + _all_zones(child)]


def _draw_flows(diagram: Diagram, ids: _Ids, href, highlight: set) -> list[str]:
    obstacles = {c.id: c.box.inflate(4) for c in diagram.components.values()}
    taken = list(obstacles.values()) + [_header_box(z) for z in diagram.zones.values()]
    offsets, paths, marks = parallel_offsets(diagram.flows), {}, {}
    for flow in diagram.flows:
        paths[flow.id] = route(diagram, flow, offsets[flow.id], obstacles)
        if flow.crossings:
            from_zone, to_zone, _ = flow.crossings[0]
            x, y = marks[flow.id] = crossing_point(diagram, paths[flow.id].points, from_zone, to_zone)
            taken.append(Box(x - 8, y - 8, 16, 16))
    drawn = []
    for flow in diagram.flows:
        label = label_box(paths[flow.id].points, clip(flow.id, 28), taken)
        taken.append(label)
        drawn.append(draw_flow(diagram, flow, paths[flow.id], marks.get(flow.id), label, ids, href, highlight))
    return drawn


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
    return _tag("svg", {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {num(width)} {num(height)}",
                        "width": width, "height": height, "role": "img", "aria-labelledby": "dfd-title",
                        "font-family": "Arial, Helvetica, Liberation Sans, sans-serif", "font-size": FONT}, body)
