"""A stored system's versions and the changes between two, on a server on a store: the example
without its dmz-isolation control, then with a webhook component (and its flow), then without the
implemented requirement v4.0.3-2.2.1 on auth-service. The list, the changes page (the webhook's
gained threats, the requirement no longer implemented, the states it changes), the defaults,
unknown versions (404 pages, JSON errors), the API against kg.diff.compare as `threatkg diff`
computes it, nothing computed that the versions' kept answers hold, no versions on a server of
model files, and the changes page in Chromium (screenshots in /tmp/versions-*.png)."""

import html as markup
import re

import pytest
import yaml

from kg.catalogs import installed
from kg.diff import compare, sources
from kg.profiles import DEFAULT_PROFILE, load
from tests.conftest import EXAMPLE
from tests.web.conftest import SYSTEM, make_app, serve

REMOVED = "v4.0.3-2.2.1"
SCREENSHOTS = "/tmp/versions-{}.png"


def _texts() -> list[str]:
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    # without dmz-isolation, auth-service counts on its requirements alone
    doc["controls"] = [c for c in doc["controls"] if c["id"] != "dmz-isolation"]
    first = yaml.safe_dump(doc, sort_keys=False)
    doc["components"].append({"id": "webhook", "label": "Webhook receiver", "kinds": ["web-application"],
                              "zone": "dmz", "attributes": {"internet_facing": True,
                                                            "processes_untrusted_input": True}})
    doc["flows"].append({"id": "gateway-webhook", "source": "api-gateway", "target": "webhook",
                         "protocol": "https", "data": ["events"]})
    second = yaml.safe_dump(doc, sort_keys=False)
    doc["requirements"] = [r for r in doc["requirements"] if r["id"] != REMOVED]
    return [first, second, yaml.safe_dump(doc, sort_keys=False)]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list:
    folder = tmp_path_factory.mktemp("versions")
    paths = [folder / f"v{i}.yaml" for i in (1, 2, 3)]
    for path, text in zip(paths, _texts()):
        path.write_text(text, encoding="utf-8")
    return paths


def _ids(client) -> list[str]:
    """The kept versions' ids, newest first."""
    return [v["id"] for v in client.get(f"/api/systems/{SYSTEM}/versions").get_json()["versions"]]


@pytest.fixture(scope="module")
def two(files, catalog_home):
    """A server on an in-memory store holding the first two versions."""
    return make_app(files[:2], catalog_home, STORE="memory:")


@pytest.fixture(scope="module")
def three(files, catalog_home):
    """A server on an in-memory store to which the three versions were added (the first is dropped)."""
    return make_app(files, catalog_home, STORE="memory:")


def _text(response) -> str:
    return markup.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def test_the_system_pages_link_to_versions_and_changes(two):
    client = two.test_client()
    for path in (f"/system/{SYSTEM}", f"/system/{SYSTEM}/coverage"):
        page = client.get(path).get_data(as_text=True)
        assert f'href="/system/{SYSTEM}/versions"' in page and f'href="/system/{SYSTEM}/changes"' in page, path


def test_the_list_names_each_kept_version_with_its_source_release_and_role(two, files):
    client = two.test_client()
    listed = client.get(f"/api/systems/{SYSTEM}/versions").get_json()["versions"]
    assert [v["current"] for v in listed] == [True, False]
    assert [v["source"] for v in listed] == [str(files[1]), str(files[0])]
    assert all(v["release"] == two.extensions["registry"].snapshot().release.iri.rsplit("/", 1)[-1] for v in listed)
    assert listed[0]["predecessor"] == listed[1]["id"] and listed[1]["predecessor"] is None
    assert listed[0]["changes"] == f"/api/systems/{SYSTEM}/changes?old={listed[1]['id']}&new={listed[0]['id']}"
    page = client.get(f"/system/{SYSTEM}/versions")
    assert page.status_code == 200
    text = _text(page)
    for v in listed:
        assert v["id"] in text and v["source"] in text and v["created"][:10] in text
    assert "current" in text and "previous" in text and "the oldest kept version" in text
    html = page.get_data(as_text=True)
    assert f'href="/system/{SYSTEM}/changes?old={listed[1]["id"]}&amp;new={listed[0]["id"]}"' in html


def test_the_changes_page_shows_the_added_components_gained_threats(two):
    client = two.test_client()
    new, old = _ids(client)
    diff = client.get(f"/api/systems/{SYSTEM}/changes").get_json()
    gained = [g for g in diff["threats"]["gained"] if g["element"] == "webhook"]
    assert gained and diff["structure"]["components"]["added"] == ["webhook"]
    page = client.get(f"/system/{SYSTEM}/changes")
    assert page.status_code == 200
    html, text = page.get_data(as_text=True), _text(page)
    assert f'<option value="{old}" selected' in html and f'<option value="{new}" selected' in html
    assert "webhook" in text and "gateway-webhook" in text and "No changes" not in text
    for g in gained:
        assert f'href="/threat/{g["threat"]}"' in html and g["label"] in text
    assert f"{len(diff['threats']['gained'])} threats gained" in text
    explicit = client.get(f"/system/{SYSTEM}/changes?old={old}&new={new}")
    assert explicit.get_data() == page.get_data()
    assert client.get(f"/system/{SYSTEM}/changes?old=previous&new=current").get_data() == page.get_data()


