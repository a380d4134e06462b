"""Decisions recorded in a model (`decisions:`), on the example with a decisions section appended:
their RDF, the decision that applies to each threat row (specificity, subtree, stride, kinds, zones),
each validation problem at FILE:LINE with exit 2, the stale and expired warnings, and
`diff --fail-on stale-decision`."""

import datetime

import pytest
import yaml
from click.testing import CliRunner
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF

from kg.analysis import analyse
from kg.cli import main
from kg.decisions import decided, decisions, findings
from kg.model.load import load_model
from kg.namespaces import STRIDE, TM, model_iri
from kg.threats import threat_rows
from tests.conftest import EXAMPLE

RUNNER = CliRunner()
TODAY = datetime.date(2026, 6, 1)

DECISIONS = """
decisions:
  - id: gateway-dos
    stride: D
    elements: [api-gateway]
    status: accepted
    justification: The CDN in front of the gateway absorbs floods.
    owner: platform-team
    date: 2026-03-01
    ticket: https://tickets.example.com/SEC-101
  - id: all-dos
    stride: DenialOfService
    status: transferred
    justification: Availability is the hosting provider's under the SLA.
    date: 2026-01-01
  - id: gateway-capec-125
    threat: CAPEC-125
    kinds: [api-gateway]
    status: mitigated
    justification: Flood protection at the load balancer.
    date: 2026-02-01
  - id: poisoning-internal
    subtree: AML.T0010
    zones: [internal]
    status: transferred
    justification: The model provider carries supply-chain risk under contract.
    date: 2026-01-10
  - id: pipeline-supply-chain
    subtree: AML.T0010
    elements: [training-pipeline]
    status: accepted
    justification: Only signed artefacts enter the pipeline.
    date: 2026-01-05
  - id: databases-sqli
    threat: CAPEC-66
    kinds: [database]
    status: false-positive
    justification: The data layer only runs prepared statements.
    date: 2026-02-01
    expires: 2027-02-01
"""

STALE = """
  - id: user-sqli
    threat: CAPEC-66
    elements: [user]
    status: accepted
    justification: The user is not a database.
    date: 2026-01-10
"""

EXPIRED = """
  - id: old-spoofing
    stride: S
    status: accepted
    justification: An old blanket acceptance.
    date: 2024-01-10
    expires: 2025-01-01
"""


def write(tmp_path, text, name="model.yaml"):
    path = tmp_path / name
    path.write_text(EXAMPLE.read_text(encoding="utf-8") + text, encoding="utf-8")
    return path


def line_of(path, needle, after=None) -> int:
    """The line of the first line holding `needle` (after the first one holding `after`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, text in enumerate(lines) if after in text) if after else 0
    return next(i for i, text in enumerate(lines[start:], start + 1) if needle in text)


def cli(*args):
    result = RUNNER.invoke(main, [*map(str, args)], prog_name="threatkg")
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, catalog_home):
    """The analysis of the example with DECISIONS, STALE and EXPIRED, and its threat rows."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("THREATKG_HOME", str(catalog_home))
        path = write(tmp_path_factory.mktemp("decisions"), DECISIONS + STALE + EXPIRED)
        analysis = analyse(load_model(path))
        return path, analysis, threat_rows(analysis, explain=False)


def test_decisions_are_rdf_in_the_model_graph(analysed):
    path, analysis, _ = analysed
    g, iri = analysis.model.graph, model_iri("ai-system", "gateway-dos")
    assert (iri, RDF.type, TM.Decision) in g and (iri, TM.decisionStatus, TM.Accepted) in g
    assert (iri, TM.decidesStride, STRIDE.DenialOfService) in g
    assert (iri, TM.appliesToElement, model_iri("ai-system", "api-gateway")) in g
    assert (iri, TM.ticket, URIRef("https://tickets.example.com/SEC-101")) in g
    assert (iri, DCTERMS.date, Literal(datetime.date(2026, 3, 1))) in g
    assert analysis.model.lines[iri] == line_of(path, "id: gateway-dos")
    seen = analysis.store.query("SELECT ?id WHERE { ?d a <https://w3id.org/threatkg/ont#Decision> ; "
                                "<http://purl.org/dc/terms/identifier> ?id }")
    assert len(list(seen)) == 8      # in the store SPARQL runs on


