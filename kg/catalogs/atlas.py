"""MITRE ATLAS importer: `ATLAS.yaml` (mitre-atlas/atlas-data, dist/) → one CatalogGraph per release.

Tactics, techniques (sub-techniques inherit their parent's tactics), mitigations and case studies,
with ATT&CK references, mitigation → technique links (the `use` text kept as dcterms:description
on the link's owl:Axiom) and the ATLAS ids that descriptions link to (tm:mentions)."""

import datetime
import re
from pathlib import Path

import yaml
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL

from kg.catalogs.rdfbuild import CatalogGraph
from kg.errors import InputError, Problem
from kg.namespaces import TM, catalog_iri

FILE = "ATLAS.yaml"
SOURCE = f"atlas/{FILE}"
SITE = "https://atlas.mitre.org"
PAGE = {"tactic": "tactics", "technique": "techniques", "mitigation": "mitigations", "case-study": "studies"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID_LINE = re.compile(r"^\s*(?:-\s*)?id:\s*['\"]?([^'\"\s]+)")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*([^\s()]+)\s*\)")
_KIND = {str: "a string", list: "a list", dict: "a mapping", int: "a number", float: "a number",
         bool: "a boolean", datetime.date: "a date"}
_ATLAS_PATH = re.compile(r"/(?:techniques|tactics|mitigations|studies)/(AML\.[A-Z]+\d{4}(?:\.\d{3})?)/?")


# ---- YAML reading with located errors (also used by the CoSAI importer) ----

def load_yaml(path: Path, label: str):
    """Parse a YAML file; a missing, unreadable or malformed file raises InputError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(label, f"cannot read the file: {exc}")) from None
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(Problem(label, f"malformed YAML: {problem}", line=line,
                                 element=_enclosing_id(text, line))) from None


def _enclosing_id(text: str, line: int | None) -> str | None:
    """The last `id:` value at or above a line: names the element around a syntax error."""
    if not line:
        return None
    for row in reversed(text.splitlines()[:line]):
        if match := _ID_LINE.match(row):
            return f"near {match.group(1)}"
    return None


def _what(kind) -> str:
    return _KIND.get(kind, kind.__name__)


def _wrong(file: str, element: str, kinds: tuple, value) -> InputError:
    found = "nothing" if value is None else _what(type(value))
    return InputError(Problem(file, f"expected {' or '.join(map(_what, kinds))}, found {found}",
                              element=element))


def need(obj: dict, key: str, kind, file: str, element: str, optional: bool = False):
    """obj[key] checked against a type (or tuple of types); InputError naming file and element."""
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind):
        raise _wrong(file, f"{element}.{key}", kind if isinstance(kind, tuple) else (kind,), value)
    return value


def _items(obj: dict, key: str, kind, file: str, element: str, optional: bool) -> list:
    items = need(obj, key, list, file, element, optional) or []
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise _wrong(file, f"{element}.{key}[{i}]", (kind,), item)
    return items


def records(obj: dict, key: str, file: str, element: str, optional: bool = False) -> list[dict]:
    """A list of mappings under obj[key], each checked."""
    return _items(obj, key, dict, file, element, optional)


def strings(obj: dict, key: str, file: str, element: str) -> list[str]:
    """An optional list of strings under obj[key]."""
    return _items(obj, key, str, file, element, optional=True)


# ---- ATLAS ----

def build(source_dir: Path) -> list[CatalogGraph]:
    """Build the ATLAS graph from source_dir/ATLAS.yaml."""
    data = load_yaml(Path(source_dir) / FILE, FILE)
    if not isinstance(data, dict):
        raise InputError(Problem(FILE, "expected a mapping at the top level"))
    version = str(need(data, "version", (str, int, float), FILE, "ATLAS"))
    cg = CatalogGraph("atlas", version, SOURCE)
    matrices = records(data, "matrices", FILE, "ATLAS")
    techniques = {}
    for i, matrix in enumerate(matrices):
        where = f"matrices[{i}]"
        for tactic in records(matrix, "tactics", FILE, where):
            _tactic(cg, tactic)
        for technique in records(matrix, "techniques", FILE, where):
            techniques[need(technique, "id", str, FILE, f"{where}.techniques")] = technique
    for technique in techniques.values():
        _technique(cg, technique, techniques)
    for i, matrix in enumerate(matrices):
        for mitigation in records(matrix, "mitigations", FILE, f"matrices[{i}]", optional=True):
            _mitigation(cg, mitigation)
    for study in records(data, "case-studies", FILE, "ATLAS", optional=True):
        _case_study(cg, study)
    return [cg]


def plain_text(markdown: str) -> tuple[str, list[str]]:
    """Markdown links flattened: ATLAS links become their text (their ids are returned),
    other links `text (url)`."""
    mentioned = []

    def flatten(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        path = target.removeprefix(SITE)
        if atlas := _ATLAS_PATH.fullmatch(path):
            mentioned.append(atlas.group(1))
            return text
        return f"{text} ({target})" if text and text != target else target

    return _MD_LINK.sub(flatten, markdown).strip(), mentioned


def _entry(cg: CatalogGraph, obj: dict, kind: str, rdf_type, text_key: str = "description") -> URIRef:
    """The fields every ATLAS object has: id, name, description (links flattened), dates, page,
    external references (dcterms:references)."""
    official_id = need(obj, "id", str, FILE, kind)
    name = need(obj, "name", str, FILE, official_id)
    text, mentioned = plain_text(need(obj, text_key, str, FILE, official_id))
    iri = cg.entry("atlas", official_id, rdf_type, label=name, description=text,
                   see_also=f"{SITE}/{PAGE[kind]}/{official_id}")
    for key, prop in (("created_date", DCTERMS.created), ("modified_date", DCTERMS.modified)):
        cg.literal(iri, prop, need(obj, key, (datetime.date, str), FILE, official_id, optional=True))
    for ref in records(obj, "references", FILE, official_id, optional=True):
        url = ref.get("url")
        if isinstance(url, str) and re.fullmatch(r"https?://\S+", url.strip()):
            cg.add(iri, DCTERMS.references, URIRef(url.strip()))
    for other in dict.fromkeys(mentioned):
        if other != official_id:
            cg.link(iri, TM.mentions, catalog_iri("atlas", other), "official")
    return iri


def _attack_reference(cg: CatalogGraph, iri: URIRef, obj: dict, rdf_type) -> None:
    """`ATT&CK-reference: {id, url}` → tm:attackReference to the ATT&CK entry (typed, with its page)."""
    where = obj["id"]
    ref = need(obj, "ATT&CK-reference", dict, FILE, where, optional=True)
    if not ref:
        return
    attack_id = need(ref, "id", str, FILE, f"{where}.ATT&CK-reference")
    url = need(ref, "url", str, FILE, f"{where}.ATT&CK-reference", optional=True)
    target = cg.entry("attack", attack_id, rdf_type, see_also=url,
                      d3fend=attack_id if rdf_type == TM.AttackTechnique else None)
    cg.link(iri, TM.attackReference, target, "official")


def _tactic(cg: CatalogGraph, tactic: dict) -> None:
    iri = _entry(cg, tactic, "tactic", TM.AtlasTactic)
    _attack_reference(cg, iri, tactic, TM.AttackTactic)


def _technique(cg: CatalogGraph, technique: dict, techniques: dict[str, dict]) -> None:
    """A technique or sub-technique; a sub-technique gets its parent's tactics too."""
    iri = _entry(cg, technique, "technique", TM.AtlasTechnique)
    official_id = technique["id"]
    cg.literal(iri, TM.maturity, need(technique, "maturity", str, FILE, official_id, optional=True))
    parent_id = need(technique, "subtechnique-of", str, FILE, official_id, optional=True)
    tactics = strings(technique, "tactics", FILE, official_id)
    if parent_id:
        if parent_id not in techniques:
            raise InputError(Problem(FILE, f"unknown parent technique {parent_id}",
                                     element=f"{official_id}.subtechnique-of"))
        cg.add(iri, TM.subtechniqueOf, catalog_iri("atlas", parent_id))
        tactics = tactics + strings(techniques[parent_id], "tactics", FILE, parent_id)
    for tactic in tactics:
        cg.add(iri, TM.tactic, catalog_iri("atlas", tactic))
    _attack_reference(cg, iri, technique, TM.AttackTechnique)


