"""`threatkg validate` on every kind of bad model: exit 2 and one FILE:LINE: element: message line per problem."""

import copy
import os
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kg.cli import main
from kg.model.source import MAX_ALIAS_NODES, MAX_BYTES
from tests.conftest import EXAMPLE

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def model(example):
    """A fresh copy of the example to mutate."""
    return copy.deepcopy(example)


def component(doc, eid):
    return next(c for c in doc["components"] if c["id"] == eid)


def flow(doc, eid):
    return next(f for f in doc["flows"] if f["id"] == eid)


def write(tmp_path, content, name="model.yaml"):
    """Write a dict as block-style YAML, or text / bytes as they are."""
    path = tmp_path / name
    if isinstance(content, dict):
        content = yaml.safe_dump(content, sort_keys=False)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def line_of(path, needle, after=None, nth=1) -> int:
    """1-based line of the nth line containing `needle`, counting from the first line containing `after`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, text in enumerate(lines) if after in text) if after else 0
    hits = [i + 1 for i, text in enumerate(lines) if i >= start and needle in text]
    return hits[nth - 1]


def validate(path):
    return RUNNER.invoke(main, ["validate", str(path)], catch_exceptions=False)


def problems(path) -> list[str]:
    """The problem lines of a model that must be rejected."""
    result = validate(path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return result.stderr.splitlines()


def expected(path, line, *what) -> str:
    """FILE:LINE: ELEMENT: MESSAGE; `what` is (element, message) or (message,); no line, no :LINE."""
    element, message = what if len(what) == 2 else (None, what[0])
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {element}: {message}" if element else f"{where}: {message}"


def rejected(path, *problem_tuples):
    """The model is rejected with exactly these problems, each (line, element, message) or (line, message)."""
    assert problems(path) == [expected(path, *p) for p in problem_tuples]


# ------------------------------------------------------------ valid models
def test_example_is_valid():
    result = validate(EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout and result.stderr == ""


def test_exported_turtle_is_valid(tmp_path):
    exported = RUNNER.invoke(main, ["export", str(EXAMPLE), "--format", "ttl"], catch_exceptions=False)
    assert exported.exit_code == 0, exported.output
    path = write(tmp_path, exported.stdout, "model.ttl")
    result = validate(path)
    assert result.exit_code == 0, result.output
    assert "system 'ai-system'" in result.stdout


# ------------------------------------------------------------ files that are no model
def test_empty_file(tmp_path):
    rejected(write(tmp_path, ""), (None, "file is empty"))


def test_whitespace_only_file(tmp_path):
    rejected(write(tmp_path, "  \n\n\t\n"), (None, "file is empty"))


def test_binary_file(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
    rejected(write(tmp_path, png), (None, "binary file: a model is YAML or Turtle text"))


def test_non_utf8_bytes(tmp_path):
    rejected(write(tmp_path, "system:\n  id: caf\xe9\n".encode("latin-1")), (None, "not UTF-8 text (byte 17)"))


def test_directory(tmp_path):
    path = tmp_path / "model.yaml"
    path.mkdir()
    result = validate(path)
    assert result.exit_code == 2
    assert str(path) in result.stderr and "is a directory" in result.stderr


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_device_or_pipe_is_refused_without_reading_it(tmp_path, special):
    path = Path(special) if special.startswith("/") else tmp_path / special
    if special == "fifo":
        os.mkfifo(path)   # opening it would block until a writer came
    rejected(path, (None, "not a regular file (a device, pipe or socket): a model is a file"))


def test_missing_file(tmp_path):
    rejected(tmp_path / "nosuch.yaml", (None, "no such file"))


def test_file_over_the_size_limit(tmp_path):
    path = tmp_path / "huge.yaml"
    path.touch()
    os.truncate(path, MAX_BYTES + 1)  # sparse: no disk time
    rejected(path, (None, f"file is {MAX_BYTES + 1:,} bytes; the limit for a model is {MAX_BYTES:,}"))


# ------------------------------------------------------------ malformed YAML and Turtle
def test_yaml_bad_indentation(tmp_path):
    path = write(tmp_path, "system:\n  id: x\n zones: []\n")
    [line] = problems(path)
    assert line.startswith(f"{path}:3: malformed YAML: ")


def test_yaml_unclosed_bracket(tmp_path):
    path = write(tmp_path, "system: {id: x\nzones: []\n")
    [line] = problems(path)
    assert line.startswith(f"{path}:2: malformed YAML: ") and line.endswith("(while parsing a flow mapping at line 1)")


def test_yaml_nested_too_deeply(tmp_path):
    for depth in (500, 5000):  # Python's recursion limit, then libyaml's own limit
        [line] = problems(write(tmp_path, "system: " + "[" * depth + "]" * depth + "\n"))
        assert line.startswith(f"{tmp_path / 'model.yaml'}") and "malformed YAML:" in line and "nest" in line


def test_yaml_non_scalar_key(tmp_path):
    [line] = problems(write(tmp_path, "system: {id: x}\n? [a]\n: b\n"))
    assert ":2: malformed YAML: found unhashable key" in line


def test_yaml_duplicate_key(tmp_path):
    rejected(write(tmp_path, "system:\n  id: x\n  name: X\n  id: y\n"), (4, "duplicate key 'id' (first at line 2)"))


def test_yaml_alias_bomb_ends_quickly(tmp_path):
    laughs = ["lol: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = write(tmp_path, "system:\n  id: x\n  description:\n    " + "\n    ".join(laughs) + "\n")
    start = time.monotonic()
    [line] = problems(path)
    assert time.monotonic() - start < 5
    assert line.startswith(f"{path}: YAML aliases expand to ") and line.endswith(f"the limit is {MAX_ALIAS_NODES:,}")


def test_yaml_aliases_that_share_a_little_are_fine(tmp_path, model):
    text = yaml.safe_dump(model, sort_keys=False).replace("zone: internet", "zone: &outside internet", 1)
    result = validate(write(tmp_path, text.replace("zone: internet", "zone: *outside")))
    assert result.exit_code == 0, result.output


def test_malformed_turtle(tmp_path):
    path = write(tmp_path, "@prefix tm: <https://w3id.org/threatkg/ont#> .\n\n<urn:a> tm:b <urn:c \n", "model.ttl")
    [line] = problems(path)
    assert line.startswith(f"{path}:3: malformed Turtle: ")


def test_turtle_undefined_prefix(tmp_path):
    path = write(tmp_path, "<urn:a> nosuch:b <urn:c> .\n", "model.ttl")
    rejected(path, (1, 'malformed Turtle: Prefix "nosuch:" not bound'))


TTL_PREFIXES = ("@prefix tm: <https://w3id.org/threatkg/ont#> .\n"
                "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
                "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n")


def test_turtle_two_systems(tmp_path):
    path = write(tmp_path, TTL_PREFIXES + "<urn:a> a tm:System .\n<urn:b> a tm:System .\n", "model.ttl")
    rejected(path, (None, "a Turtle model declares exactly one tm:System; found 2"))


def test_turtle_no_system(tmp_path):
    path = write(tmp_path, TTL_PREFIXES + "<urn:c> a tm:Database .\n", "model.ttl")
    rejected(path, (None, "a Turtle model declares exactly one tm:System; found 0"))


def test_turtle_ill_typed_literal_is_a_shape_problem_without_noise(tmp_path):
    path = write(tmp_path, TTL_PREFIXES + """
