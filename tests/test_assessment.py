"""One assessment per model: the CLI answers from it, keeps its answers per model file under
THREATKG_HOME/cache/answers and reads them back instead of analysing the same file again."""

import json

import pytest
from click.testing import CliRunner

from kg import answers
from kg.analysis import analyse
from kg.assessment import Assessment, profile_key
from kg.catalogs import installed
from kg.cli import main
from kg.coverage import IN_PLACE
from kg.model.load import load_model
from kg.ontology import stride, stride_letters
from kg.profiles import load
from kg.report import build
from tests.conftest import EXAMPLE


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def model(tmp_path, with_catalogs):
    path = tmp_path / "system.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def _no_analysis(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("analysed again")
    monkeypatch.setattr("kg.cli.model_commands.analyse", refuse)


def test_the_same_file_is_answered_from_its_kept_answers(model, monkeypatch):
    threats = run("threats", model, "--format", "json").stdout
    coverage = run("coverage", model, "--profile", "asvs-4.0.3-L1", "--format", "json").stdout
    _no_analysis(monkeypatch)
    assert run("threats", model, "--format", "json").stdout == threats
    assert run("threats", model, "--component", "ai-model", "--format", "json").stdout == json.dumps(
        [r for r in json.loads(threats) if r["component"] == "ai-model"], indent=2, ensure_ascii=False) + "\n"
    assert run("coverage", model, "--profile", "asvs-4.0.3-L1", "--format", "json").stdout == coverage


def test_kept_answers_equal_a_fresh_assessment(model):
    run("threats", model, "--format", "json")
    kept = json.loads(run("threats", model, "--format", "json").stdout)
    assert kept == json.loads(json.dumps(Assessment(analyse(load_model(model))).threats()))


def test_an_edited_file_is_assessed_again(model, monkeypatch):
    before = json.loads(run("threats", model, "--format", "json").stdout)
    model.write_text(model.read_text(encoding="utf-8").replace("does: [takes-prompts]", "does: []"), encoding="utf-8")
    after = json.loads(run("threats", model, "--format", "json").stdout)
    prompt_injection = {r["threat"] for r in before if r["component"] == "ai-model"} - \
        {r["threat"] for r in after if r["component"] == "ai-model"}
    assert "riskPromptInjection" in prompt_injection


def test_warnings_come_back_with_kept_answers(model):
    model.write_text(model.read_text(encoding="utf-8").replace("[python, pytorch]", "[python, pytorhc]"),
                     encoding="utf-8")
    for args in (["threats", model], ["threats", model], ["coverage", model, "--profile", "capec-high"]):
        assert run(*args).stderr.count("'pytorhc' implies nothing ThreatKG knows") == 1   # kept, then computed


def test_an_unreadable_kept_answer_is_computed_again(model):
    first = run("threats", model, "--format", "json").stdout
    kept = answers.location(str(model), "fast", installed.current().release)
    kept.write_text("{not json", encoding="utf-8")
    assert run("threats", model, "--format", "json").stdout == first
    assert json.loads(kept.read_text(encoding="utf-8"))["rated"]


def test_report_reads_the_rows_and_coverage_of_the_assessment(with_catalogs):
    assessment = Assessment(analyse(load_model(EXAMPLE)))
    profile = load("asvs-4.0.3-L1")
    data = assessment.report(profile)
    assert data == build(assessment.analysis, profile)
    assert data["summary"]["threat_pairs"] == len(assessment.rows)
    assert set(assessment.answers) == {"until", "rated", f"coverage/{profile_key(IN_PLACE)}",
                                       f"coverage/{profile_key(profile)}", f"report/{profile_key(profile)}"}


def test_stride_is_read_from_the_ontology():
    assert stride_letters() == "STRIDE"
    assert [(c.label, c.property_label) for c in stride()][3] == ("Information disclosure", "Confidentiality")
