"""Big models: the documented element limit is a located problem (exit 2), and long steps of a big
model say their progress on stderr."""

import yaml
from click.testing import CliRunner

from bench.generate import generate
from kg import progress
from kg.cli import main
from kg.model.yaml_model import MAX_ELEMENTS


def test_a_model_over_the_element_limit_is_refused_naming_the_counts(tmp_path):
    doc = generate(3)
    component = doc["components"][0]
    doc["components"] = [dict(component, id=f"c{i}") for i in range(MAX_ELEMENTS + 1)]
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"big.yaml:1: {MAX_ELEMENTS + 1 + len(doc['zones']) + len(doc['flows']) + len(doc.get('controls', [])):,} elements" \
        in result.stderr and f"the limit for one model is {MAX_ELEMENTS:,}" in result.stderr


def test_progress_is_said_for_big_models_only(capsys, monkeypatch):
    monkeypatch.setenv("THREATKG_PROGRESS", "1")
    with progress.step("reasoning over x", progress.PROGRESS_FROM):
        pass
    with progress.step("reasoning over y", progress.PROGRESS_FROM - 1):
        pass
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"threatkg: reasoning over x ({progress.PROGRESS_FROM:,} elements) …"
    assert lines[1].startswith("threatkg: reasoning over x: ") and lines[1].endswith(" s") and len(lines) == 2
    monkeypatch.setenv("THREATKG_PROGRESS", "0")
    with progress.step("reasoning over z", 10 * progress.PROGRESS_FROM):
        pass
    assert capsys.readouterr().err == ""
