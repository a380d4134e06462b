"""Catalog pages: one page per catalog entry (threat, weakness, requirement, control, category…)
driven by what the graph states about it, with the requirement ↔ threat chains of kg.mapping (what a
requirement addresses and covers in the served systems, which requirements cover a threat), and
search across every catalog and served model."""

from collections import defaultdict

from flask import Blueprint, abort, current_app, render_template, request, url_for
from pyoxigraph import Literal, NamedNode
from rdflib import URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from kg.ids import form_of
from kg.mapping import mappings
from kg.namespaces import ID, MODEL
from kg.profiles import DEFAULT_PROFILE
from kg.provenance import LinkIndex
from kg.queries import run
from kg.report import natural
from kg.web import registry
from kg.web.systemview import by_risk, view

bp = Blueprint("catalog", __name__)

CATALOGS = {"capec": "CAPEC", "cwe": "CWE", "atlas": "ATLAS", "attack": "ATT&CK", "asvs": "ASVS",
            "owasp": "OWASP", "cosai": "CoSAI", "stride": "STRIDE", "security-property": "Security property"}
GROUP_LIMIT = 200        # entries listed per linking property
MAP_LIMIT = 200          # requirement ↔ threat chains listed on an entry's page
SEARCH_LIMIT = 100       # search.rq asks for one more, to tell that there are more
EXTERNAL = {str(RDFS.seeAlso): "pages", str(SKOS.exactMatch): "matches"}


@bp.app_template_global()
def href(iri: str) -> str | None:
    """This site's page for a catalog entry or model element; another web IRI as it is; None for
    anything else (no javascript: or data: links out of graph data)."""
    if iri.startswith(str(ID)):
        return url_for("catalog.entry", ident=iri[len(str(ID)):])
    if iri.startswith(str(MODEL)):
        system, _, element = iri[len(str(MODEL)):].partition("/")
        if element:
            return url_for("pages.component", system=system, element=element)
        return url_for("pages.overview", system=system)
    return iri if iri.startswith(("https://", "http://")) else None


@bp.app_template_global()
def catalog_of(iri: str) -> str:
    """The catalog an entry belongs to, read off its IRI (…/id/<catalog>/…); 'model' for elements."""
    if iri.startswith(str(MODEL)):
        return "model " + iri[len(str(MODEL)):].split("/", 1)[0]
    name = iri[len(str(ID)):].split("/", 1)[0] if iri.startswith(str(ID)) else ""
    return CATALOGS.get(name, name)


@bp.get("/threat/<path:ident>")
def entry(ident):
    store = registry().dataset()
    candidates = _resolve(store, ident)
    if not candidates:
        abort(404, f"No catalog entry has the id {ident}.")
    if len(candidates) > 1:
        return render_template("catalog/entries.html", ident=ident, candidates=candidates)
    iri = candidates[0]
    entry = describe(store, iri)
    form = form_of(entry["id"])
    kind = form.kind if form else None
    return render_template("catalog/entry.html", entry=entry, inherited=_inherited(iri), profile=DEFAULT_PROFILE, kind=kind,
                           addresses=_addresses(store, iri) if kind in ("requirement", None) else None,
                           covered_by=_covered_by(store, iri) if kind in ("threat", None) else None)


@bp.get("/search")
def search():
    q = request.args.get("q", "").strip()[:100]
    results = []
    if len(q) >= 2:
        sols = run(registry().dataset(), "search", q=Literal(q.lower()))
        results = [{"iri": s["entry"].value, "id": s["id"].value, "label": s["label"].value if s["label"] else ""}
                   for s in sols]
    return render_template("catalog/search.html", q=q, results=results[:SEARCH_LIMIT], more=len(results) > SEARCH_LIMIT)


def _resolve(store, ident: str) -> list[str]:
    """The entries an id names: a path under …/id/ (capec/CAPEC-66), or an identifier (CAPEC-66)."""
    iri = str(ID[ident])
    if "/" in ident and (_exists(store, iri, subject=True) or _exists(store, iri, subject=False)):
        return [iri]
    return [s["entry"].value for s in run(store, "entry-lookup", id=Literal(ident))]


def _exists(store, iri: str, subject: bool) -> bool:
    node = NamedNode(iri)
    quads = store.quads_for_pattern(node, None, None) if subject else store.quads_for_pattern(None, None, node)
    return next(quads, None) is not None


def describe(store, iri: str) -> dict:
    """Everything the graph says about an entry, sorted into sections for its page."""
    out = {"iri": iri, "catalog": catalog_of(iri), "id": iri.rsplit("/", 1)[-1], "labels": [], "descriptions": [],
           "types": {}, "facts": {}, "links": {}, "pages": set(), "matches": set(), "references": set()}
    for s in run(store, "entry-facts", entry=URIRef(iri)):
        _sort_fact(out, iri, s)
    linked = {link["iri"] for links in out["links"].values() for link in links.values()}
    out["referrers"] = _referrers(store, iri, linked)
    out["parts"] = _parts(store, iri)
    out["links"] = {p: _capped(sorted(v.values(), key=lambda e: e["id"])) for p, v in sorted(out["links"].items())}
    out["facts"] = dict(sorted((p, sorted(v)) for p, v in out["facts"].items()))
    for key in ("pages", "matches", "references"):
        out[key] = sorted(out[key])
    out["types"] = sorted(out["types"].values())
    return out


