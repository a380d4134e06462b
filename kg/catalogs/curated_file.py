"""Reading a curated YAML file of catalogs/ (attachments, applicability conditions): a list of entries."""

from pathlib import Path

import yaml

from kg.errors import InputError, Problem


def entries(path: Path, noun: str) -> list:
    """The file's list of entries; InputError naming the file when it is not valid YAML or not a list."""
    try:
        found = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise InputError(Problem(str(path), f"malformed YAML: {err}")) from None
    if not isinstance(found, list):
        raise InputError(Problem(str(path), f"must be a list of {noun}"))
    return found
