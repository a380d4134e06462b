"""The installed catalogs: the current release under THREATKG_HOME, its manifest and graph files.

`current()` resolves the `catalogs/current` symlink once, so every path it hands out belongs to one
complete release even while a fetch swaps in a new one (see kg.catalogs.install).
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError, Problem
from kg.paths import home

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


def catalogs_root(home_dir: Path | None = None) -> Path:
    return (home_dir or home()) / "catalogs"


def not_installed_message() -> str:
    return ("no catalogs installed: run `threatkg catalogs fetch` (the publishers' downloads), or offline "
            "`threatkg catalogs fetch --from DIR` (a folder laid out like the shared catalogs) or "
            "`threatkg catalogs fetch --base-url URL` (a mirror with that layout)")


@dataclass(frozen=True)
class Installation:
    """One installed release: its folder and manifest."""

    path: Path
    manifest: dict

    @property
    def release(self) -> str:
        return self.manifest["release"]

    @property
    def catalogs(self) -> dict[str, dict]:
        return self.manifest["catalogs"]

    def graph_files(self, names: list[str] | None = None) -> list[Path]:
        """The N-Quads file of every graph (of the named catalogs, or all), each in its named graph."""
        return [self.path / g["file"] for name, entry in self.catalogs.items()
                if names is None or name in names for g in entry["graphs"]]

    @property
    def inferred_file(self) -> Path:
        """The reasoner's closure over all graphs (N-Quads)."""
        return self.path / self.manifest["inferred"]["file"]


LEASE = ".in-use-"


def lease(installation: Installation) -> None:
    """Mark the release as in use by this process (a server reads its files for as long as it runs):
    a later fetch keeps it until the process is gone."""
    (installation.path / f"{LEASE}{os.getpid()}").touch(exist_ok=True)


def in_use(release_dir: Path) -> bool:
    """Whether a live process holds a lease on the release."""
    for mark in release_dir.glob(LEASE + "*"):
        try:
            os.kill(int(mark.name[len(LEASE):]), 0)
            return True
        except (ValueError, ProcessLookupError):
            mark.unlink(missing_ok=True)
        except PermissionError:   # a live process of another user
            return True
    return False


def current(home_dir: Path | None = None) -> Installation | None:
    """The current release, or None when nothing is installed."""
    link = catalogs_root(home_dir) / "current"
    if not link.is_symlink() and not link.exists():
        return None
    return _installation(link.resolve())


def named(release: str, home_dir: Path | None = None) -> Installation:
    """An installed release by its id (THREATKG_HOME/catalogs/releases/<id>); InputError naming the
    installed ones when it is not there."""
    folder = catalogs_root(home_dir) / "releases"
    if not release or "/" in release or not (folder / release / MANIFEST).is_file():
        known = ", ".join(sorted(p.name for p in folder.glob("*") if (p / MANIFEST).is_file())) or "none"
        raise InputError(Problem(release, f"no such installed catalog release (installed: {known}; "
                                          "`threatkg catalogs fetch` installs the current one)"))
    return _installation(folder / release)


def _installation(path: Path) -> Installation:
    """The release in this folder, its manifest checked."""
    manifest_path = path / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(Problem(str(manifest_path), "the installed release has no manifest: run "
                                                     "`threatkg catalogs fetch` again")) from None
    except (OSError, ValueError) as err:
        raise InputError(Problem(str(manifest_path), f"unreadable manifest ({err}): run "
                                                     "`threatkg catalogs fetch` again")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise InputError(Problem(str(manifest_path), f"not a format-{MANIFEST_FORMAT} manifest: run "
                                                     "`threatkg catalogs fetch` again"))
    return Installation(path, manifest)


def require(home_dir: Path | None = None) -> Installation:
    """The current release; InputError saying how to fetch when nothing is installed."""
    installation = current(home_dir)
    if installation is None:
        raise InputError(Problem(str(catalogs_root(home_dir)), not_installed_message()))
    return installation
