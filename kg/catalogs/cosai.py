"""CoSAI Risk Map importer: `risk-map/yaml/{components,risks,controls,frameworks,personas}.yaml`
(cosai-oasis/secure-ai-tooling) → one CatalogGraph.

The files carry no release number: the version is the date of the source commit (VERSION).
Components and their data-flow edges, risks with their STRIDE / ATLAS / OWASP LLM mappings,
controls with the risks they mitigate and the components they apply to, personas. The files
state no direct risk → component relation; it is derived through the controls (tm:affectsComponent,
provenance 'derived', the controls named in tm:method) by catalogs/steps/cosai-affected-components.ru."""

import re
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, SKOS

from kg.catalogs.atlas import load_yaml, need, records, strings
from kg.catalogs.rdfbuild import CatalogGraph
from kg.errors import InputError, Problem
from kg.namespaces import STRIDE, TM, catalog_iri
from kg.ontology import stride

VERSION = "2026-06-10"
FOLDER = "cosai-risk-map"
PAGE = "https://github.com/cosai-oasis/secure-ai-tooling/blob/main/risk-map/yaml"
FACETS = (("lifecycleStage", TM.lifecycleStage), ("impactType", TM.impactType),
          ("actorAccess", TM.actorAccess))
TOUR = (("introduced", TM.tourIntroduced), ("exposed", TM.tourExposed), ("mitigated", TM.tourMitigated))
_PLACEHOLDER = re.compile(r"\{\{\s*(ref:)?([^{}\s]+)\s*\}\}")


class _Source:
    """The five YAML files, loaded, with the lookups that text flattening and mappings need."""

    def __init__(self, source_dir: Path):
        self.data = {name: self._load(Path(source_dir), name)
                     for name in ("frameworks", "personas", "components", "risks", "controls")}
        self.lists = {name: records(self.data[name], name, f"{name}.yaml", name)
                      for name in ("personas", "components", "risks", "controls")}
        self.frameworks = {need(f, "id", str, "frameworks.yaml", "frameworks"): f.get("version")
                           for f in records(self.data["frameworks"], "frameworks", "frameworks.yaml",
                                            "frameworks")}
        self.titles = {need(item, "id", str, f"{name}.yaml", name): item.get("title")
                       for name, items in self.lists.items() for item in items}

    @staticmethod
    def _load(folder: Path, name: str) -> dict:
        data = load_yaml(folder / f"{name}.yaml", f"{name}.yaml")
        if not isinstance(data, dict):
            raise InputError(Problem(f"{name}.yaml", "expected a mapping at the top level"))
        return data


def build(source_dir: Path) -> list[CatalogGraph]:
    """Build the CoSAI Risk Map graph from the YAML files in source_dir."""
    src = _Source(source_dir)
    cg = CatalogGraph("cosai", VERSION, f"{FOLDER}/risks.yaml")
    for persona in src.lists["personas"]:
        _persona(cg, src, persona)
    for component in src.lists["components"]:
        _component(cg, src, component)
    for risk in src.lists["risks"]:
        _risk(cg, src, risk)
    for control in src.lists["controls"]:
        _control(cg, src, control)
    return [cg]


def prose(value, refs: dict[str, str], titles: dict[str, str]) -> tuple[str, list[str]]:
    """A text field (paragraphs, nested lists as bullet lines) as plain text; `{{ref:x}}` becomes
    the reference's title, `{{entityId}}` the entity's title (its id is returned as mentioned)."""
    mentioned = []

    def fill(match: re.Match) -> str:
        is_ref, key = match.group(1), match.group(2)
        if is_ref:
            return refs.get(key) or key
        mentioned.append(key)
        return titles.get(key) or key

    def lines(item, depth: int) -> list[str]:
        if isinstance(item, list):
            return [line for sub in item for line in lines(sub, depth + 1)]
        text = " ".join(str(item).split()) if depth else str(item).strip()
        return [f"{'  ' * (depth - 1)}- {text}" if depth else text]

    paragraphs = ["\n".join(lines(p, 0)) for p in (value if isinstance(value, list) else [value])]
    return _PLACEHOLDER.sub(fill, "\n\n".join(p for p in paragraphs if p)), mentioned


