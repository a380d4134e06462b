"""A diff (kg.diff.comparison) as text: aligned tables, Markdown for a pull-request comment, or a
SARIF 2.1.0 log of the newly open threats at their elements' lines in the new model file."""

from kg import __version__
from kg.diff.comparison import is_empty
from kg.model.load import Model
from kg.render import markdown as markdown_table
from kg.render import table
from kg.report.sarif import SCHEMA, artifact_uri, result


def _ratio(value) -> str:
    return "–" if value is None else f"{value:.1%}"


def _side(ratios: dict | None) -> str:
    """A component's ratio on one side of the diff; (none): not on that side."""
    return "(none)" if ratios is None else _ratio(ratios["ratio"])


def _risk(entry: dict) -> str:
    risk = entry["risk"]
    return "" if risk["score"] is None else f"{risk['score']:g} {risk['rating']}"


def _values(values: list) -> str:
    return ", ".join(values) or "(none)"


def headline(diff: dict, old: str, new: str) -> str:
    """The summary line."""
    if is_empty(diff):
        return f"ThreatKG diff {old} → {new}: no change to the threat model."
    s = diff["summary"]
    coverage = "; ".join(f"{p} coverage {_ratio(c['old']['ratio'])} → {_ratio(c['new']['ratio'])}"
                         for p, c in diff["coverage"].items())
    return (f"ThreatKG diff {old} → {new}: {s['added']} added, {s['removed']} removed, {s['changed']} changed; "
            f"{s['gained']} threats gained ({s['gained_open']} open, {s['gained_critical']} critical, "
            f"{s['gained_high']} high), {s['lost']} lost; {s['states_changed']} states changed; {coverage}"
            + (f"; {s['decisions']} decisions stale or expired" if s["decisions"] else "") + ".")


def sections(diff: dict) -> list[tuple[str, list[dict], list[str]]]:
    """(title, rows, columns) of every non-empty section."""
    structure = []
    for section, changes in diff["structure"].items():
        if section == "requirements":
            structure += [{"section": section, "change": change, "id": f"{p['requirement']} on {p['element']}",
                           "details": ""} for change in ("added", "removed") for p in changes[change]]
            continue
        structure += [{"section": section, "change": change, "id": eid, "details": ""}
                      for change in ("added", "removed") for eid in changes[change]]
        structure += [{"section": section, "change": "changed", "id": eid,
                       "details": "; ".join(f"{f}: {_values(v['old'])} → {_values(v['new'])}" for f, v in fields.items())}
                      for eid, fields in changes["changed"].items()]
    gained = [{**g, "risk": _risk(g)} for g in diff["threats"]["gained"]]
    lost = [{**g, "risk": _risk(g)} for g in diff["threats"]["lost"]]
    states = [{"profile": p, **s} for p, changes in diff["states"].items() for s in changes]
    opened = [{"profile": p, **o, "risk": _risk(o), "was": o["was"] or "(new)"}
              for p, entries in diff["opened"].items() for o in entries]
    coverage = [{"profile": p, "ratio": f"{_ratio(c['old']['ratio'])} → {_ratio(c['new']['ratio'])}",
                 "implemented": f"{_ratio(c['old']['implemented_ratio'])} → {_ratio(c['new']['implemented_ratio'])}"}
                for p, c in diff["coverage"].items()]
    components = [{"profile": p, "component": c["component"],
                   "ratio": f"{_side(c['old'])} → {_side(c['new'])}"}
                  for p, change in diff["coverage"].items() for c in change["components"]]
    decisions = [{"finding": str(d.get("message", d))} for d in diff["decisions"]]
    found = [("Model changes", structure, ["section", "change", "id", "details"]),
             ("Threats gained", gained, ["element", "threat", "label", "risk", "state"]),
             ("Threats lost", lost, ["element", "threat", "label", "risk"]),
             ("Newly open", opened, ["profile", "element", "threat", "label", "risk", "state", "was"]),
             ("States changed", states, ["profile", "element", "threat", "old", "new"]),
             ("Coverage", coverage, ["profile", "ratio", "implemented"]),
             ("Coverage per component", components, ["profile", "component", "ratio"]),
             ("Decisions stale or expired", decisions, ["finding"])]
    return [(title, rows, columns) for title, rows, columns in found if rows]


def as_table(diff: dict, old: str, new: str) -> str:
    parts = [headline(diff, old, new)]
    if not is_empty(diff):
        parts += [f"{title}\n\n{table(rows, columns)}" for title, rows, columns in sections(diff)]
    return "\n\n".join(parts)


def as_markdown(diff: dict, old: str, new: str) -> str:
    """A pull-request comment: the summary line in bold, then one section with a table each."""
    parts = [f"**{headline(diff, f'`{old}`', f'`{new}`')}**"]
    if not is_empty(diff):
        parts += [f"### {title}\n\n{markdown_table(rows, columns)}" for title, rows, columns in sections(diff)]
    return "\n\n".join(parts) + "\n"


def _result(entry: dict, profile: str, model: Model, uri: str, lines: dict, rule_index: int) -> dict:
    rating = entry["risk"]["rating"] or "low"
    was = f"was {entry['was']}" if entry["was"] else "new with this change"
    message = (f"{entry['element']} is newly open to {entry['threat']} {entry['label']} under the profile "
               f"{profile} ({entry['state']}, {was}): residual risk {_risk(entry)}.")
    return result(model.system, entry["element"], entry["threat"], rule_index, rating, message, uri,
                  lines.get(entry["element"]),
                  {"profile": profile, "state": entry["state"], "residualRisk": entry["risk"]["score"], "rating": rating})


def as_sarif(diff: dict, model: Model, path: str) -> dict:
    """The SARIF log: one rule per threat newly open, one result per newly open pair and profile."""
    uri = artifact_uri(path)
    lines = {model.element_id(iri): line for iri, line in model.lines.items()}
    entries = [(p, e) for p, opened in diff["opened"].items() for e in opened]
    rules = {}
    for _, entry in entries:
        rules.setdefault(entry["threat"], {"id": entry["threat"], "name": entry["label"] or entry["threat"],
                                           "shortDescription": {"text": entry["label"] or entry["threat"]}})
    index = {rule: i for i, rule in enumerate(rules)}
    results = [_result(e, p, model, uri, lines, index[e["threat"]]) for p, e in entries]
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "ThreatKG", "version": __version__, "semanticVersion": __version__,
                            "rules": list(rules.values())}},
        "automationDetails": {"id": f"threatkg-diff/{model.system}/"},
        "artifacts": [{"location": {"uri": uri, "uriBaseId": "SRCROOT"}, "roles": ["analysisTarget"]}],
        "results": results}]}
