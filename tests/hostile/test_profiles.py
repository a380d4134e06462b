"""A hostile profile file on `threatkg coverage MODEL --profile FILE` (and `report`): exit 2, a message
naming the file and the field, no traceback; no file outside kg/queries is read as a query."""

import pytest

from tests.conftest import EXAMPLE
from tests.hostile.checks import assert_refused, cli
from tests.hostile.corpus import DIGITS, config_cases

HEAD = "id: hostile\ntitle: Hostile\nkind: requirements\n"
FIELD_CASES = [   # (name, profile text, field, what is said)
    ("select.query with ../", HEAD + "select: {query: ../../tests/hostile/escape}\n", "select", "../../tests"),
    ("select.query absolute", HEAD + "select: {query: /etc/passwd}\n", "select", "/etc/passwd"),
    ("select.query with a nul byte", HEAD + "select: {query: \"profile-asvs-level\\0\"}\n", "select", "query"),
    ("select.query a list", HEAD + "select: {query: [a]}\n", "select", "query"),
    ("select.with a list", HEAD + "select: {query: profile-asvs-level, with: [1]}\n", "select", "with"),
    ("select.with a value a map", HEAD + "select: {query: profile-asvs-level, with: {scheme: {a: b}}}\n",
     "select", "scheme"),
    ("select.with a value with spaces", HEAD + "select: {query: profile-asvs-level, with: {scheme: 'a b>'}}\n",
     "select", "scheme"),
    ("select.with an integer of 5000 digits", HEAD + f"select: {{query: profile-asvs-level, with: {{level: {DIGITS}}}}}\n",
     None, "too long"),
    ("ids a map", HEAD + "ids: {a: b}\n", "ids", "ids"),
    ("ids unknown capec", HEAD.replace("requirements", "threats") + "ids: [CAPEC-99999999]\n", "ids", "CAPEC-99999999"),
    ("ids unknown atlas", HEAD.replace("requirements", "threats") + "ids: [AML.T9999]\n", "ids", "AML.T9999"),
    ("ids unknown asvs version", HEAD + "ids: [v9.9.9-9.9.9]\n", "ids", "v9.9.9-9.9.9"),
    ("ids with a homoglyph", HEAD + "ids: [v4.0.3-2.1.\u0661]\n", "ids", "ids"),
    ("title a list", HEAD.replace("title: Hostile", "title: [a, b]") + "ids: [v4.0.3-2.1.1]\n", "hostile", "title"),
    ("id a map", HEAD.replace("id: hostile", "id: {a: b}") + "ids: [v4.0.3-2.1.1]\n", None, "id"),
]


def coverage(profile):
    return cli("coverage", EXAMPLE, "--profile", profile)


@pytest.mark.parametrize("case", config_cases("profile"), ids=lambda c: c.name)
def test_a_hostile_profile_file(case, tmp_path, with_catalogs):
    path = case.make(tmp_path)
    assert_refused(coverage(path), str(path), case.says)


@pytest.mark.parametrize("name, text, field, says", FIELD_CASES, ids=[c[0] for c in FIELD_CASES])
def test_a_hostile_profile_field(name, text, field, says, tmp_path, with_catalogs):
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    assert_refused(coverage(path), str(path), *[n for n in (field, says) if n])


def test_a_query_outside_the_queries_folder_is_never_run(tmp_path, with_catalogs):
    """A .rq file the profile reaches with ../ would otherwise be run as a named query."""
    escape = tmp_path / "escape.rq"
    escape.write_text("SELECT ?requirement WHERE { BIND(<urn:escaped> AS ?requirement) }\n")
    path = tmp_path / "profile.yaml"
    path.write_text(HEAD + f"select: {{query: '../../../../../../../../..{tmp_path}/escape'}}\n")
    result = coverage(path)
    assert_refused(result, str(path), "select")
    assert "urn:escaped" not in result.output
