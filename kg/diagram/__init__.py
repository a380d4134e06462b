"""The data-flow diagram of a model as one self-contained SVG: trust zones as nested boxes ordered by
trust, components in classic DFD shapes, flows as arrows, and the boundary crossings the reasoning
pipeline inferred drawn in red with a marker where they leave one zone for another.

    render_svg(analysis, href=None, highlight=None) -> str

Everything is read from the analysis store (kg/queries/diagram-*.rq); the layout is deterministic
pure Python. Every model text is XML-escaped; the SVG references nothing outside itself.
"""

from collections.abc import Callable

from kg.diagram.reading import Diagram, read
from kg.diagram.svg import draw

__all__ = ["Diagram", "draw", "read", "render_svg"]


def render_svg(analysis, href: Callable[[str], str | None] | None = None,
               highlight: set[str] | None = None) -> str:
    """The data-flow diagram of the analysed model as SVG text. href(element id) gives the URL that a
    component, a flow or a zone's title links to (None: no link; the caller URL-quotes ids);
    `highlight`: the ids of the elements to emphasise."""
    return draw(read(analysis), href, set(highlight or ()))
