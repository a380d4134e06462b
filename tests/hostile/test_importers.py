"""Hostile sources on `threatkg import`: the corpus (auto-detected), and documents of the wrong shape
forced on each format (lists or maps where text is expected, deep nesting, long integers): exit 2,
a message naming the file, no traceback; no output file written."""

import pytest

from kg import importers
from tests.hostile.checks import assert_refused, cli
from tests.hostile.corpus import DIGITS, include_cases, model_cases

SHAPES = {   # documents no format can take, as JSON text
    "a list": "[1, 2, 3]",
    "a string": '"text"',
    "a number": "42",
    "null": "null",
    "lists where text is expected": '{"title": [1], "name": {"a": 1}, "id": [[]], "version": {}}',
    "maps everywhere": '{"a": {"b": {"c": {}}}, "technical_assets": {"x": [1]}, "cells": {"x": 1}}',
    "deep nesting": "[" * 3000 + "]" * 3000,
    "integer of 5000 digits": '{"id": ' + DIGITS + "}",
}


def imported(path, tmp_path, *args):
    out = tmp_path / "out.yaml"
    result = cli("import", path, "-o", out, *args)
    assert not out.exists(), result.output
    return result


@pytest.mark.parametrize("case", model_cases() + include_cases(), ids=lambda c: c.name)
def test_the_corpus(case, tmp_path, with_catalogs):
    folder = tmp_path / "in"
    folder.mkdir()
    if case.special == "symlink-out":
        (tmp_path / "outside.yaml").write_text("technical_assets: {}\n")
        (folder / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    path = case.make(folder)
    result = imported(path, tmp_path)
    if case.file.endswith(".ttl") or case.name in ("unknown capec id", "unknown atlas id", "unknown asvs version",
                                                   "homoglyph id", "rtl override id", "zero-width id",
                                                   "map where text is expected", "list where text is expected",
                                                   "list as system id"):
        assert result.exit_code in (0, 2) and "Traceback" not in result.output   # ThreatKG's own: nothing to import
        return
    assert_refused(result, str(path), case.says)


@pytest.mark.parametrize("fmt", sorted(importers.formats()))
@pytest.mark.parametrize("shape", SHAPES)
def test_wrong_shapes_forced_on_each_format(fmt, shape, tmp_path):
    path = tmp_path / "source.json"
    path.write_text(SHAPES[shape], encoding="utf-8")
    assert_refused(imported(path, tmp_path, "--format", fmt), str(path))