def _entry(cg: CatalogGraph, src: _Source, item: dict, file: str, rdf_type, text_key: str,
           refs: dict[str, str] | None = None) -> URIRef:
    """id, title, flattened description, the source file as page, mentions of other entries."""
    official_id = item["id"]
    title = need(item, "title", str, file, official_id)
    text, mentioned = prose(need(item, text_key, (list, str), file, official_id), refs or {},
                            src.titles)
    iri = cg.entry("cosai", official_id, rdf_type, label=title, description=text,
                   see_also=f"{PAGE}/{file}")
    for other in dict.fromkeys(mentioned):
        if other != official_id:
            cg.link(iri, TM.mentions, catalog_iri("cosai", other), "official", source=f"{FOLDER}/{file}")
    return iri


def _persona(cg: CatalogGraph, src: _Source, persona: dict) -> None:
    iri = _entry(cg, src, persona, "personas.yaml", TM.CosaiPersona, "description")
    if persona.get("deprecated") is True:
        cg.literal(iri, OWL.deprecated, True)


def _component(cg: CatalogGraph, src: _Source, component: dict) -> None:
    """A component, its (sub)category and its data-flow edges (`to`, and `from` reversed)."""
    file, official_id = "components.yaml", component["id"]
    iri = _entry(cg, src, component, file, TM.CosaiComponent, "description")
    cg.literal(iri, TM.category, need(component, "category", str, file, official_id, optional=True))
    cg.literal(iri, TM.subcategory, need(component, "subcategory", str, file, official_id, optional=True))
    edges = need(component, "edges", dict, file, official_id, optional=True) or {}
    for target in strings(edges, "to", file, f"{official_id}.edges"):
        cg.add(iri, TM.flowsTo, catalog_iri("cosai", target))
    for origin in strings(edges, "from", file, f"{official_id}.edges"):
        cg.add(catalog_iri("cosai", origin), TM.flowsTo, iri)


def _risk(cg: CatalogGraph, src: _Source, risk: dict) -> None:
    """A risk: descriptions, facets, examples, tour texts, references and framework mappings.
    Its `controls` list is not read: it mirrors the controls' `risks` (kept consistent upstream)."""
    file, official_id = "risks.yaml", risk["id"]
    refs = {need(r, "id", str, file, f"{official_id}.externalReferences"): r.get("title")
            for r in records(risk, "externalReferences", file, official_id, optional=True)}
    iri = _entry(cg, src, risk, file, TM.CosaiRisk, "longDescription", refs)
    short = need(risk, "shortDescription", (list, str), file, official_id)
    cg.literal(iri, DCTERMS.abstract, prose(short, refs, src.titles)[0])
    _facets(cg, iri, risk, file)
    for example in need(risk, "examples", list, file, official_id, optional=True) or []:
        cg.literal(iri, SKOS.example, prose(example, refs, src.titles)[0])
    tour = need(risk, "tourContent", dict, file, official_id, optional=True) or {}
    for key, prop in TOUR:
        if key in tour:
            cg.literal(iri, prop, prose(tour[key], refs, src.titles)[0])
    for ref in records(risk, "externalReferences", file, official_id, optional=True):
        url = ref.get("url")
        if isinstance(url, str) and re.fullmatch(r"https?://\S+", url.strip()):
            cg.add(iri, DCTERMS.references, URIRef(url.strip()))
    _mappings(cg, src, iri, risk, file)


