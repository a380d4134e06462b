"""One suite of questions asked of the same systems kept in three stores: embedded (pyoxigraph in
this process), an Oxigraph server and Virtuoso, both reached over the SPARQL protocol. Every answer
must be identical, and identical to the model analysed in memory without a store."""

import json
import re

import pytest
import yaml

from bench.generate import generate
from kg import answers
from kg.analysis import analyse
from kg.catalogs import installed
from kg.assessment import Assessment, profile_key
from kg.coverage import IN_PLACE, coverage
from kg.model.load import load_model, parse_model
from kg.ontology import LOOKUPS
from kg.paths import queries_dir
from kg.profiles import builtin, load
from kg.queries import run
from kg.report import build
from kg.store import open_store, registry
from kg.systems import across, releases, versions
from kg.threats import threat_rows
from tests.conftest import EXAMPLE

STORES = ["embedded", "oxigraph", "virtuoso"]
SECOND = "small-system"            # a second system, so that every question has more than one to tell apart
CAPEC_66 = "https://w3id.org/threatkg/id/capec/CAPEC-66"


def _second_model():
    text = yaml.safe_dump(generate(12, seed=3, system=SECOND))
    return parse_model(text, f"{SECOND}.yaml"), text


@pytest.fixture(scope="session")
def filled(request, catalog_home):
    """Each store with the installed release pushed, the example model and a small generated one."""
    made = {}

    def fill(kind):
        if kind not in made:
            url = {"embedded": lambda: "memory:", "oxigraph": lambda: request.getfixturevalue("oxigraph").base_url,
                   "virtuoso": lambda: request.getfixturevalue("virtuoso").query_url}[kind]()
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("THREATKG_HOME", str(catalog_home))
                store = open_store(url)
                releases.ensure(store)
                versions.add(store, load_model(EXAMPLE), EXAMPLE.read_text(encoding="utf-8"))
                versions.add(store, *_second_model())
            made[kind] = store
        return made[kind]
    return fill


@pytest.fixture(scope="session")
def classic(catalog_home):
    """The example analysed in memory, with the installed catalogs, as `threatkg threats FILE` does."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THREATKG_HOME", str(catalog_home))
        return analyse(load_model(EXAMPLE))


def _analysis(store, system="ai-system"):
    return versions.analysis(store, registry.snapshot(store), system)


# graph-of is a lookup of one triple, never run unbound; the ontology's lookups run once, when it is
# compiled in-process (kg.ontology), never on a store
ONTOLOGY_ONLY = {"graph-of", *LOOKUPS}


def _system_queries() -> list[str]:
    """The named queries a system answers with no other input than (at most) its IRI."""
    names = []
    for path in sorted(queries_dir().glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        others = set(re.findall(r"\$(\w+)", text)) - {"system"}
        if not others and not path.stem.startswith(("store-", "enrich-")) and path.stem not in ONTOLOGY_ONLY:
            names.append(path.stem)
    return names


def _answer(store, name: str, system) -> list[tuple]:
    """The query's rows as sorted tuples of N-Triples terms; GROUP_CONCAT values, whose order SPARQL
    leaves open, as their sorted parts."""
    text = (queries_dir() / f"{name}.rq").read_text(encoding="utf-8")
    concatenated = dict((v, sep) for sep, v in re.findall(r'GROUP_CONCAT\(.*?separator="(.*?)"\) AS \?(\w+)', text))
    bindings = {"system": system} if re.search(r"[?$]system\b", text) else {}
    solutions = run(store, name, **bindings)
    names = [v.value for v in solutions.variables]

    def term(sol, n):
        if sol[n] is None:
            return ""
        if n in concatenated:
            sep = concatenated[n]
            return "|".join(sorted(sol[n].value.split(sep) if sep else sol[n].value))
        return str(sol[n])
    return sorted(tuple(term(s, n) for n in names) for s in solutions)


@pytest.mark.parametrize("kind", STORES)
def test_threat_rows_with_explanations_equal_the_in_memory_analysis(kind, filled, classic):
    rows = threat_rows(_analysis(filled(kind)))
    assert len(rows) == 220
    assert rows == threat_rows(classic)


@pytest.mark.parametrize("kind", STORES)
def test_coverage_and_report_equal_the_in_memory_analysis(kind, filled, classic):
    analysis = _analysis(filled(kind))
    profile = load("asvs-4.0.3-L1")
    result = coverage(analysis, profile)
    assert (result["totals"]["addressed"], result["totals"]["threats"]) == (119, 157)
    assert (result["totals"]["mitigated"], result["totals"]["required"], result["totals"]["uncovered"]) == (78, 41, 38)
    assert result == coverage(classic, profile)
    assert build(analysis, profile) == build(classic, profile)


@pytest.mark.parametrize("kind", ["oxigraph", "virtuoso"])
@pytest.mark.parametrize("name", _system_queries())
def test_every_named_query_answers_the_same_on_a_server_as_embedded(kind, name, filled):
    embedded, server = _analysis(filled("embedded")), _analysis(filled(kind))
    iri = embedded.model.system_iri
    assert _answer(server.store, name, iri) == _answer(embedded.store, name, iri)


@pytest.mark.parametrize("kind", STORES)
def test_cross_system_questions(kind, filled):
    store = filled(kind)
    exposed = across.exposed(store, CAPEC_66, IN_PLACE)
    assert {(r["system"], r["component"], r["state"]) for r in exposed} >= {("ai-system", "data-layer", "mitigated")}
    assert exposed == across.exposed(filled("embedded"), CAPEC_66, IN_PLACE)
    by_system = across.coverage_by_system(store, load("asvs-4.0.3-L1"))
    assert [r["system"] for r in by_system] == ["ai-system", SECOND]
    assert (by_system[0]["addressed"], by_system[0]["threats"]) == (119, 157)
    assert (by_system[0]["mitigated"], by_system[0]["required"], by_system[0]["uncovered"]) == (78, 41, 38)
    assert by_system == across.coverage_by_system(filled("embedded"), load("asvs-4.0.3-L1"))


def test_cross_system_questions_over_a_hundred_systems(with_catalogs):
    """100 generated systems in one store: every one answers, and each answer is that system's own."""
    store = open_store("memory:")
    releases.ensure(store)
    texts = {}
    for i in range(100):
        system = f"sys-{i:03d}"
        texts[system] = yaml.safe_dump(generate(8, seed=i, system=system))
        versions.add(store, parse_model(texts[system], f"{system}.yaml"), texts[system])
    assert len(registry.snapshot(store).systems) == 100
    profile = load("asvs-4.0.3-L1")
    by_system = {r["system"]: r for r in across.coverage_by_system(store, profile)}
    assert sorted(by_system) == sorted(texts)
    alone = coverage(analyse(parse_model(texts["sys-042"], "sys-042.yaml")), profile)["totals"]
    assert {k: by_system["sys-042"][k] for k in alone} == alone
    exposed = across.exposed(store, CAPEC_66, IN_PLACE)
    inheriting = {r["system"] for r in exposed}
    for system in ("sys-007", "sys-042"):
        rows = threat_rows(analyse(parse_model(texts[system], f"{system}.yaml")), threat=CAPEC_66, explain=False)
        assert (system in inheriting) == bool(rows)
    assert inheriting and all(r["state"] in ("mitigated", "uncovered") and r["open"] == (r["state"] == "uncovered")
                              for r in exposed)


