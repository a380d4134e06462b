"""Read a model file safely: size limit, binary and encoding checks, YAML with line numbers."""

from pathlib import Path

import yaml

from kg.errors import InputError, Problem

MAX_BYTES = 20 * 1024 * 1024  # a model of 10,000 components is about 2 MB of YAML


class Mapping(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict


class _LineLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        mapping = Mapping(super().construct_mapping(node, deep=deep))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
        return mapping


def _check_duplicate_keys(loader, node):
    seen = {}
    for key_node, _ in node.value:
        key = getattr(key_node, "value", None)
        if key in seen:
            raise InputError(Problem(loader.name, f"duplicate key '{key}' (first at line {seen[key]})",
                                     line=key_node.start_mark.line + 1))
        seen[key] = key_node.start_mark.line + 1


def _construct(loader, node):
    _check_duplicate_keys(loader, node)
    return loader.construct_mapping(node, deep=True)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct)


def read_text(path: Path) -> str:
    """The file's text, or an InputError saying why it can't be a model."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(Problem(name, f"file is {size:,} bytes; the limit for a model is {MAX_BYTES:,}"))
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(Problem(name, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(name, "is a directory, not a model file")) from None
    except OSError as err:
        raise InputError(Problem(name, f"cannot read: {err.strerror}")) from None
    if not data.strip():
        raise InputError(Problem(name, "file is empty"))
    if b"\x00" in data[:8192]:
        raise InputError(Problem(name, "binary file: a model is YAML or Turtle text"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(Problem(name, f"not UTF-8 text (byte {err.start})")) from None


def load_yaml(text: str, name: str):
    """Parse YAML text into dicts that carry line numbers."""
    loader = _LineLoader(text)
    loader.name = name
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(Problem(name, f"malformed YAML: {err.problem or err.context}", line=line)) from None
    except yaml.YAMLError as err:
        raise InputError(Problem(name, f"malformed YAML: {err}")) from None
    finally:
        loader.dispose()
