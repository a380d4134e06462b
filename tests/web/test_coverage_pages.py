"""Residual risk, coverage and requirement ↔ threat chains in the pages (Flask test client, the example
served with every catalog installed): risk badges and reasons on the component page, top open risks
on the overview, the coverage dashboard for every built-in profile, requirement and threat pages."""

import html
import re

import pytest

from kg.profiles import builtin
from tests.web.conftest import SYSTEM
from tests.web.test_pages import page

SCORE = re.compile(r'class="badge risk risk-\w+"[^>]*>\w+ ([\d.]+)</span>')


def section(text: str, ident: str) -> str:
    """The HTML of the <section> with the given id."""
    start = text.index(f'id="{ident}"')
    return text[start:text.index("</section>", start)]


def plain(fragment: str) -> str:
    """Text without tags, whitespace collapsed, entities decoded."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def rows(fragment: str) -> list[str]:
    """The plain text of each table body row."""
    return [plain(row) for row in re.findall(r"<tr[ >].*?</tr>", fragment.split("<tbody>", 1)[-1], re.DOTALL)]


# ---------------------------------------------------------------- residual risk


def test_component_page_shows_risk_badges_and_reasons(client):
    text = page(client, f"/system/{SYSTEM}/component/ai-model")
    threats = section(text, "threats")
    details = threats.split('<details class="threat"')[1:]
    assert details and all('class="badge risk risk-' in d.split("</summary>", 1)[0] for d in details)
    assert "Residual risk" in threats and "it takes input from a less trusted zone → likelihood +0.5" in threats
    assert re.search(r"score = likelihood [\d.]+ × impact \d+ = [\d.]+ \((critical|high|medium|low)\)", threats)
    assert 'class="badge st-uncovered"' in threats                                 # open under stride-properties
    assert f'href="/system/{SYSTEM}/coverage#c-ai-model"' in text              # links the dashboard


def test_threat_groups_are_ordered_by_risk(client):
    text = page(client, f"/system/{SYSTEM}/component/api-gateway")
    groups = re.findall(r'<section class="stride-group".*?</section>', text, re.DOTALL)
    assert len(groups) == 6
    for group in groups:   # each threat's line: its summary, or a reference to where it is explained
        lines = re.findall(r'<summary>.*?</summary>|class="threat threat-ref".*?</div>', group, re.DOTALL)
        scores = [float(SCORE.search(line).group(1)) for line in lines]
        assert len(scores) > 1 and scores == sorted(scores, reverse=True)


def test_component_page_shows_what_addresses_a_threat(client):
    text = section(page(client, f"/system/{SYSTEM}/component/api-gateway"), "threats")
    assert "Mitigated by" in text and "existing control" in text
    assert f'href="/system/{SYSTEM}/component/gateway-authn"' in text
    assert "an existing control covers it: " in text                          # the reduction, as a reason


def test_overview_lists_top_open_risks_by_residual_risk(client):
    text = page(client, f"/system/{SYSTEM}")
    risks = section(text, "top-risks")
    scores = [float(s) for s in SCORE.findall(risks)]
    assert len(scores) == 10 and scores == sorted(scores, reverse=True)
    assert "open under <code>stride-properties</code>" in risks
    assert f'href="/system/{SYSTEM}/coverage"' in risks


# ---------------------------------------------------------------- coverage dashboard


@pytest.mark.parametrize("profile", sorted(builtin()))
def test_dashboard_for_each_builtin_profile(client, profile):
    text = page(client, f"/system/{SYSTEM}/coverage?profile={profile}")
    assert f'<option value="{profile}" selected>' in text
    table = section(text, "components")
    assert '<tr id="c-ai-model">' in table and '<svg class="bar ratio"' in table
    for ident in ("properties", "zones", "gaps", "addressed"):
        assert f'id="{ident}"' in text


def test_dashboard_defaults_to_stride_properties(client):
    text = page(client, f"/system/{SYSTEM}/coverage")
    assert '<option value="stride-properties" selected>' in text
    assert re.search(r'<form class="profile-form row" method="get"', text)   # works without JS
    properties = plain(section(text, "properties"))
    for name in ("Authentication", "Integrity", "Non-repudiation", "Confidentiality", "Availability", "Authorization"):
        assert name in properties
    ai_model = next(r for r in rows(section(text, "components")) if r.startswith("AI Model"))
    assert ai_model.split()[-6:] == ["0/1", "2/16", "0/1", "0/14", "1/9", "0/9"]   # by STRIDE letter


def test_dashboard_ranks_gaps_and_expands_addressed_threats(client):
    text = page(client, f"/system/{SYSTEM}/coverage?profile=capec-high")
    gaps = section(text, "gaps")
    scores = [float(s) for s in SCORE.findall(gaps)]
    assert scores and scores == sorted(scores, reverse=True)
    assert all(r.split()[3].startswith("CAPEC-") for r in rows(gaps))      # rank, risk, then the pattern
    addressed = section(text, "addressed")
    assert '<details class="threat addressed" id="a-CAPEC-' in addressed
    assert "existing control" in addressed and 'prov-curated' in addressed


def test_dashboard_of_requirements_profile_shows_chains(client):
    addressed = section(page(client, f"/system/{SYSTEM}/coverage?profile=asvs-4.0.3-L2"), "addressed")
    assert "required by the profile" in addressed
    assert "v4.0.3-5.3.4 → CWE-89 → CAPEC-66" in addressed and 'prov-official' in addressed


@pytest.mark.parametrize("profile", ["nope", "../catalogs/profiles/capec-high.yaml", "/etc/passwd"])
def test_unknown_profile_is_404(client, profile):
    text = page(client, f"/system/{SYSTEM}/coverage?profile={profile}", 404)
    assert "No built-in profile" in text and "stride-properties" in text


def test_dashboard_of_unknown_system_is_404(client):
    assert "No system nope" in page(client, "/system/nope/coverage", 404)


# ---------------------------------------------------------------- requirements and threats


def test_requirement_page_lists_threats_with_chains(client):
    text = page(client, "/threat/v4.0.3-5.3.4")
    addressed = rows(section(text, "addresses"))
    assert "CAPEC-66 SQL Injection v4.0.3-5.3.4 → CWE-89 → CAPEC-66 official" in addressed
    assert "11 chains to 6 threats" in plain(section(text, "addresses"))
    covers = section(text, "covers")
    assert "not implemented" in covers
    data_layer = next(r for r in rows(covers) if r.startswith("Data Layer"))
    assert "CAPEC-66" in data_layer.split()


def test_requirement_page_says_where_it_is_implemented(client):
    covers = plain(section(page(client, "/threat/AML.M0015"), "covers"))
    assert "implemented by ai-model" in covers


def test_broad_requirement_is_capped(client, monkeypatch):
    monkeypatch.setattr("kg.web.catalog_pages.MAP_LIMIT", 5)
    addresses = section(page(client, "/threat/A03:2021"), "addresses")
    assert len(rows(addresses)) == 5 and "the first 5 are listed" in plain(addresses)


def test_threat_page_lists_covering_requirements_with_provenance(client):
    covered = rows(section(page(client, "/threat/CAPEC-66"), "covered-by"))
    assert any(r.startswith("v4.0.3-5.3.4 ") and r.endswith("v4.0.3-5.3.4 → CWE-89 → CAPEC-66 official no")
               for r in covered)
    assert any(r.startswith("v5.0.0-1.2.4 ") and "v5.0.0-1.2.4 → CWE-89 → CAPEC-66 derived" in r for r in covered)


def test_threat_page_shows_risk_where_inherited(client):
    inherited = section(page(client, "/threat/CAPEC-66"), "inherited")
    assert 'class="badge risk risk-' in inherited and 'class="badge st-mitigated"' in inherited


def test_stride_category_is_covered_by_its_property_not_by_model_controls(client):
    covered = rows(section(page(client, "/threat/Spoofing"), "covered-by"))
    assert [r.split()[0] for r in covered] == ["Authentication"]
