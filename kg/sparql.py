"""Run user SPARQL over a store and print the results as a table, SPARQL JSON or CSV, under the
rules of the SPARQL endpoint: the text is checked first (kg.query_guard: no update, no SERVICE,
bounded size and nesting) and, on an in-process store, evaluated in a child that can open no socket
(kg.query_worker), so a crash of the query engine is an error message, not the end of the command."""

from pyoxigraph import NamedNode, QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, Store

from kg.errors import InputError, Problem
from kg.namespaces import PREFIXES
from kg.query_guard import Unsafe, checked
from kg.query_worker import Stopped, in_process, run_confined

_FORMATS = {"json": QueryResultsFormat.JSON, "csv": QueryResultsFormat.CSV}


def run_query(store: Store, sparql: str, fmt: str, source: str = "QUERY") -> str:
    """Results of a SELECT, ASK, CONSTRUCT or DESCRIBE; the project's prefixes are predeclared."""
    try:
        sparql = checked(sparql)
    except Unsafe as refused:
        raise InputError(Problem(source, str(refused))) from None
    try:
        if not in_process(store):   # a SPARQL server: its own limits apply
            return _evaluate(store, sparql, fmt)
        return run_confined(lambda: _evaluate(store, sparql, fmt).encode("utf-8"), None, None).decode("utf-8")
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
    rows = [[_short(sol[n]) for n in names] for sol in solutions]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.append(f"({len(rows)} rows)")
    return "\n".join(lines)


def _short(term) -> str:
    if term is None:
        return ""
    value = term.value
    for prefix, ns in PREFIXES.items():
        if isinstance(term, NamedNode) and value.startswith(str(ns)):
            return f"{prefix}:{value[len(str(ns)):]}"
    return value
