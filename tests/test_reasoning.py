"""The fast engine against the owlrl reference, and the fallback on unsupported constructs."""

import warnings
from pathlib import Path

import pytest

from kg.analysis import analyse
from kg.model.load import load_model
from kg.ontology import ontology
from kg.reasoning import FallbackWarning, comparable, infer

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


def _data(model_path) -> bytes:
    return (ontology() + load_model(model_path).graph).serialize(format="nt", encoding="utf-8")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_engines_agree_on_every_example(example):
    data = _data(example)
    fast, reference = infer(data, "fast"), infer(data, "owlrl")
    assert fast.engine == "fast" and reference.engine == "owlrl"
    fast_facts, reference_facts = comparable(fast.inferred()), comparable(reference.inferred())
    assert fast_facts == reference_facts
    assert any("exposedTo" in line for line in fast_facts)


def test_engines_agree_on_the_ontology_alone():
    data = ontology().serialize(format="nt", encoding="utf-8")
    assert comparable(infer(data, "fast").inferred()) == comparable(infer(data, "owlrl").inferred())


UNSUPPORTED = {
    "owl:sameAs": "<https://w3id.org/threatkg/model/ai-system/logs> <http://www.w3.org/2002/07/owl#sameAs> "
                  "<https://w3id.org/threatkg/model/ai-system/audit-trail> .",
    "owl:FunctionalProperty": "<https://w3id.org/threatkg/ont#inZone> "
                              "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                              "<http://www.w3.org/2002/07/owl#FunctionalProperty> .",
}


@pytest.mark.parametrize("construct", sorted(UNSUPPORTED))
def test_unsupported_construct_falls_back_to_owlrl_with_a_warning(construct):
    data = _data(EXAMPLES[0]) + UNSUPPORTED[construct].encode() + b"\n"
    with pytest.warns(FallbackWarning, match=construct):
        result = infer(data, "fast")
    assert result.engine == "owlrl"
    assert construct in result.notes[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert comparable(result.inferred()) == comparable(infer(data, "owlrl").inferred())


def test_a_model_cannot_state_axioms_so_it_cannot_force_the_fallback(tmp_path):
    """owl:sameAs and other axioms belong to the ontology: a model stating one is refused (kg.model.lane)
    instead of sending the reasoner to the slow reference engine."""
    from click.testing import CliRunner

    from kg.cli import main
    model = tmp_path / "model.ttl"
    runner = CliRunner()
    model.write_text(runner.invoke(main, ["export", str(EXAMPLES[0]), "--format", "ttl"]).output
                     + UNSUPPORTED["owl:sameAs"] + "\n")
    result = runner.invoke(main, ["threats", str(model), "--format", "json"])
    assert result.exit_code == 2, result.output
    assert "falling back" not in result.stderr and "owl#sameAs" in result.stderr


def test_longer_property_chains_are_detected():
    chain = ("<urn:p> <http://www.w3.org/2002/07/owl#propertyChainAxiom> (<urn:a> <urn:b> <urn:c> <urn:d>) .")
    from rdflib import Graph
    g = Graph().parse(data=chain, format="turtle")
    with pytest.warns(FallbackWarning, match="longer than 3"):
        assert infer(g.serialize(format="nt", encoding="utf-8"), "fast").engine == "owlrl"


def test_analysis_uses_the_requested_engine():
    model = load_model(EXAMPLES[0])
    assert analyse(model, "owlrl").inference.engine == "owlrl"
    assert analyse(model).inference.engine == "fast"


def test_seminaive_equals_the_naive_fixpoint():
    """Every triple, blank nodes included: both engines start from one copy of the prepared store."""
    from pyoxigraph import RdfFormat, Store

    from kg.reasoning import baseline, fast, run_steps
    prepared = Store()
    prepared.load(_data(EXAMPLES[0]), RdfFormat.N_TRIPLES)
    run_steps(prepared)
    seminaive, naive = Store(), Store()
    seminaive.extend(prepared)
    naive.extend(prepared)
    fast.materialize(seminaive)
    baseline.materialize(naive)
    assert set(seminaive) == set(naive)
    assert len(seminaive) > len(prepared) and not list(seminaive.named_graphs())
