"""Run user SPARQL over a store and print the results as a table, SPARQL JSON or CSV, under the
rules of the SPARQL endpoint: the text is screened (kg.query_guard: bounded size and nesting, no word
reading `service`), then parsed and checked (no update, no SERVICE) and, on an in-process store,
evaluated in a child that can open no socket (kg.query_worker), so a crash of the query engine is an
error message, not the end of the command."""

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
)

from kg.errors import InputError, Problem
from kg.namespaces import PREFIXES
from kg.query_guard import Unsafe, check_parsed, screened
from kg.query_worker import Stopped, in_process, run_confined
from kg.render import table

_FORMATS = {"json": QueryResultsFormat.JSON, "csv": QueryResultsFormat.CSV}


def run_query(store: Store, sparql: str, fmt: str, source: str = "QUERY") -> str:
    """Results of a SELECT, ASK, CONSTRUCT or DESCRIBE; the project's prefixes are predeclared."""
    try:
        sparql = screened(sparql)
    except Unsafe as refused:
        raise InputError(Problem(source, str(refused))) from None
    local = in_process(store)   # else a SPARQL server, whose own limits apply: only the check in the child

    def work() -> bytes:
        try:
            check_parsed(sparql)
        except Unsafe as refused:
            return b"refused\n" + str(refused).encode("utf-8")
        return b"ok\n" + (_evaluate(store, sparql, fmt).encode("utf-8") if local else b"")

    try:
        status, _, out = run_confined(work, None, None).partition(b"\n")
        if status == b"ok":
            return out.decode("utf-8") if local else _evaluate(store, sparql, fmt)
        message = out.decode("utf-8")
    except SyntaxError as err:
        message = f"SPARQL syntax error: {err}"
    except Stopped as err:
        message = f"SPARQL syntax error: {err}" if err.kind == "syntax" else f"query failed: {err}"
    except (OSError, ValueError, RuntimeError) as err:
        message = f"query failed: {err}"
    raise InputError(Problem(source, message))


def _evaluate(store, sparql: str, fmt: str) -> str:
    results = store.query(sparql, prefixes={p: str(ns) for p, ns in PREFIXES.items()},
                          use_default_graph_as_union=True)
    if isinstance(results, QueryBoolean):
        return "true" if bool(results) else "false"
    if not isinstance(results, QuerySolutions):  # CONSTRUCT / DESCRIBE
        return results.serialize(format=RdfFormat.TURTLE).decode("utf-8")
    if fmt in _FORMATS:
        return results.serialize(format=_FORMATS[fmt]).decode("utf-8")
    return _table(results)


def _table(solutions: QuerySolutions) -> str:
    names = [v.value for v in solutions.variables]
    rows = [{n: _short(sol[n]) for n in names} for sol in solutions]
    return table(rows, names, names) + f"\n({len(rows)} rows)"


def _short(term) -> str:
    if term is None:
        return ""
    value = term.value
    for prefix, ns in PREFIXES.items():
        if isinstance(term, NamedNode) and value.startswith(str(ns)):
            return f"{prefix}:{value[len(str(ns)):]}"
    return value
