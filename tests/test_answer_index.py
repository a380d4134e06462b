"""The answer index (kg.catalogs.index) gives every model answer the full catalog graphs give:
threat rows with their explanations and links, excluded candidates, coverage under every built-in
profile and the report data, for each example and (marked slow) a generated 100-component system."""

import json

import pytest
import yaml

from bench.generate import generate
from kg.analysis import analyse
from kg.assessment import Assessment
from kg.catalogs import index, installed
from kg.coverage import IN_PLACE
from kg.model.load import load_model, parse_model
from kg.profiles import DEFAULT_PROFILE, builtin, load
from tests.conftest import REPO

MODELS = sorted(p.name for p in (REPO / "examples").glob("*.yaml")) + [
    pytest.param("generated-100", marks=pytest.mark.slow)]   # ~30 s of the ~75 s the file takes


def _model(name: str):
    if name == "generated-100":
        return parse_model(yaml.safe_dump(generate(100), sort_keys=False), "generated-100.yaml")
    return load_model(REPO / "examples" / name)


def _answers(model, release, whole: bool) -> str:
    assessment = Assessment(analyse(model, catalogs=release, whole=whole))
    out = {"threats": assessment.threats(), "excluded": assessment.excluded,
           "coverage": {p.id: assessment.coverage(p) for p in [IN_PLACE, *map(load, builtin())]},
           "report": assessment.report(load(DEFAULT_PROFILE))}
    return json.dumps(out, sort_keys=True, ensure_ascii=False)


@pytest.fixture(scope="module")
def release(catalog_home):
    found = installed.current(catalog_home)
    assert index.usable(found) is not None, "the fetch wrote no answer index"
    return found


@pytest.mark.parametrize("name", MODELS)
def test_index_answers_equal_full_graphs(release, name):
    model = _model(name)
    assert _answers(model, release, whole=False) == _answers(model, release, whole=True)


def test_index_is_a_slice(release):
    entry = release.manifest["indexes"][index.NAME]
    full = sum(g["triples"] for c in release.catalogs.values() for g in c["graphs"])
    full += release.manifest["inferred"]["triples"]
    assert 0 < entry["triples"] < full
    assert entry["rules_sha256"] == index.rules_digest()


def test_release_without_index_loads_every_graph(release):
    """A release installed by an older version (no index in its manifest), or indexed by other
    rules, is read whole."""
    older = installed.Installation(release.path, {k: v for k, v in release.manifest.items() if k != "indexes"})
    other = installed.Installation(release.path, {**release.manifest, "indexes": {
        index.NAME: {**release.manifest["indexes"][index.NAME], "rules_sha256": "0" * 64}}})
    assert index.usable(older) is None and index.usable(other) is None
    model = _model("ai-system.yaml")
    full = len(analyse(model, catalogs=release, whole=True).store)
    assert len(analyse(model, catalogs=older).store) == full
    assert len(analyse(model, catalogs=release).store) < full


def test_query_command_sees_every_graph(release, with_catalogs):
    """`threatkg query` over a model still reads the whole catalogs, not the answer index."""
    from click.testing import CliRunner

    from kg.cli import main
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    result = CliRunner().invoke(main, ["query", str(REPO / "examples" / "ai-system.yaml"), count, "--format", "json"])
    assert result.exit_code == 0, result.output
    quads = int(json.loads(result.stdout)["results"]["bindings"][0]["n"]["value"])
    assert quads == sum(g["triples"] for c in release.catalogs.values() for g in c["graphs"]) \
        + release.manifest["inferred"]["triples"]


def test_index_keeps_the_types_applicability_conditions_select():
    """threat-conditions.rq reads `?threat a ?type` for each `types:` of catalogs/applicability.yaml."""
    from kg.namespaces import TM
    from kg.ontology import ontology
    _, types, _ = index.rules()
    assert {str(t) for t in ontology().objects(None, TM.constrainsType)} <= types
