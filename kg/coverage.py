"""Coverage of a model by a requirement profile: per component and for the system, the inherited
threats, the ones addressed (by which requirement or control, with the chain) and the open ones.
Open is decided closed-world in SPARQL over a small work graph (coverage-*.rq), never by OWL."""

from collections import defaultdict

from pyoxigraph import NamedNode, Quad, Store

from kg.analysis import Analysis
from kg.namespaces import TM, model_iri
from kg.ontology import stride
from kg.profiles import Profile
from kg.queries import run, text
from kg.threats import threat_rows

IN_PLACE = Profile("in-place", "Implemented requirements and existing controls", "properties",
                   "Every inherited threat, addressed only by what the model says is implemented or in place.")


def _n(iri) -> NamedNode:
    return NamedNode(str(iri))


class _Work:
    """The work graph: pairs in scope, what each element may count on, what addresses what."""

    def __init__(self):
        self.store = Store()
        self.quads = []
        self.pairs = 0

    def add(self, s, p, o):
        self.quads.append(Quad(_n(s), _n(p), _n(o)))

    def pair(self, element, threat, letters):
        self.pairs += 1
        node = NamedNode(f"urn:threatkg:pair:{self.pairs}")
        self.quads += [Quad(node, _n(TM.element), _n(element)), Quad(node, _n(TM.threat), _n(threat))]
        self.quads += [Quad(node, _n(TM.category), _n(c.iri)) for c in stride() if c.letter in letters]

    def solve(self):
        self.store.extend(self.quads)
        self.store.update(text("coverage-mark", ".ru"))
        addressed = defaultdict(set)
        for sol in run(self.store, "coverage-addressed"):
            addressed[(sol["element"].value, sol["threat"].value)].add(sol["by"].value)
        open_pairs = {(sol["element"].value, sol["threat"].value) for sol in run(self.store, "coverage-open")}
        return addressed, open_pairs


def coverage(analysis: Analysis, profile: Profile, rows: list[dict] | None = None) -> dict:
    rows = threat_rows(analysis) if rows is None else rows
    system = analysis.model.system_iri
    element_iri = {r["component"]: _element(analysis, r["component"]) for r in rows}
    members = profile.members(analysis.store)
    implemented = defaultdict(set)
    for sol in analysis.named("implemented", system=system):
        implemented[sol["element"].value].add(sol["requirement"].value)
    in_scope = [r for r in rows if _in_scope(r, profile, members)]

    may_use = {e: set(implemented[e]) | (members if profile.kind == "requirements" else set())
               for e in element_iri.values()}
    requirements = set().union(*may_use.values()) if may_use else set()
    chains = defaultdict(list)
    for m in analysis.mappings.select(requirements, {r["iri"] for r in in_scope}):
        chains[(m["requirementIri"], m["threatIri"])].append(m)

    work = _Work()
    for r in in_scope:
        work.pair(element_iri[r["component"]], r["iri"], r["stride"] or _own_letter(r))
    for element, reqs in may_use.items():
        for req in reqs:
            work.add(element, TM.mayUse, req)
    for (req, threat) in chains:
        work.add(req, TM.addresses, threat)
    controls = {}
    for sol in analysis.named("control-mitigations", system=system):
        work.add(sol["element"].value, TM.coveredBy, sol["control"].value)
        work.add(sol["control"].value, TM.mitigates, sol["mitigated"].value)
        controls[sol["control"].value] = sol["controlId"].value
    addressed, open_pairs = work.solve()
    return _report(analysis, profile, in_scope, element_iri, addressed, open_pairs, chains, controls, implemented)


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


def _by(by, threat, chains, controls, implemented, element):
    if by in controls:
        return {"id": controls[by], "kind": "control", "via": f"control {controls[by]} covers the element",
                "provenance": "curated"}
    chain = min(chains[(by, threat)], key=lambda m: len(m["chain"]))
    return {"id": chain["requirement"], "kind": "implemented" if by in implemented[element] else "profile",
            "via": chain["via"], "provenance": chain["provenance"]}


def _ratio(addressed: int, total: int) -> float:
    return round(addressed / total, 3) if total else 1.0


def _report(analysis, profile, in_scope, element_iri, addressed, open_pairs, chains, controls, implemented):
    zone_of = {sol["elementId"].value: sol["zoneId"].value
               for sol in analysis.named("element-zones-direct", system=analysis.model.system_iri)}
    components = {}
    for r in in_scope:
        element = element_iri[r["component"]]
        c = components.setdefault(r["component"], {"component": r["component"], "zone": zone_of.get(r["component"]),
                                                   "threats": [], "addressed": [], "open": [], "addressed_by": {},
                                                   "stride": {}})
        c["threats"].append(r["threat"])
        key = (element, r["iri"])
        if key in open_pairs:
            c["open"].append(r["threat"])
        else:
            c["addressed"].append(r["threat"])
            c["addressed_by"][r["threat"]] = sorted(
                (_by(by, r["iri"], chains, controls, implemented, element) for by in addressed[key]),
                key=lambda b: (b["kind"], b["id"]))
        for letter in r["stride"] or _own_letter(r):
            s = c["stride"].setdefault(letter, {"threats": 0, "addressed": 0})
            s["threats"] += 1
            s["addressed"] += key not in open_pairs
    for c in components.values():
        c["ratio"] = _ratio(len(c["addressed"]), len(c["threats"]))
        for s in c["stride"].values():
            s["ratio"] = _ratio(s["addressed"], s["threats"])
    result = {"system": analysis.model.system, "profile": {"id": profile.id, "title": profile.title,
                                                           "kind": profile.kind},
              "components": sorted(components.values(), key=lambda c: c["component"])}
    result["totals"] = _totals(result["components"])
    result["properties"] = _properties(result["components"])
    result["zones"] = _zones(result["components"])
    result["open_ranked"] = [{"component": c["component"], "threat": t} for c in result["components"] for t in c["open"]]
    return result


def _totals(components):
    threats = sum(len(c["threats"]) for c in components)
    done = sum(len(c["addressed"]) for c in components)
    return {"threats": threats, "addressed": done, "open": threats - done, "ratio": _ratio(done, threats)}


def _properties(components):
    out = {}
    for category in stride():
        letter = category.letter
        threats = sum(c["stride"].get(letter, {}).get("threats", 0) for c in components)
        done = sum(c["stride"].get(letter, {}).get("addressed", 0) for c in components)
        out[category.property_id] = {"category": category.id, "threats": threats, "addressed": done,
                     "ratio": _ratio(done, threats), "satisfied": done == threats,
                     "unsatisfied_on": [c["component"] for c in components
                                        if c["stride"].get(letter, {}).get("ratio", 1.0) < 1.0]}
    return out


def _zones(components):
    by_zone = defaultdict(list)
    for c in components:
        by_zone[c["zone"] or "(flows)"].append(c)
    return {zone: _totals(members) for zone, members in sorted(by_zone.items(), key=lambda kv: str(kv[0]))}
