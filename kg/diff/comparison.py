"""What changed between two assessments of a model: its structure (per element IRI, from the model
graphs' triples), the threats each element gained and lost, the states of the pairs under each
profile, the coverage of each profile, and the decisions that became stale or expired. Plain
JSON-ready data, computed from the two assessments only."""

from rdflib import RDF, RDFS, URIRef

from kg.assessment import Assessment
from kg.coverage import IN_PLACE, OPEN_STATES
from kg.model.load import Model
from kg.namespaces import MODEL, TM
from kg.ontology import ontology
from kg.profiles import Profile

KINDS = {TM.DataFlow: "flows", TM.TrustZone: "zones", TM.Control: "controls", TM.System: "system",
         TM.Decision: "decisions"}
SECTIONS = ["components", "flows", "zones", "controls", "decisions", "requirements"]
IMPLEMENTS = TM.implements


def compare(old: Assessment, new: Assessment, profiles: list[Profile]) -> dict:
    """The changes from `old` to `new`, with the states and coverage of each profile."""
    structure = model_changes(old.analysis.model, new.analysis.model)
    before, after = _threat_rows(old), _threat_rows(new)
    gained, lost = threat_changes(before, after, _in_place(new))
    states = {p.id: state_changes(old.coverage(p), new.coverage(p)) for p in profiles}
    opened = {p.id: newly_open(old.coverage(p), new.coverage(p), after) for p in profiles}
    coverage = {p.id: coverage_change(old.coverage(p), new.coverage(p)) for p in profiles}
    decisions = decision_changes(old, new)
    return {"old": old.analysis.model.system, "new": new.analysis.model.system,
            "profiles": [p.id for p in profiles], "structure": structure,
            "threats": {"gained": gained, "lost": lost}, "states": states, "opened": opened,
            "coverage": coverage,
            "decisions": decisions, "summary": summary(structure, gained, lost, states, coverage, decisions)}


# ------------------------------------------------------------ structure
def _term(value) -> str:
    """A triple's object as a reader knows it: an element's id, a vocabulary or catalog entry's local
    name, a literal's value."""
    text = str(value)
    if isinstance(value, URIRef):
        if text.startswith(str(MODEL)):
            return text.rsplit("/", 1)[-1]
        return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return text


def _kind(model: Model, iri: URIRef) -> str:
    """The section of an element: flows, zones, controls, the system itself, or components."""
    for declared in model.graph.objects(iri, RDF.type):
        for cls in ontology().transitive_objects(declared, RDFS.subClassOf):
            if cls in KINDS:
                return KINDS[cls]
    return "components"


def _elements(model: Model) -> dict[str, tuple[str, dict]]:
    """Element id → (section, field → sorted values) of every subject of the model graph; the
    requirements it implements are left to their own section."""
    out = {}
    for iri in set(model.graph.subjects()):
        if not isinstance(iri, URIRef):
            continue
        fields = {}
        for predicate, value in model.graph.predicate_objects(iri):
            if predicate != IMPLEMENTS:
                fields.setdefault(_term(predicate), set()).add(_term(value))
        out[model.element_id(iri)] = (_kind(model, iri), {k: sorted(v) for k, v in fields.items()})
    return out


def _implemented(model: Model) -> set[tuple[str, str]]:
    return {(model.element_id(s), _term(o)) for s, o in model.graph.subject_objects(IMPLEMENTS)}


def model_changes(old: Model, new: Model) -> dict:
    """Per section, the ids added and removed and, for elements in both, each changed field (old → new);
    requirements: the (element, requirement) pairs implemented, added and removed."""
    before, after = _elements(old), _elements(new)
    out = {section: {"added": [], "removed": [], "changed": {}} for section in SECTIONS[:-1] + ["system"]}
    for eid in sorted(after.keys() - before.keys()):
        out[after[eid][0]]["added"].append(eid)
    for eid in sorted(before.keys() - after.keys()):
        out[before[eid][0]]["removed"].append(eid)
    for eid in sorted(before.keys() & after.keys()):
        (_, was), (section, now) = before[eid], after[eid]
        fields = {f: {"old": was.get(f, []), "new": now.get(f, [])} for f in sorted(was.keys() | now.keys())
                  if was.get(f) != now.get(f)}
        if fields:
            out[section]["changed"][eid] = fields
    implemented_before, implemented_after = _implemented(old), _implemented(new)
    out["requirements"] = {"added": _pairs(implemented_after - implemented_before),
                           "removed": _pairs(implemented_before - implemented_after)}
    return out


def _pairs(pairs) -> list[dict]:
    return [{"element": e, "requirement": r} for e, r in sorted(pairs)]


# ------------------------------------------------------------ threats
def _threat_rows(assessment: Assessment) -> dict[tuple[str, str], dict]:
    """(element, threat id) → its rated row, folded children counted with their parent."""
    out = {}
    for row in assessment.threats():
        for one in [row, *row.get("folded", [])]:
            out.setdefault((row["component"], one["threat"]), {**row, **one, "component": row["component"]})
    return out


