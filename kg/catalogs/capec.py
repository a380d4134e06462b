"""CAPEC importer: the STIX 2.1 bundle (attack patterns, course-of-action mitigations)."""

import html
import json
import re
from pathlib import Path

from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from kg.catalogs.rdfbuild import CatalogGraph
from kg.errors import InputError, Problem
from kg.namespaces import ID, TM, catalog_iri

# The official single bundle first, then the one rebuilt from MITRE's per-object files.
SOURCE_FILES = ("stix-capec.json", "stix-capec-3.9.reconstructed.json")
CAPEC_PAGE = "https://capec.mitre.org/data/definitions/{}.html"
ATTACK_PAGE = "https://attack.mitre.org/techniques/{}/"

HIERARCHY = {
    "x_capec_child_of_refs": TM.childOf,
    "x_capec_parent_of_refs": TM.parentOf,
    "x_capec_peer_of_refs": TM.peerOf,
    "x_capec_can_precede_refs": TM.canPrecede,
    "x_capec_can_follow_refs": TM.canFollow,
}
SCALARS = {
    "x_capec_status": TM.status,
    "x_capec_abstraction": TM.abstraction,
    "x_capec_likelihood_of_attack": TM.likelihood,
    "x_capec_typical_severity": TM.severity,
}
LISTS = {
    "x_capec_domains": TM.domain,
    "x_capec_prerequisites": TM.prerequisite,
    "x_capec_alternate_terms": SKOS.altLabel,
}

_CAPEC_ID = re.compile(r"CAPEC-(\d+)")
_CWE_ID = re.compile(r"CWE-\d+")
_TECHNIQUE = re.compile(r"T?(\d{4})(?:\.(\d{3}))?")
_BLOCK_TAG = re.compile(r"</?(?:xhtml:)?(?:p|br|li|ul|ol|div|table|tr|h\d)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")


