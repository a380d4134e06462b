"""OWASP ASVS 4.0.3 / 5.0.0 importer: counts, levels, CWE links (official and derived) and the
4.0.3 -> 5.0.0 correspondence, read from the official files in place."""

import json
import shutil

import pytest
from rdflib import Literal
from rdflib.namespace import DCTERMS, RDF, SKOS

from kg.catalogs import asvs, steps
from kg.errors import InputError
from kg.namespaces import TM, catalog_iri
from tests.catalogs import annotations


@pytest.fixture(scope="module")
def graphs(shared_catalogs):
    """Both versions, with the links the derivation steps add."""
    built = asvs.build(shared_catalogs / "asvs")
    steps.run(built)
    return {cg.version: cg for cg in built}


def _count(cg, rdf_type):
    return len(set(cg.graph.subjects(RDF.type, rdf_type)))


def _req(rid):
    return catalog_iri("asvs", rid)


def _annotation(g, s, p, o):
    """(provenance, source, method) of the owl:Axiom annotating the link s p o."""
    ax = annotations(g, s, p, o)[0]
    return g.value(ax, TM.provenance), str(g.value(ax, DCTERMS.source)), str(g.value(ax, TM.method))


def _levels(g, rid):
    return sorted(int(v) for v in g.objects(_req(rid), TM.level)), int(g.value(_req(rid), TM.lowestLevel))


def test_graph_names(graphs):
    assert {(cg.name, cg.version) for cg in graphs.values()} == {("asvs", "4.0.3"), ("asvs", "5.0.0")}


def test_v403_counts(graphs):
    cg = graphs["4.0.3"]
    assert _count(cg, TM.AsvsRequirement) == 286
    assert _count(cg, TM.Requirement) == 286
    assert _count(cg, TM.AsvsChapter) == 14
    assert len(set(cg.graph.subjects(TM.addressesWeakness, None))) == 268


def test_v500_counts(graphs):
    cg = graphs["5.0.0"]
    assert _count(cg, TM.AsvsRequirement) == 345
    assert _count(cg, TM.AsvsChapter) == 17


def test_ids_and_hierarchy(graphs):
    g = graphs["4.0.3"].graph
    req, section, chapter = _req("v4.0.3-5.3.4"), _req("v4.0.3-5.3"), _req("v4.0.3-V5")
    assert g.value(req, DCTERMS.identifier) == Literal("v4.0.3-5.3.4")
    assert (req, SKOS.broader, section) in g and (section, SKOS.broader, chapter) in g
    assert (chapter, RDF.type, TM.AsvsChapter) in g and (section, RDF.type, TM.AsvsSection) in g
    assert (req, SKOS.inScheme, _req("v4.0.3")) in g


def test_v403_cwe_official(graphs):
    g = graphs["4.0.3"].graph
    cwe = catalog_iri("cwe", "CWE-89")
    assert (_req("v4.0.3-5.3.4"), TM.addressesWeakness, cwe) in g
    provenance, source, _ = _annotation(g, _req("v4.0.3-5.3.4"), TM.addressesWeakness, cwe)
    assert provenance == TM.Official and "4.0.3" in source


def test_v403_nist(graphs):
    g = graphs["4.0.3"].graph
    assert Literal("7.2") in set(g.objects(_req("v4.0.3-3.3.2"), TM.nistReference))


def test_v500_cwe_derived(graphs):
    g = graphs["5.0.0"].graph
    cwe = catalog_iri("cwe", "CWE-89")
    assert (_req("v5.0.0-1.2.4"), TM.addressesWeakness, cwe) in g
    provenance, _, method = _annotation(g, _req("v5.0.0-1.2.4"), TM.addressesWeakness, cwe)
    assert provenance == TM.Derived and "be→5.0.0" in method


def test_v500_stale_be_ids_skipped(shared_catalogs, graphs):
    g = graphs["5.0.0"].graph
    known = {str(s).rsplit("/", 1)[1] for s in g.subjects(RDF.type, TM.AsvsRequirement)}
    mapping = asvs.be_mapping(shared_catalogs / "asvs")
    stale = [be for be, (_, target) in mapping.items() if target not in known]
    assert len(stale) == 8 and "v5.0.be-2.2.4" in stale
    derived = {(s, o) for s, o in g.subject_objects(TM.addressesWeakness)
               if _annotation(g, s, TM.addressesWeakness, o)[0] == TM.Derived}
    assert derived == {(_req(target), catalog_iri("cwe", cwe)) for cwe, target in mapping.values() if target in known}
    assert len(derived) == 204


