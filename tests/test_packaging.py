"""The wheel ships every kg subpackage and the data folders mapped into it."""

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "kg").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    for package, folder in config["package-dir"].items():
        assert package in listed and (REPO / folder).is_dir()


DATA = {"ontologies": ("kg/ontologies", ("*.ttl", "*.ru")), "catalogs": ("kg/catalogs_data", ("*.yaml", "*.ru")),
        "server": ("kg/server_data", ("*.html", "*.css", "*.js", "*.svg", "*.json", "*.py")),
        "kg": ("kg", ("*.rq", "*.ru", "*.html"))}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the checkout, so no build/ folder is left in (or reused from) the repository."""
    source = tmp_path_factory.mktemp("source") / "threatkg"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "artifacts",
                                                               "__pycache__", ".pytest_cache"))
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_ships_every_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, (target, patterns) in DATA.items():
        for pattern in patterns:
            for path in (REPO / folder).rglob(pattern):
                assert f"{target}/{path.relative_to(REPO / folder).as_posix()}" in names, path


def test_an_installed_wheel_finds_its_data(wheel, tmp_path):
    """Outside a checkout, kg.paths points into the wheel, the ontology loads from there and the WSGI
    entry serves pages from the shipped templates."""
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = ("from kg import paths; from kg.ontology import ontology; "
            "assert str(paths.ontologies_dir()).startswith(%r); "
            "from kg.server_data.wsgi import app; assert app.test_client().get('/upload').status_code == 200; "
            "print(len(ontology()))" % str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 1000
