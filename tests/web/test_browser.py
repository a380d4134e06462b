"""End to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright for Python; no
browser download) against the live server: open the overview, click ai-model in the diagram, expand
an explanation, run a query in the SPARQL console; switch the coverage dashboard's profile and expand
what addresses a threat. Screenshots go to tests/artifacts/ (gitignored).
Without Chromium or Playwright the test fails under CI (CI=true) and is skipped elsewhere."""

import re

import pytest

from tests.conftest import ARTIFACTS
from tests.web.conftest import SYSTEM


@pytest.fixture
def tab(browser):
    """A fresh page that records script errors and console errors (CSP violations are reported there)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    assert not errors, errors


def test_overview_component_explanation_and_console(tab, live_server):
    from playwright.sync_api import expect

    tab.goto(f"{live_server}/")
    expect(tab).to_have_url(re.compile(f"/system/{SYSTEM}$"))
    expect(tab.locator("h1")).to_contain_text("AI connected system")
    tab.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

    tab.locator('.diagram svg [data-element="ai-model"]').first.click()
    expect(tab).to_have_url(re.compile(f"/system/{SYSTEM}/component/ai-model$"))
    threat = tab.locator("details.threat").first
    chain = threat.locator("ol.chain").first
    expect(chain).to_be_hidden()
    threat.locator("summary").click()
    expect(chain).to_be_visible()
    expect(chain.locator("li").first).to_contain_text("ai-model is a model inference service")
    tab.screenshot(path=str(ARTIFACTS / "component.png"))

    tab.fill("#threat-filter", "AML.T0005")          # the enhancement: filter the threats
    expect(tab.locator("details.threat:visible")).to_have_count(1)

    tab.goto(f"{live_server}/sparql-console")
    tab.fill("#query", "SELECT ?component ?label WHERE { ?component a tm:Component ; rdfs:label ?label } "
                       "ORDER BY ?label")
    tab.locator("#query").press("Control+Enter")     # the enhancement: Ctrl+Enter runs the query
    expect(tab.locator("#results h2")).to_contain_text("9 rows")
    expect(tab.locator("table.sparql tbody tr")).to_have_count(9)
    expect(tab.locator("table.sparql tbody tr").first).to_contain_text("AI Model (Inference)")
    tab.screenshot(path=str(ARTIFACTS / "console.png"), full_page=True)


def test_coverage_dashboard_switches_profile_and_expands(tab, live_server):
    from playwright.sync_api import expect

    tab.goto(f"{live_server}/system/{SYSTEM}")
    tab.locator("#top-risks a.more").click()
    expect(tab).to_have_url(re.compile(f"/system/{SYSTEM}/coverage$"))
    tab.select_option("#profile", "capec-high")       # a plain GET form: no script needed
    tab.locator(".profile-form button").click()
    expect(tab).to_have_url(re.compile(r"/coverage\?profile=capec-high$"))
    expect(tab.locator("#components tbody tr").first).to_be_visible()
    addressed = tab.locator("#addressed details.threat").first
    addressed.locator("summary").click()
    expect(addressed.locator("table.by")).to_be_visible()
    tab.screenshot(path=str(ARTIFACTS / "coverage.png"), full_page=True)


def test_component_page_folds_children_and_says_why_not(tab, live_server):
    from playwright.sync_api import expect

    tab.goto(f"{live_server}/system/{SYSTEM}/component/api-gateway")
    flooding = tab.locator("details#t-CAPEC-125").first
    expect(flooding.locator("summary")).to_contain_text("more specific")
    flooding.locator("summary").click()
    expect(flooding.locator("ul.folded")).to_contain_text("CAPEC-488")
    flooding.scroll_into_view_if_needed()
    tab.screenshot(path=str(ARTIFACTS / "component-folded.png"))

    tab.goto(f"{live_server}/system/{SYSTEM}/component/auth-service")
    kerberoasting = tab.locator("details#x-CAPEC-509")
    kerberoasting.locator("summary").click()
    expect(kerberoasting).to_contain_text("It would apply if auth-service had one of: windows-domain")
    kerberoasting.scroll_into_view_if_needed()
    tab.screenshot(path=str(ARTIFACTS / "component-why-not.png"))
