"""Shared fixtures. The official catalog files are read in place from ../shared/catalogs
(or $THREATKG_SHARED/catalogs); when they are missing the tests fail, they never skip."""

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.servers"]

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


@pytest.fixture(scope="session", autouse=True)
def empty_home(tmp_path_factory):
    """Every test starts with no catalogs installed, whatever the machine's user folder holds."""
    home = tmp_path_factory.mktemp("empty-home")
    previous = os.environ.get("THREATKG_HOME")
    os.environ["THREATKG_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("THREATKG_HOME", None)
    else:
        os.environ["THREATKG_HOME"] = previous


@pytest.fixture(scope="session")
def catalog_home(shared_catalogs, tmp_path_factory):
    """A THREATKG_HOME with every catalog installed by the real fetch path (from the shared folder)."""
    from click.testing import CliRunner

    from kg.cli import main
    home = tmp_path_factory.mktemp("catalog-home")
    result = CliRunner().invoke(main, ["catalogs", "fetch", "--from", str(shared_catalogs)],
                                env={"THREATKG_HOME": str(home)})
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture
def with_catalogs(catalog_home, monkeypatch):
    """Run the test with the installed catalogs."""
    monkeypatch.setenv("THREATKG_HOME", str(catalog_home))
    return catalog_home


# ------------------------------------------------------------ a real browser
CHROMIUM = Path("/usr/bin/chromium")           # Debian's chromium: no browser download, ever
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO / "tests" / "artifacts"       # screenshots (gitignored)


def unavailable(reason: str):
    """Fail under CI (CI=true), where every tool the tests need is installed; skip elsewhere."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason}: this test must run in CI", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright for Python."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
