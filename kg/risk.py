"""Residual risk per (element, threat): likelihood x impact from the catalog's ratings (defaults,
exposure and reductions in catalogs/risk.yaml), lowered by implemented requirements and existing
controls that address the threat. Each adjustment is a reason in the row's explanation."""

from functools import lru_cache

import yaml

from kg.analysis import Analysis
from kg.coverage import IN_PLACE, coverage
from kg.namespaces import TM
from kg.ontology import kinds
from kg.paths import catalogs_data_dir


@lru_cache(maxsize=1)
def settings() -> dict:
    return yaml.safe_load((catalogs_data_dir() / "risk.yaml").read_text(encoding="utf-8"))


def _class_iri(name: str) -> str:
    return str(TM[name[3:]]) if name.startswith("tm:") else kinds()[name]


def _base(row, ratings, conf):
    """Likelihood and impact before exposure and reductions, with the reason."""
    default = conf["defaults"][row["source"]] if row["source"] in conf["defaults"] else conf["defaults"]["STRIDE"]
    rating = ratings.get(row["iri"], {})
    scale = conf["scale"]
    likelihood, impact = default["likelihood"], default["impact"]
    said = []
    if rating.get("likelihood") in scale:
        likelihood = scale[rating["likelihood"]]
        said.append(f"likelihood {rating['likelihood']}")
    elif rating.get("maturity") in conf["atlas_maturity_likelihood"]:
        likelihood = conf["atlas_maturity_likelihood"][rating["maturity"]]
        said.append(f"maturity {rating['maturity']}")
    if rating.get("severity") in scale:
        impact = scale[rating["severity"]]
        said.append(f"severity {rating['severity']}")
    origin = f"{row['threat']} " + (", ".join(said) if said else f"has no catalog rating: {row['source']} defaults")
    return likelihood, impact, f"{origin} → likelihood {likelihood}, impact {impact}"


def _route(row) -> str:
    """The most specific way the threat reached the element (see `specificity` in risk.yaml)."""
    if any(c["requires"] for c in row.get("conditions", [])):
        return "matched"
    relations = {link["relation"] for link in row["links"]}
    direct = any(link["relation"] == "exposedTo" and link["to"] == row["threat"] for link in row["links"])
    for route, present in (("direct", direct), ("mapped", "relatedTechnique" in relations),
                           ("weakness", "proneTo" in relations), ("domain", "exposedToDomain" in relations)):
        if present:
            return route
    return "direct"


def _specificity(row, abstraction: str | None, conf) -> list[tuple[float, str]]:
    """The specificity factors of a row (a STRIDE category is the least specific), each with its reason."""
    route = conf["specificity"]["category" if row["source"] == "STRIDE" else _route(row)]
    factors = [(route["factor"], route["why"])]
    if abstraction in conf["abstraction"]:
        factors.append((conf["abstraction"][abstraction]["factor"], conf["abstraction"][abstraction]["why"]))
    return [(f, why) for f, why in factors if f != 1]


def _rating(score: float, conf) -> str:
    return next(r["rating"] for r in conf["ratings"] if score >= r["min"])


def add_risk(analysis: Analysis, rows: list[dict], in_place: dict | None = None) -> list[dict]:
    """Add `risk` {score, rating, likelihood, impact, reasons} to each threat row; `in_place` is the
    rows' coverage by IN_PLACE (computed when not given)."""
    conf = settings()
    ratings = {}
    for sol in analysis.named("threat-ratings"):
        ratings[sol["threat"].value] = {k: sol[k].value for k in ("likelihood", "severity", "maturity", "abstraction")
                                        if sol[k]}
    classes = {}
    for sol in analysis.named("system-element-classes", system=analysis.model.system_iri):
        classes.setdefault(sol["elementId"].value, set()).add(sol["class"].value)
    in_place = in_place or coverage(analysis, IN_PLACE, rows)
    addressed = {c["component"]: c["addressed_by"] for c in in_place["components"]}
    states = {(c["component"], t): s for c in in_place["components"] for t, s in c["states"].items()}
    for row in rows:
        likelihood, impact, origin = _base(row, ratings, conf)
        reasons = [origin]
        for rule in conf["exposure"]:
            if _class_iri(rule["class"]) in classes.get(row["component"], ()):
                likelihood += rule["likelihood"]
                reasons.append(f"{row['component']}: {rule['why']} → likelihood {rule['likelihood']:+g}")
        for factor, why in _specificity(row, ratings.get(row["iri"], {}).get("abstraction"), conf):
            likelihood *= factor
            reasons.append(f"{why} → likelihood ×{factor:g}")
        likelihood = min(5.0, max(1.0, likelihood))
        by = addressed.get(row["component"], {}).get(row["threat"], [])
        for kind, key in (("implemented", "implemented"), ("control", "control")):
            used = [b for b in by if b["kind"] == key]
            if used:
                factor = conf["reductions"][kind]["factor"]
                likelihood *= factor
                names = ", ".join(f"{b['id']} ({b['via']})" for b in used)
                reasons.append(f"{conf['reductions'][kind]['why']}: {names} → likelihood ×{factor:g}")
        decision = states.get((row["component"], row["threat"]), {}).get("decision")
        if decision:
            rule = conf["decisions"][decision["status"]]
            likelihood *= rule["factor"]
            reasons.append(f"{rule['why']}: {decision['id']} ({decision['justification']}) → likelihood ×{rule['factor']:g}")
        score = round(likelihood * impact, 1)
        row["risk"] = {"score": score, "rating": _rating(score, conf), "likelihood": round(likelihood, 2),
                       "impact": impact, "reasons": reasons}
    return rows
