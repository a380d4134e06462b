"""Plane geometry for the diagram: boxes, points, and where lines meet or leave boxes."""

import math
from dataclasses import dataclass
from itertools import pairwise

Point = tuple[float, float]


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


def border_point(box: Box, towards: Point, gap: float = 3) -> Point:
    """Where the ray from the box's centre to `towards` leaves the box (plus a small gap)."""
    (cx, cy), (tx, ty) = box.centre, towards
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    t = min(((box.w / 2 + gap) / abs(dx)) if dx else math.inf, ((box.h / 2 + gap) / abs(dy)) if dy else math.inf)
    return cx + dx * t, cy + dy * t


def _inside(p: Point, box: Box) -> bool:
    return box.x <= p[0] <= box.x + box.w and box.y <= p[1] <= box.y + box.h


def segment_hits(p: Point, q: Point, box: Box) -> bool:
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


def exit_point(points: list[Point], box: Box) -> Point | None:
    """Where a polyline that starts inside the box first leaves it."""
    for p, q in pairwise(points):
        if _inside(p, box) and not _inside(q, box):
            dx, dy = q[0] - p[0], q[1] - p[1]
            ts = [(bound - p[0]) / dx for bound in (box.x, box.x + box.w) if dx and (bound - p[0]) / dx >= 0]
            ts += [(bound - p[1]) / dy for bound in (box.y, box.y + box.h) if dy and (bound - p[1]) / dy >= 0]
            t = min(ts)
            return p[0] + dx * t, p[1] + dy * t
    return None
