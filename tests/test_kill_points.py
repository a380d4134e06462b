"""Kill tests (issue 15): `systems add`, `catalogs fetch` and `catalogs push` (a store's catalog release
switch) SIGKILLed at 20 points spread over a measured uninterrupted run, and right after each of their
commit steps (by a wrapper the test runs the command in: the product has no kill hook). After every
kill, what was current before it is current and reads exactly as before, or, once the commit step
has run, the new version or release is, complete. Kills are chained in batches over a fresh copy of
the starting state; the uninterrupted run that ends each batch succeeds and leaves nothing behind
(pending versions, unregistered graphs, staging folders, temporary links, older releases)."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pyoxigraph import NamedNode

from kg.catalogs import installed
from kg.namespaces import GRAPH, model_iri
from kg.queries import text
from kg.store import registry
from kg.store.embedded import EmbeddedStore
from kg.systems import versions
from tests.conftest import EXAMPLE, REPO

pytestmark = pytest.mark.slow

POINTS, BATCHES = 20, 4
SYSTEM = "ai-system"

# Runs the CLI with PENDING_GRACE at 0 (the grace spares another writer's upload: there is none here)
# and, when KILL_TEST_AFTER names a step, SIGKILLs the process right after that step.
WRAPPER = """
import os, signal, sys
from kg.catalogs import install
from kg.store import registry
from kg.systems import versions
versions.PENDING_GRACE = 0
step = os.environ["KILL_TEST_AFTER"]
die = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
if step == "renamed":          # the release folder is in place, `current` not yet switched
    os.symlink = die
elif step == "switched":       # `current` switched, nothing synced or removed yet
    install._fsync_dir = die
elif step:                     # a registry update, e.g. switch-version
    change = registry.change
    def change_then_die(store, name, **terms):
        change(store, name, **terms)
        if name == step:
            die()
    registry.change = change_then_die
from kg.cli import main
main(sys.argv[1:], prog_name="threatkg")
"""


def run(args: tuple, home: Path, step: str = "") -> subprocess.Popen:
    env = {**os.environ, "THREATKG_HOME": str(home), "KILL_TEST_AFTER": step,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-c", WRAPPER, *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def complete(args: tuple, home: Path) -> float:
    """Run the command uninterrupted; its duration in seconds."""
    started = time.monotonic()
    process = run(args, home)
    out = process.communicate(timeout=600)[0].decode()
    assert process.returncode == 0, out
    return time.monotonic() - started


def killed(args: tuple, home: Path, at: float | str) -> float | None:
    """Run the command and SIGKILL it `at` seconds in, or right after step `at`; None when it died,
    else the seconds it took to end by itself."""
    started = time.monotonic()
    process = run(args, home, at if isinstance(at, str) else "")
    try:
        out = process.communicate(timeout=at if isinstance(at, float) else 600)[0]
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        out = process.communicate()[0]
    assert process.returncode in (0, -signal.SIGKILL), out.decode()
    return None if process.returncode == -signal.SIGKILL else time.monotonic() - started


def clone(src: Path, dest: Path) -> None:
    """A copy of a store or home folder, its immutable files (RocksDB tables, releases) hard-linked."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest, symlinks=True, copy_function=lambda s, d: os.link(s, d)
                    if s.endswith(".sst") or "/releases/" in s else shutil.copy2(s, d))


def exercise(args: tuple, home: Path, pristine: Path, work: Path, steps: list[str], check, clean) -> dict:
    """Every kill point of a command run on `work` (a copy of `pristine`): `check(before)` after each
    kill (it returns the state the next one starts from), `clean(before)` after the uninterrupted run
    ending each batch. The points: 20 fractions of a measured run, spread so that each batch spans
    it, then the commit steps in a batch of their own. A run that ends before its point is checked
    like any other, and the point tried again on the time that run took (the machine got faster)."""
    clone(pristine, work)
    measured = complete(args, home)
    fractions = [0.03 + 0.82 * i / (POINTS - 1) for i in range(POINTS)]
    tried, died = [], 0
    for batch in [fractions[b::BATCHES] for b in range(BATCHES)] + [steps]:
        clone(pristine, work)
        before = check(None)
        for point in batch:
            for _ in range(3):
                at = point if isinstance(point, str) else round(point * measured, 2)
                ended = killed(args, home, at)
                tried.append(at)
                before = check(before)
                if ended is None:
                    died += 1
                    break
                measured = min(measured, ended)
        complete(args, home)
        clean(before)
    assert died >= POINTS + len(steps), f"only {died} of the {len(tried)} runs were killed: the others ended first"
    return {"measured": round(measured, 1), "points": tried, "died": died}


# ------------------------------------------------------------ a store folder
def threats(store: Path, home: Path) -> list:
    result = subprocess.run([sys.executable, "-m", "kg.cli", "threats", SYSTEM, "--store", str(store),
                             "--format", "json"], cwd=REPO, capture_output=True, timeout=300,
                            env={**os.environ, "THREATKG_HOME": str(home)})
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def store_state(path: Path) -> dict:
    """What the registry makes current, what it lists, and every non-empty graph (the store is
    closed again on return, for the next process)."""
    store = EmbeddedStore(path)
    snap = registry.snapshot(store)
    system = NamedNode(str(model_iri(SYSTEM)))
    version = snap.systems[SYSTEM].iri if SYSTEM in snap.systems else None
    answers = [r["release"].value for r in store.query(text("store-answers")) if r["version"].value == version]
    return {"version": version, "release": snap.release.iri if snap.release else None,
            "release_graphs": {*snap.release.graphs, snap.release.union} if snap.release else set(),
            "answers_under": answers[0] if answers else None,
            "loaded": set(registry.loaded_graphs(store)),
            "kept": {g for v in versions.kept(store, SYSTEM) for g in v.stored.graphs},
            "stale": [r["version"].value for r in store.query(text("store-stale-versions"), None, None,
                                                              {"system": system})],
            "graphs": {r["g"].value for r in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}}


