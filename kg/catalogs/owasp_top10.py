"""OWASP Top 10 2021 and 2025 (category -> CWE CSVs) and the OWASP Top 10 for LLM Applications
2025 (risk -> related frameworks CSV). Each list is a skos:ConceptScheme; entries keep the
official ids (A03:2021, LLM01:2025)."""

import csv
import re
from pathlib import Path
from urllib.parse import quote

from rdflib import URIRef
from rdflib.namespace import RDFS, SKOS

from kg.catalogs.rdfbuild import CatalogGraph
from kg.errors import InputError, Problem
from kg.namespaces import TM, catalog_iri

TOP10 = {"2021": "owasp-top10-2021-cwe.csv", "2025": "owasp-top10-2025-cwe.csv"}
LLM_FILE = "owasp-llm-top10-2025-related.csv"
TOP10_COLUMNS = ("category_id", "category_name", "cwe_id")
LLM_COLUMNS = ("llm_id", "llm_name", "framework", "ref_id", "ref_label", "ref_url")

CWE_ID = re.compile(r"CWE-\d+")
URL = re.compile(r"https?://\S+")
ATLAS_TECHNIQUE = re.compile(r"AML\.T\d{4}(?:\.\d{3})?")
ATLAS_TACTIC = re.compile(r"AML\.TA\d{4}")
LLM_SOURCE = "OWASP Top 10 for LLM Applications 2025"
LLM_PAGE = "https://genai.owasp.org/llmrisk/"
# LLM01's 2025 page kept the 2023 address; the others carry the year in the slug.
LLM_SLUG_EXCEPTIONS = {"LLM01:2025": "llm01-prompt-injection"}


def build(source_dir: Path) -> list[CatalogGraph]:
    return [top10_graph(year, _rows(source_dir / TOP10[year], TOP10_COLUMNS)) for year in TOP10] \
        + [llm_graph(_rows(source_dir / LLM_FILE, LLM_COLUMNS))]


def _rows(path: Path, columns: tuple[str, ...]):
    """(path, line number, row dict) of a CSV file that must have the given columns."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(Problem(str(path), f"missing columns: {', '.join(missing)}", line=1,
                                         element="header"))
            for row in reader:
                if None in row or any(row.get(c) is None for c in columns):
                    raise InputError(Problem(str(path), "wrong number of fields", line=reader.line_num,
                                             element=row.get(columns[0]) or "row"))
                yield path, reader.line_num, {k: v.strip() for k, v in row.items()}
    except csv.Error as e:
        raise InputError(Problem(str(path), f"malformed CSV: {e}")) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(Problem(str(path), f"cannot read: {e}")) from None


def _check(path: Path, line: int, pattern: re.Pattern, value: str, column: str) -> str:
    if not pattern.fullmatch(value):
        raise InputError(Problem(str(path), f"{column} {value!r} does not match {pattern.pattern}",
                                 line=line, element=column))
    return value


def _scheme(cg: CatalogGraph, official_id: str, label: str, page: str) -> URIRef:
    return cg.entry("owasp", official_id, SKOS.ConceptScheme, label=label, see_also=page)


def _member(cg: CatalogGraph, scheme: URIRef, official_id: str, rdf_type: URIRef, name: str,
            page: str, seen: dict[str, str], path: Path, line: int) -> URIRef:
    """The category/risk entry, once; a second row must repeat the same name."""
    if official_id in seen:
        if seen[official_id] != name:
            raise InputError(Problem(str(path), f"name {name!r} differs from {seen[official_id]!r}",
                                     line=line, element=official_id))
        return catalog_iri("owasp", official_id)
    seen[official_id] = name
    iri = cg.entry("owasp", official_id, rdf_type, label=name, see_also=page)
    cg.add(iri, SKOS.inScheme, scheme)
    return iri


# --- OWASP Top 10 ---------------------------------------------------------------------------

def top10_page(category_id: str, name: str) -> str:
    """Official page, e.g. https://owasp.org/Top10/A03_2021-Injection/ (2025 under /Top10/2025/)."""
    number, year = category_id.split(":")
    slug = quote(re.sub(r"\s+", "_", name.replace("&", "and")), safe="-_")
    folder = "" if year == "2021" else f"{year}/"
    return f"https://owasp.org/Top10/{folder}{number}_{year}-{slug}/"


