"""The threat-model report of one analysed model, built once as plain JSON-ready data that the
renderers turn into documents (kg.report.markdown, .html, .sarif; JSON is the data as is).

    build(analysis, profile) -> dict

The data: `report` (generator, model file, catalogs), `system`, `profile`, `summary`, `zones` (a
tree), `components` and `flows` (each with its model line, facts, coverage and threats), `controls`,
`requirements` (implemented), `threats` (every threat kind inherited, by official id: label,
description, official page), `coverage` (kg.coverage for the profile), `open_gaps` (the
unaddressed threats of the profile, highest residual risk first) and `diagram` (the SVG data-flow
diagram, whose elements link to `#element-ID`). Model facts come from kg/queries/report-*.rq.
"""

import re
from collections import Counter
from urllib.parse import urlsplit

from rdflib import URIRef
from rdflib.namespace import DCTERMS, RDFS

from kg import __version__
from kg.analysis import Analysis
from kg.coverage import OPEN_STATES, STATES, coverage
from kg.diagram import render_svg
from kg.namespaces import model_iri
from kg.ontology import stride_letters
from kg.profiles import Profile
from kg.queries import records
from kg.risk import add_risk
from kg.threats import threat_rows

RATINGS = ("critical", "high", "medium", "low")
OUT_OF_SCOPE = "not in profile"     # the state of a row the profile does not cover


def anchor(element_id: str) -> str:
    """The fragment id of an element's section in the HTML report."""
    return "element-" + re.sub(r"[^A-Za-z0-9_.-]", "_", element_id)


