"""Flow geometry: each flow's path around other components, where it crosses a trust boundary, and a
spot for its label."""

import math
from dataclasses import dataclass
from itertools import pairwise

from kg.diagram.geometry import Box, Point, border_point, exit_point, segment_hits
from kg.diagram.layout import ZONE_GAP
from kg.diagram.reading import Diagram, Flow, Zone
from kg.diagram.text import LABEL_H, SMALL_CHAR, num

SAMPLES = 24
BENDS = (0, 45, -45, 90, -90, 150, -150, 230, -230)


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
    leave = exit_point(points, diagram.zones[outer].box) if outer else None
    enter = exit_point(points[::-1], diagram.zones[inner].box) if inner else None
    if leave and enter:
        near = math.dist(leave, enter) <= ZONE_GAP * 1.5
        return ((leave[0] + enter[0]) / 2, (leave[1] + enter[1]) / 2) if near else leave
    return leave or enter or points[len(points) // 2]


def parallel_offsets(flows: list[Flow]) -> dict[str, float]:
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
    p0, p1 = border_point(a, control), border_point(b, control)
    if not bend:
        return Route(f"M{num(p0[0])},{num(p0[1])} L{num(p1[0])},{num(p1[1])}", _quadratic(p0, p0, p1))
    return Route(f"M{num(p0[0])},{num(p0[1])} Q{num(control[0])},{num(control[1])} {num(p1[0])},{num(p1[1])}",
                 _quadratic(p0, control, p1))


def _loop(a: Box) -> Route:
    """A flow from a component to itself: a loop off its right side."""
    p0, p1 = (a.x + a.w - 24, a.y - 3), (a.x + a.w + 3, a.y + a.h / 2)
    c = (a.x + a.w + 36, a.y - 36)
    return Route(f"M{num(p0[0])},{num(p0[1])} Q{num(c[0])},{num(c[1])} {num(p1[0])},{num(p1[1])}",
                 _quadratic(p0, c, p1))


def _blocked(points: list[Point], obstacles: list[Box]) -> bool:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span = Box(min(xs) - 1, min(ys) - 1, max(xs) - min(xs) + 2, max(ys) - min(ys) + 2)
    near = [o for o in obstacles if o.overlaps(span)]
    return any(segment_hits(p, q, o) for o in near for p, q in pairwise(points))


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
