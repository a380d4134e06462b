"""Why a threat applies to an element, or why not: the routes that brought it, the applicability
conditions it met or failed, and for a failed one the facts that would make it apply."""

from kg.analysis import Analysis
from kg.errors import InputError, Problem
from kg.ids import form_of, iri_of, known_forms
from kg.namespaces import TM, model_iri
from kg.threats import candidates


def verdict(analysis: Analysis, component: str, threat_id: str, where: str) -> dict:
    """{status: applies | excluded | not-brought, component, threat, row?, failed?, would_apply_if?}."""
    form = form_of(threat_id)
    if form is None or form.kind != "threat":
        raise InputError(Problem(where, f"'{threat_id}' is not a threat id (such as {known_forms('threat')})"))
    element = model_iri(analysis.model.system, component)
    if (element, TM.partOf, analysis.model.system_iri) not in analysis.model.graph:
        raise InputError(Problem(where, "no such component or flow in this model", element=component))
    iri = str(iri_of(threat_id))
    out = {"component": component, "threat": threat_id}
    found = candidates(analysis, component, iri)
    if not found:
        return {**out, "status": "not-brought"}
    row = found[0]
    if not row.get("excluded_by"):
        return {**out, "status": "applies", "row": row}
    return {**out, "status": "excluded", "row": row, "failed": row["excluded_by"],
            "would_apply_if": [c["options"] for c in row["excluded_by"]]}


def lines(v: dict) -> list[str]:
    """The verdict in sentences, one per line."""
    who, what = v["component"], v["threat"]
    if v["status"] == "not-brought":
        return [f"{what} does not apply to {who}: nothing it is or does brings it "
                "(no kind, capability, weakness or CoSAI risk of it leads there; see catalogs/attachments.yaml)."]
    row = v["row"]
    name = f"{what} ({row['label']})" if row["label"] != what else what
    if v["status"] == "applies":
        out = [f"{name} applies to {who}."] + [f"  because {via}" for via in row["via"]]
        out += [f"  and it fits: {c['why']} ({c['provenance']}: {c['source']})" for c in row.get("conditions", [])]
        return out
    out = [f"{name} does not apply to {who}, although a route brings it:"]
    out += [f"  brought by {via}" for via in row["via"]]
    for condition, options in zip(v["failed"], v["would_apply_if"]):
        out.append(f"  excluded: {condition['why']} ({condition['provenance']}: {condition['source']})")
        out.append(f"  it would apply if {who} had one of: {', '.join(options)}"
                   f" (a capability goes in the model's `does:`; a kind in `kinds:`)")
    return out