def _sort_fact(out: dict, iri: str, s) -> None:
    prop, value = s["property"].value, s["value"]
    if prop == str(DCTERMS.identifier):
        out["id"] = value.value
    elif prop == str(RDFS.label):
        _add(out["labels"], value.value)
    elif prop == str(DCTERMS.description):
        _add(out["descriptions"], value.value)
    elif prop == str(RDF.type):
        if s["valueLabel"]:
            out["types"][value.value] = s["valueLabel"].value
    elif isinstance(value, Literal):
        out["facts"].setdefault(_label(s, "property"), set()).add(value.value)
    elif prop in EXTERNAL:
        out[EXTERNAL[prop]].add(value.value)
    elif not value.value.startswith(iri + "/") and isinstance(value, NamedNode):
        if value.value.startswith(str(ID)) or s["valueId"]:
            links = out["links"].setdefault(_label(s, "property"), {})
            link = links.setdefault(value.value, _linked(value.value, s["valueId"], s["valueLabel"]))
            link["provenance"] = link["provenance"] or (s["provenance"].value if s["provenance"] else None)
        else:
            out["references"].add(value.value)


def _referrers(store, iri: str, linked: set) -> dict:
    """Entries linking to this one, by property, leaving out those already listed as its links."""
    groups = {}
    for s in run(store, "entry-referrers", entry=URIRef(iri)):
        source = s["source"].value
        if source not in linked:
            group = groups.setdefault(_label(s, "property"), {})
            link = group.setdefault(source, _linked(source, s["sourceId"], s["sourceLabel"]))
            link["provenance"] = link["provenance"] or (s["provenance"].value if s["provenance"] else None)
    return {p: _capped(sorted(v.values(), key=lambda e: e["id"])) for p, v in sorted(groups.items())}


def _parts(store, iri: str) -> list[dict]:
    """The entry's parts without an id of their own (a CAPEC pattern's consequences…), with their facts."""
    parts = {}
    for s in run(store, "entry-parts", entry=URIRef(iri)):
        part = parts.setdefault(s["part"].value, {"name": " ".join(s["part"].value[len(iri) + 1:].split("/")),
                                                  "facts": {}})
        _add(part["facts"].setdefault(_label(s, "property"), []), s["value"].value)
    return list(parts.values())


def _inherited(iri: str) -> list[dict]:
    """The elements of the served systems that inherit the entry as a threat, with its residual risk
    there and whether the default profile leaves it open."""
    out = []
    for system in registry().systems():
        v = view(system)
        status = v.status()
        out += [{"system": system, "element": v.elements.get(r["component"], {"label": r["component"]}),
                 "row": r, "status": status.get((r["component"], r["threat"]))}
                for r in sorted(v.rated, key=by_risk) if r["iri"] == iri]
    return out


def mapped(store, iri: str, end: str) -> list[dict]:
    """kg.mapping rows with the entry at one end (requirement / threat), between catalog entries only
    (the served models' controls also state tm:mitigates)."""
    rows = mappings(store, links=_links(store), **{end: URIRef(iri)})
    return [m for m in rows if m["requirementIri"].startswith(str(ID)) and m["threatIri"].startswith(str(ID))]


def _links(store) -> LinkIndex:
    """The link provenance of the served dataset, indexed once per dataset."""
    cached = current_app.extensions.get("dataset_links")
    if cached is None or cached[0] is not store:
        cached = current_app.extensions["dataset_links"] = (store, LinkIndex(store))
    return cached[1]


def _addresses(store, iri: str) -> dict:
    """A requirement's chains to the threats it addresses, and per served system whether it is
    implemented and which elements' inherited threats it addresses."""
    rows = mapped(store, iri, "requirement")
    threats = {m["threatIri"] for m in rows}
    systems = []
    for system in registry().systems():
        v = view(system)
        covered = defaultdict(list)
        for r in sorted(v.rated, key=by_risk):
            if r["iri"] in threats:
                covered[r["component"]].append(r)
        systems.append({"view": v, "implemented": v.implemented().get(iri, []),
                        "elements": [{"id": e, "label": v.elements.get(e, {"label": e})["label"], "rows": covered[e]}
                                     for e in sorted(covered, key=natural)]})
    return {"rows": rows[:MAP_LIMIT], "count": len(rows), "threats": len(threats), "systems": systems}


def _covered_by(store, iri: str) -> dict:
    """The requirements covering a threat, each chain with its provenance, the requirement's label and
    the served elements that implement it."""
    rows = mapped(store, iri, "threat")
    implemented = [(system, view(system).implemented()) for system in registry().systems()]
    out = [{**m, "requirementLabel": _entry_label(store, m["requirementIri"]),
            "implemented": [(system, found[m["requirementIri"]]) for system, found in implemented
                            if m["requirementIri"] in found]}
           for m in rows[:MAP_LIMIT]]
    return {"rows": out, "count": len(rows), "requirements": len({m["requirementIri"] for m in rows})}


def _entry_label(store, iri: str) -> str:
    quad = next(store.quads_for_pattern(NamedNode(iri), NamedNode(str(RDFS.label)), None), None)
    return quad.object.value if quad else ""


def _linked(iri: str, ident, label) -> dict:
    return {"iri": iri, "id": ident.value if ident else iri.rsplit("/", 1)[-1],
            "label": label.value if label else "", "provenance": None}


def _label(s, var: str) -> str:
    label = s[f"{var}Label"]
    return label.value if label else s[var].value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _capped(items: list) -> dict:
    return {"items": items[:GROUP_LIMIT], "more": max(0, len(items) - GROUP_LIMIT)}


def _add(items: list, value) -> None:
    if value not in items:
        items.append(value)
