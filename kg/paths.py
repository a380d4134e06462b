"""Where the package's data lives: ontologies/, catalogs/, the queries, and THREATKG_HOME."""

import os
from pathlib import Path

import platformdirs

_PKG = Path(__file__).resolve().parent


def _data_dir(repo_name: str, package_name: str) -> Path:
    """The folder in a checkout (or editable install), else its copy inside the installed wheel."""
    if (_PKG.parent / "pyproject.toml").is_file():
        return _PKG.parent / repo_name
    return _PKG / package_name.split(".", 1)[1]


def ontologies_dir() -> Path:
    return _data_dir("ontologies", "kg.ontologies")


def catalogs_data_dir() -> Path:
    """The repo's catalogs/ folder: sources, curated attachments, profiles."""
    return _data_dir("catalogs", "kg.catalogs_data")


def server_dir() -> Path:
    """The repo's server/ folder: templates and static assets of the web UI."""
    return _data_dir("server", "kg.server_data")


def queries_dir() -> Path:
    return _PKG / "queries"


def home() -> Path:
    """THREATKG_HOME, or the per-user data directory: installed catalogs live here."""
    env = os.environ.get("THREATKG_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("threatkg"))
