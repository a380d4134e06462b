"""Hostile model files on the model commands and `systems add --store DIR`: exit 2, a message naming
the file (and the element), no traceback; the embedded store's systems and versions unchanged."""

import pytest

from kg.cli import systems_commands
from kg.store import registry
from kg.store.embedded import EmbeddedStore
from tests.conftest import EXAMPLE
from tests.hostile.checks import assert_refused, cli
from tests.hostile.corpus import include_cases, model_cases

CASES = model_cases() + include_cases()
COMMANDS = [["validate"], ["threats"], ["export", "--format", "ttl"], ["report"], ["coverage", "--profile", "stride-properties"], ["diff"]]


def made(case, tmp_path):
    """The case's input in a folder of its own; a symlink out of it points at a file outside."""
    folder = tmp_path / "in"
    folder.mkdir()
    (tmp_path / "outside.yaml").write_text("technical_assets: {}\n")
    if case.special == "symlink-out":
        (folder / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    return case.make(folder)


@pytest.fixture(scope="module")
def store(tmp_path_factory, empty_home):
    """An embedded store on disk holding the example (STRIDE only: quick), opened once (RocksDB locks
    it for this process): every `systems add --store` of the module writes to it."""
    folder = tmp_path_factory.mktemp("store")
    embedded = EmbeddedStore(folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(systems_commands, "_open", lambda url: embedded)
        result = cli("systems", "add", "--store", folder, EXAMPLE, env={"THREATKG_HOME": str(empty_home)})
        assert result.exit_code == 0, result.output
        yield folder, embedded


def stored(embedded):
    """The systems, their versions and every quad of the store."""
    snap = registry.snapshot(embedded)
    return snap.systems, snap.release, len(embedded.oxigraph)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_model_commands_refuse(case, command, tmp_path, with_catalogs):
    path = made(case, tmp_path)
    args = [*command, path] if command[0] != "diff" else ["diff", path, EXAMPLE]
    assert_refused(cli(*args), str(path), *([case.element] if case.element else []), case.says)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_systems_add_refuses_and_the_store_is_unchanged(case, tmp_path, store, with_catalogs):
    folder, embedded = store
    before = stored(embedded)
    path = made(case, tmp_path)
    assert_refused(cli("systems", "add", "--store", folder, path), str(path), case.says)
    assert stored(embedded) == before