def top10_graph(year: str, rows) -> CatalogGraph:
    """The list of one year from (path, line, {category_id, category_name, cwe_id}) rows."""
    source = f"OWASP Top 10 {year}"
    cg = CatalogGraph("owasp-top10", year, source)
    scheme = _scheme(cg, f"Top10-{year}", source, f"https://owasp.org/Top10/{year}/")
    category = re.compile(rf"A(?:0[1-9]|10):{year}")
    seen: dict[str, str] = {}
    for path, line, row in rows:
        cid = _check(path, line, category, row["category_id"], "category_id")
        iri = _member(cg, scheme, cid, TM.Top10Category, row["category_name"],
                      top10_page(cid, row["category_name"]), seen, path, line)
        cwe = _check(path, line, CWE_ID, row["cwe_id"], "cwe_id")
        cg.link(iri, TM.includesWeakness, catalog_iri("cwe", cwe), "official")
    return cg


# --- OWASP Top 10 for LLM Applications ------------------------------------------------------

def llm_page(risk_id: str, name: str) -> str:
    """Official page, e.g. https://genai.owasp.org/llmrisk/llm022025-sensitive-information-disclosure/."""
    number, year = risk_id.split(":")
    slug = LLM_SLUG_EXCEPTIONS.get(risk_id) or (
        f"{number.lower()}{year}-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))
    return f"{LLM_PAGE}{slug}/"


def llm_graph(rows) -> CatalogGraph:
    """The LLM list from (path, line, {llm_id, llm_name, framework, ref_id, ref_label, ref_url}) rows;
    a risk without references has one row with the last four empty."""
    cg = CatalogGraph("owasp-llm-top10", "2025", LLM_SOURCE)
    scheme = _scheme(cg, "LLMTop10-2025", LLM_SOURCE, "https://genai.owasp.org/llm-top-10/")
    risk = re.compile(r"LLM(?:0[1-9]|10):2025")
    seen: dict[str, str] = {}
    for path, line, row in rows:
        rid = _check(path, line, risk, row["llm_id"], "llm_id")
        iri = _member(cg, scheme, rid, TM.LlmTop10Risk, row["llm_name"], llm_page(rid, row["llm_name"]),
                      seen, path, line)
        _add_related(cg, iri, row, path, line)
    return cg


def _add_related(cg: CatalogGraph, iri: URIRef, row: dict[str, str], path: Path, line: int) -> None:
    """One "Related Frameworks and Taxonomies" reference: ATLAS technique or tactic, CWE, or a
    reference to another framework (literal plus its page)."""
    framework, ref_id = row["framework"], row["ref_id"]
    if framework == "MITRE ATLAS" and ATLAS_TACTIC.fullmatch(ref_id):
        cg.link(iri, TM.relatedTactic, catalog_iri("atlas", ref_id), "official")
    elif framework == "MITRE ATLAS":
        _check(path, line, ATLAS_TECHNIQUE, ref_id, "ref_id")
        cg.link(iri, TM.relatedTechnique, catalog_iri("atlas", ref_id), "official")
    elif framework == "CWE":
        cg.link(iri, TM.includesWeakness, catalog_iri("cwe", _check(path, line, CWE_ID, ref_id, "ref_id")),
                "official")
    elif framework or ref_id or row["ref_url"]:
        cg.literal(iri, TM.relatedReference, f"{framework} {ref_id}" if ref_id else row["ref_label"])
        if row["ref_url"]:
            cg.add(iri, RDFS.seeAlso, URIRef(_check(path, line, URL, row["ref_url"], "ref_url")))
