"""draw.io diagrams (compressed and plain) imported, validated and assessed; custom stencils
mapped from THREATKG_HOME/import/drawio.yaml; XML attacks, zip bombs and broken files refused
with exit 2 and one line per problem."""

import base64
import json
import re
import urllib.parse
import zlib

import pytest
import yaml
from click.testing import CliRunner
from defusedxml import ElementTree as SafeET

from kg.cli import main

SOURCES = ["drawio-basic-example.drawio", "aws_minimal.drawio.xml"]
ROOT = '<mxCell id="0"/><mxCell id="1" parent="0"/>'


def run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="threatkg", catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def pages(path) -> list:
    """The mxGraphModel of every page of a draw.io file (decompressed as draw.io does)."""
    found = []
    for diagram in SafeET.fromstring(path.read_text(encoding="utf-8")).iter("diagram"):
        model = diagram.find("mxGraphModel")
        if model is None:
            xml = urllib.parse.unquote(zlib.decompress(base64.b64decode(diagram.text), -15).decode())
            model = SafeET.fromstring(xml)
        found.append(model)
    return found


def diagram(cells: str, tmp_path, name="model.drawio", compressed=False):
    body = f"<mxGraphModel><root>{ROOT}{cells}</root></mxGraphModel>"
    if compressed:
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = base64.b64encode(deflate.compress(urllib.parse.quote(body).encode()) + deflate.flush()).decode()
    path = tmp_path / name
    path.write_text(f'<mxfile><diagram id="d" name="Shop">{body}</diagram></mxfile>', encoding="utf-8")
    return path


def vertex(ident, style, value="", parent="1", x=0, y=0, w=80, h=80):
    return (f'<mxCell id="{ident}" value="{value}" style="{style}" vertex="1" parent="{parent}">'
            f'<mxGeometry x="{x}" y="{y}" width="{w}" height="{h}" as="geometry"/></mxCell>')


def edge(ident, source=None, target=None, value="", style="endArrow=classic;"):
    ends = "".join(f' {k}="{v}"' for k, v in (("source", source), ("target", target)) if v)
    return f'<mxCell id="{ident}" value="{value}" style="{style}" edge="1" parent="1"{ends}/>'


@pytest.mark.parametrize("name", SOURCES)
def test_every_source_imports_validates_and_yields_threats(name, shared_models, tmp_path):
    source = shared_models / "drawio" / name
    cells = [c for model in pages(source) for c in model.iter("mxCell")]
    parents = {c.get("parent") for c in cells}
    vertices = [c for c in cells if c.get("vertex") == "1"]
    containers = [c for c in vertices if c.get("id") in parents]
    edges = [c for c in cells if c.get("edge") == "1"]
    out = tmp_path / "model.yaml"
    run("import", source, "-o", out)
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert "valid" in run("validate", out).output
    assert json.loads(run("threats", source, "--format", "json").stdout)
    assert len(doc["zones"]) == len(containers)
    assert len(doc["components"]) == len(vertices) - len(containers)
    assert len(doc.get("flows", [])) == len(edges)


def test_aws_shapes_map_to_kinds_and_containers_to_zones(shared_models, tmp_path):
    out = tmp_path / "model.yaml"
    run("import", shared_models / "drawio" / "drawio-basic-example.drawio", "-o", out)
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    kinds = {c["label"]: (c["kinds"], c["zone"]) for c in doc["components"]}
    assert kinds == {"Availability": (["process"], "VPC-1"), "Messaging": (["message-queue"], "VPC-2"),
                     "DDBB": (["sql-database"], "VPC-3"), "Bookings": (["process"], "VPC-3")}
    assert {(f["source"], f["target"]) for f in doc["flows"]} == {
        ("Bookings", "DDBB"), ("Availability", "Messaging"), ("Messaging", "Bookings")}


