"""Shared fixtures. The official catalog files are read in place from ../shared/catalogs
(or $THREATKG_SHARED/catalogs); when they are missing the tests fail, they never skip."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("THREATKG_SHARED", REPO.parent / "shared"))
EXAMPLE = REPO / "examples" / "ai-system.yaml"


def _required_dir(path: Path) -> Path:
    if not path.is_dir():
        pytest.fail(f"required folder {path} is missing: set THREATKG_SHARED to the shared/ folder "
                    "that holds the official catalogs", pytrace=False)
    return path


@pytest.fixture(scope="session")
def shared_catalogs() -> Path:
    return _required_dir(SHARED / "catalogs")


@pytest.fixture(scope="session")
def shared_models() -> Path:
    return _required_dir(SHARED / "models")