@pytest.mark.parametrize("kind", STORES)
def test_answers_kept_with_a_version_equal_the_in_memory_assessment(kind, filled, classic):
    store = filled(kind)
    kept = versions.kept_answers(store, registry.snapshot(store), "ai-system")
    memory = Assessment(classic)
    assert kept["rated"] == _plain(memory.rated) and kept["excluded"] == _plain(memory.excluded)
    for profile in [IN_PLACE] + [load(name) for name in builtin()]:
        assert kept[f"coverage/{profile_key(profile)}"] == _plain(memory.coverage(profile))
    read = versions.assessment(store, registry.snapshot(store), "ai-system")
    assert read.threats() == _plain(memory.threats()) and read.rows == _plain(memory.rows)
    assert read.threats("data-layer") == _plain(memory.threats("data-layer")) and not read.computed


def test_a_release_switch_keeps_the_answers_under_the_new_release(catalog_home, monkeypatch):
    monkeypatch.setenv("THREATKG_HOME", str(catalog_home))
    store = open_store("memory:")
    releases.ensure(store)
    versions.add(store, load_model(EXAMPLE), EXAMPLE.read_text(encoding="utf-8"))
    current = installed.current()
    renamed = installed.Installation(current.path, {**current.manifest, "release": current.release + "-next"})
    releases.push(store, renamed)
    snap = registry.snapshot(store)
    assert snap.release.iri.endswith("-next")
    kept = versions.kept_answers(store, snap, "ai-system")
    assert kept is not None and kept["rated"]


def test_answers_of_another_build_or_release_are_not_read(filled, monkeypatch):
    store = filled("embedded")
    monkeypatch.setattr(answers, "build_digest", lambda: "another build")
    assert versions.kept_answers(store, registry.snapshot(store), "ai-system") is None
    monkeypatch.undo()
    snap = registry.snapshot(store)
    assert versions.kept_answers(store, registry.Snapshot(snap.systems, None), "ai-system") is None


def _plain(data):
    """Data as kept answers hold it (JSON)."""
    return json.loads(json.dumps(data))