def test_decisions_read_back(analysed):
    path, analysis, _ = analysed
    found = {d["id"]: d for d in decisions(analysis)}
    assert sorted(found) == sorted(["gateway-dos", "all-dos", "gateway-capec-125", "poisoning-internal",
                                    "pipeline-supply-chain", "databases-sqli", "user-sqli", "old-spoofing"])
    dos = found["gateway-dos"]
    assert dos | {"reaches": None} == {
        "id": "gateway-dos", "status": "accepted", "justification": "The CDN in front of the gateway absorbs floods.",
        "owner": "platform-team", "date": "2026-03-01", "expires": None, "ticket": "https://tickets.example.com/SEC-101",
        "line": line_of(path, "id: gateway-dos"), "threat": {"by": "stride", "id": "D", "iri": None},
        "scope": {"elements": ["api-gateway"], "kinds": [], "zones": []}, "reaches": None}
    assert found["all-dos"]["reaches"] is None
    # zones reach nested zones: internal holds internal-interface, -protected and -development
    assert set(found["poisoning-internal"]["reaches"]) == {"ai-model", "data-layer", "logs", "training-data",
                                                          "training-pipeline"}
    assert found["databases-sqli"]["reaches"] == {"data-layer": "kinds"}   # sql-database is a database


def test_the_most_specific_decision_applies(analysed):
    _, analysis, rows = analysed
    chosen = {pair: d["id"] for pair, d in decided(analysis, rows, today=TODAY).items()}
    # element scope first: the gateway's own decision beats its kind's, even with a threat id
    assert chosen[("api-gateway", "DenialOfService")] == "gateway-dos"
    assert chosen[("api-gateway", "CAPEC-125")] == "gateway-dos"
    assert chosen[("ai-model", "DenialOfService")] == "all-dos"
    assert chosen[("data-layer", "CAPEC-66")] == "databases-sqli"
    # subtree: the parent and its sub-techniques; the pipeline's own decision beats its zone's
    assert chosen[("training-pipeline", "AML.T0010")] == "pipeline-supply-chain"
    assert chosen[("training-pipeline", "AML.T0010.001")] == "pipeline-supply-chain"
    assert chosen[("ai-model", "AML.T0010.003")] == "poisoning-internal"
    # stride: every row of that category, catalog rows too
    dos_rows = {(r["component"], r["threat"]) for r in rows if "D" in r["stride"]}
    assert dos_rows and all(pair in chosen for pair in dos_rows)
    # expired decisions apply to nothing
    assert "old-spoofing" not in chosen.values()
    assert not any(chosen.get(p) == "user-sqli" for p in chosen)
    matched = decided(analysis, rows, today=TODAY)[("data-layer", "CAPEC-66")]["matched"]
    assert matched == {"element": "kinds", "threat": "threat"}


def test_ties_go_to_the_later_date_then_the_smaller_id(tmp_path, with_catalogs):
    text = "\ndecisions:\n" + "".join(
        f"  - {{id: {i}, threat: Spoofing, elements: [user], status: accepted, justification: x, date: {d}}}\n"
        for i, d in (("b-late", "2026-02-01"), ("a-early", "2026-01-01"), ("c-late", "2026-02-01")))
    analysis = analyse(load_model(write(tmp_path, text)))
    rows = threat_rows(analysis, explain=False)
    assert decided(analysis, rows, today=TODAY)[("user", "Spoofing")]["id"] == "b-late"


def test_stale_and_expired_findings(analysed):
    path, analysis, rows = analysed
    assert findings(analysis, rows, today=TODAY) == [
        {"kind": "stale", "decision": "user-sqli", "line": line_of(path, "id: user-sqli"),
         "message": "decision user-sqli matches no inherited threat"},
        {"kind": "expired", "decision": "old-spoofing", "line": line_of(path, "id: old-spoofing"),
         "message": "decision old-spoofing expired on 2025-01-01"}]
    assert [f["decision"] for f in findings(analysis, rows, today=datetime.date(2027, 3, 1))] == [
        "databases-sqli", "user-sqli", "old-spoofing"]


