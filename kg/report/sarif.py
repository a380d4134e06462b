"""The report's open gaps as a SARIF 2.1.0 log, for code-scanning tools (GitHub included).

One run; tool.driver "ThreatKG" with one rule per threat kind the model inherits (id = official
id, name, short and full description, helpUri = official page, tags = STRIDE categories, and a
security-severity from the highest residual risk of its results); one result per open gap of the
profile, level from the residual risk rating, located at the element's line in the model file
(relative to the current folder, uriBaseId SRCROOT). Turtle models have no line numbers: their
results point at line 1 and say so. partialFingerprints keep a gap's identity across runs."""

import hashlib
import os
from pathlib import Path
from urllib.parse import quote

from kg.ontology import stride_names

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
MAX_SCORE = 25.0          # likelihood 5 x impact 5
FINGERPRINT = "threatkgGap/v1"


def artifact_uri(model_file: str, cwd: Path | None = None) -> str:
    """The model file as a URI reference relative to the current folder (forward slashes)."""
    relative = os.path.relpath(Path(model_file).resolve(), (cwd or Path.cwd()).resolve())
    return quote(Path(relative).as_posix(), safe="/._-~")


def _rule(kind: dict, scores: list[float]) -> dict:
    rule = {"id": kind["id"], "name": kind["label"], "shortDescription": {"text": kind["label"]},
            "fullDescription": {"text": kind["description"] or kind["label"]},
            "properties": {"tags": ["security", "threat-model", kind["source"]]
                           + [stride_names()[letter] for letter in kind["stride"]]}}
    if kind["url"]:
        rule["helpUri"] = kind["url"]
        rule["help"] = {"text": f"{kind['id']} {kind['label']}: {kind['url']}"}
    if scores:
        rule["properties"]["security-severity"] = f"{max(scores) / MAX_SCORE * 10:.1f}"
    return rule


def _message(gap: dict, data: dict) -> str:
    risk = gap["risk"]
    left = (f"required by the profile {data['profile']['id']}, not implemented: {', '.join(gap['requires'])}"
            if gap["requires"] else f"uncovered by the profile {data['profile']['id']}")
    text = (f"{gap['element']} ({gap['element_label']}) inherits {gap['threat']} {gap['label']}, {left}: "
            f"residual risk {risk['score']:g} ({risk['rating']}). "
            f"Why: {' → '.join(gap['explanation'])}.")
    if gap["explanations"] > 1:
        text += f" ({gap['explanations'] - 1} more explanations in the HTML or JSON report.)"
    text += " Risk: " + "; ".join(risk["reasons"]) + "."
    if not gap["line"]:
        text += " (This model format has no line numbers: the location is line 1 of the file.)"
    return text


def result(system: str, element: str, threat: str, rule_index: int, rating: str, message: str, uri: str,
           line: int | None, properties: dict) -> dict:
    """One SARIF result: `threat` on `element` of `system`, at the element's line in the model file
    (1 when the format has none), fingerprinted by system, element and threat."""
    identity = f"{system}/{element}/{threat}"
    return {
        "ruleId": threat, "ruleIndex": rule_index, "level": LEVELS[rating], "message": {"text": message},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "SRCROOT"},
                                 "region": {"startLine": line or 1}},
            "logicalLocations": [{"name": element, "fullyQualifiedName": f"{system}/{element}", "kind": "object"}]}],
        "partialFingerprints": {FINGERPRINT: hashlib.sha256(identity.encode("utf-8")).hexdigest()},
        "properties": {"element": element, **properties},
    }


def _result(gap: dict, data: dict, index: dict, uri: str) -> dict:
    return result(data["system"]["id"], gap["element"], gap["threat"], index[gap["threat"]], gap["risk"]["rating"],
                  _message(gap, data), uri, gap["line"],
                  {"residualRisk": gap["risk"]["score"], "rating": gap["risk"]["rating"], "state": gap["state"],
                   "stride": gap["stride"], "provenance": gap["provenance"], "rank": gap["rank"]})


def log(data: dict, cwd: Path | None = None) -> dict:
    """The SARIF log (a dict) of the report data."""
    scores = {}
    for gap in data["open_gaps"]:
        scores.setdefault(gap["threat"], []).append(gap["risk"]["score"])
    kinds = list(data["threats"].values())
    index = {kind["id"]: i for i, kind in enumerate(kinds)}
    uri = artifact_uri(data["report"]["model"], cwd)
    driver = {"name": data["report"]["generator"], "version": data["report"]["version"],
              "semanticVersion": data["report"]["version"], "rules": [_rule(k, scores.get(k["id"], [])) for k in kinds]}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": driver},
        "automationDetails": {"id": f"threatkg/{data['system']['id']}/{data['profile']['id']}/"},
        "artifacts": [{"location": {"uri": uri, "uriBaseId": "SRCROOT"}, "roles": ["analysisTarget"]}],
        "results": [_result(gap, data, index, uri) for gap in data["open_gaps"]],
        "properties": {"system": data["system"]["id"], "profile": data["profile"]["id"],
                       "catalogRelease": data["report"]["catalog_release"]},
    }]}