def assert_no_leftovers(state: dict) -> None:
    """Nothing pending, every graph one the registry names as loaded or kept, the release complete."""
    assert state["stale"] == []
    assert state["graphs"] - {registry.REGISTRY} <= state["loaded"] | state["kept"]
    assert state["release_graphs"] <= state["loaded"]
    assert state["answers_under"] == state["release"]


@pytest.fixture(scope="module")
def release_home(shared_catalogs, tmp_path_factory) -> Path:
    """A THREATKG_HOME holding one release fetched from the shared catalogs."""
    home = tmp_path_factory.mktemp("kill-home")
    complete(("catalogs", "fetch", "--from", str(shared_catalogs)), home)
    return home


@pytest.fixture(scope="module")
def stored(release_home, tmp_path_factory) -> Path:
    """An embedded store holding that release and a first version of the example."""
    store = tmp_path_factory.mktemp("kill-store") / "store"
    complete(("systems", "add", str(EXAMPLE), "--store", str(store)), release_home)
    return store


# ------------------------------------------------------------ systems add
def test_killed_systems_add(release_home, stored, tmp_path):
    model = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    model["components"].append({"id": "extra", "label": "Extra store", "kinds": ["database"], "zone": "internal"})
    second = tmp_path / "ai-system.yaml"
    second.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    store = tmp_path / "store"
    answers = {store_state(stored)["version"]: threats(stored, release_home)}

    def check(before):
        state = store_state(store)
        read = threats(store, release_home)
        if before is None or state["version"] == before["version"]:
            assert read == answers[state["version"]]
        else:   # killed past switch-version: the new version, complete
            assert state["version"] not in answers and "extra" in {r["component"] for r in read}
            answers[state["version"]] = read
        return state

    def clean(before):
        state = store_state(store)
        assert state["version"] != before["version"]
        assert_no_leftovers(state)
        assert "extra" in {r["component"] for r in threats(store, release_home)}

    result = exercise(("systems", "add", str(second), "--store", str(store)), release_home, stored, store,
                      ["begin-version", "keep-answers", "switch-version"], check, clean)
    print(f"systems add: {result}")


# ------------------------------------------------------------ catalogs fetch
def verify(release: installed.Installation) -> None:
    """Every file of the release as its manifest says: sources by size and sha256, N-Quads by line count."""
    for entry in release.catalogs.values():
        for f in entry["files"]:
            data = (release.path / "sources" / f["path"]).read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (f["size"], f["sha256"]), f["path"]
        for g in entry["graphs"]:
            assert _lines(release.path / g["file"]) == g["triples"], g["file"]
    for part in (release.manifest["inferred"], *release.manifest["indexes"].values()):
        assert _lines(release.path / part["file"]) == part["triples"], part["file"]


def _lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


def test_killed_catalogs_fetch(release_home, shared_catalogs, tmp_path):
    home = tmp_path / "home"
    root = installed.catalogs_root(home)

    def check(before):
        current = installed.current(home)
        if current.release != before:   # the starting release, or a new one a kill past the switch left
            verify(current)
        return current.release

    def clean(before):
        current = installed.current(home).release
        assert current != before
        assert sorted(p.name for p in root.iterdir()) == [".lock", "current", "releases"]
        assert sorted(p.name for p in (root / "releases").iterdir()) == sorted([before, current])
        verify(installed.current(home))

    result = exercise(("catalogs", "fetch", "--from", str(shared_catalogs)), home, release_home, home,
                      ["renamed", "switched"], check, clean)
    print(f"catalogs fetch: {result}")


# ------------------------------------------------------------ catalogs push (a store's release switch)
def test_killed_catalogs_push(release_home, stored, shared_catalogs, tmp_path):
    next_home, store = tmp_path / "next-home", tmp_path / "store"
    clone(release_home, next_home)
    complete(("catalogs", "fetch", "--from", str(shared_catalogs), "--only", "owasp-top10"), next_home)
    first = store_state(stored)
    answers = threats(stored, release_home)     # the same catalogs: the same answers under either release
    new = str(GRAPH[f"release/{installed.current(next_home).release}"])

    def check(before):
        state = store_state(store)
        assert state["version"] == first["version"] and state["release"] in (first["release"], new)
        assert state["release_graphs"] <= state["loaded"]
        assert threats(store, release_home) == answers
        return state

    def clean(before):
        state = store_state(store)
        assert state["release"] == new
        assert_no_leftovers(state)
        assert threats(store, release_home) == answers

    result = exercise(("catalogs", "push", "--store", str(store)), next_home, stored, store,
                      ["graph-loaded", "release-graph", "switch-release", "keep-answers"], check, clean)
    print(f"catalogs push: {result}")
