"""Threat states (kg.coverage): implementing one more requirement on an element moves exactly the
threats it addresses there to `mitigated` and leaves every other element as it was; a requirement
of the profile that is not implemented shows as `required`, named; the CLI shows both ratios."""

import json
from collections import Counter

import pytest
import yaml
from click.testing import CliRunner

from kg.analysis import analyse
from kg.catalogs import installed
from kg.cli import main
from kg.coverage import IN_PLACE, OPEN_STATES, STATES, coverage
from kg.model.load import parse_model
from kg.profiles import load
from tests.conftest import REPO

PROFILE = "asvs-4.0.3-L1"
MODELS = ["ai-system.yaml", "rag-assistant.yaml"]


def _coverage(text: str, name: str, catalogs, profile=PROFILE) -> dict:
    analysis = analyse(parse_model(text, name), catalogs=catalogs)
    return coverage(analysis, load(profile) if isinstance(profile, str) else profile)


def _states(result: dict) -> dict:
    return {c["component"]: c["states"] for c in result["components"]}


def _implementing(text: str, requirement: str, element: str) -> str:
    doc = yaml.safe_load(text)
    doc.setdefault("requirements", []).append({"id": requirement, "components": [element]})
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture(scope="module")
def catalogs(catalog_home):
    return installed.current(catalog_home)


@pytest.mark.parametrize("name", MODELS)
def test_implementing_a_required_requirement_mitigates_exactly_what_it_addresses(name, catalogs):
    text = (REPO / "examples" / name).read_text()
    before = _coverage(text, name, catalogs)
    states = _states(before)
    # the element and profile requirement that would mitigate the most of its required threats
    (element, requirement), count = Counter((c, r) for c, threats in states.items() for s in threats.values()
                                            for r in s["requires"]).most_common(1)[0]
    assert count >= 1
    moved = {t for t, s in states[element].items() if requirement in s["requires"]}
    after = _coverage(_implementing(text, requirement, element), name, catalogs)
    now = _states(after)
    assert {t for t, s in now[element].items() if s["state"] != states[element][t]["state"]} == moved
    assert all(now[element][t]["state"] == "mitigated"
               and any(b["id"] == requirement and b["kind"] == "implemented" for b in now[element][t]["by"])
               for t in moved)
    assert {c: s for c, s in now.items() if c != element} == {c: s for c, s in states.items() if c != element}
    was = next(c for c in before["components"] if c["component"] == element)
    became = next(c for c in after["components"] if c["component"] == element)
    assert became["implemented_ratio"] > was["implemented_ratio"] and became["ratio"] == was["ratio"]
    assert after["totals"]["mitigated"] == before["totals"]["mitigated"] + len(moved)
    assert after["totals"]["required"] == before["totals"]["required"] - len(moved)


def test_states_partition_every_part_and_name_what_is_required(catalogs):
    text = (REPO / "examples" / "ai-system.yaml").read_text()
    result = _coverage(text, "ai-system.yaml", catalogs)
    assert {k: result["totals"][k] for k in ("threats", *STATES)} == \
        {"threats": 157, "mitigated": 78, "required": 41, "uncovered": 38,
         "accepted": 0, "transferred": 0, "false-positive": 0}
    for c in result["components"]:
        assert sorted(c["mitigated"] + c["required"] + c["uncovered"]) == sorted(c["threats"])
        for threat, s in c["states"].items():
            assert s["state"] in ("mitigated", "required", "uncovered")
            assert bool(s["by"]) == (s["state"] == "mitigated")
            assert bool(s["requires"]) == (s["state"] == "required")
            assert all(b["kind"] in ("implemented", "control") for b in s["by"])
            assert all(r.startswith("v4.0.3-") for r in s["requires"])
            assert (threat in c["open"]) == (s["state"] in OPEN_STATES)
    for part in [result["totals"], *result["zones"].values(), *result["properties"].values()]:
        assert sum(part[s] for s in STATES) == part["threats"]
        assert part["implemented_ratio"] <= part["ratio"]


def test_in_place_has_no_required_state(catalogs):
    text = (REPO / "examples" / "ai-system.yaml").read_text()
    totals = _coverage(text, "ai-system.yaml", catalogs, IN_PLACE)["totals"]
    assert totals["required"] == 0 and totals["mitigated"] and totals["uncovered"]
    assert totals["ratio"] == totals["implemented_ratio"]


def test_cli_coverage_shows_states_and_both_ratios(catalog_home):
    env = {"THREATKG_HOME": str(catalog_home)}
    model = str(REPO / "examples" / "ai-system.yaml")
    table = CliRunner().invoke(main, ["coverage", model, "--profile", PROFILE], env=env)
    assert table.exit_code == 0, table.output
    header = table.output.splitlines()[2].split()
    assert header == ["COMPONENT", "ZONE", "THREATS", "MITIGATED", "REQUIRED", "UNCOVERED", "DECIDED", "RATIO",
                      "IMPLEMENTED_RATIO"]
    system = next(line for line in table.output.splitlines() if line.startswith("(system)")).split()
    assert system[1:] == ["157", "78", "41", "38", "0", "0.758", "0.497"]
    data = json.loads(CliRunner().invoke(main, ["coverage", model, "--profile", PROFILE, "--format", "json"],
                                         env=env).output)
    auth = next(c for c in data["components"] if c["component"] == "auth-service")
    required = {t: s["requires"] for t, s in auth["states"].items() if s["state"] == "required"}
    assert required and all(required.values())