def test_validate_warns_about_stale_and_expired(tmp_path, with_catalogs):
    path = write(tmp_path, DECISIONS + STALE + EXPIRED)
    result = cli("validate", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{path}: valid")
    assert result.stderr.splitlines() == [
        f"warning: {path}:{line_of(path, 'id: user-sqli')}: decision user-sqli matches no inherited threat",
        f"warning: {path}:{line_of(path, 'id: old-spoofing')}: decision old-spoofing expired on 2025-01-01"]


BAD = [   # (what is wrong, the entry's fields as YAML text (None: left out), the field named, the message)
    ("unknown field", {"colour": "red"}, "colour", "unknown field 'colour'"),
    ("bad status", {"status": "acepted"}, "status",
     "status: 'acepted' is not a decision status (did you mean 'accepted'?); one of accepted, false-positive, "
     "mitigated, transferred"),
    ("no status", {"status": None}, None, "status: required: one of accepted, false-positive, mitigated, transferred"),
    ("no justification", {"justification": None}, None, "justification: required: a non-empty text"),
    ("empty justification", {"justification": "''"}, "justification", "justification: a non-empty text; found ''"),
    ("no date", {"date": None}, None, "date: required: a date (YYYY-MM-DD)"),
    ("malformed date", {"date": "2026-1-5"}, "date", "date: a date (YYYY-MM-DD); found '2026-1-5'"),
    ("date not a date", {"date": "[2026]"}, "date", "date: a date (YYYY-MM-DD); found [2026]"),
    ("expires before date", {"expires": "2025-01-01"}, "expires",
     "expires: 2025-01-01 is before the decision's date 2026-01-01"),
    ("bad ticket", {"ticket": "ftp://x"}, "ticket", "ticket: an http(s) URL; found 'ftp://x'"),
    ("unknown element", {"elements": "[nope]"}, "elements",
     "elements: 'nope' is not a component or flow of this model"),
    ("a zone as element", {"elements": "[dmz]"}, "elements",
     "elements: 'dmz' is not a component or flow of this model"),
    ("unknown kind", {"kinds": "[databse]"}, "kinds",
     "kinds: unknown component kind 'databse' (did you mean 'database'?)"),
    ("unknown zone", {"zones": "ai-model"}, "zones", "zones: 'ai-model' is not a zone of this model"),
    ("unknown threat", {"threat": "CAPEC-99999"}, "threat",
     "threat: 'CAPEC-99999' is not an entry of the installed catalogs"),
    ("not a threat id", {"threat": None, "subtree": "v4.0.3-9.1.1"}, "subtree",
     "subtree: 'v4.0.3-9.1.1' is not a catalog id of a threat"),
    ("bad stride", {"threat": None, "stride": "X"}, "stride", "stride: 'X' is not a STRIDE letter or category"),
    ("two threats", {"stride": "S"}, None, "give exactly one of threat, subtree or stride (found threat, stride)"),
    ("no threat", {"threat": None}, None, "give exactly one of threat, subtree or stride"),
    ("owner not text", {"owner": "[a, b]"}, "owner", "owner: a non-empty text; found ['a', 'b']"),
    ("threat not text", {"threat": "12"}, "threat", "threat: 12 is not a catalog id of a threat"),
]
FINE = {"threat": "Spoofing", "status": "accepted", "justification": "because", "date": "2026-01-01"}


@pytest.mark.parametrize("what, fields, key, message", BAD, ids=[b[0] for b in BAD])
def test_each_problem_at_file_line(tmp_path, with_catalogs, what, fields, key, message):
    entry = {k: v for k, v in (FINE | fields).items() if v is not None}
    path = write(tmp_path, "\ndecisions:\n  - id: d1\n" + "".join(f"    {k}: {v}\n" for k, v in entry.items()))
    result = cli("validate", path)
    assert result.exit_code == 2, result.output
    line = line_of(path, f"    {key}:", after="decisions:") if key else line_of(path, "id: d1")
    assert any(p.startswith(f"{path}:{line}: decision d1: {message}") for p in result.stderr.splitlines()), \
        result.stderr


def test_duplicate_ids_and_impossible_dates(tmp_path, with_catalogs):
    path = write(tmp_path, "\ndecisions:\n  - {id: data-layer, threat: Spoofing, status: accepted, "
                           "justification: x, date: 2026-01-01}\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert f"{path}:{line_of(path, 'id: data-layer, threat')}: decision data-layer: duplicate id (first defined " \
           f"at line {line_of(path, 'id: data-layer')})" in result.stderr
    path = write(tmp_path, "\ndecisions:\n  - id: d1\n    date: 2026-02-30\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:{line_of(path, 'date: 2026-02-30')}: malformed YAML: not a valid date")


def test_diff_fails_on_a_new_stale_decision(tmp_path, with_catalogs):
    old = write(tmp_path, DECISIONS, "old.yaml")
    new = write(tmp_path, DECISIONS + STALE, "new.yaml")
    result = cli("diff", old, new, "--fail-on", "stale-decision")
    assert result.exit_code == 3, result.output
    assert "decision user-sqli matches no inherited threat" in result.stdout
    assert "failing on stale-decision" in result.stderr
    assert cli("diff", old, old, "--fail-on", "stale-decision").exit_code == 0


def test_a_stored_system_has_the_same_decisions(analysed):
    """Read by the same query from a store's graphs (embedded), with their lines."""
    from kg.store import open_store, registry
    from kg.systems import releases, versions
    path, analysis, rows = analysed
    store = open_store("memory:")
    releases.ensure(store)
    versions.add(store, analysis.model, path.read_text(encoding="utf-8"))
    stored = versions.analysis(store, registry.snapshot(store), "ai-system")
    assert decisions(stored) == decisions(analysis)
    assert findings(stored, rows, today=TODAY) == findings(analysis, rows, today=TODAY)
