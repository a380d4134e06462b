"""Coverage of a model by a requirement profile: per component, zone, STRIDE property and for the
system, the inherited threats and the state of each (element, threat) pair.

The rule (`_addressed_by`), closed-world, never OWL: a pair in scope is addressed by each
requirement the element may count on (the ones it implements, plus the profile's members when the
profile is of kind requirements) that addresses the threat through a mapping chain, and by each
control covering the element that mitigates the threat or one of the pair's STRIDE categories. It
is a set join: threat → the requirements addressing it, intersected with what the element may use;
elements that count on the same things share the work.

A pair's state (`state_of`) follows from what addresses it:
    mitigated   an implemented requirement or an existing control addresses it (`by`, with the chain);
    required    only requirements of the profile address it, none implemented yet (`requires`);
    uncovered   nothing in the profile addresses it.
A decision recorded in the model (kg.decisions) about a pair that nothing in place mitigates
decides its state: the decision's status (mitigated, accepted, transferred, false-positive;
ontologies/decisions.ttl), with the decision kept. What is in place outranks a decision.
`open` is required + uncovered; `addressed` (covered by the profile, or decided) is every other pair."""

from collections import defaultdict

from kg.analysis import Analysis
from kg.decisions import decided
from kg.namespaces import model_iri
from kg.ontology import decision_statuses, stride
from kg.profiles import Profile
from kg.threats import threat_rows

COMPUTED_STATES = ("mitigated", "required", "uncovered")
STATES = tuple(dict.fromkeys([*COMPUTED_STATES, *decision_statuses()]))
DECIDED_STATES = tuple(s for s in STATES if s not in COMPUTED_STATES)     # set by a recorded decision only
OPEN_STATES = frozenset({"required", "uncovered"})
IN_PLACE_KINDS = frozenset({"implemented", "control"})     # `addressed_by` kinds that are in place

IN_PLACE = Profile("in-place", "Implemented requirements and existing controls", "properties",
                   "Every inherited threat, addressed only by what the model says is implemented or in place.")


def _addressed_by(threat: str, categories, may_use: frozenset, covering: dict, addressing: dict) -> set:
    """What addresses a pair: the requirements the element may use that address the threat, and the
    controls covering the element (`covering`: what they mitigate → them) that mitigate the threat or
    one of the pair's STRIDE categories. Empty: the pair is open."""
    found = addressing.get(threat, set()) & may_use
    for mitigated in (threat, *categories):
        found |= covering.get(mitigated, set())
    return found


def state_of(by: list[dict]) -> dict:
    """A pair's state from its `addressed_by` entries: {state, by (what mitigates it), requires
    (the profile's requirements that would)}."""
    in_place = [b for b in by if b["kind"] in IN_PLACE_KINDS]
    if in_place:
        return {"state": "mitigated", "by": in_place, "requires": []}
    if by:
        return {"state": "required", "by": [], "requires": [b["id"] for b in by]}
    return {"state": "uncovered", "by": [], "requires": []}


def _with_decision(state: dict, decision: dict) -> dict:
    """The pair's state once a recorded decision applies: the decision's status, the decision kept
    (and, for `mitigated`, listed first among what mitigates it)."""
    kept = {k: decision[k] for k in ("id", "status", "justification", "owner", "date", "expires", "ticket", "line")}
    by = state["by"]
    if decision["status"] == "mitigated":
        by = [{"id": decision["id"], "kind": "decision", "via": decision["justification"], "provenance": "curated"},
              *by]
    return {**state, "state": decision["status"], "by": by, "decision": kept}


def _frozen(covering: dict) -> frozenset:
    return frozenset((mitigated, frozenset(controls)) for mitigated, controls in covering.items())


class _Counts:
    """What each element counts on, and the `addressed_by` entries of its pairs, computed once for
    all elements that count on the same requirements and controls."""

    def __init__(self, may_use: dict, implemented: dict, covering: dict, chains: dict, controls: dict):
        self.may_use, self.implemented, self.covering = may_use, implemented, covering
        self.chains, self.controls = chains, controls
        self.addressing = defaultdict(set)
        for requirement, threat in chains:
            self.addressing[threat].add(requirement)
        self.category_iris = {c.letter: str(c.iri) for c in stride()}
        groups = {}    # what an element counts on → its group's number
        self.group = {e: groups.setdefault((use, frozenset(implemented[e]), _frozen(covering[e])), len(groups))
                      for e, use in may_use.items()}
        self._entries = {}

    def entries(self, element: str, threat: str, letters) -> list[dict]:
        """The sorted `addressed_by` entries of the pair (empty: open)."""
        key = (self.group[element], threat, tuple(letters))
        if key not in self._entries:
            categories = [iri for letter, iri in self.category_iris.items() if letter in letters]
            found = _addressed_by(threat, categories, self.may_use[element], self.covering[element], self.addressing)
            self._entries[key] = sorted((self._entry(by, threat, element) for by in found),
                                        key=lambda b: (b["kind"], b["id"]))
        return list(self._entries[key])

    def _entry(self, by: str, threat: str, element: str) -> dict:
        if by in self.controls:
            control = self.controls[by]
            return {"id": control, "kind": "control", "via": f"control {control} covers the element",
                    "provenance": "curated"}
        chain = self.chains[(by, threat)]
        return {"id": chain["requirement"], "kind": "implemented" if by in self.implemented[element] else "profile",
                "via": chain["via"], "provenance": chain["provenance"]}


