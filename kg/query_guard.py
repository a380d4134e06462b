"""What a SPARQL text must be before any store sees it: small, shallow, a query (not an update),
and free of SERVICE anywhere in its parsed algebra, whatever its spelling. Size and nesting are
checked on the lexer's tokens first (linear, no recursion), then the text is parsed (rdflib's SPARQL
grammar) and the parse tree is walked; what the parser rejects is reported with its message."""

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from kg.store.sparql_text import TOKENS

MAX_QUERY_CHARS = 100_000
MAX_NESTING = 32          # { ( [ open at once; deeper queries would exhaust the parsers' stacks
READ_ONLY = ("This endpoint is read-only: SPARQL Update requests (INSERT, DELETE, LOAD, CLEAR, DROP…) "
             "are refused. Send a SELECT, ASK, CONSTRUCT or DESCRIBE query.")
NO_SERVICE = ("SERVICE is disabled: this endpoint only queries its own graphs (a federated query "
              "would make the server fetch arbitrary URLs).")
OPENING, CLOSING = "{([", "})]"


class Unsafe(ValueError):
    """A query refused before evaluation; the message says why, for the client."""


def check(sparql: str) -> None:
    """Raise Unsafe unless `sparql` is a read-only query without SERVICE, within the size and
    nesting limits (parsing checks the grammar only: predeclared prefixes need no declaration)."""
    if len(sparql) > MAX_QUERY_CHARS:
        raise Unsafe(f"The query is {len(sparql):,} characters long; the limit is {MAX_QUERY_CHARS:,}.")
    depth = _deepest(sparql)
    if depth > MAX_NESTING:
        raise Unsafe(f"The query nests {depth} groups deep; the limit is {MAX_NESTING}.")
    try:
        tree = parseQuery(sparql)
    except (ParseBaseException, RecursionError) as err:
        if _is_update(sparql):
            raise Unsafe(READ_ONLY) from None
        raise Unsafe(f"SPARQL syntax error: {_message(err)}") from None
    except Exception as err:  # the parser's own failures on odd input: a refusal, never a crash
        raise Unsafe(f"SPARQL syntax error: {type(err).__name__}") from None
    if "ServiceGraphPattern" in _names(tree):
        raise Unsafe(NO_SERVICE)


def _deepest(sparql: str) -> int:
    """The deepest nesting of brackets outside strings, IRIs and comments."""
    depth = deepest = position = 0
    for token in list(TOKENS.finditer(sparql)) + [None]:
        gap = sparql[position:token.start() if token else len(sparql)]
        for char in gap:
            if char in OPENING:
                depth += 1
                deepest = max(deepest, depth)
            elif char in CLOSING:
                depth -= 1
        if token is not None:
            position = token.end()
    return deepest


def _is_update(text: str) -> bool:
    try:
        parseUpdate(text)
        return True
    except Exception:
        return False


def _names(tree) -> set[str]:
    """Every grammar rule name in the parse tree, iteratively (no recursion on deep trees)."""
    names, stack = set(), [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            names.add(node.name)
            stack.extend(node.values())
        elif isinstance(node, (list, tuple, ParseResults)):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return names


def _message(err) -> str:
    if isinstance(err, RecursionError):
        return "the query nests too deeply to parse"
    return f"{err.msg} at line {err.lineno}, column {err.col}" if hasattr(err, "lineno") else str(err)
