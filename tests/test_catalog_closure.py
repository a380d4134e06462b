"""The fast engine's closure of every catalog + the seed model equals owlrl's (owlrl takes minutes)."""

from pyoxigraph import RdfFormat, Store

from kg.analysis import ontology_ntriples
from kg.catalogs import installed
from kg.model.load import load_model
from kg.reasoning import comparable, infer, ntriples_of
from tests.conftest import EXAMPLE


def _catalog_ntriples(home) -> bytes:
    return b"".join(ntriples_of(path) for path in installed.current(home).graph_files())


def test_fast_closure_of_all_catalogs_and_the_seed_equals_owlrl(catalog_home):
    data = ontology_ntriples() + _catalog_ntriples(catalog_home) + \
        load_model(EXAMPLE).graph.serialize(format="nt", encoding="utf-8")
    fast = infer(data, "fast")
    reference = infer(data, "owlrl")
    assert fast.engine == "fast"
    fast_facts, reference_facts = comparable(fast.inferred()), comparable(reference.inferred())
    assert len(fast_facts) > 5000
    assert fast_facts == reference_facts, (sorted(fast_facts - reference_facts)[:5],
                                           sorted(reference_facts - fast_facts)[:5])


def test_installed_closure_is_what_the_fast_engine_derives(catalog_home):
    """The pre-materialized closure shipped with the install equals a fresh fast run."""
    release = installed.current(catalog_home)
    store = Store()
    store.load(path=str(release.inferred_file), format=RdfFormat.N_QUADS)
    shipped = {q.triple for q in store}
    fresh = infer(ontology_ntriples() + _catalog_ntriples(catalog_home), "fast").inferred()
    assert comparable(shipped) == comparable(fresh)
