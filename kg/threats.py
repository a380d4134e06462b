"""The threats each element of a model inherits, one row per (element, threat), with every
explanation and the provenance of each catalog link used. Four routes, one query each, make
candidates: direct attachments (STRIDE per element, zones, flows, curated catalog threats),
weaknesses → CAPEC, attack domains → CAPEC, CoSAI risks → ATLAS. A candidate catalog threat is
listed when the element meets every applicability condition on it (catalogs/applicability.yaml,
decided in SPARQL); the others are excluded candidates, each with the conditions it failed."""

from collections import defaultdict

from pyoxigraph import NamedNode
from rdflib import Literal, URIRef

from kg.analysis import Analysis
from kg.namespaces import ID, STRIDE, TM, model_iri
from kg.ontology import capabilities, kinds, stride_letters
from kg.provenance import weakest
from kg.queries import run_values


def _source(threat_iri: str) -> str:
    """The catalog a threat comes from, read off its IRI (…/id/<catalog>/<id>)."""
    if threat_iri.startswith(str(STRIDE)):
        return "STRIDE"
    return threat_iri[len(str(ID)):].split("/", 1)[0].upper()


class _Rows:
    """Collects explanations per (element, threat) across routes."""

    def __init__(self, analysis: Analysis):
        self.analysis = analysis
        self.name = analysis.names
        self.rows: dict[tuple, dict] = {}
        self._links, self._strides = {}, {}   # each catalog link and STRIDE step is looked up once

    def add(self, sol, explanations, links):
        key = (sol["elementId"].value, sol["threat"].value)
        row = self.rows.setdefault(key, {
            "component": key[0], "threat": sol["threatId"].value,
            "label": sol["label"].value if sol["label"] else sol["threatId"].value,
            "stride": set(), "source": _source(key[1]), "links": [], "explanations": [], "iri": key[1]})
        row["stride"] |= set(sol["letters"].value if sol["letters"] else "")
        row["explanations"] += [e for e in explanations if e not in row["explanations"]]
        row["links"] += [link for link in links if link not in row["links"]]

    def link(self, s, p, o, text, inverse=None) -> tuple[str, dict]:
        """A catalog link as an explanation step, with its provenance."""
        key = (s, p, o, text, inverse)
        if key not in self._links:
            found = self.analysis.links.get(s, p, o, inverse, names=lambda t: self.name(URIRef(t)))
            if found is None:
                raise LookupError(f"no graph states the link <{s}> <{p}> <{o}>")
            self._links[key] = (f"{text} ({found['provenance']}: {found['source']} {found['version']})", found)
        return self._links[key]

    def stride_step(self, sol, threat):
        letters = sol["letters"].value if sol["letters"] else ""
        if (threat, letters) not in self._strides:
            steps, links = [], []
            for category, letter, category_id in self.analysis.stride_of.get(threat, ()):
                if letter in letters:
                    step, link = self.link(threat, TM.hasStride, category,
                                           f"{self.name(URIRef(threat))} is {category_id}")
                    steps.append(step)
                    links.append(link)
            self._strides[(threat, letters)] = (steps, links)
        steps, links = (list(part) for part in self._strides[(threat, letters)])
        steps.append(f"{sol['elementId'].value} is exposed to {', '.join(sorted(set(letters), key=stride_letters().index))}"
                     " under STRIDE per element")
        return steps, links

    def result(self) -> list[dict]:
        out = []
        for row in sorted(self.rows.values(), key=lambda r: (r["component"], r["source"], r["threat"])):
            row["stride"] = sorted(row["stride"], key=stride_letters().index)
            row["via"] = [" → ".join(steps) for steps in row["explanations"]]
            row["provenance"] = weakest(row["links"])
            out.append(row)
        return out


def _curated(element_id: str, relation: str, target: str, source: str) -> dict:
    return {"from": element_id, "relation": relation, "to": target, "provenance": "curated", "source": source}


ONTOLOGY = "ThreatKG ontology"
ATTACHMENTS = "catalogs/attachments.yaml"


def threat_rows(analysis: Analysis, component: str | None = None, threat: str | None = None,
                explain: bool = True) -> list[dict]:
    """Every (element, threat) row of the system, or of one component or one threat (its IRI);
    explain=False leaves out the explanations (for questions over many systems). Each catalog row
    carries the applicability conditions it met (`conditions`)."""
    return [r for r in candidates(analysis, component, threat, explain) if not r.get("excluded_by")]


