"""The inferred threats as CSV: one row per (element, threat), the rows of `threatkg threats
--format json` with their folded children as rows of their own (`folded_into` names the parent),
with residual risk, state and the decision that set it."""

import csv
import io

NAME = "csv"

COLUMNS = ["component", "threat", "label", "stride", "source", "provenance", "risk", "rating", "likelihood",
           "impact", "state", "decision", "justification", "owner", "decision_date", "expires", "ticket",
           "folded_into", "via"]


def export(assessment) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    for row in _flat(assessment.threats(), None):
        writer.writerow(row)
    return out.getvalue()


def _flat(rows: list[dict], parent: str | None):
    for row in rows:
        risk, decision = row["risk"], row.get("decision") or {}
        yield {"component": row["component"], "threat": row["threat"], "label": row.get("label") or "",
               "stride": "".join(row["stride"]), "source": row["source"], "provenance": row["provenance"],
               "risk": f"{risk['score']:g}", "rating": risk["rating"], "likelihood": f"{risk['likelihood']:g}",
               "impact": f"{risk['impact']:g}", "state": row["state"], "decision": decision.get("id", ""),
               "justification": decision.get("justification", ""), "owner": decision.get("owner", ""),
               "decision_date": decision.get("date", ""), "expires": decision.get("expires", ""),
               "ticket": decision.get("ticket", ""), "folded_into": parent or "", "via": " | ".join(row["via"])}
        yield from _flat(row.get("folded", []), row["threat"])
