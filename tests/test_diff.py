"""`threatkg diff` on two versions of the example built here: OLD is the example without its
dmz-isolation control (so that auth-service counts on its requirements alone), NEW adds an
internet-facing webhook with a flow from the gateway and drops v4.0.3-2.2.1 from auth-service.
Checked against the assessments themselves: the gained threats are exactly the new elements' rows,
the threats only 2.2.1 addressed on auth-service leave mitigated; identical models give an empty
diff; the --fail-on exit codes; REV:path in a git repository; stored versions in an embedded store;
the markdown in Chromium; the SARIF against the official schema."""

import gc
import json
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from kg.catalogs import installed
from kg.cli import main
from kg.diff import compare, sources
from kg.diff.comparison import is_empty
from kg.model.load import load_model
from kg.profiles import DEFAULT_PROFILE, load
from kg.store import open_store
from kg.systems import versions
from tests.conftest import ARTIFACTS, EXAMPLE
from tests.test_report import official_schema

RUNNER = CliRunner()
REMOVED = "v4.0.3-2.2.1"


def run(*args, code=0):
    result = RUNNER.invoke(main, ["diff", *map(str, args)], prog_name="threatkg")
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def _versions() -> tuple[str, str]:
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    doc["controls"] = [c for c in doc["controls"] if c["id"] != "dmz-isolation"]
    old = yaml.safe_dump(doc, sort_keys=False)
    doc["components"].append({"id": "webhook", "label": "Webhook receiver", "kinds": ["web-application"],
                              "zone": "dmz", "attributes": {"internet_facing": True,
                                                            "processes_untrusted_input": True}})
    doc["flows"].append({"id": "gateway-webhook", "source": "api-gateway", "target": "webhook",
                         "protocol": "https", "data": ["events"]})
    doc["requirements"] = [r for r in doc["requirements"] if r["id"] != REMOVED]
    return old, yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple:
    folder = tmp_path_factory.mktemp("diff")
    old, new = folder / "old.yaml", folder / "new.yaml"
    for path, text in zip((old, new), _versions()):
        path.write_text(text, encoding="utf-8")
    return old, new


@pytest.fixture(scope="module")
def assessed(files, catalog_home):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THREATKG_HOME", str(catalog_home))
        catalogs = installed.current()
        old, new = (sources.resolve(str(f)).assess("fast", catalogs) for f in files)
        profile = load(DEFAULT_PROFILE)
        return old, new, compare(old, new, [profile]), profile


def _pairs(entries) -> set:
    return {(e["element"], e["threat"]) for e in entries}


def test_structure_names_what_was_added_and_removed(assessed):
    structure = assessed[2]["structure"]
    assert structure["components"]["added"] == ["webhook"] and structure["flows"]["added"] == ["gateway-webhook"]
    assert structure["requirements"] == {"added": [], "removed": [{"element": "auth-service", "requirement": REMOVED}]}
    assert not any(s["removed"] for name, s in structure.items() if name != "requirements")
    assert not any(s.get("changed") for s in structure.values())


def test_gained_threats_are_exactly_the_new_elements_rows(assessed):
    old, new, diff, _ = assessed
    expected = set()
    for element in ("webhook", "gateway-webhook"):
        for row in new.threats(element):
            expected |= {(element, one["threat"]) for one in [row, *row.get("folded", [])]}
    gained = diff["threats"]["gained"]
    assert _pairs(gained) == expected and expected
    assert diff["threats"]["lost"] == []
    by_pair = {(r["component"], r["threat"]): r["risk"] for r in new.rated}
    assert all(g["risk"] == {k: by_pair[(g["element"], g["threat"])][k] for k in ("score", "rating")}
               for g in gained if (g["element"], g["threat"]) in by_pair)
    assert any(g["open"] for g in gained) and not all(g["open"] for g in gained)


def test_coverage_lost_on_auth_service(assessed):
    """The threats only the removed requirement addressed on auth-service move out of mitigated."""
    old, _, diff, profile = assessed
    auth = next(c for c in old.coverage(profile)["components"] if c["component"] == "auth-service")
    only = {t for t, by in auth["addressed_by"].items() if {b["id"] for b in by if b["kind"] != "profile"} == {REMOVED}}
    assert only and all(auth["states"][t]["state"] == "mitigated" for t in only)
    changed = {(s["threat"]): s for s in diff["states"][profile.id] if s["element"] == "auth-service"}
    assert set(changed) == only
    assert all(s["old"] == "mitigated" and s["new"] != "mitigated" for s in changed.values())
    opened = {o["threat"] for o in diff["opened"][profile.id] if o["element"] == "auth-service"}
    assert opened == only
    component = next(c for c in diff["coverage"][profile.id]["components"] if c["component"] == "auth-service")
    assert component["new"]["ratio"] < component["old"]["ratio"]


