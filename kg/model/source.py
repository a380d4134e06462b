"""Read a model file safely: size limit, binary and encoding checks, YAML with line numbers."""

import stat
from pathlib import Path

import yaml

from kg.errors import InputError, Problem

MAX_BYTES = 20 * 1024 * 1024  # a model of 10,000 components is about 2 MB of YAML
MAX_ALIAS_NODES = 100_000     # nodes that aliases may add: plenty for sharing, too few for a "billion laughs"


class Mapping(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict


class Sequence(list):
    """A YAML sequence that remembers the line of each item."""

    item_lines: list


def _scalar_keys(node):
    """(key, line) of each scalar key of a mapping node; other keys are refused by the constructor."""
    return [(k.value, k.start_mark.line + 1) for k, _ in node.value if isinstance(k, yaml.ScalarNode)]


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml parses several times faster
    def construct_mapping(self, node, deep=False):
        mapping = Mapping(super().construct_mapping(node, deep=deep))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = dict(_scalar_keys(node))
        return mapping


def _check_duplicate_keys(loader, node):
    seen = {}
    for key, line in _scalar_keys(node):
        if key in seen:
            raise InputError(Problem(loader.name, f"duplicate key '{key}' (first at line {seen[key]})", line=line))
        seen[key] = line


def _construct(loader, node):
    _check_duplicate_keys(loader, node)
    return loader.construct_mapping(node, deep=True)


def _construct_sequence(loader, node):
    sequence = Sequence(loader.construct_sequence(node, deep=True))
    sequence.item_lines = [item.start_mark.line + 1 for item in node.value]
    return sequence


def _construct_timestamp(loader, node):
    """A date or time; one that does not exist (2026-02-30) a located YAML error, not a ValueError."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as err:
        raise yaml.constructor.ConstructorError(None, None, f"not a valid date or time ({err})",
                                                node.start_mark) from None


def _construct_int(loader, node):
    """An integer; one too long for Python to convert (over 4,300 digits) a located YAML error."""
    try:
        return loader.construct_yaml_int(node)
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, f"an integer of {len(node.value):,} characters is too long",
                                                node.start_mark) from None


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _expanded_size(node, sizes: dict) -> int:
    """Nodes under `node` with every alias expanded; `sizes` (by node id) keeps this linear."""
    if id(node) not in sizes:
        sizes[id(node)] = 1  # a recursive alias counts once: the constructor refuses it anyway
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        sizes[id(node)] = 1 + sum(_expanded_size(child, sizes) for child in children)
    return sizes[id(node)]


def _check_aliases(node, name: str):
    sizes = {}
    added = _expanded_size(node, sizes) - len(sizes)
    if added > MAX_ALIAS_NODES:
        raise InputError(Problem(name, f"YAML aliases expand to {added:,} more nodes; the limit is "
                                       f"{MAX_ALIAS_NODES:,}"))


def read_text(path: Path, what: str = "model") -> str:
    """The file's text, or an InputError saying why it can't be a `what` (a model, a profile …)."""
    name = str(path)
    try:
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(status.st_mode):   # never opened: a FIFO blocks, /dev/zero never ends
            raise InputError(Problem(name, f"not a regular file (a device, pipe or socket): a {what} is a file"))
        if status.st_size > MAX_BYTES:
            raise InputError(Problem(name, f"file is {status.st_size:,} bytes; the limit for a {what} is {MAX_BYTES:,}"))
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)    # a file that grew since: read no more than the limit
        if len(data) > MAX_BYTES:
            raise InputError(Problem(name, f"file is over {MAX_BYTES:,} bytes, the limit for a {what}"))
    except FileNotFoundError:
        raise InputError(Problem(name, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(name, f"is a directory, not a {what} file")) from None
    except OSError as err:
        raise InputError(Problem(name, f"cannot read: {err.strerror}")) from None
    return decode(data, name, what)


def decode(data: bytes, name: str, what: str = "model") -> str:
    """The text of a `what`'s bytes (`name`: where they come from), or an InputError saying why it can't be one."""
    if len(data) > MAX_BYTES:
        raise InputError(Problem(name, f"file is {len(data):,} bytes; the limit for a {what} is {MAX_BYTES:,}"))
    if not data.strip():
        raise InputError(Problem(name, "file is empty"))
    if b"\x00" in data[:8192]:
        text = "YAML or Turtle text" if what == "model" else "YAML text"
        raise InputError(Problem(name, f"binary file: a {what} is {text}"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(Problem(name, f"not UTF-8 text (byte {err.start})")) from None


def _yaml_message(err: yaml.MarkedYAMLError) -> str:
    """The parser's problem, with where the enclosing construct began (an unclosed bracket, say)."""
    if err.problem and err.context and err.context_mark:
        return f"{err.problem} ({err.context} at line {err.context_mark.line + 1})"
    return err.problem or err.context


def load_yaml(text: str, name: str):
    """Parse YAML text into dicts and lists that carry line numbers."""
    loader = _LineLoader(text)
    loader.name = name
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliases(node, name)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(Problem(name, f"malformed YAML: {_yaml_message(err)}", line=line)) from None
    except yaml.YAMLError as err:
        raise InputError(Problem(name, f"malformed YAML: {err}")) from None
    except RecursionError:
        raise InputError(Problem(name, "malformed YAML: nested too deeply")) from None
    finally:
        loader.dispose()
