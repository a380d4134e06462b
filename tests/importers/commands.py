"""`threatkg import` through click's runner, for the importer tests."""

import yaml
from click.testing import CliRunner

from kg.cli import main

RUNNER = CliRunner()


def run(*args):
    return RUNNER.invoke(main, [str(a) for a in args], catch_exceptions=False)


def imported(source, tmp_path):
    """The ThreatKG model written by `threatkg import` (which must succeed) and its stderr."""
    out = tmp_path / "model.yaml"
    result = run("import", source, "-o", out)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(out.read_text(encoding="utf-8")), result.stderr


def rejected(path) -> str:
    """The stderr of an import that must fail with exit 2 and no traceback."""
    result = run("import", path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr
