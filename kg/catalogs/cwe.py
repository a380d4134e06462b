"""CWE importer: the cwec_v<version>.xml list (weaknesses, categories, views)."""

import re
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from rdflib.namespace import DCTERMS, RDF, SKOS

from kg.catalogs.rdfbuild import CatalogGraph
from kg.errors import InputError, Problem
from kg.namespaces import ID, TM, catalog_iri

CWE_PAGE = "https://cwe.mitre.org/data/definitions/{}.html"
RESEARCH_VIEW = "1000"
# Related_Weakness/@Nature values of the CWE schema -> tm: property.
NATURES = {
    "ChildOf": TM.childOf, "ParentOf": TM.parentOf, "PeerOf": TM.peerOf,
    "CanPrecede": TM.canPrecede, "CanFollow": TM.canFollow, "CanAlsoBe": TM.canAlsoBe,
    "Requires": TM.requires, "RequiredBy": TM.requiredBy, "StartsWith": TM.startsWith,
}
# Views whose member categories stand for OWASP Top 10 risks named in the category name.
_OWASP_VIEW = re.compile(r"Weaknesses in OWASP Top Ten")
_OWASP_RISK = re.compile(r"\bA\d{2}:\d{4}\b")
_NUMBER = re.compile(r"\d+")


class _Source:
    """The XML file and its namespace, for lookups and error messages."""

    def __init__(self, path: Path, ns: str):
        self.path, self.ns = path, ns

    def fail(self, element: str, message: str):
        raise InputError(Problem(str(self.path), message, element=element))

    def all(self, el: Element, path: str) -> list[Element]:
        """Descendants along a '/'-separated path of CWE-namespace names."""
        return el.findall("/".join(f"{{{self.ns}}}{part}" for part in path.split("/")))

    def texts(self, el: Element, path: str) -> list[str]:
        return [t for t in (_text(e) for e in self.all(el, path)) if t]

    def text(self, el: Element, path: str) -> str | None:
        found = self.texts(el, path)
        return found[0] if found else None

    def number(self, el: Element, attr: str, element: str) -> str:
        value = el.get(attr, "")
        if not _NUMBER.fullmatch(value):
            self.fail(element, f"attribute {attr}='{value}' must be a number")
        return value


def build(source_dir: Path) -> list[CatalogGraph]:
    """One CatalogGraph per cwec_v*.xml file in source_dir."""
    files = sorted(source_dir.glob("cwec_v*.xml"))
    if not files:
        raise InputError(Problem(str(source_dir), "no CWE list (expected cwec_v<version>.xml)"))
    return [_build_file(path) for path in files]


def _build_file(path: Path) -> CatalogGraph:
    src, root = _parse(path)
    version = root.get("Version") or src.fail("Weakness_Catalog", "missing attribute Version")
    cg = CatalogGraph("cwe", version, path.name)
    for el in src.all(root, "Weaknesses/Weakness"):
        _add_weakness(cg, src, el)
    categories = {el.get("ID"): el for el in src.all(root, "Categories/Category")}
    for el in categories.values():
        _add_category(cg, src, el)
    for el in src.all(root, "Views/View"):
        _add_view(cg, src, el, categories)
    return cg


def _parse(path: Path) -> tuple[_Source, Element]:
    """Parse with defusedxml: entity declarations and external references are refused."""
    try:
        root = SafeET.parse(path).getroot()
    except DefusedXmlException as e:
        raise InputError(Problem(str(path), f"refused unsafe XML: {e}")) from None
    except ParseError as e:
        raise InputError(Problem(str(path), f"not well-formed XML: {e}", line=e.position[0])) from None
    ns, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if local != "Weakness_Catalog":
        raise InputError(Problem(str(path), f"root element is {local}, expected Weakness_Catalog"))
    return _Source(path, ns), root


def _text(el: Element) -> str:
    """Element text (XHTML included) with whitespace collapsed."""
    return " ".join("".join(el.itertext()).split())


def _entry(cg: CatalogGraph, src: _Source, el: Element, rdf_type, description: str | None,
           exact_match: bool = False):
    """The parts every weakness, category and view has: id, name, status, mapping usage
    (SEPSES / D3FEND matches only where asked: they hold weaknesses)."""
    number = src.number(el, "ID", el.tag.rpartition("}")[2])
    cwe_id = f"CWE-{number}"
    iri = cg.entry("cwe", cwe_id, rdf_type, label=el.get("Name"), description=description,
                   see_also=CWE_PAGE.format(number), sepses=f"cwe/{cwe_id}" if exact_match else None,
                   d3fend=cwe_id if exact_match else None)
    cg.literal(iri, TM.status, el.get("Status"))
    if el.get("Status") == "Deprecated":
        cg.add(iri, RDF.type, TM.DeprecatedEntry)
    cg.literal(iri, TM.mappingUsage, src.text(el, "Mapping_Notes/Usage"))
    return iri, cwe_id


def _add_weakness(cg: CatalogGraph, src: _Source, el: Element) -> None:
    iri, cwe_id = _entry(cg, src, el, TM.Weakness, src.text(el, "Description"), exact_match=True)
    cg.literal(iri, TM.abstraction, el.get("Abstraction"))
    cg.literal(iri, TM.likelihood, src.text(el, "Likelihood_Of_Exploit"))
    for tag, prop in (("Language", TM.platformLanguage), ("Technology", TM.platformTechnology)):
        for platform in src.all(el, f"Applicable_Platforms/{tag}"):
            cg.literal(iri, prop, platform.get("Name") or platform.get("Class"))
    for term in src.texts(el, "Alternate_Terms/Alternate_Term/Term"):
        cg.literal(iri, SKOS.altLabel, term)
    _add_related_weaknesses(cg, src, el, iri, cwe_id)
    _add_consequences(cg, src, el, iri, cwe_id)
    for rap in src.all(el, "Related_Attack_Patterns/Related_Attack_Pattern"):
        capec = src.number(rap, "CAPEC_ID", f"{cwe_id} Related_Attack_Pattern")
        cg.link(iri, TM.relatedAttackPattern, catalog_iri("capec", f"CAPEC-{capec}"), "official")


def _add_related_weaknesses(cg: CatalogGraph, src: _Source, el: Element, iri, cwe_id: str) -> None:
    """A plain triple per nature, plus a tm:WeaknessRelationship node that keeps View_ID and Ordinal."""
    for i, rel in enumerate(src.all(el, "Related_Weaknesses/Related_Weakness")):
        element = f"{cwe_id} Related_Weakness"
        nature = rel.get("Nature")
        if nature not in NATURES:
            src.fail(element, f"unknown Nature '{nature}' (expected one of {', '.join(NATURES)})")
        target = catalog_iri("cwe", f"CWE-{src.number(rel, 'CWE_ID', element)}")
        view = src.number(rel, "View_ID", element)
        cg.add(iri, NATURES[nature], target)
        if nature == "ChildOf" and view == RESEARCH_VIEW:
            cg.add(iri, TM.childOfInResearchView, target)
        node = ID[f"cwe/{cwe_id}/related-weakness/{i}"]
        cg.add(iri, TM.hasWeaknessRelationship, node)
        cg.add(node, RDF.type, TM.WeaknessRelationship)
        cg.literal(node, TM.relationshipNature, nature)
        cg.add(node, TM.relatedTo, target)
        cg.add(node, TM.inView, catalog_iri("cwe", f"CWE-{view}"))
        cg.literal(node, TM.ordinal, rel.get("Ordinal"))


def _add_consequences(cg: CatalogGraph, src: _Source, el: Element, iri, cwe_id: str) -> None:
    """A tm:Consequence node per Common_Consequences/Consequence; scopes also on the weakness."""
    for i, cons in enumerate(src.all(el, "Common_Consequences/Consequence")):
        node = ID[f"cwe/{cwe_id}/consequence/{i}"]
        cg.add(iri, TM.hasConsequence, node)
        cg.add(node, RDF.type, TM.Consequence)
        for scope in src.texts(cons, "Scope"):
            cg.literal(iri, TM.consequenceScope, scope)
            cg.literal(node, TM.consequenceScope, scope)
        for impact in src.texts(cons, "Impact"):
            cg.literal(node, TM.consequenceImpact, impact)
        cg.literal(node, TM.likelihood, src.text(cons, "Likelihood"))
        cg.literal(node, DCTERMS.description, src.text(cons, "Note"))


def _add_members(cg: CatalogGraph, src: _Source, iri, members: list[Element], element: str) -> list[str]:
    """tm:hasMember for each Has_Member; returns the member numbers."""
    numbers = [src.number(m, "CWE_ID", element) for m in members]
    for number in numbers:
        cg.add(iri, TM.hasMember, catalog_iri("cwe", f"CWE-{number}"))
    return numbers


def _add_category(cg: CatalogGraph, src: _Source, el: Element) -> None:
    iri, cwe_id = _entry(cg, src, el, TM.WeaknessCategory, src.text(el, "Summary"))
    _add_members(cg, src, iri, src.all(el, "Relationships/Has_Member"), f"{cwe_id} Has_Member")


def _add_view(cg: CatalogGraph, src: _Source, el: Element, categories: dict[str, Element]) -> None:
    iri, cwe_id = _entry(cg, src, el, TM.WeaknessView, src.text(el, "Objective"))
    cg.literal(iri, TM.viewType, el.get("Type"))
    members = _add_members(cg, src, iri, src.all(el, "Members/Has_Member"), f"{cwe_id} Has_Member")
    if _OWASP_VIEW.match(el.get("Name", "")):
        for number in members:
            _link_owasp_risk(cg, categories.get(number), number)


def _link_owasp_risk(cg: CatalogGraph, category: Element | None, number: str) -> None:
    """Category 'OWASP Top Ten 2021 Category A03:2021 - Injection' -> owasp A03:2021."""
    risk = _OWASP_RISK.search(category.get("Name", "")) if category is not None else None
    if risk:
        cg.link(catalog_iri("cwe", f"CWE-{number}"), TM.correspondsTo, catalog_iri("owasp", risk[0]), "official")
