"""The threats each element of a model inherits, one row per (element, threat), explained."""

from rdflib import URIRef

from kg.analysis import Analysis
from kg.namespaces import STRIDE, model_iri

STRIDE_ORDER = "STRIDE"


def _source(threat_iri: str) -> str:
    """The catalog a threat comes from, read off its IRI (…/id/<catalog>/<id>)."""
    if threat_iri.startswith(str(STRIDE)):
        return "STRIDE"
    return threat_iri.split("/id/", 1)[-1].split("/", 1)[0].upper()


def threat_rows(analysis: Analysis, component: str | None = None) -> list[dict]:
    explainer = analysis.explainer
    only = {"element": URIRef(str(model_iri(analysis.model.system, component)))} if component else {}
    rows = []
    for sol in analysis.named("threats", **only):
        element_id = sol["elementId"].value
        element, threat = sol["element"].value, sol["threat"].value
        explanations = explainer.exposure(element, threat)
        letters = sol["letters"].value if sol["letters"] else ""
        rows.append({
            "component": element_id,
            "threat": sol["threatId"].value,
            "label": sol["label"].value if sol["label"] else sol["threatId"].value,
            "stride": sorted(set(letters), key=STRIDE_ORDER.index),
            "source": _source(threat),
            "provenance": "curated",
            "via": [" → ".join(steps) for steps in explanations],
            "explanations": explanations,
            "iri": threat,
        })
    return rows