<https://w3id.org/threatkg/model/s> a tm:System ; dcterms:identifier "s" .
<https://w3id.org/threatkg/model/s/z> a tm:TrustZone ; tm:partOf <https://w3id.org/threatkg/model/s> ; dcterms:identifier "z" .
<https://w3id.org/threatkg/model/s/c> a tm:Database ; tm:partOf <https://w3id.org/threatkg/model/s> ;
        dcterms:identifier "c" ; tm:inZone <https://w3id.org/threatkg/model/s/z> ; tm:internetFacing "x"^^xsd:boolean .
""", "model.ttl")
    rejected(path, (None, "c", "attributes.internet_facing: true or false"))


# ------------------------------------------------------------ wrong shape
NOT_A_MAPPING = ("a model is a YAML mapping with the sections system, zones, components, flows, controls, requirements, decisions; "
                 "found ")


def test_top_level_list(tmp_path):
    rejected(write(tmp_path, "- system\n- zones\n"), (1, NOT_A_MAPPING + "a list"))


def test_comment_only_file(tmp_path):
    rejected(write(tmp_path, "# nothing yet\n"), (1, NOT_A_MAPPING + "nothing"))


def test_unknown_section(tmp_path, model):
    model["componnets"] = []
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "componnets:"), "unknown section 'componnets' (did you mean 'components'?)"))


def test_unknown_field_in_component(tmp_path, model):
    component(model, "logs")["zonee"] = "dmz"
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "zonee:"), "logs", "unknown field 'zonee' (did you mean 'zone'?)"))


def test_unknown_kind(tmp_path, model):
    component(model, "logs")["kinds"] = ["databse"]
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "kinds:", after="id: logs"), "logs",
                    "unknown kind 'databse' for a component (did you mean 'database'?)"))


def test_kind_of_another_section(tmp_path, model):
    model["zones"][1]["kind"] = "database"
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "kind: database"), "dmz", "unknown kind 'database' for a zone"))


def test_entry_that_is_not_a_mapping(tmp_path, model):
    model["zones"].append("lab")
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "- lab"), "each entry of 'zones' must be a mapping with a string 'id'"))


def test_bad_id(tmp_path, model):
    model["zones"].append({"id": "a zone"})
    path = write(tmp_path, model)
    [line] = problems(path)
    assert line.startswith(f"{path}:{line_of(path, 'id: a zone')}: a zone: id must match ")


# ------------------------------------------------------------ references
def test_dangling_flow_endpoint(tmp_path, model):
    flow(model, "model-to-data")["target"] = "ai-modle"
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: model-to-data"), "model-to-data",
                    "target: is not a component of this model ('ai-modle' is not defined)"))


def test_dangling_zone_of_component(tmp_path, model):
    component(model, "logs")["zone"] = "nowhere"
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: logs"), "logs", "zone: is not a zone of this model ('nowhere' is not defined)"))


def test_dangling_zone_parent(tmp_path, model):
    model["zones"][3]["parent"] = "nowhere"
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: internal-interface"), "internal-interface",
                    "parent: is not a zone of this model ('nowhere' is not defined)"))


def test_duplicate_component_id(tmp_path, model):
    model["components"].append(copy.deepcopy(component(model, "logs")))
    path = write(tmp_path, model)
    first = line_of(path, "id: logs")
    rejected(path, (line_of(path, "id: logs", nth=2), "logs", f"duplicate id (first defined at line {first})"))


def test_component_id_clashing_with_zone(tmp_path, model):
    model["components"].append({"id": "dmz", "kinds": ["database"], "zone": "dmz"})
    path = write(tmp_path, model)
    first = line_of(path, "id: dmz")
    rejected(path, (line_of(path, "id: dmz", nth=2), "dmz", f"duplicate id (first defined at line {first})"))


def test_zone_cycle(tmp_path, model):
    model["zones"] += [{"id": "zone-a", "parent": "zone-b"}, {"id": "zone-b", "parent": "zone-a"}]
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: zone-a"), "zone-a", "parent: zones nest in a cycle"),
             (line_of(path, "id: zone-b"), "zone-b", "parent: zones nest in a cycle"))


def test_self_loop_flow(tmp_path, model):
    flow(model, "user-to-app")["target"] = "user"
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: user-to-app"), "user-to-app", "source and target are the same component"))


def test_control_protecting_nothing(tmp_path, model):
    model["controls"][0]["protects"] = []
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: dmz-isolation"), "dmz-isolation", "protects: name at least one element or zone"))


def test_control_protecting_an_unknown_id(tmp_path, model):
    model["controls"][0]["protects"] = ["nosuch"]
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: dmz-isolation"), "dmz-isolation",
                    "protects: is not an element or zone of this model ('nosuch' is not defined)"))


def test_component_without_zone(tmp_path, model):
    del component(model, "logs")["zone"]
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: logs"), "logs", "zone: every component sits in one zone"))


# ------------------------------------------------------------ wrong types
@pytest.mark.parametrize("field, value, message", [
    ("internet_facing", "yes", "attributes.internet_facing: true or false"),
    ("data_classification", "secret",
     "attributes.data_classification: one of public, internal, confidential, restricted"),
    ("technology", "SQL", "attributes.technology: a lower-case token such as sql, python, nginx"),
])
def test_wrong_attribute_value(tmp_path, model, field, value, message):
    component(model, "data-layer")["attributes"][field] = value
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: data-layer"), "data-layer", message))


def test_bidirectional_not_boolean(tmp_path, model):
    flow(model, "gateway-auth")["bidirectional"] = "maybe"
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: gateway-auth"), "gateway-auth", "bidirectional: true or false"))


def test_kinds_not_a_list_of_names(tmp_path, model):
    component(model, "logs")["kinds"] = 42
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "kinds: 42"), "logs", "'kinds' must name kinds as strings; found 42"))


def test_no_kinds(tmp_path, model):
    component(model, "logs")["kinds"] = []
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: logs"), "logs",
                    "kinds: must include a kind that is an external entity, a process or a data store"))


def test_zones_not_a_list(tmp_path, model):
    model["zones"] = "dmz"
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "zones: dmz"), "section 'zones' must be a list"))


def test_label_not_a_string(tmp_path, model):
    component(model, "logs")["label"] = [1, 2]
    path = write(tmp_path, model)
    rejected(path, (line_of(path, "id: logs"), "logs", "label: at most one, a string"))


# ------------------------------------------------------------ several problems
def test_every_problem_is_reported(tmp_path, model):
    component(model, "api-gateway")["attributes"]["internet_facing"] = "yes"
    component(model, "logs")["zonee"] = "dmz"
    component(model, "training-data")["kinds"] = ["databse"]
    flow(model, "user-to-app")["target"] = "user"
    flow(model, "model-to-data")["target"] = "ai-modle"
    path = write(tmp_path, model)
    rejected(path,
             (line_of(path, "id: api-gateway"), "api-gateway", "attributes.internet_facing: true or false"),
             (line_of(path, "zonee:"), "logs", "unknown field 'zonee' (did you mean 'zone'?)"),
             (line_of(path, "kinds:", after="id: training-data"), "training-data",
              "unknown kind 'databse' for a component (did you mean 'database'?)"),
             (line_of(path, "id: user-to-app"), "user-to-app", "source and target are the same component"),
             (line_of(path, "id: model-to-data"), "model-to-data",
              "target: is not a component of this model ('ai-modle' is not defined)"))


def test_every_structural_problem_is_reported(tmp_path):
    path = write(tmp_path, "system: {id: s}\nzones:\n  - 5\n  - {id: z, colour: red}\n  - {id: z}\n")
    rejected(path, (3, "each entry of 'zones' must be a mapping with a string 'id'"),
             (4, "z", "unknown field 'colour'"),
             (5, "z", "duplicate id (first defined at line 4)"))