def test_dfd_shapes_nested_zones_html_labels_and_geometry(tmp_path):
    cells = (vertex("net", "rounded=0;whiteSpace=wrap;html=1;dashed=1;", "Internet", w=200, h=200)
             + vertex("user", "shape=umlActor;html=1;", "Customer", x=10, y=10, w=30, h=60)   # inside by geometry
             + vertex("dc", "swimlane;html=1;", "Data centre", x=300, w=400, h=400)
             + vertex("prot", "swimlane;", "Protected", parent="dc", x=200, y=30, w=150, h=300)
             + vertex("web", "ellipse;whiteSpace=wrap;html=1;", "&lt;b&gt;Web&lt;/b&gt;&lt;br&gt;shop", parent="dc", x=20, y=40)
             + vertex("db", "shape=cylinder3;whiteSpace=wrap;", "Orders", parent="prot", x=20, y=40)
             + vertex("gw", "outlineConnect=0;shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.api_gateway;",
                      parent="dc", x=20, y=200)
             + vertex("note", "text;html=1;", "remember TLS", x=800)
             + edge("e1", "user", "web", "orders") + edge("e2", "web", "db", style="startArrow=classic;endArrow=classic;")
             + edge("e3", "web") + edge("e4", "gw", "ghost") + edge("e5", "web", "gw"))
    result = run("import", diagram(cells, tmp_path, compressed=True))
    doc = yaml.safe_load(result.stdout)
    assert doc["system"] == {"id": "Shop", "name": "Shop"}
    zones = {z["id"]: (z["kind"], z.get("parent")) for z in doc["zones"]}
    assert zones == {"Internet": ("untrusted", None), "Data-centre": ("internal", None),
                     "Protected": ("restricted", "Data-centre")}
    components = {c["id"]: (c["label"], c["kinds"], c["zone"]) for c in doc["components"]}
    assert components == {"Customer": ("Customer", ["user"], "Internet"),
                          "Web-shop": ("Web shop", ["process"], "Data-centre"),
                          "Orders": ("Orders", ["data-store"], "Protected"),
                          "gw": ("API Gateway", ["api-gateway"], "Data-centre")}
    flows = {f["id"]: (f["source"], f["target"], f.get("bidirectional", False)) for f in doc["flows"]}
    assert flows == {"orders": ("Customer", "Web-shop", False), "Web-shop-to-Orders": ("Web-shop", "Orders", True),
                     "Web-shop-to-gw": ("Web-shop", "gw", False)}
    assert "e3: edge without a target: not kept as a flow" in result.stderr
    assert "e4: edge target 'ghost' is no shape of the diagram" in result.stderr
    assert "note: text 'remember TLS' is an annotation: not kept" in result.stderr