def _in_place(assessment: Assessment) -> dict[tuple[str, str], str]:
    """(element, threat id) → its state by what is implemented or in place."""
    return {pair: status["state"] for pair, status in assessment.status(IN_PLACE).items()}


def _entry(pair, row: dict, in_place: dict | None = None) -> dict:
    risk = row.get("risk") or {}
    entry = {"element": pair[0], "threat": pair[1], "label": row.get("label", ""),
             "risk": {"score": risk.get("score"), "rating": risk.get("rating")}}
    if in_place is not None:
        entry["state"] = in_place.get(pair, "uncovered")
        entry["open"] = entry["state"] in OPEN_STATES
    return entry


def threat_changes(before: dict, after: dict, in_place: dict) -> tuple[list[dict], list[dict]]:
    """The (element, threat) pairs gained (with their residual risk and their state by what is in
    place on the new side: `in_place`) and lost, from the two sides' `_threat_rows`."""
    gained = [_entry(pair, after[pair], in_place) for pair in sorted(after.keys() - before.keys())]
    lost = [_entry(pair, before[pair]) for pair in sorted(before.keys() - after.keys())]
    return gained, lost


# ------------------------------------------------------------ states and coverage
def _states(result: dict) -> dict[tuple[str, str], str]:
    return {(c["component"], t): s["state"] for c in result["components"] for t, s in c["states"].items()}


def state_changes(old: dict, new: dict) -> list[dict]:
    """The pairs of both coverages whose state changed, old → new."""
    before, after = _states(old), _states(new)
    return [{"element": e, "threat": t, "old": before[(e, t)], "new": after[(e, t)]}
            for e, t in sorted(before.keys() & after.keys()) if before[(e, t)] != after[(e, t)]]


def newly_open(old: dict, new: dict, rows: dict) -> list[dict]:
    """The pairs open (required or uncovered) in `new` that were not open in `old` (or not there),
    with their residual risk: what a change leaves to be done."""
    before, after = _states(old), _states(new)
    return [{**_entry(pair, rows.get(pair, {})), "state": state, "was": before.get(pair)}
            for pair, state in sorted(after.items()) if state in OPEN_STATES and before.get(pair) not in OPEN_STATES]


def _ratios(part: dict | None) -> dict:
    part = part or {}
    return {"ratio": part.get("ratio"), "implemented_ratio": part.get("implemented_ratio")}


def coverage_change(old: dict, new: dict) -> dict:
    """Totals ratio and implemented_ratio before → after, and every component whose ratios changed
    (None: the component is not on that side)."""
    before = {c["component"]: c for c in old["components"]}
    after = {c["component"]: c for c in new["components"]}
    components = []
    for name in sorted(before.keys() | after.keys()):
        was, now = _ratios(before.get(name)), _ratios(after.get(name))
        if was != now or (name in before) != (name in after):
            components.append({"component": name, "old": was if name in before else None,
                               "new": now if name in after else None})
    return {"old": _ratios(old["totals"]), "new": _ratios(new["totals"]), "components": components}


# ------------------------------------------------------------ decisions


def decision_changes(old: Assessment, new: Assessment) -> list[dict]:
    """The decision findings of `new` that `old` did not have (the same kind of finding about the
    same decision id, wherever its line)."""
    before = {(f["kind"], f["decision"]) for f in old.findings()}
    return [f for f in new.findings() if (f["kind"], f["decision"]) not in before]


# ------------------------------------------------------------ summary
def summary(structure: dict, gained: list, lost: list, states: dict, coverage: dict, decisions: list) -> dict:
    """Counts for the one-line summary and the --fail-on conditions."""
    ratings = [g["risk"]["rating"] for g in gained]
    return {"added": sum(len(s["added"]) for s in structure.values()),
            "removed": sum(len(s["removed"]) for s in structure.values()),
            "changed": sum(len(s.get("changed", {})) for s in structure.values()),
            "gained": len(gained), "gained_open": sum(g["open"] for g in gained), "lost": len(lost),
            "gained_critical": ratings.count("critical"), "gained_high": ratings.count("high"),
            "states_changed": sum(len(s) for s in states.values()),
            "coverage_dropped": sorted(p for p, c in coverage.items() if _dropped(c)),
            "decisions": len(decisions)}


def _dropped(change: dict) -> bool:
    old, new = change["old"]["ratio"], change["new"]["ratio"]
    return old is not None and new is not None and new < old


def is_empty(diff: dict) -> bool:
    """Whether nothing changed."""
    s = diff["summary"]
    return not any([s["added"], s["removed"], s["changed"], s["gained"], s["lost"], s["states_changed"],
                    s["decisions"]]) and not any(c["components"] or c["old"] != c["new"]
                                                 for c in diff["coverage"].values())
