"""The answers about every example and a generated 100-component system — threat rows with their
explanations, excluded candidates, rated and folded rows, coverage by what is in place and by every
built-in profile, the report — are the ones recorded in tests/data/answers-digest.json, in memory and
from each store (embedded, Oxigraph server, Virtuoso). Speed work must not change an answer; a change
meant to change answers records them again:

    python -m tests.test_answers_unchanged   (with the installed release: catalogs fetch --from ../shared/catalogs)
"""

import hashlib
import json
import sys

import pytest
import yaml

from bench.generate import generate
from kg.analysis import analyse
from kg.assessment import Assessment
from kg.coverage import IN_PLACE
from kg.model.load import parse_model
from kg.profiles import DEFAULT_PROFILE, builtin, load
from kg.store import open_store, registry
from kg.systems import releases, versions
from tests.conftest import REPO

DIGESTS = REPO / "tests" / "data" / "answers-digest.json"
STORES = ["embedded", "oxigraph", "virtuoso"]


def models() -> dict[str, str]:
    """Model name → its YAML text: every example and a generated 100-component system."""
    found = {p.name: p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").glob("*.yaml"))}
    found["generated-100.yaml"] = yaml.safe_dump(generate(100, seed=11, system="generated-100"))
    return found


def _digest(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def digests(assessed: Assessment) -> dict[str, str]:
    """A digest of each answer of an assessment."""
    out = {"rows": _digest(assessed.rows), "excluded": _digest(assessed.excluded),
           "rated": _digest(assessed.rated), "folded": _digest(assessed.threats())}
    for profile in [IN_PLACE] + [load(name) for name in sorted(builtin())]:
        out[f"coverage/{profile.id}"] = _digest(assessed.coverage(profile))
    report = assessed.report(load(DEFAULT_PROFILE))
    out["report"] = _digest({**report, "report": {k: v for k, v in report["report"].items()
                                                  if k != "catalog_release"}})   # its install's timestamp
    return out


def in_memory(name: str, text: str) -> dict[str, str]:
    return digests(Assessment(analyse(parse_model(text, name))))


@pytest.fixture(scope="module")
def recorded():
    return json.loads(DIGESTS.read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(models()))
def test_answers_in_memory_are_the_recorded_ones(name, recorded, with_catalogs):
    assert in_memory(name, models()[name]) == recorded[name]


@pytest.mark.slow
@pytest.mark.parametrize("kind", STORES)
def test_answers_from_a_store_are_the_recorded_ones(kind, recorded, request, with_catalogs):
    """Kept with each version (computed at `systems add` from the stored graphs, by the store's own
    queries); the systems this test adds to the session's shared Virtuoso are removed again."""
    url = {"embedded": lambda: "memory:", "oxigraph": lambda: request.getfixturevalue("fresh_oxigraph").base_url,
           "virtuoso": lambda: request.getfixturevalue("virtuoso").query_url}[kind]()
    store = open_store(url)
    releases.ensure(store)
    before = set(registry.snapshot(store).systems)
    try:
        for name, text in models().items():
            model = parse_model(text, name)
            versions.add(store, model, text)
            snap = registry.snapshot(store)
            kept = versions.assessment(store, snap, model.system)
            assert digests(kept) == recorded[name] and not kept.computed, name
    finally:
        for system in set(registry.snapshot(store).systems) - before:
            versions.remove(store, system)


if __name__ == "__main__":
    DIGESTS.write_text(json.dumps({name: in_memory(name, text) for name, text in models().items()}, indent=2)
                       + "\n", encoding="utf-8")
    sys.exit(0)
