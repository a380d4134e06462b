"""The CI examples (examples/ci/threatkg.yml, the pre-commit hook) parse, and the exact commands
they run work in a temporary git repository holding two commits of a model, with `threatkg` this
checkout's CLI. Installing ThreatKG, fetching catalogs (the installed ones are used), commenting and
uploading are GitHub's or the network's, and are not run."""

import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO
from tests.test_diff import _versions

WORKFLOW = REPO / "examples" / "ci" / "threatkg.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
CONFIG = REPO / "examples" / "ci" / "pre-commit-config.yaml"
RUN = ["Validate", "Diff", "SARIF", "Gate"]        # the workflow steps run here


@pytest.fixture
def repository(tmp_path, catalog_home):
    """A git repository: main holds the old model, HEAD the new one, origin/main points at main's
    first commit; a `threatkg` on PATH runs this checkout."""
    work = tmp_path / "repo"
    work.mkdir()

    def git(*args):
        subprocess.run(["git", *args], cwd=work, check=True, capture_output=True)
    git("init", "-q", "-b", "main")
    for text, message in zip(_versions(), ("old", "new")):
        (work / "threat-model.yaml").write_text(text, encoding="utf-8")
        git("add", "threat-model.yaml")
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
    git("update-ref", "refs/remotes/origin/main", "HEAD~1")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "threatkg"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kg.cli "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(REPO),
           "THREATKG_HOME": str(catalog_home), "GITHUB_BASE_REF": "main",
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    return work, env


def _bash(command: str, work, env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                          timeout=300)


def test_workflow_parses_and_uses_the_actions():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = workflow["jobs"]["threatkg"]["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/checkout", "actions/setup-python", "github/codeql-action/upload-sarif"]
    names = [s.get("name") for s in steps]
    assert all(name in names for name in RUN + ["Install ThreatKG", "Fetch catalogs", "Comment"])
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] == "threatkg-diff.sarif"
    assert workflow["permissions"]["security-events"] == "write"


def test_workflow_commands_work_on_two_commits(repository):
    work, env = repository
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    env = {**env, **workflow["jobs"]["threatkg"]["env"]}
    steps = {s["name"]: s["run"] for s in workflow["jobs"]["threatkg"]["steps"] if "name" in s}
    results = {name: _bash(steps[name], work, env) for name in RUN}
    for name in ("Validate", "Diff", "SARIF"):
        assert results[name].returncode == 0, results[name].stderr
    assert "valid" in results["Validate"].stdout
    comment = (work / "threatkg-diff.md").read_text(encoding="utf-8")
    assert comment.startswith("**ThreatKG diff `origin/main:threat-model.yaml`") and "### Threats gained" in comment
    assert (work.parent / "summary.md").read_text(encoding="utf-8") == comment
    sarif = yaml.safe_load((work / "threatkg-diff.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"]
    assert results["Gate"].returncode == 3 and "failing on new-high" in results["Gate"].stderr


def test_pre_commit_hook_validates_the_model(repository):
    work, env = repository
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "threatkg-validate")
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    used = config["repos"][0]["hooks"][0]
    assert used["id"] == hook["id"]
    assert re.search(hook["files"], "threat-model.yaml") and re.search(used["files"], "threat-model.yaml")
    # pre-commit runs the entry with the staged files matched as arguments
    command = f"{hook['entry']} threat-model.yaml"
    assert _bash(command, work, env).returncode == 0
    (work / "broken-threat-model.yaml").write_text("system: {id: x}\ncomponents: 3\n", encoding="utf-8")
    failed = _bash(f"{hook['entry']} threat-model.yaml broken-threat-model.yaml", work, env)
    assert failed.returncode == 2 and "broken-threat-model.yaml" in failed.stderr
