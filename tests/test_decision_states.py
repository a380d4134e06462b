"""A recorded decision sets the state of the pairs it matches that nothing in place mitigates, and
moves their residual risk (catalogs/risk.yaml `decisions`); it is shown with its justification in
the JSON, the reports and the element's web page; every other pair keeps its state and risk."""

import json

import pytest
from click.testing import CliRunner

from kg.analysis import analyse
from kg.assessment import Assessment
from kg.cli import main
from kg.model.load import load_model
from kg.profiles import load
from kg.risk import settings
from tests.conftest import EXAMPLE

DECISIONS = """
decisions:
  - id: traversal-fp
    threat: CAPEC-126
    elements: [api-gateway]
    status: false-positive
    justification: The gateway maps no path onto files.
    owner: platform-team
    date: 2026-02-01
  - id: gateway-floods
    stride: D
    elements: [api-gateway]
    status: accepted
    justification: The CDN in front of the gateway absorbs floods.
    owner: platform-team
    date: 2026-03-01
    ticket: https://tickets.example.com/SEC-101
  - id: pipeline-provider
    subtree: AML.T0010
    elements: [training-pipeline]
    status: transferred
    justification: The model provider carries supply-chain risk under contract.
    date: 2026-01-10
"""
PROFILE = "asvs-4.0.3-L1"


@pytest.fixture(scope="module")
def decided(tmp_path_factory, catalog_home):
    path = tmp_path_factory.mktemp("decided") / "ai-system.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8") + DECISIONS, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("THREATKG_HOME", str(catalog_home))
        plain, with_decisions = (Assessment(analyse(load_model(p))) for p in (EXAMPLE, path))
        _ = plain.rated, with_decisions.rated, plain.coverage(load(PROFILE)), with_decisions.coverage(load(PROFILE))
        yield path, plain, with_decisions


def _rows(assessment) -> dict:
    return {(r["component"], r["threat"]): r for r in assessment.rated}


def test_a_decision_sets_the_state_and_moves_the_risk(decided):
    _, plain, with_decisions = decided
    before, after = _rows(plain), _rows(with_decisions)
    assert before.keys() == after.keys()
    factors = settings()["decisions"]
    changed = {pair for pair in after if after[pair]["state"] != before[pair]["state"]}
    traversal = after[("api-gateway", "CAPEC-126")]        # the threat's own decision outranks the STRIDE one
    assert traversal["state"] == "false-positive" and traversal["risk"]["score"] == 0 < before[("api-gateway", "CAPEC-126")]["risk"]["score"]
    assert traversal["decision"]["justification"] == "The gateway maps no path onto files."
    assert any("traversal-fp (The gateway maps no path onto files.)" in r for r in traversal["risk"]["reasons"])
    floods = {p for p, r in after.items() if p[0] == "api-gateway" and "D" in r["stride"]
              and before[p]["state"] != "mitigated" and p[1] != "CAPEC-126"}
    assert floods and all(after[p]["state"] == "accepted" for p in floods)
    assert after[("api-gateway", "CAPEC-267")]["state"] == "mitigated"     # what is in place outranks a decision
    assert all(after[p]["risk"]["score"] == before[p]["risk"]["score"] for p in floods)   # accepted: as rated
    assert factors["accepted"]["factor"] == 1.0
    transferred = {p for p, r in after.items() if r["state"] == "transferred"}
    assert transferred and {p[0] for p in transferred} == {"training-pipeline"}
    assert all(after[p]["risk"]["score"] < before[p]["risk"]["score"] for p in transferred)
    assert changed == {("api-gateway", "CAPEC-126")} | floods | transferred
    untouched = after.keys() - changed
    assert all(after[p]["risk"] == before[p]["risk"] and "decision" not in after[p] for p in untouched)


def test_coverage_counts_decided_pairs_by_their_status(decided):
    _, plain, with_decisions = decided
    profile = load(PROFILE)
    was, now = plain.coverage(profile), with_decisions.coverage(profile)
    gateway = next(c for c in now["components"] if c["component"] == "api-gateway")
    assert gateway["states"]["CAPEC-126"]["state"] == "false-positive"
    assert gateway["states"]["CAPEC-126"]["decision"]["id"] == "traversal-fp"
    assert now["totals"]["false-positive"] == 1 and was["totals"]["false-positive"] == 0
    assert now["totals"]["accepted"] > 0 and now["totals"]["transferred"] > 0
    assert now["totals"]["threats"] == was["totals"]["threats"]
    assert now["totals"]["open"] < was["totals"]["open"]
    decided_pairs = sum(now["totals"][s] for s in ("accepted", "transferred", "false-positive"))
    assert sum(now["totals"][s] for s in ("mitigated", "required", "uncovered")) + decided_pairs == now["totals"]["threats"]


def test_decisions_show_in_json_reports_and_the_element_page(decided, catalog_home, tmp_path):
    path, _, _ = decided
    env = {"THREATKG_HOME": str(catalog_home)}
    runner = CliRunner()
    rows = json.loads(runner.invoke(main, ["threats", str(path), "--format", "json"], env=env).output)
    traversal = next(r for r in rows if (r["component"], r["threat"]) == ("api-gateway", "CAPEC-126"))
    assert traversal["state"] == "false-positive" and traversal["decision"]["owner"] == "platform-team"
    for fmt, out in (("md", tmp_path / "r.md"), ("html", tmp_path / "r.html")):
        result = runner.invoke(main, ["report", str(path), "--profile", PROFILE, "--format", fmt, "-o", str(out)], env=env)
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert "traversal-fp" in text and "The gateway maps no path onto files." in text
        assert "The CDN in front of the gateway absorbs floods." in text
    from kg.web import create_app
    app = create_app([str(path)], {"TESTING": True})
    page = app.test_client().get("/system/ai-system/component/api-gateway").get_data(as_text=True)
    assert 'class="badge st-accepted"' in page and "The CDN in front of the gateway absorbs floods." in page
    assert 'href="https://tickets.example.com/SEC-101"' in page


def test_kept_answers_end_when_a_decision_they_count_on_expires(decided, catalog_home):
    path, _, with_decisions = decided
    assert with_decisions.answers["until"] is None                   # no decision of DECISIONS expires
    expiring = path.with_name("expiring.yaml")
    expiring.write_text(path.read_text(encoding="utf-8").replace("    date: 2026-02-01\n",
                                                                 "    date: 2026-02-01\n    expires: 2099-12-31\n", 1),
                        encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("THREATKG_HOME", str(catalog_home))
        kept = Assessment(analyse(load_model(expiring)))
        _ = kept.rated
    assert kept.answers["until"] == "2099-12-31"
    assert Assessment(lambda: None, dict(kept.answers)).answers == kept.answers        # still true: read back
    stale = {**kept.answers, "until": "2000-01-01"}
    assert Assessment(lambda: None, stale).answers == {}                              # expired since: recomputed
