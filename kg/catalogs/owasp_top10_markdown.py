"""OWASP Top 10 2021 and 2025 and the OWASP Top 10 for LLM Applications 2025 from the official
markdown pages (OWASP/Top10 docs/en/A01_2021-*.md.., OWASP/www-project-top-10-for-large-language-
model-applications 2_0_vulns/LLM01_*.md..): the title gives each entry's id and name, the "List of
Mapped CWEs" section its CWEs, the "Related Frameworks and Taxonomies" section an LLM risk's
references. Builds the same graphs as kg.catalogs.owasp_top10 from the mirror CSVs."""

import re
from pathlib import Path

from kg.catalogs.owasp_top10 import llm_graph, top10_graph
from kg.catalogs.rdfbuild import CatalogGraph
from kg.errors import InputError, Problem

TOP10_FILES = {year: re.compile(rf"A(?:0[1-9]|10)_{year}-.+\.md") for year in ("2021", "2025")}
LLM_FILES = re.compile(r"LLM(?:0[1-9]|10)_.+\.md")
TOP10_TITLE = re.compile(r"#+\s+(A\d\d:\d{4})\s*(?:–\s*)?(.+?)\s*(?:!\[.*)?")
LLM_TITLE = re.compile(r"#+\s+(LLM\d\d:\d{4})\s+(.+?)\s*")
CWE_SECTION = "List of Mapped CWEs"
LLM_SECTION = "Related Frameworks and Taxonomies"
CWE_LINK = re.compile(r"\[\s*(CWE-\d+)\b[^\]]*\]\(")
LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")
# The framework a reference belongs to, by the form of its id (in the link text, else its URL).
REFERENCE_IDS = (
    ("MITRE ATLAS", re.compile(r"AML\.TA?\d{4}(?:\.\d{3})?")),
    ("CWE", re.compile(r"CWE-\d+")),
    ("OWASP ML Top 10", re.compile(r"\bML\d\d:\d{4}\b")),
    ("OWASP API Top 10", re.compile(r"\bAPI\d+:\d{4}\b")),
)


def build(source_dir: Path) -> list[CatalogGraph]:
    return [top10_graph(year, _top10_rows(_pages(source_dir, pattern))) for year, pattern in TOP10_FILES.items()] \
        + [llm_graph(_llm_rows(_pages(source_dir, LLM_FILES)))]


def _pages(source_dir: Path, pattern: re.Pattern) -> list[tuple[Path, list[str]]]:
    """The ten pages whose name matches pattern, in name order, as (path, lines)."""
    paths = sorted(p for p in source_dir.iterdir() if pattern.fullmatch(p.name))
    if len(paths) != 10:
        raise InputError(Problem(str(source_dir), f"expected 10 pages {pattern.pattern}, found {len(paths)}"))
    try:
        return [(p, p.read_text(encoding="utf-8").splitlines()) for p in paths]
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(Problem(str(source_dir), f"cannot read: {e}")) from None


def _title(path: Path, lines: list[str], pattern: re.Pattern) -> tuple[str, str]:
    """(id, name) from the page's first heading."""
    for number, line in enumerate(lines, 1):
        if line.startswith("#"):
            m = pattern.fullmatch(line.strip())
            if not m:
                raise InputError(Problem(str(path), f"the title does not match {pattern.pattern}", line=number))
            return m[1], m[2]
    raise InputError(Problem(str(path), "no title heading"))


def _section(path: Path, lines: list[str], heading: str, required: bool) -> tuple[int, str]:
    """(line number, text) of the section under the heading, up to the next heading."""
    start = next((i for i, line in enumerate(lines) if line.startswith("#") and line.strip("# .") == heading), None)
    if start is None:
        if required:
            raise InputError(Problem(str(path), f"no section '{heading}'"))
        return 0, ""
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return start + 1, "\n".join(lines[start + 1:end])


def _top10_rows(pages):
    for path, lines in pages:
        category_id, name = _title(path, lines, TOP10_TITLE)
        line, text = _section(path, lines, CWE_SECTION, required=True)
        cwes = list(dict.fromkeys(CWE_LINK.findall(text)))
        if not cwes:
            raise InputError(Problem(str(path), f"no CWE links in '{CWE_SECTION}'", line=line))
        for cwe in cwes:
            yield path, line, {"category_id": category_id, "category_name": name, "cwe_id": cwe}


def _llm_rows(pages):
    for path, lines in pages:
        risk_id, name = _title(path, lines, LLM_TITLE)
        line, text = _section(path, lines, LLM_SECTION, required=False)
        risk = {"llm_id": risk_id, "llm_name": name}
        links = [m for item in text.splitlines() if item.lstrip().startswith(("-", "*"))
                 for m in LINK.findall(item)]
        for label, url in links:
            framework, ref_id = _reference(label, url)
            yield path, line, {**risk, "framework": framework, "ref_id": ref_id,
                               "ref_label": " ".join(label.split()), "ref_url": url}
        if not links:
            yield path, line, {**risk, "framework": "", "ref_id": "", "ref_label": "", "ref_url": ""}


def _reference(label: str, url: str) -> tuple[str, str]:
    """(framework, id) of a reference: the first REFERENCE_IDS form found in the label, else in the
    URL; ("", "") for a reference without an id."""
    for text in (label, url):
        for framework, pattern in REFERENCE_IDS:
            if m := pattern.search(text):
                return framework, m[0]
    return "", ""