def _control(cg: CatalogGraph, src: _Source, control: dict) -> None:
    """A control: the risks it mitigates and components it applies to (`all` expanded), mappings."""
    file, official_id = "controls.yaml", control["id"]
    iri = _entry(cg, src, control, file, TM.CosaiControl, "description")
    _facets(cg, iri, control, file)
    risks = need(control, "risks", (list, str), file, official_id)
    if risks == "all":
        cg.literal(iri, TM.universalControl, True)
    for risk in _ids(control, "risks", src.lists["risks"], file):
        cg.link(iri, TM.mitigates, catalog_iri("cosai", risk), "official", source=f"{FOLDER}/{file}",
                method="risks: all (universal control)" if risks == "all" else None)
    for component in _ids(control, "components", src.lists["components"], file):
        cg.add(iri, TM.appliesTo, catalog_iri("cosai", component))
    if control.get("components") == "all":   # for the derivation step, which leaves these out
        cg.inputs.add((iri, TM.appliesToAll, Literal(True)))
    _mappings(cg, src, iri, control, file)


def _ids(item: dict, key: str, universe: list[dict], file: str) -> list[str]:
    """A list of ids, or `all` (every id in universe), or `none`."""
    value = need(item, key, (list, str), file, item["id"])
    if value == "all":
        return [other["id"] for other in universe]
    if value == "none":
        return []
    if isinstance(value, str):
        raise InputError(Problem(file, f"expected a list, 'all' or 'none', found {value!r}",
                                 element=f"{item['id']}.{key}"))
    return strings(item, key, file, item["id"])


def _facets(cg: CatalogGraph, iri: URIRef, item: dict, file: str) -> None:
    """personas and category (always), lifecycleStage / impactType / actorAccess (a list, or all/none)."""
    official_id = item["id"]
    cg.literal(iri, TM.category, need(item, "category", str, file, official_id))
    for persona in strings(item, "personas", file, official_id):
        cg.literal(iri, TM.persona, persona)
    for key, prop in FACETS:
        value = need(item, key, (list, str), file, official_id, optional=True)
        for facet in [value] if isinstance(value, str) else strings(item, key, file, official_id):
            cg.literal(iri, prop, facet)


def _mappings(cg: CatalogGraph, src: _Source, iri: URIRef, item: dict, file: str) -> None:
    """`mappings: {framework: ["id@version", ..]}` → links to the frameworks' entries (official)."""
    where = f"{item['id']}.mappings"
    mappings = need(item, "mappings", dict, file, item["id"], optional=True) or {}
    for framework in mappings:
        if framework not in src.frameworks:
            raise InputError(Problem(file, "framework not declared in frameworks.yaml",
                                     element=f"{where}.{framework}"))
        for value in strings(mappings, framework, file, where):
            ref, _, pinned = value.partition("@")
            version = pinned or src.frameworks[framework]
            _mapping(cg, iri, framework, ref, str(version) if version else None, file, where)


def _mapping(cg: CatalogGraph, iri: URIRef, framework: str, ref: str, version: str | None,
             file: str, where: str) -> None:
    source = f"{FOLDER}/{file}"
    if framework == "stride":
        if ref not in {c.id for c in stride()}:
            raise InputError(Problem(file, f"unknown STRIDE category {ref!r}", element=f"{where}.stride"))
        cg.link(iri, TM.hasStride, STRIDE[ref], "official", source=source)
    elif framework == "mitre-atlas":
        prop = TM.relatedMitigation if ref.startswith("AML.M") else TM.relatedTechnique
        cg.link(iri, prop, catalog_iri("atlas", ref), "official", source=source, version=version)
    elif framework == "owasp-top10-llm":
        cg.link(iri, TM.relatedRisk, catalog_iri("owasp", ref), "official", source=source, version=version)
    elif framework == "nist-ai-rmf":
        cg.literal(iri, TM.nistAiRmf, ref)
    else:
        cg.literal(iri, TM.frameworkMapping, f"{framework}:{ref}" + (f"@{version}" if version else ""))