def test_unknown_stencils_warn_and_user_mapping_maps_them(tmp_path, monkeypatch):
    path = diagram(vertex("m", "shape=mxgraph.acme.model_server;", "Scorer") + vertex("q", "shape=mxgraph.acme.widget;"),
                   tmp_path)
    result = run("import", path)
    assert "m: shape 'mxgraph.acme.model_server' has no ThreatKG kind" in result.stderr
    assert "is in no container: put in zone diagram" in result.stderr
    home = tmp_path / "home"
    (home / "import").mkdir(parents=True)
    (home / "import" / "drawio.yaml").write_text(
        "shapes:\n  - {pattern: 'mxgraph\\.acme\\.model_server', kinds: [model-inference-service], technology: onnx}\n")
    monkeypatch.setenv("THREATKG_HOME", str(home))
    doc = yaml.safe_load(run("import", path).stdout)
    scorer = next(c for c in doc["components"] if c["label"] == "Scorer")
    assert scorer["kinds"] == ["model-inference-service"] and scorer["attributes"] == {"technology": "onnx"}
    (home / "import" / "drawio.yaml").write_text("shapes:\n  - {pattern: '(unclosed', kinds: [llm]}\n")
    assert "not a pattern" in run("import", path, code=2).stderr


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<mxfile><diagram><mxGraphModel><root><mxCell id="0"/><mxCell id="a" value="&lol3;" vertex="1" parent="0"/></root></mxGraphModel></diagram></mxfile>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<mxfile><diagram><mxGraphModel><root><mxCell id="0"/><mxCell id="a" value="&xxe;" vertex="1" parent="0"/></root></mxGraphModel></diagram></mxfile>
"""


def _bomb() -> str:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflate.compress(b"A" * (21 * 1024 * 1024)) + deflate.flush()
    return f'<mxfile><diagram name="p">{base64.b64encode(raw).decode()}</diagram></mxfile>'


def _inner_entities() -> str:
    inner = urllib.parse.quote(BILLION_LAUGHS.split("\n", 1)[1].replace("<mxfile><diagram>", "").replace(
        "</diagram></mxfile>", ""))
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflate.compress(inner.encode()) + deflate.flush()
    return f'<mxfile><diagram name="p">{base64.b64encode(raw).decode()}</diagram></mxfile>'


@pytest.mark.parametrize("text, message", [
    (BILLION_LAUGHS, "refused unsafe XML (EntitiesForbidden"),
    (EXTERNAL_ENTITY, "refused unsafe XML (EntitiesForbidden"),
    (_inner_entities(), "diagram p: refused unsafe XML"),
    ('<mxfile>\n<diagram name="p">\n<mxGraphModel><root>\n<mxCell id="0">\n</root>', ":5: malformed XML: mismatched tag"),
    (_bomb(), "diagram p: the compressed page inflates beyond 20,971,520 bytes"),
    ('<mxfile><diagram name="p">%%% not base64</diagram></mxfile>', "diagram p: not a compressed draw.io page"),
    ('<mxfile><diagram name="p"><mxGraphModel/></diagram></mxfile>', "<mxGraphModel> has no <root>"),
    (f'<mxfile><diagram name="p"><mxGraphModel><root>{ROOT}</root></mxGraphModel></diagram></mxfile>',
     "the diagram has no shape ThreatKG can read as a component"),
    (f'<mxfile><diagram><mxGraphModel><root>{ROOT}{vertex("a", "ellipse;")}{vertex("a", "ellipse;")}</root>'
     '</mxGraphModel></diagram></mxfile>', "a: two cells have this id"),
    (f'<mxfile><diagram><mxGraphModel><root>{ROOT}{vertex("a", "ellipse;", parent="b")}'
     f'{vertex("b", "swimlane;", parent="a")}</root></mxGraphModel></diagram></mxfile>', "a: its parent chain is a cycle"),
    ('<mxfile><diagram name="p"><svg/></diagram></mxfile>', "the page is <svg>, not <mxGraphModel>"),
    ('<mxGraphModel><root><mxCell id="0"/></root></mxGraphModel>', "no shape ThreatKG can read"),
])
def test_hostile_and_broken_files_exit_2_naming_the_problem(text, message, tmp_path):
    path = tmp_path / "bad.drawio"
    path.write_text(text, encoding="utf-8")
    for command in (["import", path], ["validate", path], ["threats", path]):
        result = run(*command, code=2)
        assert message in result.stderr and str(path) in result.stderr
        assert "root:" not in result.stderr          # /etc/passwd never read


def test_equal_boxes_nest_no_zone_in_itself(tmp_path):
    cells = (vertex("a", "rounded=0;dashed=1;", "A", w=300, h=300) + vertex("b", "rounded=0;dashed=1;", "B", w=300, h=300)
             + vertex("c", "ellipse;", "C", x=10, y=10) + '<UserObject label="D" kind="llm" owner="ml-team" id="d">'
             '<mxCell style="ellipse;" vertex="1" parent="1"><mxGeometry x="500" width="50" height="50" as="geometry"/>'
             '</mxCell></UserObject>')
    path = diagram(cells, tmp_path)
    doc = yaml.safe_load(run("import", path).stdout)
    assert all("parent" not in z for z in doc["zones"])
    d = next(c for c in doc["components"] if c["id"] == "D")
    assert d["kinds"] == ["llm"] and d["zone"] == "diagram" and d["attributes"] == {"owner": "ml-team"}
    run("validate", path)


def test_every_page_is_read_and_a_bare_graph_model_too(tmp_path):
    page = f"<mxGraphModel><root>{ROOT}{vertex('a', 'ellipse;', 'Worker')}{vertex('b', 'shape=cylinder3;')}" \
           f"{edge('e', 'a', 'b')}</root></mxGraphModel>"
    path = tmp_path / "two.drawio"
    path.write_text(f'<mxfile><diagram name="One">{page}</diagram><diagram name="Two">{page}</diagram></mxfile>')
    doc = yaml.safe_load(run("import", path).stdout)
    assert doc["system"]["name"] == "One" and len(doc["components"]) == 4 and len(doc["flows"]) == 2
    assert len({c["id"] for c in doc["components"]}) == 4
    bare = tmp_path / "bare.xml"
    bare.write_text(page)
    assert len(yaml.safe_load(run("import", bare).stdout)["components"]) == 2


def test_huge_file_is_refused_unread(tmp_path):
    path = tmp_path / "huge.drawio"
    path.write_text(f"<mxfile><diagram><mxGraphModel><root>{ROOT}" + vertex("a", "ellipse;") * 200_000
                    + "</root></mxGraphModel></diagram></mxfile>")
    result = run("import", path, code=2)
    assert re.search(r"the limit for a model", result.stderr)
