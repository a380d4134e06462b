"""A hostile THREATKG_HOME/enrichment.yaml on `threatkg enrich ID`: exit 2, a message naming the file
and the entry and field, no traceback; nothing is contacted (the listener of the corpus never answers)
and the cache stays empty."""

import pytest

from tests.hostile.checks import assert_refused, cli
from tests.hostile.corpus import DIGITS, LISTENER, config_cases, digest

ENDPOINT = {"name": "local", "url": LISTENER, "description": "d", "timeout": 1, "retries": 0, "max_age": 0}
ENRICHMENT = {"name": "local-cves", "description": "d", "applies_to": "{catalog: cwe}",
              "start": "http://w3id.org/sepses/resource/cwe/", "endpoint": "local", "query": "enrich-cwe-cves",
              "relation": "r"}


def config(endpoint=None, enrichment=None) -> bytes:
    """enrichment.yaml with one endpoint and one enrichment, fields replaced (raw YAML values)."""
    def entry(fields):
        return "  - " + "\n    ".join(f"{key}: {value}" for key, value in fields.items()) + "\n"
    return ("endpoints:\n" + entry({**ENDPOINT, **(endpoint or {})})
            + "enrichments:\n" + entry({**ENRICHMENT, **(enrichment or {})})).encode()


FIELD_CASES = [   # (name, enrichment.yaml, element, field)
    ("url of file:", config({"url": "file:///etc/passwd"}), "endpoint local", "url"),
    ("url with a port of 5000 digits", config({"url": f"http://127.0.0.1:{DIGITS}/q"}), "endpoint local", "url"),
    ("url with a homoglyph scheme", config({"url": "htt\u0440://127.0.0.1/q"}), "endpoint local", "url"),
    ("timeout of 5000 digits", config({"timeout": DIGITS}), None, "too long"),
    ("timeout of 1e400", config({"timeout": "1e400"}), "endpoint local", "timeout"),
    ("timeout a list", config({"timeout": "[1, 2]"}), "endpoint local", "timeout"),
    ("description a map", config({"description": "{a: b}"}), "endpoint local", "description"),
    ("name with a zero-width space", config({"name": "lo\u200bcal"}), "endpoints[1]", "name"),
    ("name with an rtl override", config({"name": "\u202elacol"}), "endpoints[1]", "name"),
    ("name a list", config({"name": "[a]"}), "endpoints[1]", "name"),
    ("endpoint given as a url", config(enrichment={"endpoint": LISTENER}), "enrichment local-cves", "endpoint"),
    ("query with ../", config(enrichment={"query": "../../queries/enrich-cwe-cves"}), "enrichment local-cves",
     "query"),
    ("query a map", config(enrichment={"query": "{a: b}"}), "enrichment local-cves", "query"),
    ("applies_to a list", config(enrichment={"applies_to": "[cwe]"}), "enrichment local-cves", "applies_to"),
    ("entries not a list", b"endpoints: {name: x}\n", "endpoints", "expected a list"),
    ("entry not a mapping", b"endpoints: [[a]]\n", "endpoints[1]", "name"),
    ("document a list", b"- endpoints\n", None, "expected a mapping"),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory, catalog_home):
    """A THREATKG_HOME whose catalogs are the installed ones (linked) and whose enrichment.yaml is the case's."""
    home = tmp_path_factory.mktemp("enrich-home")
    (home / "catalogs").symlink_to(catalog_home / "catalogs")
    return home


def refused(home, case_path, *names):
    (home / "enrichment.yaml").unlink(missing_ok=True)
    (home / "enrichment.yaml").symlink_to(case_path)
    before = digest(home / "catalogs")
    result = cli("enrich", "CWE-89", env={"THREATKG_HOME": str(home)})
    assert_refused(result, str(home / "enrichment.yaml"), *names)
    assert not (home / "cache").exists() and digest(home / "catalogs") == before


@pytest.mark.parametrize("case", config_cases("enrichment"), ids=lambda c: c.name)
def test_a_hostile_file(case, home, tmp_path):
    refused(home, case.make(tmp_path), case.says)


@pytest.mark.parametrize("name, data, element, field", FIELD_CASES, ids=[c[0] for c in FIELD_CASES])
def test_a_hostile_field(name, data, element, field, home, tmp_path):
    path = tmp_path / "enrichment.yaml"
    path.write_bytes(data)
    refused(home, path, *[n for n in (element, field) if n])
