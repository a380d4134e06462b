"""Granularity of a threat list: on each element, a catalog threat with several applicable
descendants (CAPEC ChildOf, ATLAS sub-techniques) is shown once, its descendants folded under it
(`folded`), so a parent and twenty of its children are one row, not twenty-one."""

from collections import defaultdict

from pyoxigraph import NamedNode

from kg.queries import run_values

FOLD_AT = 2  # a parent folds its applicable descendants when it has at least this many


def fold(store, rows: list[dict]) -> list[dict]:
    """The rows in their order, each folded descendant moved into its topmost folding ancestor."""
    return folded(rows, folds(store, rows))


def folds(store, rows: list[dict]) -> list[list[str]]:
    """[element, threat IRI, IRI of the ancestor it folds into] for every row that folds."""
    lineage = ancestors(store, {r["iri"] for r in rows if r["source"] != "STRIDE"})
    by_element = defaultdict(set)
    for row in rows:
        by_element[row["component"]].add(row["iri"])
    out = []
    for element, listed in by_element.items():
        within = {iri: lineage[iri] & listed for iri in listed}
        count = defaultdict(int)
        for above in within.values():
            for parent in above:
                count[parent] += 1
        for iri, above in sorted(within.items()):
            parents = {p for p in above if count[p] >= FOLD_AT}
            topmost = sorted(p for p in parents if not within[p] & parents)
            if topmost:
                out.append([element, iri, topmost[0]])
    return out


def folded(rows: list[dict], folds: list[list[str]]) -> list[dict]:
    """The rows in their order, each row that folds (kg.folding.folds) moved into its ancestor's row
    (`folded`); the rows are changed in place."""
    into = {(element, iri): parent for element, iri, parent in folds}
    listed = {(r["component"], r["iri"]): r for r in rows}
    out = []
    for row in rows:
        parent = into.get((row["component"], row["iri"]))
        if parent is None:
            out.append(row)
        else:
            listed[(row["component"], parent)].setdefault("folded", []).append(row)
    return out


def ancestors(store, threats: set[str]) -> dict[str, set[str]]:
    """Threat IRI → every ancestor of it, read one level of the hierarchy at a time."""
    parents, frontier = {}, set(threats)
    while frontier:
        found = defaultdict(set)
        for sol in run_values(store, "threat-parents", [NamedNode(t) for t in sorted(frontier)]):
            found[sol["threat"].value].add(sol["parent"].value)
        parents.update({t: found.get(t, set()) for t in frontier})
        frontier = set().union(*found.values()) - parents.keys()

    def up(threat, seen):
        out = set()
        for parent in parents.get(threat, ()):
            if parent not in seen:
                out |= {parent} | up(parent, seen | {parent})
        return out
    return defaultdict(set, {t: up(t, {t}) for t in threats})