def test_changes_are_read_from_the_answers_kept_with_each_version(two, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("computed by the server, not read from the kept answers")
    for name in ("candidates", "add_risk", "profile_coverage", "fold_pairs"):
        monkeypatch.setattr(f"kg.assessment.{name}", refuse)
    two.extensions.pop("version_changes", None)
    client = two.test_client()
    for query in ("", "?profile=asvs-4.0.3-L2&profile=owasp-llm-top10-2025"):
        assert client.get(f"/system/{SYSTEM}/changes{query}").status_code == 200, query
        assert client.get(f"/api/systems/{SYSTEM}/changes{query}").status_code == 200, query


def test_the_same_version_twice_says_no_changes(two):
    client = two.test_client()
    new, _ = _ids(client)
    page = client.get(f"/system/{SYSTEM}/changes?old={new}&new={new}")
    assert page.status_code == 200 and "No changes" in _text(page)


def test_unknown_versions_systems_and_profiles_are_404(two):
    client = two.test_client()
    for query in ("old=20000101T000000Z", "new=nope", "profile=../etc/passwd"):
        page = client.get(f"/system/{SYSTEM}/changes?{query}")
        assert page.status_code == 404 and "Traceback" not in page.get_data(as_text=True), query
        api = client.get(f"/api/systems/{SYSTEM}/changes?{query}")
        assert api.status_code == 404 and api.get_json()["error"] == "Not Found", query
    assert "No version 20000101T000000Z" in _text(client.get(f"/system/{SYSTEM}/changes?old=20000101T000000Z"))
    for path in ("/system/other/versions", "/system/other/changes", "/api/systems/other/versions"):
        assert client.get(path).status_code == 404, path


def test_the_api_gives_what_threatkg_diff_computes(three, files, catalog_home):
    client = three.test_client()
    current, previous = _ids(client)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THREATKG_HOME", str(catalog_home))
        catalogs = installed.current()
        before, after = (sources.resolve(str(f)).assess("fast", catalogs) for f in files[1:])
        expected = compare(before, after, [load(DEFAULT_PROFILE), load("asvs-4.0.3-L1")])
    api = client.get(f"/api/systems/{SYSTEM}/changes?old={previous}&new={current}"
                     f"&profile={DEFAULT_PROFILE}&profile=asvs-4.0.3-L1").get_json()
    assert api == expected
    assert api["structure"]["requirements"]["removed"] == [{"element": "auth-service", "requirement": REMOVED}]
    text = _text(client.get(f"/system/{SYSTEM}/changes"))
    assert "no longer implemented" in text and REMOVED in text
    assert api["states"][DEFAULT_PROFILE]
    for state in api["states"][DEFAULT_PROFILE]:
        assert f"{state['old']} → {state['new']}" in text


def test_only_the_current_and_previous_versions_are_kept(three):
    client = three.test_client()
    assert len(_ids(client)) == 2
    listed = client.get(f"/api/systems/{SYSTEM}/versions").get_json()["versions"]
    assert all("v1.yaml" not in v["source"] for v in listed)


def test_a_server_of_model_files_has_no_versions(client):
    assert 'href="/system/ai-system/versions"' not in client.get(f"/system/{SYSTEM}").get_data(as_text=True)
    for path in (f"/system/{SYSTEM}/versions", f"/system/{SYSTEM}/changes", f"/api/systems/{SYSTEM}/versions",
                 f"/api/systems/{SYSTEM}/changes"):
        assert client.get(path).status_code == 404, path


def test_the_changes_page_in_chromium(two, three, browser):
    with serve(two) as url:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        tab = context.new_page()
        errors = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(f"{url}/system/{SYSTEM}/versions")
        tab.screenshot(path=SCREENSHOTS.format("list"), full_page=True)
        tab.click("text=Changes from")
        assert "/changes?old=" in tab.url and tab.locator("#threats-gained").is_visible()
        new, old = _option_values(tab)
        tab.select_option("#old", new)
        tab.click("button:has-text('Compare')")
        assert tab.locator("#no-changes").is_visible()
        tab.screenshot(path=SCREENSHOTS.format("same"), full_page=True)
        tab.select_option("#old", old)
        tab.select_option("#new", new)
        tab.select_option("#profile", "asvs-4.0.3-L1")
        tab.click("button:has-text('Compare')")
        assert "profile=asvs-4.0.3-L1" in tab.url and tab.locator("#threats-gained h3").count() >= 1
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        tab.screenshot(path=SCREENSHOTS.format("changes"), full_page=True)
        tab.screenshot(path=SCREENSHOTS.format("top"))
        assert not errors
        context.close()
    with serve(three) as url:      # the requirement no longer implemented: states change
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        tab = context.new_page()
        tab.goto(f"{url}/system/{SYSTEM}/changes")
        assert tab.locator("#states tbody tr").count() >= 1
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        tab.screenshot(path=SCREENSHOTS.format("states"), full_page=True)
        context.close()


def _option_values(tab) -> tuple[str, str]:
    """(newest, oldest) version ids of the selects."""
    values = [o.get_attribute("value") for o in tab.locator("#old option").all()]
    return values[0], values[-1]
