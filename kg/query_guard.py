"""What a SPARQL text must be before any store evaluates it: small, shallow, a query (not an update),
and free of SERVICE anywhere, whatever its spelling. `screened` makes the linear checks and returns
the text to evaluate, which is exactly the text checked:

1. size, on the raw text;
2. one reading for every parser: code-point escapes (\\uXXXX, \\UXXXXXXXX) expanded as SPARQL defines
   them, and a lone carriage return made a line feed (pyoxigraph ends a comment there, rdflib's parser
   does not: `# x<CR> SERVICE …` would be a comment to one and a federated query to the other);
3. nesting of { ( [ outside strings, IRIs and comments, on the lexer's tokens (no recursion: the
   parsers recurse per level, and pyoxigraph crashed at 5,000);
4. a belt: no bare word or prefix that reads `service` once normalised (NFKD, case-folded, every
   non-ASCII character dropped: middle dots, combining marks, undertie, zero-width or full-width forms).

`check_parsed` then parses the screened text (rdflib's SPARQL grammar; what it rejects is reported
with its message) and walks the whole tree for a ServiceGraphPattern, sub-queries, EXISTS and MINUS
included. It takes seconds on a long text and recurses once per triple, so it runs where it can be
stopped, in the query's child (kg.query_worker), never in a server thread."""

import re
import unicodedata

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from kg.store.sparql_text import TOKENS

MAX_QUERY_CHARS = 100_000
MAX_NESTING = 64          # { ( [ open at once
READ_ONLY = ("This endpoint is read-only: SPARQL Update requests (INSERT, DELETE, LOAD, CLEAR, DROP…) "
             "are refused. Send a SELECT, ASK, CONSTRUCT or DESCRIBE query.")
NO_SERVICE = ("SERVICE is disabled: this endpoint only queries its own graphs (a federated query "
              "would make the server fetch arbitrary URLs).")
OPENING, CLOSING = "{([", "})]"
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LONE_CR = re.compile(r"\r(?!\n)")


class Unsafe(ValueError):
    """A query refused before evaluation; the message says why, for the client."""


def screened(sparql: str) -> str:
    """The text to evaluate, if `sparql` is within the size and nesting limits and no word of it reads
    `service`; Unsafe otherwise. Linear in the text's length."""
    if len(sparql) > MAX_QUERY_CHARS:
        raise Unsafe(f"The query is {len(sparql):,} characters long; the limit is {MAX_QUERY_CHARS:,}.")
    text = _one_reading(sparql)
    depth = _deepest(text)
    if depth > MAX_NESTING:
        raise Unsafe(f"The query nests {depth} groups deep; the limit is {MAX_NESTING}.")
    if "service" in _bare_words(text):
        raise Unsafe(NO_SERVICE)
    return text


def check_parsed(text: str) -> None:
    """Unsafe unless rdflib's grammar reads the screened `text` as a query (not an update) without
    SERVICE anywhere in its parse tree (the grammar only: predeclared prefixes need no declaration)."""
    try:
        tree = parseQuery(text)
    except (ParseBaseException, RecursionError) as err:
        if _is_update(text):
            raise Unsafe(READ_ONLY) from None
        raise Unsafe(f"SPARQL syntax error: {_message(err)}") from None
    except Exception as err:  # noqa: BLE001 - the parser's own failures on odd input: a refusal, never a crash
        raise Unsafe(f"SPARQL syntax error: the parser gave up ({type(err).__name__})") from None
    if "ServiceGraphPattern" in _names(tree):
        raise Unsafe(NO_SERVICE)


def _one_reading(sparql: str) -> str:
    def expand(match):
        code = int(match.group(1) or match.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise Unsafe(f"SPARQL syntax error: {match.group()} is no Unicode character.")
        return chr(code)

    text = _LONE_CR.sub("\n", _ESCAPE.sub(expand, sparql))
    if _ESCAPE.search(text):   # an escape written with escapes: a second pass would read it again
        raise Unsafe("SPARQL syntax error: a \\u escape spelled with \\u escapes; write the character itself.")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise Unsafe("SPARQL syntax error: the query is not valid Unicode text.")
    return text


def _deepest(text: str) -> int:
    """The deepest nesting of brackets outside strings, IRIs and comments."""
    depth = deepest = position = 0
    for token in list(TOKENS.finditer(text)) + [None]:
        for char in text[position:token.start() if token else len(text)]:
            if char in OPENING:
                depth += 1
                deepest = max(deepest, depth)
            elif char in CLOSING:
                depth -= 1
        if token is not None:
            position = token.end()
    return deepest


def _bare_words(text: str) -> str:
    """The text outside strings, IRIs, comments and variables, with the prefix of each prefixed name
    kept (`SERVICE:x {…}` is a federated query to pyoxigraph), normalised to lower-case ASCII."""
    kept, position = [], 0
    for token in TOKENS.finditer(text):
        kept.append(text[position:token.start()])
        word = token.group()
        if word[:1] in "<\"'#?$":
            kept.append(" ")
        else:
            kept.append(word.partition(":")[0] + " " if ":" in word else word)
        position = token.end()
    kept.append(text[position:])
    folded = unicodedata.normalize("NFKD", "".join(kept)).casefold()
    return folded.encode("ascii", "ignore").decode()


def _is_update(text: str) -> bool:
    try:
        parseUpdate(text)
        return True
    except Exception:  # noqa: BLE001 - whatever the parser raises, the text is no update
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
    return f"{err.msg} at line {err.lineno}, column {err.col}"
