"""A model stays in its lane, whichever way it comes in (`threatkg validate`, `systems add`): facts
about catalog entries, the ontology or another system, axioms, and IRIs or ids outside the documented
form are refused with exit 2 and a message naming the file and the offending subject."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import EXAMPLE

HEAD = """@prefix tm: <https://w3id.org/threatkg/ont#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
<https://w3id.org/threatkg/model/s> a tm:System ; dcterms:identifier "s" .
"""
OWN = "https://w3id.org/threatkg/model/s"
ID_FORM = "element ids must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ and end the element's IRI"
NOT_AN_IRI = "not an IRI (spaces, control characters"
OUTSIDE = "a model may only state facts about its own system's IRIs"

CASES = {   # Turtle after HEAD → (offending subject or IRI as the message shows it, message)
    "catalog label": ('<https://w3id.org/threatkg/id/capec/CAPEC-66> rdfs:label "Harmless" .',
                      "'https://w3id.org/threatkg/id/capec/CAPEC-66'", OUTSIDE),
    "catalog seeAlso": ("<https://w3id.org/threatkg/id/capec/CAPEC-66> rdfs:seeAlso <http://evil.example/> .",
                        "'https://w3id.org/threatkg/id/capec/CAPEC-66'", OUTSIDE),
    "ontology class": ("tm:Database rdfs:label 'Anything' .", "'https://w3id.org/threatkg/ont#Database'", OUTSIDE),
    "STRIDE category": ('<https://w3id.org/threatkg/id/stride/Tampering> rdfs:label "Fine" .',
                        "'https://w3id.org/threatkg/id/stride/Tampering'", OUTSIDE),
    "another system": ('<https://w3id.org/threatkg/model/ai-system/data-layer> rdfs:label "Mine now" .',
                       "'https://w3id.org/threatkg/model/ai-system/data-layer'", OUTSIDE),
    "a longer system id": ('<https://w3id.org/threatkg/model/s2/web> rdfs:label "Mine now" .',
                           "'https://w3id.org/threatkg/model/s2/web'", OUTSIDE),
    "owl:sameAs": (f"<{OWN}/x> owl:sameAs <{OWN}/y> .", f"'{OWN}/x'",
                   "property 'http://www.w3.org/2002/07/owl#sameAs' is not part of the model vocabulary"),
    "space in an element IRI": (f"<{OWN}/a\\u0020b> a tm:Component .", f"'{OWN}/a b'", NOT_AN_IRI),
    "newline in an element IRI": (f"<{OWN}/a\\u000Ab> a tm:Component .", f"'{OWN}/a\\\\nb'", NOT_AN_IRI),
    "markup in an element IRI": (f"<{OWN}/\\u003Cscript\\u003E> a tm:Component .", f"'{OWN}/<script>'", NOT_AN_IRI),
    "SPARQL in an element IRI": (f"<{OWN}/}} ; DROP ALL ; INSERT DATA {{> a tm:Component .",
                                 f"'{OWN}/}} ; DROP ALL ; INSERT DATA {{'", NOT_AN_IRI),
    "quote in a value IRI": (f'<{OWN}/web> a tm:Component ; tm:flowsTo <http://x/\\u0022> .', "'http://x/\"'",
                             NOT_AN_IRI),
    "nested element IRI": (f"<{OWN}/a/b> a tm:Component .", f"'{OWN}/a/b'", ID_FORM),
    "id not ending the IRI": (f'<{OWN}/web> a tm:Component ; dcterms:identifier "other" .', f"'{OWN}/web'", ID_FORM),
    "id with a space": (f'<{OWN}/a%20b> a tm:Component ; dcterms:identifier "a b" .', f"'{OWN}/a%20b'", ID_FORM),
}
SYSTEM_IDS = {   # Turtle declaring the system → message
    "angle bracket": ('<https://w3id.org/threatkg/model/a%3Cb> a tm:System ; dcterms:identifier "a<b" .',
                      "system id 'a<b' must match"),
    "space": ('<https://w3id.org/threatkg/model/a%20b> a tm:System ; dcterms:identifier "a b" .',
              "system id 'a b' must match"),
    "braces": ('<https://w3id.org/threatkg/model/x> a tm:System ; dcterms:identifier "} ; DROP ALL ; {" .',
               "system id '} ; DROP ALL ; {' must match"),
    "no identifier": ("<https://w3id.org/threatkg/model/x> a tm:System .",
                      "system id 'https://w3id.org/threatkg/model/x' must match"),
}


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _refused(result, *parts):
    assert result.exit_code == 2, result.output
    assert all(part in result.stderr for part in parts), result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output


@pytest.mark.parametrize("case", CASES)
def test_validate_refuses_facts_outside_the_lane(tmp_path, case):
    turtle, subject, message = CASES[case]
    model = tmp_path / "model.ttl"
    model.write_text(HEAD + turtle + "\n", encoding="utf-8")
    _refused(_cli("validate", model), f"{model}: {subject}", message)


@pytest.mark.parametrize("case", SYSTEM_IDS)
def test_validate_refuses_system_ids_outside_the_documented_form(tmp_path, case):
    turtle, message = SYSTEM_IDS[case]
    model = tmp_path / "model.ttl"
    model.write_text(HEAD.split("<https://w3id.org/threatkg/model/s>")[0] + turtle + "\n", encoding="utf-8")
    _refused(_cli("validate", model), f"{model}: {message}", "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def test_a_model_in_its_lane_is_valid(tmp_path):
    exported = _cli("export", EXAMPLE, "--format", "ttl")
    model = tmp_path / "ai-system.ttl"
    model.write_text(exported.stdout, encoding="utf-8")
    result = _cli("validate", model)
    assert result.exit_code == 0 and "valid" in result.stdout, result.output


def test_systems_add_refuses_a_model_outside_its_lane_and_the_store_is_unchanged(tmp_path, with_catalogs):
    """Each command in a process of its own: the embedded store is locked by the process that opened it."""
    store, model = tmp_path / "store", tmp_path / "planted.ttl"
    model.write_text(HEAD + CASES["catalog seeAlso"][0] + "\n", encoding="utf-8")
    assert _run("systems", "add", EXAMPLE, "--store", store).returncode == 0
    before = _run("systems", "list", "--store", store).stdout
    refused = _run("systems", "add", model, "--store", store)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{model}: 'https://w3id.org/threatkg/id/capec/CAPEC-66': {OUTSIDE}" in refused.stderr
    assert _run("systems", "list", "--store", store).stdout == before and "ai-system" in before


def _run(*args):
    return subprocess.run([sys.executable, "-m", "kg.cli", *map(str, args)], capture_output=True, text=True,
                          check=False)
