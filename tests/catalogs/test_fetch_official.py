"""`threatkg catalogs fetch` from the publishers: a local HTTP server laid out like the official URLs
(THREATKG_OFFICIAL_BASE), serving files made at test time from the shared catalogs: the identical
files copied, CWE zipped, CAPEC's bundle re-serialized as MITRE's single file and the OWASP markdown
pages written from the mirror CSVs (so the test sources.yaml takes their digests)."""

import csv
import functools
import hashlib
import io
import json
import shutil
import threading
import zipfile
from dataclasses import replace
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from click.testing import CliRunner
from rdflib.compare import to_isomorphic

from kg.catalogs import download, install, installed, owasp_top10, owasp_top10_markdown, sources
from kg.catalogs.rdfbuild import CatalogGraph
from kg.cli import main
from tests.catalogs.test_fetch import EXPECTED, _Handler, assert_kept


def _official_path(url: str) -> str:
    return unquote(url.split("://", 1)[1])


def _top10_pages(csv_file: Path, year: str) -> dict[str, str]:
    """Category number (A01) -> a page in the official layout of that year."""
    rows = list(csv.DictReader(csv_file.open(encoding="utf-8")))
    pages = {}
    for cid in dict.fromkeys(r["category_id"] for r in rows):
        cat = [r for r in rows if r["category_id"] == cid]
        title = f"# {cid} – {cat[0]['category_name']}" if year == "2021" else \
            f"# {cid} {cat[0]['category_name']} ![icon](../assets/icon.png)"
        bullet = "" if year == "2021" else "* "
        links = "\n\n".join(f"{bullet}[{r['cwe_id']} {r['cwe_name_as_listed']}]"
                            f"(https://cwe.mitre.org/data/definitions/{r['cwe_id'][4:]}.html)" for r in cat)
        pages[cid.split(":")[0]] = f"{title}\n\n## Factors\n\nText.\n\n## List of Mapped CWEs\n\n{links}\n"
    return pages


def _llm_pages(csv_file: Path) -> dict[str, str]:
    rows = list(csv.DictReader(csv_file.open(encoding="utf-8")))
    pages = {}
    for rid in dict.fromkeys(r["llm_id"] for r in rows):
        risk = [r for r in rows if r["llm_id"] == rid and r["ref_url"]]
        page = f"## {rid} {rows[[r['llm_id'] for r in rows].index(rid)]['llm_name']}\n\n### Description\n\nText.\n"
        if risk:
            page += "\n### Related Frameworks and Taxonomies\n\nRefer to this section.\n\n" + "".join(
                f"- [{r['ref_label']}]({r['ref_url']}) **{r['framework']}**\n" for r in risk)
        pages[rid.split(":")[0]] = page
    return pages


def _official_content(shared: Path, catalog: sources.CatalogSource, spec: sources.SourceFile) -> bytes:
    """What the publisher's file holds, made from the shared mirror files."""
    name = Path(spec.path).name
    if catalog.name == "capec":
        bundle = json.loads((shared / catalog.files[0].path).read_text(encoding="utf-8"))
        return json.dumps(bundle, indent=4, sort_keys=True).encode()  # as MITRE writes it
    if catalog.name == "owasp-top10":
        folder = shared / catalog.folder
        pages = {**{f"{k}_2021": v for k, v in _top10_pages(folder / owasp_top10.TOP10["2021"], "2021").items()},
                 **{f"{k}_2025": v for k, v in _top10_pages(folder / owasp_top10.TOP10["2025"], "2025").items()},
                 **_llm_pages(folder / owasp_top10.LLM_FILE)}
        return pages[name.split("-")[0] if name.startswith("A") else name.split("_")[0]].encode()
    return (shared / spec.path).read_bytes()


@pytest.fixture(scope="module")
def official(shared_catalogs, tmp_path_factory):
    """(tree laid out like the official URLs, a sources.yaml whose official digests are of its files)."""
    tree = tmp_path_factory.mktemp("official")
    data = yaml.safe_load(sources.sources_file().read_text(encoding="utf-8"))
    for name, catalog in sources.load_sources().items():
        for i, spec in enumerate(catalog.layout(official=True)[1]):
            body = _official_content(shared_catalogs, catalog, spec)
            target = tree / _official_path(spec.url)
            target.parent.mkdir(parents=True, exist_ok=True)
            if spec.zip_member:
                with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
                    zf.writestr(spec.zip_member, body)
            else:
                target.write_bytes(body)
            if catalog.official:
                entry = data["catalogs"][name]["official"]["files"][i]
                entry.pop("git_blob", None), entry.pop("max_size", None)
                entry.update(sha256=hashlib.sha256(body).hexdigest(), size=len(body))
    test_sources = tree.parent / "sources.yaml"
    test_sources.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tree, test_sources