def natural(text: str) -> tuple:
    """Sort key that orders CAPEC-9 before CAPEC-10."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text))


def web_page(url: str | None) -> str | None:
    """The URL when it is an http(s) page; catalog text is untrusted, so nothing else is ever linked."""
    return url if url and urlsplit(url).scheme in ("http", "https") and not re.search(r"[\s<>\"']", url) else None


def _split(value: str | None) -> list[str]:
    return sorted(filter(None, (value or "").split("|")), key=natural)


class _Builder:
    """Gathers the report's parts from one analysis."""

    def __init__(self, analysis: Analysis, profile: Profile, rated: list[dict] | None, covered: dict | None):
        self.analysis = analysis
        self.model = analysis.model
        self.profile = profile
        self.rows = add_risk(analysis, threat_rows(analysis)) if rated is None else rated
        self.coverage = coverage(analysis, profile, self.rows) if covered is None else covered
        self.states = {(c["component"], t): state for c in self.coverage["components"]
                       for t, state in c["states"].items()}
        self.kinds = self._threat_kinds()

    def query(self, name: str) -> list[dict]:
        return records(self.analysis.named(name, system=self.model.system_iri))

    def line(self, element_id: str | None = None) -> int | None:
        iri = model_iri(self.model.system, element_id) if element_id else self.model.system_iri
        return self.model.lines.get(URIRef(str(iri)))

    def order(self, element_id: str) -> tuple:
        return self.line(element_id) or 10**9, natural(element_id)

    def entry(self, iri: str) -> dict:
        """A catalog entry's label, description and official page (http(s) pages only)."""
        found = records(self.analysis.named("report-entry", entry=URIRef(iri)))
        facts = found[0] if found else {}
        return {**facts, "page": web_page(facts.get("page"))}

    # ------------------------------------------------------------ catalog entries
    def _threat_kinds(self) -> dict[str, dict]:
        kinds = {}
        for row in sorted(self.rows, key=lambda r: natural(r["threat"])):
            if row["threat"] in kinds:
                kinds[row["threat"]]["stride"] = sorted(set(kinds[row["threat"]]["stride"]) | set(row["stride"]),
                                                        key=stride_letters().index)
                continue
            facts = self.entry(row["iri"])
            kinds[row["threat"]] = {"id": row["threat"], "iri": row["iri"], "label": facts.get("label") or row["label"],
                                    "source": row["source"], "stride": list(row["stride"]),
                                    "description": facts.get("description"), "url": facts.get("page")}
        return kinds

    def requirements(self) -> list[dict]:
        out = []
        for r in self.query("report-requirements"):
            facts = self.entry(r["requirement"])
            out.append({"id": r["requirementId"], "label": facts.get("label") or r["requirementId"],
                        "description": facts.get("description"), "url": facts.get("page"),
                        "scope": r["scope"],
                        "components": [] if r["scope"] == "system" else _split(r["holders"])})
        return out

    # ------------------------------------------------------------ model elements
    def zones(self) -> list[dict]:
        members = {}
        for c in self.query("report-components"):
            members.setdefault(c["zoneId"], []).append(c["componentId"])
        zones = {z["zoneId"]: {"id": z["zoneId"], "label": z["label"] or z["zoneId"], "kinds": _split(z["kinds"]),
                               "description": z["description"], "parent": z["parentId"], "line": self.line(z["zoneId"]),
                               "components": sorted(members.get(z["zoneId"], []), key=self.order), "zones": []}
                 for z in self.query("report-zones")}
        roots = []
        for zone in sorted(zones.values(), key=lambda z: self.order(z["id"])):
            (zones[zone["parent"]]["zones"] if zone["parent"] in zones else roots).append(zone)
        return roots

    def threats_of(self, element_id: str) -> list[dict]:
        rows = [r for r in self.rows if r["component"] == element_id]
        out = []
        for r in rows:
            state = self.states.get((element_id, r["threat"]), {"state": OUT_OF_SCOPE, "by": [], "requires": []})
            out.append({"threat": r["threat"], "label": self.kinds[r["threat"]]["label"], "source": r["source"],
                        "stride": r["stride"], "provenance": r["provenance"], "state": state["state"],
                        "open": state["state"] in OPEN_STATES, "by": state["by"], "requires": state["requires"],
                        "decision": state.get("decision"),
                        "risk": r["risk"], "explanations": r["explanations"], "links": r["links"],
                        "url": self.kinds[r["threat"]]["url"]})
        return sorted(out, key=lambda t: (-t["risk"]["score"], natural(t["threat"])))

    def element_coverage(self, element_id: str) -> dict:
        found = next((c for c in self.coverage["components"] if c["component"] == element_id), None)
        if found is None:
            return {"threats": 0, **{s: 0 for s in STATES}, "open": 0, "ratio": 1.0, "implemented_ratio": 1.0}
        return {"threats": len(found["threats"]), **{s: len(found[s]) for s in STATES}, "open": len(found["open"]),
                "ratio": found["ratio"], "implemented_ratio": found["implemented_ratio"]}

    def attributes(self, element_id: str) -> list[dict]:
        """The element's literal facts (attributes, and attack domains inferred), by property label."""
        iri = URIRef(str(model_iri(self.model.system, element_id)))
        return [{"name": f["label"] or f["property"].rsplit("#", 1)[-1], "value": f["value"]}
                for f in records(self.analysis.named("element-attributes", element=iri))]

    def components(self) -> list[dict]:
        out = [{"id": c["componentId"], "label": c["label"] or c["componentId"], "description": c["description"],
                "kinds": _split(c["kinds"]), "element_type": c["shape"], "zone": c["zoneId"],
                "line": self.line(c["componentId"]), "anchor": anchor(c["componentId"]),
                "attributes": self.attributes(c["componentId"]), "coverage": self.element_coverage(c["componentId"]),
                "threats": self.threats_of(c["componentId"])}
               for c in self.query("report-components")]
        return sorted(out, key=lambda c: self.order(c["id"]))

    def flows(self) -> list[dict]:
        out = [{"id": f["flowId"], "label": f["label"] or f["flowId"], "description": f["description"],
                "source": f["sourceId"], "target": f["targetId"], "protocol": f["protocol"],
                "data": _split(f["carries"]), "bidirectional": f["bidirectional"] == "true",
                "crosses": [c.replace(" > ", " → ") for c in _split(f["crossings"])], "line": self.line(f["flowId"]), "anchor": anchor(f["flowId"]),
                "coverage": self.element_coverage(f["flowId"]), "threats": self.threats_of(f["flowId"])}
               for f in self.query("report-flows")]
        return sorted(out, key=lambda f: self.order(f["id"]))

    def controls(self) -> list[dict]:
        out = [{"id": c["controlId"], "label": c["label"] or c["controlId"], "description": c["description"],
                "kinds": _split(c["kinds"]), "protects": _split(c["protects"]), "mitigates": _split(c["mitigates"]),
                "line": self.line(c["controlId"])}
               for c in self.query("report-controls")]
        return sorted(out, key=lambda c: self.order(c["id"]))

    # ------------------------------------------------------------ gaps and summary
    def open_gaps(self, elements: list[dict]) -> list[dict]:
        gaps = [{"element": e["id"], "element_label": e["label"], "line": e["line"], "anchor": e["anchor"],
                 "threat": t["threat"], "label": t["label"], "source": t["source"], "stride": t["stride"],
                 "provenance": t["provenance"], "risk": t["risk"], "url": t["url"],
                 "state": t["state"], "requires": t["requires"],
                 "explanation": t["explanations"][0] if t["explanations"] else [],
                 "explanations": len(t["explanations"])}
                for e in elements for t in e["threats"] if t["open"]]
        gaps.sort(key=lambda g: (-g["risk"]["score"], natural(g["element"]), natural(g["threat"])))
        for rank, gap in enumerate(gaps, 1):
            gap["rank"] = rank
        return gaps

    def summary(self, zones, components, flows, gaps) -> dict:
        def count(tree):
            return sum(1 + count(z["zones"]) for z in tree)
        ratings = Counter(g["risk"]["rating"] for g in gaps)
        return {"zones": count(zones), "components": len(components), "flows": len(flows),
                "crossing_flows": sum(1 for f in flows if f["crosses"]), "threat_pairs": len(self.rows),
                "distinct_threats": len(self.kinds), "in_profile": self.coverage["totals"]["threats"],
                **{k: self.coverage["totals"][k] for k in (*STATES, "addressed", "open", "ratio", "implemented_ratio")},
                "open_by_rating": {r: ratings.get(r, 0) for r in RATINGS}}

    def catalogs(self) -> list[dict]:
        installed = self.analysis.catalogs
        if installed is None:
            return []
        return [{"name": name, "version": c.get("version"), "licence": c.get("licence")}
                for name, c in installed.catalogs.items()]

    def system(self) -> dict:
        name = self.model.graph.value(self.model.system_iri, RDFS.label)
        description = self.model.graph.value(self.model.system_iri, DCTERMS.description)
        return {"id": self.model.system, "name": str(name or self.model.system),
                "description": str(description) if description else None, "line": self.line()}

    def build(self) -> dict:
        zones, components, flows = self.zones(), self.components(), self.flows()
        gaps = self.open_gaps(components + flows)
        return {
            "report": {"generator": "ThreatKG", "version": __version__, "model": self.model.file,
                       "model_has_lines": bool(self.model.lines), "catalogs": self.catalogs(),
                       "catalog_release": self.analysis.catalogs.release if self.analysis.catalogs else None},
            "system": self.system(),
            "profile": {"id": self.profile.id, "title": self.profile.title, "kind": self.profile.kind,
                        "description": self.profile.description},
            "summary": self.summary(zones, components, flows, gaps),
            "zones": zones, "components": components, "flows": flows, "controls": self.controls(),
            "requirements": self.requirements(), "threats": self.kinds,
            "coverage": {k: v for k, v in self.coverage.items() if k not in ("system", "profile", "open_ranked")},
            "open_gaps": gaps,
            "diagram": {"svg": render_svg(self.analysis, href=lambda ident: "#" + anchor(ident))},
        }


def build(analysis: Analysis, profile: Profile, rated: list[dict] | None = None,
          covered: dict | None = None) -> dict:
    """The report data of an analysed model for a requirement profile (given its rated threat rows
    and their coverage by the profile when they are already known)."""
    return _Builder(analysis, profile, rated, covered).build()
