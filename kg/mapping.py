"""Requirements ↔ threats: which threats a requirement addresses, which requirements cover a
threat, each row with its chain (e.g. v4.0.3-5.3.4 → CWE-89 → CAPEC-66) and the provenance of
every link. The chains are the map-via-*.rq queries; nothing here knows an id."""

from pyoxigraph import NamedNode
from rdflib import URIRef

from kg.errors import InputError, Problem
from kg.ids import form_of, iri_of, known_forms
from kg.namespaces import TM
from kg.provenance import LinkIndex, weakest
from kg.queries import run, run_among

ROUTES = ("map-via-weakness", "map-via-mitigation", "map-via-llm-risk", "map-via-property")


class _Links:
    """Link provenance with entry ids as names; a multi-step hierarchy path (CAPEC child of a child)
    is stated by the catalog hop by hop, so it is official."""

    def __init__(self, index: LinkIndex):
        self.index = index

    def get(self, s, p, o, inverse=None, names=()) -> dict:
        ids = dict(names)
        found = self.index.get(s, p, o, inverse, names=lambda t: ids.get(str(t), str(t)))
        return found or {"from": ids.get(s, s), "relation": str(p).rsplit("#", 1)[-1], "to": ids.get(o, o),
                         "provenance": "official", "source": "catalog hierarchy"}


def _weakness_row(sol, links: _Links) -> tuple[list[str], list[dict]]:
    v = {k: sol[k].value for k in ("requirement", "requirementId", "weakness", "weaknessId", "target", "targetId",
                                   "direct", "directId", "threat", "threatId")}
    names = tuple((v[k], v[k + "Id"]) for k in ("requirement", "weakness", "target", "direct", "threat"))
    chain = [v["requirementId"], v["weaknessId"]]
    hops = [links.get(v["requirement"], sol["relation"].value, v["weakness"], names=names)]
    if v["target"] != v["weakness"]:
        chain.append(v["targetId"])
        hops.append(links.get(v["weakness"], TM.hasMember, v["target"], names=names))
    chain.append(v["directId"])
    hops.append(links.get(v["direct"], TM.relatedWeakness, v["target"], TM.relatedAttackPattern, names=names))
    if v["threat"] != v["direct"]:
        chain.append(v["threatId"])
        hops.append(links.get(v["threat"], TM.childOf, v["direct"], names=names))
    return chain, hops


def _mitigation_row(sol, links: _Links):
    v = {k: sol[k].value for k in ("requirement", "requirementId", "mitigated", "mitigatedId", "threat", "threatId")}
    names = tuple((v[k], v[k + "Id"]) for k in ("requirement", "mitigated", "threat"))
    chain, hops = [v["requirementId"], v["mitigatedId"]], [links.get(v["requirement"], TM.mitigates, v["mitigated"],
                                                                     names=names)]
    if v["threat"] != v["mitigated"]:
        chain.append(v["threatId"])
        hops.append(links.get(v["mitigated"], TM.relatedTechnique, v["threat"], names=names))
    return chain, hops


def _llm_row(sol, links: _Links):
    v = {k: sol[k].value for k in ("requirement", "requirementId", "threat", "threatId", "relation")}
    names = tuple((v[k], v[k + "Id"]) for k in ("requirement", "threat"))
    if v["relation"] == str(TM.relatedTechnique):
        hop = links.get(v["requirement"], TM.relatedTechnique, v["threat"], names=names)
    else:
        hop = links.get(v["threat"], TM.relatedRisk, v["requirement"], names=names)
    return [v["requirementId"], v["threatId"]], [hop]


def _property_row(sol, links: _Links):
    v = {k: sol[k].value for k in ("requirement", "requirementId", "threat", "threatId")}
    names = tuple((v[k], v[k + "Id"]) for k in ("requirement", "threat"))
    return [v["requirementId"], v["threatId"]], [links.get(v["requirement"], TM.defendsAgainst, v["threat"],
                                                           names=names)]


BUILDERS = dict(zip(ROUTES, (_weakness_row, _mitigation_row, _llm_row, _property_row)))


class MappingIndex:
    """The (requirement, threat) chains of a store for the requirements asked about, each set of
    requirements computed once (they depend on the catalogs only), then selected by threats."""

    def __init__(self, store, links: LinkIndex):
        self.store, self.links = store, links
        self._of: dict[frozenset, list[dict]] = {}

    def select(self, requirements: set, threats: set) -> list[dict]:
        key = frozenset(requirements)
        if key not in self._of:
            self._of[key] = mappings(self.store, requirements=set(key), links=self.links)
        return [r for r in self._of[key] if r["threatIri"] in threats]


def mappings(store, requirement: URIRef | None = None, threat: URIRef | None = None,
             requirements: set | None = None, threats: set | None = None, links: LinkIndex | None = None) -> list[dict]:
    """Every (requirement, threat) chain, optionally fixed at one end (requirement / threat) or
    limited to sets of IRIs (requirements / threats)."""
    bindings = {k: v for k, v in (("requirement", requirement), ("threat", threat)) if v is not None}
    links = _Links(links or LinkIndex(store))
    rows = {}
    for route in ROUTES:
        found = run(store, route, **bindings) if requirements is None else run_among(store, route, "requirement",
                                                                                     requirements)
        for sol in found:
            if (requirements is not None and sol["requirement"].value not in requirements) or \
                    (threats is not None and sol["threat"].value not in threats):
                continue
            chain, hops = BUILDERS[route](sol, links)
            key = (sol["requirementId"].value, sol["threatId"].value, tuple(chain))
            rows[key] = {"requirement": key[0], "threat": key[1], "requirementIri": sol["requirement"].value,
                         "threatIri": sol["threat"].value,
                         "label": sol["label"].value if sol["label"] else key[1],
                         "via": " → ".join(chain), "chain": chain, "provenance": weakest(hops), "links": hops}
    return sorted(rows.values(), key=lambda r: (r["requirement"], r["threat"], len(r["chain"]), r["via"]))


def map_id(store, official_id: str) -> list[dict]:
    """`threatkg map ID`: the threats a requirement addresses, or the requirements covering a threat."""
    form = form_of(official_id)
    if form is None or form.kind not in ("requirement", "threat"):
        raise InputError(Problem("map", f"'{official_id}' is not a requirement or threat id "
                                        f"(such as {known_forms('requirement')}, {known_forms('threat')})"))
    iri = iri_of(official_id)
    if next(store.quads_for_pattern(NamedNode(str(iri)), None, None), None) is None:
        raise InputError(Problem("map", f"no catalog entry '{official_id}' among the installed catalogs"))
    return mappings(store, **{form.kind: iri})