def coverage(analysis: Analysis, profile: Profile, rows: list[dict] | None = None) -> dict:
    rows = threat_rows(analysis) if rows is None else rows
    system = analysis.model.system_iri
    element_iri = {c: _element(analysis, c) for c in dict.fromkeys(r["component"] for r in rows)}
    members = profile.members(analysis.store)
    implemented = defaultdict(set)
    for sol in analysis.named("implemented", system=system):
        implemented[sol["element"].value].add(sol["requirement"].value)
    in_scope = [r for r in rows if _in_scope(r, profile, members)]
    counted = members if profile.kind == "requirements" else set()
    may_use = {e: frozenset(implemented[e] | counted) for e in element_iri.values()}
    chains = {}    # (requirement, threat) → its shortest chain (the first, of equal lengths)
    for m in analysis.mappings.select(set().union(*may_use.values()), {r["iri"] for r in in_scope}):
        key = (m["requirementIri"], m["threatIri"])
        if key not in chains or len(m["chain"]) < len(chains[key]["chain"]):
            chains[key] = m
    covering, controls = defaultdict(lambda: defaultdict(set)), {}
    for sol in analysis.named("control-mitigations", system=system):
        covering[sol["element"].value][sol["mitigated"].value].add(sol["control"].value)
        controls[sol["control"].value] = sol["controlId"].value
    counts = _Counts(may_use, implemented, covering, chains, controls)
    return _report(analysis, profile, in_scope, element_iri, counts, decided(analysis, rows))


def _element(analysis, element_id):
    return str(model_iri(analysis.model.system, element_id))


def _own_letter(row) -> str:
    """A STRIDE category row stands for its own letter."""
    if row["source"] != "STRIDE":
        return ""
    return next((c.letter for c in stride() if c.id == row["threat"]), "")


def _in_scope(row, profile: Profile, members: set) -> bool:
    if profile.kind == "threats":
        return row["iri"] in members
    if profile.kind == "requirements":
        return row["source"] != "STRIDE"
    return True


def _ratio(part: int, total: int) -> float:
    return round(part / total, 3) if total else 1.0


def _counts(threats: int, states: dict) -> dict:
    """The counts of a part (component, zone, property, system) from its pairs' states."""
    n = {state: states.get(state, 0) for state in STATES}
    addressed = threats - n["uncovered"]
    return {"threats": threats, **n, "addressed": addressed, "open": n["required"] + n["uncovered"],
            "ratio": _ratio(addressed, threats), "implemented_ratio": _ratio(n["mitigated"], threats)}


def _report(analysis, profile, in_scope, element_iri, counts: _Counts, decisions: dict):
    zone_of = {sol["elementId"].value: sol["zoneId"].value
               for sol in analysis.named("element-zones-direct", system=analysis.model.system_iri)}
    components = {}
    for r in in_scope:
        c = components.setdefault(r["component"], {"component": r["component"], "zone": zone_of.get(r["component"]),
                                                   "threats": [], "addressed_by": {}, "states": {},
                                                   **{state: [] for state in STATES}, "stride": {}})
        c["threats"].append(r["threat"])
        letters = r["stride"] or _own_letter(r)
        by = counts.entries(element_iri[r["component"]], r["iri"], letters)
        state = state_of(by)
        if (r["component"], r["threat"]) in decisions and state["state"] != "mitigated":
            state = _with_decision(state, decisions[(r["component"], r["threat"])])
        c["states"][r["threat"]] = state
        c[state["state"]].append(r["threat"])
        if by:
            c["addressed_by"][r["threat"]] = by
        for letter in letters:
            c["stride"].setdefault(letter, {"threats": 0, **{s: 0 for s in STATES}})
            c["stride"][letter]["threats"] += 1
            c["stride"][letter][state["state"]] += 1
    for c in components.values():
        c["addressed"] = [t for t in c["threats"] if c["states"][t]["state"] != "uncovered"]
        c["open"] = [t for t in c["threats"] if c["states"][t]["state"] in OPEN_STATES]
        c["ratio"] = _ratio(len(c["addressed"]), len(c["threats"]))
        c["implemented_ratio"] = _ratio(len(c["mitigated"]), len(c["threats"]))
        c["stride"] = {letter: _counts(s["threats"], s) for letter, s in c["stride"].items()}
    result = {"system": analysis.model.system, "profile": {"id": profile.id, "title": profile.title,
                                                           "kind": profile.kind},
              "components": sorted(components.values(), key=lambda c: c["component"])}
    result["totals"] = _totals(result["components"])
    result["properties"] = _properties(result["components"])
    result["zones"] = _zones(result["components"])
    result["open_ranked"] = [{"component": c["component"], "threat": t} for c in result["components"] for t in c["open"]]
    return result


def _totals(components):
    states = {state: sum(len(c[state]) for c in components) for state in STATES}
    return _counts(sum(len(c["threats"]) for c in components), states)


def _properties(components):
    out = {}
    for category in stride():
        parts = [c["stride"][category.letter] for c in components if category.letter in c["stride"]]
        counts = _counts(sum(p["threats"] for p in parts), {s: sum(p[s] for p in parts) for s in STATES})
        out[category.property_id] = {"category": category.id, **counts, "satisfied": counts["uncovered"] == 0,
                                     "unsatisfied_on": [c["component"] for c in components
                                                        if c["stride"].get(category.letter, {}).get("uncovered")]}
    return out


def _zones(components):
    by_zone = defaultdict(list)
    for c in components:
        by_zone[c["zone"] or "(flows)"].append(c)
    return {zone: _totals(members) for zone, members in sorted(by_zone.items(), key=lambda kv: str(kv[0]))}
