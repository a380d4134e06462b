"""The data-flow diagram: a valid, self-contained SVG with one element per zone, component and flow,
nested zone boxes, boundary crossings as the reasoning pipeline inferred them, escaped labels."""

import re

import pytest
import yaml
from defusedxml import ElementTree

from bench.generate import generate
from kg.analysis import analyse
from kg.diagram import render_svg
from kg.model.load import load_model
from tests.conftest import EXAMPLE

SVG = "{http://www.w3.org/2000/svg}"
CROSSING_FLOWS = """
SELECT DISTINCT ?flowId WHERE {
  ?flow tm:partOf $system ; dcterms:identifier ?flowId ; tm:crosses ?b .
  ?b tm:fromZone ?from ; tm:toZone ?to .
}"""


def _analyse(path):
    return analyse(load_model(path, validate=False), with_catalogs=False)


@pytest.fixture(scope="module")
def seed():
    return _analyse(EXAMPLE)


@pytest.fixture(scope="module")
def svg(seed):
    return render_svg(seed, href=lambda ident: f"/elements/{ident}", highlight={"ai-model"})


@pytest.fixture(scope="module")
def root(svg):
    return ElementTree.fromstring(svg)


def _elements(root, role: str) -> dict:
    """data-element → <g> of the elements drawn as `role` (component, flow or zone)."""
    found = {}
    for g in root.iter(f"{SVG}g"):
        if role in g.get("class", "").split():
            assert g.get("data-element") not in found, g.get("data-element")
            found[g.get("data-element")] = g
    return found


def _rect(g) -> tuple[float, float, float, float]:
    r = g.find(f"{SVG}rect")
    x, y = float(r.get("x")), float(r.get("y"))
    return x, y, x + float(r.get("width")), y + float(r.get("height"))


def _strictly_inside(inner, outer) -> bool:
    return outer[0] < inner[0] and outer[1] < inner[1] and inner[2] < outer[2] and inner[3] < outer[3]


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _model_elements(analysis) -> dict[str, dict]:
    """role → {element id: row} from the system's elements (not the diagram's queries)."""
    out: dict[str, dict] = {}
    for row in analysis.named("system-elements", system=analysis.model.system_iri):
        zone = row["zoneId"].value if row["zoneId"] is not None else None
        out.setdefault(row["role"].value, {})[row["elementId"].value] = zone
    return out


def test_svg_root(root):
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox"))
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0
    assert root[0].tag == f"{SVG}title" and "AI connected system" in root[0].text


def test_self_contained(svg, root):
    assert not [e for e in root.iter() if e.tag in {f"{SVG}{t}" for t in ("image", "style", "script",
                                                                            "foreignObject", "use")}]
    assert "@import" not in svg and "xlink" not in svg
    for element in root.iter():
        for name, value in element.attrib.items():
            assert not re.match(r"\s*(https?:|//|javascript:|data:)", value), (name, value)
            assert "url(" not in value or re.fullmatch(r"url\(#[\w-]+\)", value), value
        assert re.fullmatch(r"[A-Za-z][\w-]*", element.get("id", "x")), element.get("id")


def test_one_element_per_zone_component_flow(root, seed):
    model = _model_elements(seed)
    for role in ("zone", "component", "flow"):
        assert set(_elements(root, role)) == set(model[role]), role
    assert len(_elements(root, "zone")) == 6
    assert len(_elements(root, "component")) == 9
    assert len(_elements(root, "flow")) == 8
    tagged = [e.get("data-element") for e in root.iter() if e.get("data-element")]
    assert len(tagged) == len(set(tagged)) == 23


def test_child_zones_inside_parents_and_components_inside_zones(root, seed):
    model, zones = _model_elements(seed), _elements(root, "zone")
    nested = {z: parent for z, parent in model["zone"].items() if parent}
    assert len(nested) == 3
    for zone, parent in nested.items():
        assert _strictly_inside(_rect(zones[zone]), _rect(zones[parent])), zone
    for component, g in _elements(root, "component").items():
        assert _strictly_inside(_rect(g), _rect(zones[model["component"][component]])), component


def test_top_level_zones_ordered_by_trust(root):
    zones = _elements(root, "zone")
    xs = [_rect(zones[z]) for z in ("internet", "dmz", "internal")]
    assert xs[0][2] < xs[1][0] and xs[1][2] < xs[2][0]
    assert len({(r[1], r[3]) for r in xs}) == 1          # one row, one height