def _mitigation(cg: CatalogGraph, mitigation: dict) -> None:
    """A mitigation, its lifecycle stages and categories, and what it mitigates.
    ATLAS 5.6.0 misplaces two `{id, use}` items inside `ml-lifecycle` (AML.M0018, AML.M0034):
    they are read as mitigated techniques, like the `techniques` list."""
    iri = _entry(cg, mitigation, "mitigation", TM.AtlasMitigation)
    official_id = mitigation["id"]
    uses = list(records(mitigation, "techniques", FILE, official_id))
    stages = need(mitigation, "ml-lifecycle", list, FILE, official_id, optional=True) or []
    for stage in stages:
        if isinstance(stage, dict):
            uses.append(stage)
        else:
            cg.literal(iri, TM.lifecycleStage, str(stage))
    for category in strings(mitigation, "category", FILE, official_id):
        cg.literal(iri, TM.category, category)
    for use in uses:
        technique = catalog_iri("atlas", need(use, "id", str, FILE, f"{official_id}.techniques"))
        cg.link(iri, TM.mitigates, technique, "official")
        text = need(use, "use", str, FILE, f"{official_id}.techniques.{use['id']}", optional=True)
        if text:
            cg.add(_axiom(cg, iri, TM.mitigates, technique), DCTERMS.description,
                   Literal(plain_text(text)[0]))
    _attack_reference(cg, iri, mitigation, TM.AttackMitigation)


def _axiom(cg: CatalogGraph, s: URIRef, p: URIRef, o: URIRef) -> URIRef:
    """The owl:Axiom node that CatalogGraph.link wrote for (s, p, o)."""
    g = cg.graph
    return next(ax for ax in g.subjects(OWL.annotatedTarget, o)
                if (ax, OWL.annotatedSource, s) in g and (ax, OWL.annotatedProperty, p) in g)


def _case_study(cg: CatalogGraph, study: dict) -> None:
    """A case study: facts as literals, and every procedure step's technique and tactic."""
    iri = _entry(cg, study, "case-study", TM.CaseStudy, text_key="summary")
    official_id = study["id"]
    for key, prop in (("incident-date", TM.incidentDate),
                      ("incident-date-granularity", TM.incidentDateGranularity),
                      ("case-study-type", TM.caseStudyType), ("target", TM.caseStudyTarget),
                      ("actor", TM.actor), ("reporter", TM.reporter)):
        cg.literal(iri, prop, need(study, key, (str, datetime.date), FILE, official_id, optional=True))
    for i, step in enumerate(records(study, "procedure", FILE, official_id)):
        where = f"{official_id}.procedure[{i}]"
        cg.link(iri, TM.usesTechnique,
                catalog_iri("atlas", need(step, "technique", str, FILE, where)), "official")
        cg.add(iri, TM.tactic, catalog_iri("atlas", need(step, "tactic", str, FILE, where)))