def test_identical_models_give_an_empty_diff(files, with_catalogs):
    result = run(files[0], files[0], "--format", "json")
    diff = json.loads(result.stdout)
    assert is_empty(diff) and diff["threats"] == {"gained": [], "lost": []}
    assert "no change to the threat model" in run(files[0], files[0]).stdout


def test_fail_on_exit_codes(files, assessed, with_catalogs):
    summary = assessed[2]["summary"]
    assert summary["gained_critical"] and summary["gained_high"]
    result = run(*files, "--fail-on", "new-critical", code=3)
    assert "Threats gained" in result.stdout and "failing on new-critical" in result.stderr
    run(*files, "--fail-on", "new-high", code=3)
    run(files[0], files[0], "--fail-on", "new-high", "--fail-on", "coverage-drop", "--fail-on", "stale-decision")
    run(*files, "--fail-on", "no-such-gate", code=2)


def test_coverage_drop(files, with_catalogs):
    """Back from NEW to OLD: the webhook's threats go, and so does coverage the webhook brought."""
    diff = json.loads(run(files[1], files[0], "--format", "json").stdout)
    change = diff["coverage"][DEFAULT_PROFILE]
    code = 3 if change["new"]["ratio"] < change["old"]["ratio"] else 0
    run(files[1], files[0], "--fail-on", "coverage-drop", code=code)
    assert _pairs(diff["threats"]["lost"]) == _pairs(json.loads(run(*files, "--format", "json").stdout)["threats"]["gained"])


def _git(folder, *args):
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def test_revision_path(files, tmp_path, monkeypatch, with_catalogs):
    _git(tmp_path, "init", "-q", "-b", "main")
    model = tmp_path / "threat-model.yaml"
    for text, message in zip(_versions(), ("old", "new")):
        model.write_text(text, encoding="utf-8")
        _git(tmp_path, "add", "threat-model.yaml")
        _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
    monkeypatch.chdir(tmp_path)
    by_revision = json.loads(run("HEAD~1:threat-model.yaml", "HEAD:threat-model.yaml", "--format", "json").stdout)
    by_file = json.loads(run(*files, "--format", "json").stdout)
    assert by_revision["threats"] == by_file["threats"] and by_revision["states"] == by_file["states"]
    assert "invalid object name" in run("nope:threat-model.yaml", "threat-model.yaml", code=2).stderr
    assert "git cannot show it" in run("HEAD:missing.yaml", "threat-model.yaml", code=2).stderr
    monkeypatch.setenv("PATH", "/nonexistent")
    assert "git is not installed" in run("HEAD:threat-model.yaml", "threat-model.yaml", code=2).stderr


def test_stored_versions(files, tmp_path, with_catalogs):
    store = open_store(str(tmp_path / "store"))
    for path in files:
        versions.add(store, load_model(path), path.read_text(encoding="utf-8"))
    store.flush()
    del store                  # the embedded store is locked while open: the command opens it again
    gc.collect()
    url = str(tmp_path / "store")
    stored = json.loads(run("ai-system@previous", "ai-system@current", "--store", url, "--format", "json").stdout)
    by_file = json.loads(run(*files, "--format", "json").stdout)
    assert stored["threats"] == by_file["threats"] and stored["structure"] == by_file["structure"]
    message = run("ai-system@20000101T000000Z", "ai-system@current", "--store", url, code=2).stderr
    assert "only the current and the previous versions are kept" in message
    assert "no such system" in run("other@current", "ai-system@current", "--store", url, code=2).stderr


def test_catalog_releases(files, with_catalogs):
    release = installed.current().release
    assert "no change" in run(files[0], "--old-release", release, "--new-release", release).stdout
    assert "no such installed catalog release" in run(files[0], "--old-release", "x", "--new-release", release,
                                                      code=2).stderr
    run(files[0], code=2)


def test_sarif_is_valid_and_points_at_the_new_lines(files, with_catalogs):
    import jsonschema
    log = json.loads(run(*files, "--format", "sarif").stdout)
    assert not [e.message for e in jsonschema.Draft4Validator(official_schema()).iter_errors(log)]
    results = log["runs"][0]["results"]
    lines = files[1].read_text(encoding="utf-8").splitlines()
    webhook = next(r for r in results if r["properties"]["element"] == "webhook")
    line = webhook["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert lines[line - 1].strip() == "- id: webhook"
    assert {r["properties"]["state"] for r in results} <= {"required", "uncovered"}


def test_markdown_in_a_browser(files, with_catalogs, browser):
    import markdown
    text = run(*files, "--format", "markdown").stdout
    assert text.startswith("**ThreatKG diff")
    page = browser.new_page()
    page.set_content(markdown.markdown(text, extensions=["tables"]))
    headings = page.locator("h3").all_inner_texts()
    assert headings[:2] == ["Model changes", "Threats gained"]
    assert page.locator("table").count() == len(headings)
    assert page.locator("table").nth(1).locator("td", has_text="webhook").count() > 0
    page.screenshot(path=str(ARTIFACTS / "diff-markdown.png"), full_page=True)
    page.close()
