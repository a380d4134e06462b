"""OWASP ASVS 4.0.3 and 5.0.0 (JSON trees): chapters, sections and requirements with their
levels, CWE links (official for 4.0.3, derived for 5.0.0) and OWASP's 4.0.3 -> 5.0.0 mapping.

Ids follow OWASP's own form: requirement ``v4.0.3-5.3.4``, section ``v4.0.3-5.3``, chapter
``v4.0.3-V5``; the version itself is the concept scheme ``v4.0.3``."""

import json
import logging
import re
from pathlib import Path

import yaml
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import OWL, RDF, SKOS

from kg.catalogs.rdfbuild import CatalogGraph
from kg.errors import InputError, Problem
from kg.namespaces import TM, catalog_iri

log = logging.getLogger(__name__)

TREES = {"4.0.3": "asvs-4.0.3-en.json", "5.0.0": "asvs-5.0.0-en.json"}
MAP_OLD_TO_NEW = "mapping_v4.0.3_to_v5.0.0.yml"
MAP_NEW_TO_OLD = "mapping_v5.0.0_to_v4.0.3.yml"
BE_CWE = "v5.0.be_cwe_mapping.json"
BE_TO_500 = "mapping_v5.0.be_to_v5.0.0.yml"

MAPPING_SOURCE = "OWASP ASVS 5.0 mappings v4.0.3 <-> v5.0.0"

REPO = "https://github.com/OWASP/ASVS"
# 4.0.3 chapter files (tag v4.0.3); 5.0.0 file names follow from the chapter name.
CHAPTER_FILES_403 = {
    1: "0x10-V1-Architecture", 2: "0x11-V2-Authentication", 3: "0x12-V3-Session-management",
    4: "0x12-V4-Access-Control", 5: "0x13-V5-Validation-Sanitization-Encoding",
    6: "0x14-V6-Cryptography", 7: "0x15-V7-Error-Logging", 8: "0x16-V8-Data-Protection",
    9: "0x17-V9-Communications", 10: "0x18-V10-Malicious", 11: "0x19-V11-BusLogic",
    12: "0x20-V12-Files-Resources", 13: "0x21-V13-API", 14: "0x22-V14-Config",
}

# Mapping status vocabulary: phrases that take requirement ids, and bare flags.
RELATIONS = {
    "MOVED TO": "moved", "MOVED FROM": "moved", "MERGED TO": "merged", "MERGED FROM": "merged",
    "SPLIT TO": "split", "SPLIT FROM": "split", "COVERED BY": "covered", "COVERS": "covered",
    "DEPRECATED BY": "deprecated", "DEPRECATES": "deprecated",
}
FLAGS = {"ADDED", "DELETED", "MODIFIED", "GRAMMAR",
         "NOT IN SCOPE", "INSUFFICIENT IMPACT", "NOT PRACTICAL", "INCORRECT"}
ASVS_ID = r"v\d+\.\d+\.\d+-\d+(?:\.\d+)*"
STATUS_TOKEN = re.compile(rf"(?:(?P<phrase>[A-Z][A-Z ]*?) )?(?P<id>{ASVS_ID})")


def build(source_dir: Path) -> list[CatalogGraph]:
    """Both ASVS versions; the cross-version mapping goes into the 5.0.0 graph, and the be mapping
    into its step inputs (the derived CWE links)."""
    old, old_ids = _version_graph(source_dir, "4.0.3")
    new, new_ids = _version_graph(source_dir, "5.0.0")
    _add_correspondence(new, source_dir, old_ids, new_ids)
    _add_be_mapping(new, source_dir, new_ids)
    return [old, new]


# --- loading and shape checks ---------------------------------------------------------------

def _bad(path: Path, message: str, element: str | None = None, line: int | None = None) -> InputError:
    return InputError(Problem(str(path), message, line=line, element=element))


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise _bad(path, f"malformed JSON: {e.msg}", line=e.lineno) from None
    except (OSError, UnicodeDecodeError) as e:
        raise _bad(path, f"cannot read: {e}") from None


def _load_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise _bad(path, f"malformed YAML: {getattr(e, 'problem', e)}",
                   line=mark.line + 1 if mark else None) from None
    except (OSError, UnicodeDecodeError) as e:
        raise _bad(path, f"cannot read: {e}") from None