@pytest.fixture(scope="module")
def server(official):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(official[0])))
    httpd.faults, httpd.extra = {}, {}
    httpd.stalled, httpd.release = threading.Event(), threading.Event()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def env(official, server):
    """The test sources.yaml and THREATKG_OFFICIAL_BASE for every test of the module."""
    patch = pytest.MonkeyPatch()
    patch.setattr(sources, "sources_file", lambda: official[1])
    patch.setenv("THREATKG_OFFICIAL_BASE", server.url)
    yield server
    patch.undo()


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["catalogs", *args], env={"THREATKG_HOME": str(home)})


@pytest.fixture(scope="module")
def fetched(env, tmp_path_factory):
    """(THREATKG_HOME, stdout) of one `threatkg catalogs fetch` without arguments."""
    home = tmp_path_factory.mktemp("home")
    result = run(home, "fetch")
    assert result.exit_code == 0, result.output
    return home, result.stdout


@pytest.fixture(scope="module")
def home(fetched):
    return fetched[0]


def test_fetch_without_arguments_uses_the_official_urls(fetched, env):
    home, out = fetched
    current = installed.require(home)
    found = {g["graph"]: g["counts"] for e in current.catalogs.values() for g in e["graphs"]}
    for graph, expected in EXPECTED.items():
        assert {k: found[graph][k] for k in expected} == expected, graph
    capec, top10 = current.catalogs["capec"], current.catalogs["owasp-top10"]
    assert [f["path"] for f in capec["files"]] == ["capec/stix-capec.json"]
    assert capec["files"][0]["from"] == f"{env.url}/raw.githubusercontent.com/mitre/cti/" \
                                        "b195cbc81adbfb8ca3306c283179168bdd9011fa/capec/2.1/stix-capec.json"
    body = (current.path / "sources" / "capec" / "stix-capec.json").read_bytes()
    assert capec["files"][0]["sha256"] == hashlib.sha256(body).hexdigest() and capec["files"][0]["size"] == len(body)
    assert top10["importer"] == "owasp_top10_markdown" and len(top10["files"]) == 30
    assert current.catalogs["cwe"]["files"][0]["from"].endswith("/cwe.mitre.org/data/xml/cwec_v4.15.xml.zip")
    assert {e["source"] for e in current.catalogs.values()} == {"official"}
    assert str(current.path) in out and "capec/3.9" in out and "attack_patterns=615" in out
    assert "owasp-llm-top10/2025" in out and "fetched capec, cwe, asvs, atlas, owasp-top10, cosai from the " \
                                             "publishers' downloads" in out


def test_markdown_pages_build_the_csv_graphs(official, shared_catalogs):
    folder = official[0].parent / "owasp-pages"
    folder.mkdir(exist_ok=True)
    for catalog in [sources.load_sources()["owasp-top10"]]:
        for spec in catalog.official:
            (folder / Path(spec.path).name).write_bytes((official[0] / _official_path(spec.url)).read_bytes())
    from_csv = owasp_top10.build(shared_catalogs / "owasp-top10")
    from_md = owasp_top10_markdown.build(folder)
    assert [(g.name, g.version) for g in from_md] == [(g.name, g.version) for g in from_csv]
    for md, csv_graph in zip(from_md, from_csv):
        assert to_isomorphic(md.graph) == to_isomorphic(csv_graph.graph), md.name


def test_git_blob_verification(tmp_path, env, official):
    spec = sources.load_sources()["capec"].official[0]
    body = (official[0] / _official_path(spec.url)).read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()
    pinned = replace(spec, sha256=None, size=len(body) + 10, git_blob=blob)
    download.fetch_file(pinned, tmp_path / spec.path)
    assert (tmp_path / spec.path).read_bytes() == body
    with pytest.raises(download.InputError, match=r"capec/stix-capec.json: verification failed: expected git blob"):
        download.fetch_file(replace(pinned, git_blob="0" * 40), tmp_path / "again" / spec.path)


