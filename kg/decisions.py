"""The decisions recorded in a model (YAML `decisions:`, ontologies/decisions.ttl) matched to its
threat rows: which decision applies to each (element, threat) pair, and which decisions are stale
(they match no row) or expired. Plain JSON-ready data; the matching is computed once per call from
one query (decisions.rq) and the catalog hierarchy (kg.folding.ancestors), by set joins.

A decision is about one threat (`threat`), a threat and its descendants (`subtree`) or a STRIDE
category (`stride`), on listed elements, elements of some kinds, elements in some zones, or all.
When several apply to a pair, the most specific wins: by element scope first (element id > kind >
zone > all), then by threat scope (threat > subtree > stride), then the later date, then the
smaller id. An expired decision (`expires` before today) applies to nothing: it is a finding.

`rows` are flat threat rows (kg.threats.threat_rows, Assessment.rows or .rated: dicts with
component, threat (id), iri and stride letters); rows folded under a parent are not looked into."""

import datetime
from collections import defaultdict

from rdflib import URIRef

from kg.folding import ancestors

ELEMENT_RANK = {"elements": 3, "kinds": 2, "zones": 1, None: 0}
THREAT_RANK = {"threat": 2, "subtree": 1, "stride": 0}


def decisions(analysis) -> list[dict]:
    """The model's decisions, by id: {id, status, justification, owner, date, expires, ticket (None
    when not given), line (None for a Turtle model), threat: {by: threat|subtree|stride, id, iri}
    (stride: the letter, iri None), scope: {elements, kinds, zones: [ids or kind names]},
    reaches: {element id: elements|kinds|zones, the most specific scope reaching it} or None
    (every element)}. Dates are YYYY-MM-DD."""
    found: dict[str, dict] = {}
    for sol in analysis.named("decisions", system=analysis.model.system_iri):
        value = {v: sol[v].value if sol[v] is not None else None for v in
                 ("decision", "id", "status", "justification", "owner", "date", "expires", "ticket",
                  "threat", "subtree", "letter", "by", "scopeId", "elementId")}
        if value["id"] not in found:
            found[value["id"]] = _decision(analysis, value)
        one = found[value["id"]]
        by = value["by"]
        if by is None:
            continue
        if value["scopeId"] and value["scopeId"] not in one["scope"][by]:
            one["scope"][by].append(value["scopeId"])
        one["reaches"] = one["reaches"] or {}
        element = value["elementId"]
        if element and ELEMENT_RANK[by] > ELEMENT_RANK[one["reaches"].get(element)]:
            one["reaches"][element] = by
    return sorted(found.values(), key=lambda d: d["id"])


def decisions_until(analysis, today: datetime.date | None = None) -> str | None:
    """The last day on which the decisions that apply today all still apply (the earliest expiry
    not passed, YYYY-MM-DD), or None when none of them expires: answers that count on the
    decisions hold until then."""
    today = (today or datetime.date.today()).isoformat()
    return min((d["expires"] for d in decisions(analysis) if d["expires"] and d["expires"] >= today), default=None)


def _decision(analysis, value: dict) -> dict:
    if value["threat"] or value["subtree"]:
        by = "threat" if value["threat"] else "subtree"
        iri = value[by]
        threat = {"by": by, "id": iri.rsplit("/", 1)[-1], "iri": iri}
    else:
        threat = {"by": "stride", "id": value["letter"], "iri": None}
    return {"id": value["id"], "status": value["status"], "justification": value["justification"],
            "owner": value["owner"], "date": value["date"], "expires": value["expires"], "ticket": value["ticket"],
            "line": analysis.model.lines.get(URIRef(value["decision"])), "threat": threat,
            "scope": {"elements": [], "kinds": [], "zones": []}, "reaches": None}


def _matches(analysis, rows: list[dict]) -> tuple[dict[str, list], list[dict]]:
    """The decisions, and decision id → every ((component, threat id), (element rank, threat rank))
    of the rows it matches, expired or not."""
    found = decisions(analysis)
    by_iri, by_letter = defaultdict(list), defaultdict(list)
    for row in rows:
        by_iri[row["iri"]].append(row)
        for letter in row.get("stride", ()):
            by_letter[letter].append(row)
    below = defaultdict(set)   # threat IRI → the row IRIs in its subtree (itself included)
    if any(d["threat"]["by"] == "subtree" for d in found):
        for iri, above in ancestors(analysis.store, set(by_iri)).items():
            for ancestor in above | {iri}:
                below[ancestor].add(iri)
    out = {}
    for decision in found:
        threat, reaches = decision["threat"], decision["reaches"]
        if threat["by"] == "threat":
            candidates = by_iri.get(threat["iri"], [])
        elif threat["by"] == "subtree":
            candidates = [r for iri in below.get(threat["iri"], ()) for r in by_iri[iri]]
        else:
            candidates = by_letter.get(threat["id"], [])
        out[decision["id"]] = [((r["component"], r["threat"]),
                                (ELEMENT_RANK[reaches.get(r["component"]) if reaches is not None else None],
                                 THREAT_RANK[threat["by"]]))
                               for r in candidates if reaches is None or r["component"] in reaches]
    return out, found


def decided(analysis, rows: list[dict], today: datetime.date | None = None) -> dict[tuple[str, str], dict]:
    """(component id, threat id) → the decision (as `decisions` gives it) that applies to that row,
    for the rows some unexpired decision matches; each with `matched`: {element: elements|kinds|zones|
    None (all), threat: threat|subtree|stride}."""
    today = (today or datetime.date.today()).isoformat()
    matched, found = _matches(analysis, rows)
    best: dict[tuple[str, str], tuple] = {}
    for decision in found:
        if _expired(decision, today):
            continue
        for pair, (element_rank, threat_rank) in matched[decision["id"]]:
            key = (-element_rank, -threat_rank, _negated(decision["date"]), decision["id"])
            if pair not in best or key < best[pair][0]:
                best[pair] = (key, decision, element_rank)
    element_by = {rank: by for by, rank in ELEMENT_RANK.items()}
    return {pair: {**decision, "matched": {"element": element_by[rank], "threat": decision["threat"]["by"]}}
            for pair, (_, decision, rank) in best.items()}


def findings(analysis, rows: list[dict], today: datetime.date | None = None) -> list[dict]:
    """The stale decisions (matching no row) and the expired ones (expires before today), each
    {kind: stale|expired, decision: id, line, message}, by line."""
    today = (today or datetime.date.today()).isoformat()
    matched, found = _matches(analysis, rows)
    out = []
    for decision in found:
        name = decision["id"]
        if not matched[name]:
            out.append({"kind": "stale", "decision": name, "line": decision["line"],
                        "message": f"decision {name} matches no inherited threat"})
        if _expired(decision, today):
            out.append({"kind": "expired", "decision": name, "line": decision["line"],
                        "message": f"decision {name} expired on {decision['expires']}"})
    return sorted(out, key=lambda f: (f["line"] or 0, f["decision"], f["kind"]))


def _expired(decision: dict, today: str) -> bool:
    return decision["expires"] is not None and decision["expires"] < today


def _negated(date: str | None) -> int:
    """A sort key that puts later dates first."""
    return -datetime.date.fromisoformat(date).toordinal() if date else 0
