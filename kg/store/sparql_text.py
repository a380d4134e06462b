"""SPARQL text as a lexer sees it: its keywords, its form, and initial bindings written into it as
an inline VALUES block (how bound variables reach a SPARQL server, which has no such parameter)."""

import re

# A lexer's view of SPARQL: strings, IRIs and comments are skipped whole, so keywords are found only
# where they are keywords. Prefixed names are tokens of their own, escapes included (ex:a\\' and
# :a\\# hide no string or comment start), and so are variables. Tokens never backtrack (*+) and a
# prefix is at most 60 characters long, so lexing stays linear whatever the input; a string runs to
# its closing quote or, unterminated, to the end of its line (of the text, for long strings).
TOKENS = re.compile(r'"""(?:[^"\\]|\\.?|"(?!""))*+(?:"""|\Z)|\'\'\'(?:[^\'\\]|\\.?|\'(?!\'\'))*+(?:\'\'\'|\Z)'
                     r'|"(?:[^"\\\n]|\\.?)*+["\n]?|\'(?:[^\'\\\n]|\\.?)*+[\'\n]?'
                     r'|<[^<>"{}|^`\\\x00-\x20]*>|#[^\n]*|[?$]\w+'
                     r'|(?:[^\W\d][\w.-]{0,60}+)?:(?:[\w.:%-]|\\[_~.!$&\'()*+,;=/?#@%-])*+|[^\W\d]\w*', re.DOTALL)
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


def keywords(sparql: str) -> list[str]:
    """The query's keywords and names in order, upper-cased; strings, IRIs and comments left out."""
    return [t.upper() for t in TOKENS.findall(sparql) if t[:1] not in "<\"'#?$"]


def form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE ('' for anything else, such as an update)."""
    return next((w for w in keywords(sparql) if w in FORMS), "")


def with_values(sparql: str, bindings: dict[str, str]) -> str:
    """The query with `VALUES (?a ?b) { (t1 t2) }` first in its WHERE group; `bindings` maps variable
    names to terms already written as SPARQL (<iri>, "literal")."""
    if not bindings:
        return sparql
    return with_rows(sparql, list(bindings), [list(bindings.values())])


def with_rows(sparql: str, names: list[str], rows: list[list[str]]) -> str:
    """The query with `VALUES (?a ?b) { (t1 t2) (t3 t4) … }` first in its WHERE group; rows of terms
    already written as SPARQL."""
    block = (f" VALUES ({' '.join('?' + n for n in names)}) "
             f"{{ {' '.join('(' + ' '.join(row) + ')' for row in rows)} }} ")
    brace = _where_brace(sparql)
    if brace is None:
        return sparql + "\n" + block
    return sparql[:brace + 1] + block + sparql[brace + 1:]


def with_dataset(sparql: str, default_graphs: list[str], named_graphs: list[str]) -> str:
    """The query reading exactly these graphs: FROM / FROM NAMED clauses before its WHERE (unless it
    names its own dataset, which then stands)."""
    words = keywords(sparql)
    if "FROM" in words:
        return sparql
    clauses = "".join(f" FROM <{g}>" for g in default_graphs) + "".join(f" FROM NAMED <{g}>" for g in named_graphs)
    if not default_graphs:
        clauses += " FROM <urn:threatkg:empty>"   # no FROM would mean the server's whole default graph
    brace = _where_brace(sparql)
    if brace is None:
        return sparql + clauses
    where = _where_keyword(sparql, brace)
    at = where if where is not None else brace
    return sparql[:at] + clauses + " " + sparql[at:]


def _where_keyword(sparql: str, brace: int) -> int | None:
    """Offset of the WHERE keyword just before the pattern's brace, if the query writes one."""
    last = None
    for token in TOKENS.finditer(sparql, 0, brace):
        last = token
    return last.start() if last is not None and last.group().upper() == "WHERE" else None


def _where_brace(sparql: str) -> int | None:
    """Offset of the brace opening the query pattern: the first after the form keyword (after WHERE
    for CONSTRUCT, whose first brace opens the template)."""
    state, position = None, 0
    for token in TOKENS.finditer(sparql):
        if state == "{":
            brace = sparql.find("{", position, token.start())
            if brace >= 0:
                return brace
        word = token.group().upper()
        if state is None and word in FORMS:
            state = "WHERE" if word == "CONSTRUCT" else "{"
        elif state == "WHERE" and word == "WHERE":
            state = "{"
        position = token.end()
    brace = sparql.find("{", position) if state == "{" else -1
    return brace if brace >= 0 else None