def _field(obj, key: str, kind: type, path: Path, element: str):
    """obj[key], which must exist and have the given type."""
    if not isinstance(obj, dict):
        raise _bad(path, f"expected an object, got {type(obj).__name__}", element=element)
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        got = "nothing" if value is None else type(value).__name__
        raise _bad(path, f"field {key!r} must be {kind.__name__}, got {got}", element=element)
    return value


def _optional_str(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _shortcode(obj, pattern: str, path: Path, element: str) -> str:
    code = _field(obj, "Shortcode", str, path, element)
    if not re.fullmatch(pattern, code):
        raise _bad(path, f"Shortcode {code!r} does not match {pattern}", element=element)
    return code


def _str_map(path: Path, loaded) -> dict[str, str]:
    """A mapping file that must be a flat {str: str} object."""
    if not isinstance(loaded, dict):
        raise _bad(path, "expected a mapping at the top level")
    for key, value in loaded.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise _bad(path, "expected a string value", element=str(key))
    return loaded


# --- the requirement tree -------------------------------------------------------------------

def _version_graph(source_dir: Path, version: str) -> tuple[CatalogGraph, set[str]]:
    """One version's tree; returns the graph and the set of requirement ids."""
    path = source_dir / TREES[version]
    root = _load_json(path)
    if _field(root, "Version", str, path, "root") != version:
        raise _bad(path, f"expected ASVS version {version}, got {root['Version']!r}", "Version")
    cg = CatalogGraph("asvs", version, f"OWASP ASVS {version}")
    scheme = cg.entry("asvs", f"v{version}", SKOS.ConceptScheme, label=f"OWASP ASVS {version}",
                      description=_optional_str(root, "Description"),
                      see_also=f"{REPO}/tree/v{version}/{version[:3]}/en")
    cg.add(scheme, OWL.versionInfo, Literal(version))
    ids: set[str] = set()
    for i, chapter in enumerate(_field(root, "Requirements", list, path, "root")):
        _add_chapter(cg, scheme, chapter, path, f"Requirements[{i}]", ids)
    return cg, ids


def _add_chapter(cg: CatalogGraph, scheme: URIRef, chapter, path: Path, element: str,
                 ids: set[str]) -> None:
    code = _shortcode(chapter, r"V(\d+)", path, element)
    name = _field(chapter, "Name", str, path, code)
    page = _chapter_page(cg.version, int(code[1:]), name)
    iri = _node(cg, scheme, f"v{cg.version}-{code}", TM.AsvsChapter, name, code, page)
    cg.literal(iri, SKOS.altLabel, _optional_str(chapter, "ShortName"))
    for section in _field(chapter, "Items", list, path, code):
        sec_code = _shortcode(section, re.escape(code) + r"\.\d+", path, f"{code} section")
        sec_name = _field(section, "Name", str, path, sec_code)
        sec_id = f"v{cg.version}-{sec_code[1:]}"
        sec_iri = _node(cg, scheme, sec_id, TM.AsvsSection, sec_name, sec_code, page)
        cg.add(sec_iri, SKOS.broader, iri)
        for requirement in _field(section, "Items", list, path, sec_code):
            ids.add(_add_requirement(cg, scheme, sec_iri, sec_code, requirement, path, page))


def _chapter_page(version: str, number: int, name: str) -> str:
    """The chapter's markdown source at the release tag (the version's folder if unknown)."""
    if version == "4.0.3":
        stem = CHAPTER_FILES_403.get(number)
    else:
        stem = f"0x{9 + number}-V{number}-" + re.sub(r"\s+", "-", name.strip())
    folder = f"{REPO}/tree/v{version}/{version[:3]}/en"
    return f"{REPO}/blob/v{version}/{version[:3]}/en/{stem}.md" if stem else folder


def _node(cg: CatalogGraph, scheme: URIRef, official_id: str, rdf_type: URIRef, label: str,
          code: str, page: str, description: str | None = None) -> URIRef:
    iri = cg.entry("asvs", official_id, rdf_type, label=label, description=description, see_also=page)
    cg.add(iri, SKOS.inScheme, scheme)
    cg.add(iri, SKOS.notation, Literal(code))
    return iri


def _add_requirement(cg: CatalogGraph, scheme: URIRef, section: URIRef, sec_code: str, req,
                     path: Path, page: str) -> str:
    code = _shortcode(req, re.escape(sec_code) + r"\.\d+", path, f"{sec_code} requirement")
    text = _field(req, "Description", str, path, code)
    rid = f"v{cg.version}-{code[1:]}"
    iri = _node(cg, scheme, rid, TM.AsvsRequirement, code, code, page, description=text)
    cg.add(iri, RDF.type, TM.Requirement)
    cg.add(iri, SKOS.broader, section)
    if text.startswith("[DELETED"):
        cg.add(iri, TM.status, Literal("deleted"))
    levels, notes = _levels(req, path, code)
    for level in levels:
        cg.add(iri, TM.level, Literal(level))
    if levels:
        cg.add(iri, TM.lowestLevel, Literal(min(levels)))
    for note in notes:
        cg.add(iri, TM.levelNote, Literal(note))
    _add_references(cg, iri, req, path, code)
    return rid


def _levels(req, path: Path, code: str) -> tuple[list[int], list[str]]:
    """Levels that require the requirement, and any level cell that is not a plain tick.

    4.0.3 has L1/L2/L3 cells {Required, Requirement}: a level counts when Required is true, even
    where the cell holds text such as "30 days" or "HSM" instead of the tick. 5.0.0 has L, the
    lowest level; every higher level requires it too."""
    if "L" in req:
        lowest = _field(req, "L", str, path, code)
        if lowest not in ("1", "2", "3"):
            raise _bad(path, f"field 'L' must be 1, 2 or 3, got {lowest!r}", element=code)
        return list(range(int(lowest), 4)), []
    levels, notes = [], []
    for n in (1, 2, 3):
        cell = _field(req, f"L{n}", dict, path, code)
        if _field(cell, "Required", bool, path, f"{code} L{n}"):
            levels.append(n)
        mark = cell.get("Requirement", "")
        if not isinstance(mark, str):
            raise _bad(path, "field 'Requirement' must be str", element=f"{code} L{n}")
        if mark not in ("✓", ""):
            notes.append(f"L{n}: {mark}")
    return levels, notes


def _add_references(cg: CatalogGraph, iri: URIRef, req, path: Path, code: str) -> None:
    """Official CWE links and NIST SP 800-63 section numbers, where the version has them."""
    for cwe in _field(req, "CWE", list, path, code) if "CWE" in req else []:
        if not isinstance(cwe, int) or isinstance(cwe, bool):
            raise _bad(path, f"CWE entries must be integers, got {cwe!r}", element=code)
        cg.link(iri, TM.addressesWeakness, catalog_iri("cwe", f"CWE-{cwe}"), "official")
    for nist in _field(req, "NIST", list, path, code) if "NIST" in req else []:
        if not isinstance(nist, str):
            raise _bad(path, f"NIST entries must be strings, got {nist!r}", element=code)
        cg.literal(iri, TM.nistReference, nist.strip())


# --- 4.0.3 <-> 5.0.0 correspondence ---------------------------------------------------------

def parse_status(text: str) -> tuple[set[str], list[tuple[str, str]]]:
    """Flags (lower case) and (relation verb, requirement id) pairs of one mapping status such as
    "MODIFIED, MOVED TO v5.0.0-6.2.1, SPLIT TO v5.0.0-6.2.2, v5.0.0-6.2.3". A bare id continues the
    preceding relation. Raises ValueError naming the token it cannot read."""
    flags, pairs, verb = set(), [], None
    for token in (t.strip() for t in text.split(",")):
        if token in FLAGS:
            flags.add(token.lower())
            verb = None
            continue
        match = STATUS_TOKEN.fullmatch(token)
        phrase = match and match["phrase"]
        if not match or (phrase and phrase not in RELATIONS) or (not phrase and verb is None):
            raise ValueError(f"cannot read {token!r}")
        verb = RELATIONS[phrase] if phrase else verb
        pairs.append((verb, match["id"]))
    return flags, pairs


def _read_mapping(path: Path, key_version: str, tag: str) -> dict[str, tuple[str, set[str], list]]:
    """requirement id -> (status text, flags, [(verb, other id)]) of one OWASP mapping file."""
    loaded = _load_yaml(path)
    if not isinstance(loaded, dict):
        raise _bad(path, "expected a mapping at the top level")
    result = {}
    for key, value in loaded.items():
        if not isinstance(key, str) or not key.startswith(f"v{key_version}-"):
            raise _bad(path, f"key must be a v{key_version} requirement id", element=str(key))
        status = _field(value, tag, str, path, key)
        try:
            result[key] = (status, *parse_status(status))
        except ValueError as e:
            raise _bad(path, f"unparseable mapping status {status!r}: {e}", element=key) from None
    return result


def _add_correspondence(cg: CatalogGraph, source_dir: Path, old_ids: set[str], new_ids: set[str]) -> None:
    """tm:correspondsTo (4.0.3 -> 5.0.0) from both official mapping files, the verbs of both sides
    as the method; mapping statuses 'deleted' (4.0.3) and 'added' (5.0.0) and the raw status."""
    forward = _read_mapping(source_dir / MAP_OLD_TO_NEW, "4.0.3", "tag-v5.0.0")
    backward = _read_mapping(source_dir / MAP_NEW_TO_OLD, "5.0.0", "tag-v4.0.3")
    verbs: dict[tuple[str, str], set[str]] = {}
    for key, (_, _, pairs) in forward.items():
        for verb, other in pairs:
            verbs.setdefault((key, other), set()).add(verb)
    for key, (_, _, pairs) in backward.items():
        for verb, other in pairs:
            verbs.setdefault((other, key), set()).add(verb)
    for (old, new), found in sorted(verbs.items()):
        if old not in old_ids or new not in new_ids:
            log.warning("ASVS mapping %s -> %s: unknown requirement id, skipped", old, new)
            continue
        cg.link(catalog_iri("asvs", old), TM.correspondsTo, catalog_iri("asvs", new), "official",
                source=MAPPING_SOURCE, method=", ".join(sorted(found)))
    _add_statuses(cg, forward, old_ids, "deleted")
    _add_statuses(cg, backward, new_ids, "added")


def _add_statuses(cg: CatalogGraph, mapping: dict, known: set[str], flag: str) -> None:
    for key, (status, flags, _) in mapping.items():
        if key not in known:
            log.warning("ASVS mapping key %s is not a known requirement, skipped", key)
            continue
        iri = catalog_iri("asvs", key)
        cg.add(iri, TM.mappingNote, Literal(status))
        if flag in flags:
            cg.add(iri, TM.mappingStatus, Literal(flag))


# --- inputs of the derived 5.0.0 -> CWE links (catalogs/steps/asvs-derived-cwe.ru) ---------

def be_mapping(source_dir: Path) -> dict[str, tuple[str, str | None]]:
    """v5.0.be id -> (CWE id, 5.0.0 requirement id or None) from the v5.0.be CWE mapping and the
    be -> 5.0.0 id mapping."""
    be_cwe = _str_map(source_dir / BE_CWE, _load_json(source_dir / BE_CWE))
    be_to_new = _str_map(source_dir / BE_TO_500, _load_yaml(source_dir / BE_TO_500))
    for be_id, cwe in be_cwe.items():
        if not cwe.strip().isdigit():
            raise _bad(source_dir / BE_CWE, f"CWE must be a number, got {cwe!r}", be_id)
    return {be_id: (f"CWE-{int(cwe)}", be_to_new.get(be_id)) for be_id, cwe in be_cwe.items()}


def _add_be_mapping(cg: CatalogGraph, source_dir: Path, known: set[str]) -> None:
    """The be mapping as step inputs ([] tm:addressesWeakness cwe ; tm:correspondsTo "5.0.0 id");
    logs the (stale) be-ids that resolve to no known 5.0.0 requirement."""
    mapping = be_mapping(source_dir)
    for cwe, target in mapping.values():
        node = BNode()
        cg.inputs.add((node, TM.addressesWeakness, catalog_iri("cwe", cwe)))
        if target is not None:
            cg.inputs.add((node, TM.correspondsTo, Literal(target)))
    stale = [be_id for be_id, (_, target) in mapping.items() if target not in known]
    if stale:
        log.info("ASVS %s: %d be-ids do not resolve to a 5.0.0 requirement: %s",
                 BE_CWE, len(stale), ", ".join(stale))
