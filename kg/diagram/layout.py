"""Layout of zones and components: one cell size for every component, components in a grid, child
zones in a grid of tracks beside them, every zone at least its natural size."""

import math
from dataclasses import dataclass

from kg.diagram.geometry import Box
from kg.diagram.reading import Component, Diagram, Zone
from kg.diagram.text import BOLD_CHAR, CHAR, SMALL_CHAR, ZONE_LABEL_CHARS, clip, wrap

PAD, HEADER = 16, 34                            # zone padding and title band
GAP_X, GAP_Y, ZONE_GAP, MARGIN = 64, 40, 48, 20


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


def header_width(zone: Zone) -> float:
    if zone.id is None:
        return 0
    return len(clip(zone.label, ZONE_LABEL_CHARS)) * BOLD_CHAR + len(zone.kind_label) * SMALL_CHAR + 32


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
    zone.size = (max(content_w, header_width(zone)) + 2 * pad, header + max(grid_h, tracks.size[1]) + pad)
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
