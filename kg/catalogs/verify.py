"""`threatkg catalogs verify`: the installed release's source files against the sha256 and size its
manifest recorded at fetch time, and against the pins of catalogs/sources.yaml."""

from kg.catalogs.download import git_blob_of, sha256_of
from kg.catalogs.installed import Installation
from kg.catalogs.sources import load_sources


def verify(installation: Installation) -> tuple[list[str], list[str]]:
    """(one line per catalog whose files all match, one line per problem)."""
    sources = load_sources()
    good, problems = [], []
    for name, entry in installation.catalogs.items():
        source = sources.get(name)
        pins = {f.path: f for f in source.files + source.official} if source else {}
        found = []
        for f in entry["files"]:
            path = installation.path / "sources" / f["path"]
            if not path.is_file():
                found.append(f"{f['path']}: missing from {installation.path / 'sources'}")
                continue
            sha256, size = sha256_of(path)
            if (sha256, size) != (f["sha256"], f["size"]):
                found.append(f"{f['path']}: changed since the fetch: the manifest says sha256 {f['sha256']} "
                             f"({f['size']} bytes), the file has {sha256} ({size} bytes)")
            pin = pins.get(f["path"])
            if pin is None:
                found.append(f"{f['path']}: not a file of catalogs/sources.yaml")
            elif git_blob_of(path) != pin.git_blob if pin.git_blob else (sha256, size) != (pin.sha256, pin.size):
                found.append(f"{f['path']}: differs from the pin in catalogs/sources.yaml")
        problems += [f"{name}: {line}" for line in found]
        if not found:
            n = len(entry["files"])
            good.append(f"{name} {entry['version']}: {n} {'file matches' if n == 1 else 'files match'} "
                        f"(sha256 {entry['sources_sha256'][:12]})")
    return good, problems
