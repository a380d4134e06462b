"""System pages: the list of served systems, a system's overview (diagram, counts, top open risks) and
an element's page (facts, coverage, and inherited threats with their residual risk and explanations)."""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from markupsafe import Markup

from kg.diagram import render_svg
from kg.ontology import stride_names
from kg.profiles import DEFAULT_PROFILE
from kg.web import registry
from kg.web.systemview import by_stride, view

bp = Blueprint("pages", __name__)
TOP_RISKS = 10           # open risks on the overview


@bp.get("/")
def index():
    systems = registry().systems()
    if len(systems) == 1:
        return redirect(url_for("pages.overview", system=systems[0]))
    return render_template("pages/index.html", views=[view(s) for s in systems])


@bp.get("/system/<system>")
def overview(system):
    v = view_or_404(system)
    return once(v, ("overview",), lambda: render_template(
        "pages/overview.html", view=v, diagram=_diagram(v), stride=list(stride_names().items()), stride_counts=v.stride_counts(),
        zone_counts=v.zone_counts(), profile=DEFAULT_PROFILE, totals=v.coverage()["totals"],
        top_open_risks=v.open_risks()[:TOP_RISKS]))


@bp.get("/system/<system>/component/<element>")
def component(system, element):
    v = view_or_404(system)
    if element not in v.elements:
        abort(404, f"The system {system} has no element {element}.")
    return once(v, ("component", element), lambda: _component_page(v, element))


def _component_page(v, element: str) -> str:
    rows = v.rated_of(element)
    covered = next((c for c in v.coverage()["components"] if c["component"] == element), None)
    return render_template(
        "pages/component.html", view=v, element=v.elements[element], facts=v.facts(element),
        groups=by_stride(v.folded_of(element)), count=len(rows), diagram=_diagram(v, element),
        profile=DEFAULT_PROFILE, status=v.status(), excluded=v.excluded_of(element),
        covered=covered, top=max(rows, key=lambda r: r["risk"]["score"], default=None))


def once(v, key: tuple, render) -> str:
    """A system's pages depend on its analysis only (no form, no session): each is rendered once per
    analysis (and mount point), then served from the view."""
    key = (*key, request.script_root)
    if key not in v.rendered:
        v.rendered[key] = render()
    return v.rendered[key]


def view_or_404(system):
    v = view(system)
    if v is None:
        abort(404, f"No system {system} is served here.")
    return v


def _diagram(v, highlight: str | None = None) -> Markup:
    """The data-flow diagram as inline SVG (kg.diagram escapes every label it writes), each element
    linking to its page, the highlighted one emphasised."""
    svg = render_svg(v.analysis, href=lambda ident: url_for("pages.component", system=v.system, element=ident),
                     highlight={highlight} if highlight else None)
    return Markup(svg)