@pytest.mark.parametrize("path, fault, message", [
    ("raw.githubusercontent.com/mitre/cti/b195cbc81adbfb8ca3306c283179168bdd9011fa/capec/2.1/stix-capec.json",
     "corrupt", "capec/stix-capec.json: verification failed"),
    ("raw.githubusercontent.com/OWASP/Top10/160f8416220a61130120ca88bfd526f4cbc877fc/2021/docs/en/"
     "A03_2021-Injection.md", "truncate", "owasp-top10/A03_2021-Injection.md: verification failed"),
])
def test_bad_official_download_keeps_previous_install(home, env, path, fault, message):
    before = installed.require(home)
    env.faults[path] = fault
    try:
        result = run(home, "fetch", "--only", "capec,owasp-top10")
    finally:
        env.faults.clear()
    assert_kept(home, before, result)
    assert message in result.stderr


def test_from_an_installed_release(home, tmp_path):
    """An installed release's sources folder (the publisher's files) serves --from."""
    release = installed.require(home)
    fresh = tmp_path / "home"
    result = run(fresh, "fetch", "--from", str(release.path / "sources"), "--only", "capec,owasp-top10")
    assert result.exit_code == 0, result.output
    again = installed.require(fresh)
    assert again.catalogs["owasp-top10"]["importer"] == "owasp_top10_markdown"
    assert again.catalogs["capec"]["graphs"][0]["counts"]["attack_patterns"] == 615  # STRIDE here without CWE


def test_verify(home, tmp_path):
    ok = run(home, "verify")
    assert ok.exit_code == 0, ok.output
    assert "capec 3.9: 1 file matches" in ok.stdout and "owasp-top10 2021+2025+llm-2025: 30 files match" in ok.stdout
    copy = tmp_path / "home"
    shutil.copytree(home, copy, symlinks=True)
    page = installed.require(copy).path / "sources" / "owasp-top10" / "A03_2021-Injection.md"
    page.write_text(page.read_text(encoding="utf-8").replace("CWE-89", "CWE-90"), encoding="utf-8")
    bad = run(copy, "verify")
    assert bad.exit_code == 2
    assert "owasp-top10: owasp-top10/A03_2021-Injection.md: changed since the fetch" in bad.stderr
    assert "differs from the pin in catalogs/sources.yaml" in bad.stderr


def test_markdown_problems_name_the_page(official, tmp_path):
    folder = tmp_path / "owasp-top10"
    folder.mkdir()
    for spec in sources.load_sources()["owasp-top10"].official:
        (folder / Path(spec.path).name).write_bytes((official[0] / _official_path(spec.url)).read_bytes())
    page = folder / "A03_2021-Injection.md"
    text = page.read_text(encoding="utf-8")
    for broken, message in [(text.replace("List of Mapped CWEs", "Mapped"), "no section 'List of Mapped CWEs'"),
                            (text.replace("# A03:2021", "# Injection", 1), "the title does not match")]:
        page.write_text(broken, encoding="utf-8")
        with pytest.raises(download.InputError, match=message) as err:
            owasp_top10_markdown.build(folder)
        assert "A03_2021-Injection.md" in str(err.value)
    page.unlink()
    with pytest.raises(download.InputError, match=r"expected 10 pages .*2021.*found 9"):
        owasp_top10_markdown.build(folder)


def test_a_version_other_than_the_pinned_one_is_refused():
    capec = sources.load_sources()["capec"]
    with pytest.raises(download.InputError, match="the files hold capec version 3.8; .* expects 3.9"):
        install._check_versions(capec, [CatalogGraph("capec", "3.8", "stix-capec.json")])


@pytest.mark.parametrize("extra, element", [
    ("", "catalogs.x.official"),
    ("    official:\n      files:\n        - {path: x/b.json, git_blob: abc, max_size: 9, url: https://e.org/b}\n",
     r"catalogs.x.official.files\[0\].git_blob"),
    ("    official:\n      files:\n        - {path: x/b.json, sha256: " + "a" * 64 + ", size: 9}\n",
     r"catalogs.x.official.files\[0\].url"),
])
def test_sources_yaml_official_entries(tmp_path, extra, element):
    bad = tmp_path / "sources.yaml"
    bad.write_text("catalogs:\n  x:\n    version: '1'\n    importer: x\n    licence: y\n    files:\n"
                   f"      - {{path: x/a.json, sha256: {'a' * 64}, size: 3, note: derived}}\n{extra}")
    with pytest.raises(download.InputError, match=element):
        sources.load_sources(bad)