class _Source:
    """The bundle file, for error messages."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, element: str, message: str):
        raise InputError(Problem(str(self.path), message, element=element))

    def field(self, obj: dict, key: str, kind: type, element: str, required: bool = False):
        """obj[key] checked against kind; None when absent and not required."""
        value = obj.get(key)
        if value is None:
            if required:
                self.fail(element, f"missing field '{key}'")
            return None
        if not isinstance(value, kind):
            self.fail(element, f"field '{key}' must be a {kind.__name__}, got {type(value).__name__}")
        return value


def build(source_dir: Path) -> list[CatalogGraph]:
    """One CatalogGraph for the CAPEC STIX bundle in source_dir."""
    src = _Source(_source_file(source_dir))
    objects = _load_objects(src)
    patterns = [o for o in objects if o.get("type") == "attack-pattern"]
    cg = CatalogGraph("capec", _version(src, objects), src.path.name)
    iris = {o["id"]: _pattern_iri(src, o) for o in patterns}
    for obj in patterns:
        _add_pattern(cg, src, obj, iris)
    _add_mitigations(cg, src, objects, iris)
    return [cg]


def plain_text(text: str) -> str:
    """XHTML or plain source text as plain text: tags dropped, one line per block."""
    text = html.unescape(_TAG.sub("", _BLOCK_TAG.sub("\n", text)))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def attack_technique_id(raw: str) -> str | None:
    """An ATT&CK technique id normalised to T1234 / T1234.001 ('1574.010' -> 'T1574.010')."""
    m = _TECHNIQUE.fullmatch(raw.strip().upper())
    if not m:
        return None
    return f"T{m[1]}.{m[2]}" if m[2] else f"T{m[1]}"


def _source_file(source_dir: Path) -> Path:
    for name in SOURCE_FILES:
        if (source_dir / name).is_file():
            return source_dir / name
    raise InputError(Problem(str(source_dir), f"no CAPEC STIX bundle (expected one of {', '.join(SOURCE_FILES)})"))


def _load_objects(src: _Source) -> list[dict]:
    try:
        with src.path.open(encoding="utf-8") as f:
            bundle = json.load(f)
    except json.JSONDecodeError as e:
        raise InputError(Problem(str(src.path), f"not valid JSON: {e.msg}", line=e.lineno)) from None
    except UnicodeDecodeError as e:
        raise InputError(Problem(str(src.path), f"not UTF-8: {e}")) from None
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        src.fail("bundle", "the root must be a STIX bundle object")
    objects = src.field(bundle, "objects", list, "bundle", required=True)
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not isinstance(obj.get("type"), str):
            src.fail(f"objects[{i}]", "a STIX object needs string fields 'type' and 'id'")
    return objects


def _version(src: _Source, objects: list[dict]) -> str:
    versions = {o["x_capec_version"] for o in objects if o["type"] == "attack-pattern" and "x_capec_version" in o}
    if len(versions) != 1:
        src.fail("x_capec_version", f"the attack patterns must share one CAPEC version, found {sorted(versions)}")
    return versions.pop()


def _capec_id(src: _Source, obj: dict) -> str:
    refs = src.field(obj, "external_references", list, obj["id"], required=True)
    first = refs[0] if refs else {}
    if not isinstance(first, dict) or first.get("source_name") != "capec" \
            or not _CAPEC_ID.fullmatch(str(first.get("external_id"))):
        src.fail(obj["id"], "external_references[0] must be the CAPEC id {source_name: capec, external_id: CAPEC-<n>}")
    return first["external_id"]


def _pattern_iri(src: _Source, obj: dict):
    return catalog_iri("capec", _capec_id(src, obj))


def _add_pattern(cg: CatalogGraph, src: _Source, obj: dict, iris: dict) -> None:
    capec_id = _capec_id(src, obj)
    element = f"{obj['id']} ({capec_id})"
    description = src.field(obj, "description", str, element)
    iri = cg.entry("capec", capec_id, TM.AttackPattern,
                   label=src.field(obj, "name", str, element, required=True),
                   description=plain_text(description) if description else None,
                   see_also=CAPEC_PAGE.format(_CAPEC_ID.fullmatch(capec_id)[1]),
                   sepses=f"capec/{capec_id}", d3fend=capec_id)
    for key, prop in SCALARS.items():
        cg.literal(iri, prop, src.field(obj, key, str, element))
    if obj.get("x_capec_status") == "Deprecated":
        cg.add(iri, RDF.type, TM.DeprecatedEntry)
    for key, prop in LISTS.items():
        for value in src.field(obj, key, list, element) or []:
            cg.literal(iri, prop, plain_text(str(value)))
    for key, prop in HIERARCHY.items():
        for ref in src.field(obj, key, list, element) or []:
            if ref not in iris:
                src.fail(element, f"{key} names {ref}, which is not an attack pattern of the bundle")
            cg.add(iri, prop, iris[ref])
    _add_skills(cg, src, iri, capec_id, obj, element)
    _add_consequences(cg, src, iri, capec_id, obj, element)
    _add_references(cg, src, iri, obj, element)


def _add_skills(cg: CatalogGraph, src: _Source, iri, capec_id: str, obj: dict, element: str) -> None:
    skills = src.field(obj, "x_capec_skills_required", dict, element) or {}
    for i, (level, text) in enumerate(skills.items()):
        node = ID[f"capec/{capec_id}/skill/{i}"]
        cg.add(iri, TM.requiresSkill, node)
        cg.add(node, RDF.type, TM.SkillRequirement)
        cg.literal(node, TM.skillLevel, level)
        cg.literal(node, DCTERMS.description, plain_text(str(text)))


def _add_consequences(cg: CatalogGraph, src: _Source, iri, capec_id: str, obj: dict, element: str) -> None:
    """One tm:Consequence node per scope (the STIX form groups impacts by scope)."""
    consequences = src.field(obj, "x_capec_consequences", dict, element) or {}
    for i, (scope, impacts) in enumerate(consequences.items()):
        if not isinstance(impacts, list):
            src.fail(element, f"x_capec_consequences['{scope}'] must be a list of impacts")
        node = ID[f"capec/{capec_id}/consequence/{i}"]
        cg.literal(iri, TM.consequenceScope, scope)
        cg.add(iri, TM.hasConsequence, node)
        cg.add(node, RDF.type, TM.Consequence)
        cg.literal(node, TM.consequenceScope, scope)
        for impact in impacts:
            cg.literal(node, TM.consequenceImpact, str(impact))


def _add_references(cg: CatalogGraph, src: _Source, iri, obj: dict, element: str) -> None:
    """Related CWEs and ATT&CK techniques (official links) from external_references."""
    for ref in obj["external_references"][1:]:
        if not isinstance(ref, dict):
            src.fail(element, "external_references entries must be objects")
        kind, ext_id = ref.get("source_name"), str(ref.get("external_id", ""))
        if kind == "cwe":
            if not _CWE_ID.fullmatch(ext_id):
                src.fail(element, f"CWE reference '{ext_id}' is not of the form CWE-<n>")
            cg.link(iri, TM.relatedWeakness, catalog_iri("cwe", ext_id), "official")
        elif kind == "ATTACK":
            cg.link(iri, TM.attackTechnique, _technique(cg, src, ext_id, element), "official")


def _technique(cg: CatalogGraph, src: _Source, raw: str, element: str):
    """The ATT&CK technique node (id, page, D3FEND match); labels are left to an ATT&CK importer."""
    tid = attack_technique_id(raw)
    if tid is None:
        src.fail(element, f"ATT&CK reference '{raw}' is not a technique id like T1574 or T1574.010")
    return cg.entry("attack", tid, TM.AttackTechnique, see_also=ATTACK_PAGE.format(tid.replace(".", "/")),
                    d3fend=tid)


def _add_mitigations(cg: CatalogGraph, src: _Source, objects: list[dict], iris: dict) -> None:
    """Course-of-action objects and their 'mitigates' relationships.

    Their names (coa-66-0) are not unique in CAPEC 3.9, so the IRI uses the STIX id and the
    name is the dcterms:identifier."""
    mitigations = {}
    for obj in objects:
        if obj["type"] == "course-of-action":
            name = src.field(obj, "name", str, obj["id"], required=True)
            iri = mitigations[obj["id"]] = catalog_iri("capec", obj["id"])
            cg.add(iri, RDF.type, TM.CapecMitigation)
            cg.literal(iri, DCTERMS.identifier, name)
            cg.literal(iri, RDFS.label, name)
            description = src.field(obj, "description", str, obj["id"])
            cg.literal(iri, DCTERMS.description, plain_text(description) if description else None)
    for obj in objects:
        if obj["type"] == "relationship" and obj.get("relationship_type") == "mitigates":
            source, target = obj.get("source_ref"), obj.get("target_ref")
            if source not in mitigations or target not in iris:
                src.fail(obj["id"], f"'mitigates' must link a course-of-action to an attack pattern "
                                    f"of the bundle, got {source} -> {target}")
            cg.link(mitigations[source], TM.mitigates, iris[target], "official")