def test_levels(graphs):
    g4, g5 = graphs["4.0.3"].graph, graphs["5.0.0"].graph
    assert _levels(g4, "v4.0.3-5.3.4") == ([1, 2, 3], 1)
    assert _levels(g4, "v4.0.3-1.1.1") == ([2, 3], 2)
    assert _levels(g5, "v5.0.0-1.2.4") == ([1, 2, 3], 1)
    assert _levels(g5, "v5.0.0-1.1.1") == ([2, 3], 2)


def test_v403_level_cells_with_text(graphs):
    """V3.3.2 gives durations instead of ticks: Required is true, so all three levels count."""
    g = graphs["4.0.3"].graph
    assert _levels(g, "v4.0.3-3.3.2") == ([1, 2, 3], 1)
    assert Literal("L1: 30 days") in set(g.objects(_req("v4.0.3-3.3.2"), TM.levelNote))


def test_correspondence(graphs):
    g = graphs["5.0.0"].graph
    old, new = _req("v4.0.3-1.1.5"), _req("v5.0.0-13.1.1")
    assert (old, TM.correspondsTo, new) in g
    provenance, _, method = _annotation(g, old, TM.correspondsTo, new)
    assert provenance == TM.Official and method == "moved"
    assert (_req("v4.0.3-1.2.2"), TM.correspondsTo, _req("v5.0.0-13.2.1")) in g
    assert len(list(g.triples((None, TM.correspondsTo, None)))) == 266


def test_mapping_status(graphs):
    g = graphs["5.0.0"].graph
    assert g.value(_req("v4.0.3-1.1.1"), TM.mappingStatus) == Literal("deleted")
    assert g.value(_req("v4.0.3-1.1.5"), TM.mappingStatus) is None
    assert len(set(g.subjects(TM.mappingStatus, Literal("deleted")))) == 109


def test_parse_status():
    flags, pairs = asvs.parse_status("MODIFIED, MOVED TO v5.0.0-6.2.1, SPLIT TO v5.0.0-6.2.2, v5.0.0-6.2.3")
    assert flags == {"modified"}
    assert pairs == [("moved", "v5.0.0-6.2.1"), ("split", "v5.0.0-6.2.2"), ("split", "v5.0.0-6.2.3")]
    assert asvs.parse_status("DELETED, NOT IN SCOPE") == ({"deleted", "not in scope"}, [])
    with pytest.raises(ValueError):
        asvs.parse_status("RENAMED TO v5.0.0-1.1.1")


@pytest.fixture
def broken_copy(shared_catalogs, tmp_path):
    folder = tmp_path / "asvs"
    shutil.copytree(shared_catalogs / "asvs", folder)
    return folder


def test_malformed_json(broken_copy):
    path = broken_copy / "asvs-4.0.3-en.json"
    path.write_text(path.read_text(encoding="utf-8")[:5000], encoding="utf-8")
    with pytest.raises(InputError) as e:
        asvs.build(broken_copy)
    assert "asvs-4.0.3-en.json" in str(e.value) and "malformed JSON" in str(e.value)


def test_wrong_typed_field(broken_copy):
    path = broken_copy / "asvs-4.0.3-en.json"
    tree = json.loads(path.read_text(encoding="utf-8"))
    tree["Requirements"][0]["Items"][0]["Items"][0]["L2"]["Required"] = "yes"
    path.write_text(json.dumps(tree), encoding="utf-8")
    with pytest.raises(InputError) as e:
        asvs.build(broken_copy)
    problem = e.value.problems[0]
    assert problem.file.endswith("asvs-4.0.3-en.json") and problem.element == "V1.1.1 L2"
    assert "Required" in problem.message


def test_unparseable_mapping_status(broken_copy):
    path = broken_copy / asvs.MAP_OLD_TO_NEW
    path.write_text("v4.0.3-1.1.1:\n  tag-v5.0.0: RENAMED TO v5.0.0-1.1.1\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        asvs.build(broken_copy)
    assert asvs.MAP_OLD_TO_NEW in str(e.value) and "v4.0.3-1.1.1" in str(e.value)