def candidates(analysis: Analysis, component: str | None = None, threat: str | None = None,
               explain: bool = True) -> list[dict]:
    """Every row a route brings, with its applicability conditions decided: the listed rows, and the
    excluded candidates, each with the conditions it failed (`excluded_by`) and how it was brought."""
    rows = _routes(analysis, component, threat, explain)
    catalog = [r for r in rows if r["source"] != "STRIDE"]
    checked = _conditions(analysis, catalog)
    for row in catalog:
        found = checked.get((row["component"], row["iri"]), [])
        row["conditions"] = [c for c in found if c["met"]]
        if failed := [c for c in found if not c["met"]]:
            row["excluded_by"] = failed
    return rows


def _conditions(analysis: Analysis, rows: list[dict]) -> dict[tuple, list[dict]]:
    """(element id, threat IRI) → its applicability conditions, each met or not, with the options
    (capability tokens, kind names or class labels) one of which would meet it."""
    system = analysis.model.system
    pairs = {(NamedNode(str(model_iri(system, r["component"]))), NamedNode(r["iri"])) for r in rows}
    token = {iri: name for name, iri in capabilities().items()} | {iri: name for name, iri in kinds().items()}
    found = defaultdict(list)
    for sol in run_values(analysis.store, "threat-conditions", sorted(pairs, key=str)):
        element_id = sol["element"].value.rsplit("/", 1)[1]
        requires, fits = ([token.get(o) or analysis.names(URIRef(o)) for o in sol[v].value.split()] if sol[v] else []
                          for v in ("requires", "fits"))
        found[(element_id, sol["threat"].value)].append({
            "why": sol["why"].value, "met": sol["met"].value in ("true", "1"),  # Virtuoso answers 1
            "provenance": sol["provenance"].value.rsplit("#", 1)[1].lower(), "source": sol["source"].value,
            "requires": sorted(requires), "fits": sorted(fits), "options": sorted(requires + fits)})
    for conditions in found.values():
        conditions.sort(key=lambda c: (c["met"], c["why"]))
    return found


def _routes(analysis: Analysis, component: str | None, threat: str | None, explain: bool) -> list[dict]:
    """Every (element, threat) candidate that a route brings, explained."""
    only = {"system": analysis.model.system_iri}
    if component:
        only["element"] = URIRef(str(model_iri(analysis.model.system, component)))
    if threat:
        only["threat"] = URIRef(threat)
    rows = _Rows(analysis)
    ex = analysis.explainer if explain else None

    def why(element, prop, value, then=()):
        return [first + list(then) for first in ex.fact(element, prop, value)] if ex else []

    for sol in analysis.named("threats", **only):
        source = ONTOLOGY if _source(sol["threat"].value) == "STRIDE" else ATTACHMENTS
        rows.add(sol, why(sol["element"].value, TM.exposedTo, URIRef(sol["threat"].value)),
                 [_curated(sol["elementId"].value, "exposedTo", sol["threatId"].value, source)])
    if analysis.catalogs is None:
        return rows.result()
    for sol in analysis.named("threats-via-weakness", **only):
        element, via, threat_iri = sol["element"].value, sol["via"].value, sol["threat"].value
        step, link = rows.link(threat_iri, TM.relatedWeakness, via, f"{sol['viaId'].value} is exploited by "
                               f"{sol['threatId'].value}", inverse=TM.relatedAttackPattern)
        stride, stride_links = rows.stride_step(sol, threat_iri)
        rows.add(sol, why(element, TM.proneTo, URIRef(via), [step] + stride),
                 [_curated(sol["elementId"].value, "proneTo", sol["viaId"].value, ATTACHMENTS), link] + stride_links)
    for sol in analysis.named("threats-via-domain", **only):
        element, domain, threat_iri = sol["element"].value, sol["viaId"].value, sol["threat"].value
        step = f"{sol['threatId'].value} is a Meta pattern of the CAPEC domain {domain} (official: CAPEC)"
        stride, stride_links = rows.stride_step(sol, threat_iri)
        rows.add(sol, why(element, TM.exposedToDomain, Literal(domain), [step] + stride),
                 [_curated(sol["elementId"].value, "exposedToDomain", domain, ATTACHMENTS),
                  {"from": sol["threatId"].value, "relation": "domain", "to": domain, "provenance": "official",
                   "source": "CAPEC"}] + stride_links)
    for sol in analysis.named("threats-via-risk", **only):
        element, risk, threat_iri = sol["element"].value, sol["via"].value, sol["threat"].value
        step, link = rows.link(risk, TM.relatedTechnique, threat_iri,
                               f"CoSAI maps {sol['viaId'].value} to {sol['threatId'].value}")
        rows.add(sol, why(element, TM.exposedTo, URIRef(risk), [step]),
                 [_curated(sol["elementId"].value, "exposedTo", sol["viaId"].value, ATTACHMENTS), link])
    return rows.result()