def test_dfd_shapes_from_element_types(root):
    components = _elements(root, "component")
    assert components["user"].get("data-shape") == "external"
    assert components["user"].find(f"{SVG}rect").get("rx") == "0"
    assert components["ai-model"].get("data-shape") == "process"
    assert float(components["ai-model"].find(f"{SVG}rect").get("rx")) > 10
    assert components["data-layer"].get("data-shape") == "store"
    assert components["data-layer"].find(f"{SVG}path") is not None


def test_flows_have_arrowheads(root):
    flows = _elements(root, "flow")
    for ident, g in flows.items():
        assert g.find(f"{SVG}path").get("marker-end", "").startswith("url(#"), ident
        assert g.find(f"{SVG}text").text == ident
    assert flows["gateway-auth"].find(f"{SVG}path").get("marker-start")
    assert flows["user-to-app"].find(f"{SVG}path").get("marker-start") is None


def test_crossing_markers_exactly_for_crossing_flows(root, seed):
    expected = {r["flowId"].value for r in seed.store.query(
        "PREFIX tm: <https://w3id.org/threatkg/ont#> PREFIX dcterms: <http://purl.org/dc/terms/>"
        + CROSSING_FLOWS.replace("$system", f"<{seed.model.system_iri}>"))}
    marked = {ident for ident, g in _elements(root, "flow").items()
              if any("crossing" in e.get("class", "").split() for e in g.iter())}
    assert marked == expected
    assert "model-to-data" in marked and "gateway-auth" not in marked
    dashed = {ident for ident, g in _elements(root, "flow").items() if g.find(f"{SVG}path").get("stroke-dasharray")}
    assert dashed == expected


def test_crossing_marker_sits_between_the_zones(root):
    zones = _elements(root, "zone")
    marker = next(e for e in _elements(root, "flow")["app-to-gateway"].iter() if e.get("class") == "crossing")
    x = float(re.match(r"M([\d.]+),", marker.get("d")).group(1))
    assert _rect(zones["internet"])[2] <= x <= _rect(zones["dmz"])[0]


def test_href_wraps_components(root):
    links = {a.get("href"): a for a in root.iter(f"{SVG}a")}
    for ident in _elements(root, "component"):
        wrapped = links[f"/elements/{ident}"]
        assert wrapped[0].get("data-element") == ident and "component" in wrapped[0].get("class").split()


def test_no_links_without_href_and_highlight(seed, root):
    plain = ElementTree.fromstring(render_svg(seed))
    assert not list(plain.iter(f"{SVG}a"))
    assert "highlight" in _elements(root, "component")["ai-model"].get("class").split()
    assert "highlight" not in _elements(plain, "component")["ai-model"].get("class").split()


def test_hostile_labels_are_escaped(tmp_path):
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    doc["components"][0]["label"] = "<script>alert(1)</script>"
    doc["zones"][0]["label"] = 'Zone "&" <b>bold</b> ' + "x" * 80
    doc["flows"][0]["label"] = "]]><!-- &amp;"
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    svg = render_svg(_analyse(path), href=lambda ident: f'/e/{ident}?a=1&b="2"')
    assert "<script" not in svg and "<b>" not in svg
    root = ElementTree.fromstring(svg)
    user = _elements(root, "component")["user"]
    assert "<script>alert(1)</script>" in "".join(user.itertext())
    zone = _elements(root, "zone")["internet"]
    assert zone.find(f"{SVG}title").text.startswith('Zone "&" <b>bold</b> x')   # full text in the tooltip
    assert "…" in "".join(zone.find(f"{SVG}a").itertext())                      # long label cut
    assert any(a.get("href") == '/e/user?a=1&b="2"' for a in root.iter(f"{SVG}a"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("generated") / "bench-200.yaml"
    path.write_text(yaml.safe_dump(generate(200), sort_keys=False), encoding="utf-8")
    return ElementTree.fromstring(render_svg(_analyse(path)))


def test_generated_model_renders_without_overlaps(generated):
    zones, components = _elements(generated, "zone"), _elements(generated, "component")
    assert len(components) == 200 and len(_elements(generated, "flow")) == 199
    parents = {z["id"]: z.get("parent") for z in generate(200)["zones"]}
    for parent in set(parents.values()):
        siblings = [_rect(zones[z]) for z, p in parents.items() if p == parent]
        assert not any(_overlap(a, b) for i, a in enumerate(siblings) for b in siblings[i + 1:]), parent
        if parent:
            assert all(_strictly_inside(s, _rect(zones[parent])) for s in siblings)
    boxes = [_rect(g) for g in components.values()]
    assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
