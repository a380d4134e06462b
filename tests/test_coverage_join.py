"""Coverage as a set join equals the plain nested-loop definition, byte for byte: every example
model under every built-in profile (and the example profiles, and IN_PLACE), and a generated
100-component system."""

import json

import pytest
import yaml

from bench.generate import generate
from kg.analysis import analyse
from kg.catalogs import installed
from kg.coverage import IN_PLACE, STATES, _properties, _ratio, _totals, _zones, coverage
from kg.model.load import load_model, parse_model
from kg.namespaces import model_iri
from kg.ontology import stride
from kg.profiles import builtin, load
from kg.threats import threat_rows
from tests.conftest import REPO

MODELS = sorted((REPO / "examples").glob("*.yaml"))
PROFILES = [*builtin(), *map(str, sorted((REPO / "examples" / "profiles").glob("*.yaml")))]


def _letters(row) -> str:
    if row["stride"]:
        return row["stride"]
    return "".join(c.letter for c in stride() if row["source"] == "STRIDE" and c.id == row["threat"])


def _addressed_by(a, profile, row, members, implemented, chains, mitigations) -> list[dict]:
    """By definition: each requirement the element may count on with a chain to the threat (its
    shortest, the first of equal lengths), each control covering it that mitigates the threat or
    one of the row's STRIDE categories."""
    element = str(model_iri(a.model.system, row["component"]))
    may_use = implemented.get(element, set()) | (members if profile.kind == "requirements" else set())
    categories = {str(c.iri) for c in stride() if c.letter in _letters(row)}
    by = {}
    for requirement in may_use:
        if found := chains.get((requirement, row["iri"])):
            chain = min(found, key=lambda m: len(m["chain"]))
            by[requirement] = {"id": chain["requirement"],
                               "kind": "implemented" if requirement in implemented.get(element, set()) else "profile",
                               "via": chain["via"], "provenance": chain["provenance"]}
    for m in mitigations:
        if m["element"] == element and (m["mitigated"] == row["iri"] or m["mitigated"] in categories):
            by[m["control"]] = {"id": m["controlId"], "kind": "control",
                                "via": f"control {m['controlId']} covers the element", "provenance": "curated"}
    return sorted(by.values(), key=lambda b: (b["kind"], b["id"]))


def reference(a, profile, rows) -> dict:
    system = a.model.system_iri
    members = profile.members(a.store)
    implemented = {}
    for sol in a.named("implemented", system=system):
        implemented.setdefault(sol["element"].value, set()).add(sol["requirement"].value)
    mitigations = [{k: sol[k].value for k in ("element", "control", "controlId", "mitigated")}
                   for sol in a.named("control-mitigations", system=system)]
    zone_of = {sol["elementId"].value: sol["zoneId"].value for sol in a.named("element-zones-direct", system=system)}
    in_scope = [r for r in rows if (r["iri"] in members if profile.kind == "threats" else
                                    r["source"] != "STRIDE" if profile.kind == "requirements" else True)]
    requirements = set().union(*implemented.values(), members if profile.kind == "requirements" else set())
    chains = {}    # (requirement, threat) → its chains, in MappingIndex order
    for m in a.mappings.select(requirements, {r["iri"] for r in in_scope}):
        chains.setdefault((m["requirementIri"], m["threatIri"]), []).append(m)
    components = {}
    for r in in_scope:
        c = components.setdefault(r["component"], {"component": r["component"], "zone": zone_of.get(r["component"]),
                                                   "threats": [], "addressed_by": {}, "states": {},
                                                   **{s: [] for s in STATES}, "stride": {}})
        c["threats"].append(r["threat"])
        by = _addressed_by(a, profile, r, members, implemented, chains, mitigations)
        in_place = [b for b in by if b["kind"] != "profile"]
        state = ({"state": "mitigated", "by": in_place, "requires": []} if in_place else
                 {"state": "required", "by": [], "requires": [b["id"] for b in by]} if by else
                 {"state": "uncovered", "by": [], "requires": []})
        c["states"][r["threat"]] = state
        c[state["state"]].append(r["threat"])
        if by:
            c["addressed_by"][r["threat"]] = by
        for letter in _letters(r):
            s = c["stride"].setdefault(letter, {"threats": 0, **{state: 0 for state in STATES}})
            s["threats"] += 1
            s[state["state"]] += 1
    for c in components.values():
        c["addressed"] = [t for t in c["threats"] if t not in c["uncovered"]]
        c["open"] = [t for t in c["threats"] if t in c["required"] or t in c["uncovered"]]
        c["ratio"] = _ratio(len(c["addressed"]), len(c["threats"]))
        c["implemented_ratio"] = _ratio(len(c["mitigated"]), len(c["threats"]))
        c["stride"] = {letter: {**s, "addressed": s["threats"] - s["uncovered"], "open": s["required"] + s["uncovered"],
                                "ratio": _ratio(s["threats"] - s["uncovered"], s["threats"]),
                                "implemented_ratio": _ratio(s["mitigated"], s["threats"])}
                       for letter, s in c["stride"].items()}
    listed = sorted(components.values(), key=lambda c: c["component"])
    return {"system": a.model.system, "profile": {"id": profile.id, "title": profile.title, "kind": profile.kind},
            "components": listed, "totals": _totals(listed), "properties": _properties(listed),
            "zones": _zones(listed), "open_ranked": [{"component": c["component"], "threat": t}
                                                     for c in listed for t in c["open"]]}


@pytest.fixture(scope="module")
def analysed(catalog_home):
    catalogs = installed.current(catalog_home)
    models = [load_model(path) for path in MODELS] + [parse_model(yaml.safe_dump(generate(100)), "bench-100.yaml")]
    return [(a, threat_rows(a)) for a in (analyse(m, catalogs=catalogs) for m in models)]


@pytest.mark.parametrize("profile", [*PROFILES, IN_PLACE.id])
def test_coverage_is_the_nested_loop_definition(analysed, profile):
    profile = IN_PLACE if profile == IN_PLACE.id else load(profile)
    for a, rows in analysed:
        expected = reference(a, profile, rows)
        assert json.dumps(coverage(a, profile, rows)) == json.dumps(expected), (a.model.system, profile.id)


def test_the_reference_sees_every_state(analysed):
    """The comparison is not vacuous: requirements, controls and every state occur."""
    kinds, states = set(), set()
    for a, rows in analysed:
        for name in ("asvs-4.0.3-L1", "stride-properties"):
            result = coverage(a, load(name), rows)
            states |= {s["state"] for c in result["components"] for s in c["states"].values()}
            kinds |= {b["kind"] for c in result["components"] for by in c["addressed_by"].values() for b in by}
    assert kinds == {"profile", "control", "implemented"} and states == {"mitigated", "required", "uncovered"}
