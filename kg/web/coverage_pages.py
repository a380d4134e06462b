"""The coverage dashboard of a served system by a built-in requirement profile: per component and
STRIDE category, per security property, per zone, the open gaps ranked by residual risk, and what
addresses each addressed threat (requirement or control, chain, provenance)."""

from functools import lru_cache

from flask import Blueprint, abort, render_template, request

from kg.ontology import stride, stride_names
from kg.profiles import DEFAULT_PROFILE, Profile, builtin, load
from kg.report import natural
from kg.web.pages import once, view_or_404

bp = Blueprint("coverage", __name__)

GAP_LIMIT = 100          # open gaps listed on the page
@lru_cache(maxsize=1)
def profiles() -> dict[str, Profile]:
    """The built-in profiles by id (the select box; only these names are accepted)."""
    return {name: load(name) for name in builtin()}


def builtin_or_404(name: str) -> str:
    """The name when it is a built-in profile (no file paths), else 404."""
    if name not in profiles():
        abort(404, f"No built-in profile {name[:100]}; the built-in profiles are {', '.join(profiles())}.")
    return name


def requested_profile() -> str:
    """The ?profile= of the request: a built-in profile name, else 404."""
    return builtin_or_404(request.args.get("profile", DEFAULT_PROFILE))


@bp.get("/system/<system>/coverage")
def dashboard(system):
    v = view_or_404(system)
    name = requested_profile()
    return once(v, ("coverage", name), lambda: _page(v, name))


def _page(v, name: str) -> str:
    cov = v.coverage(name)
    gaps = v.open_risks(name)
    return render_template("coverage/coverage.html", view=v, profile=profiles()[name], profiles=profiles().values(),
                           cov=cov, stride=list(stride_names().items()), components=_components(v, cov), properties=_properties(cov),
                           zones=_zones(v, cov), gaps=gaps[:GAP_LIMIT], more_gaps=max(0, len(gaps) - GAP_LIMIT),
                           addressed=_addressed(cov), entries={r["threat"]: r for r in v.rows})


def _components(v, cov: dict) -> list[dict]:
    """The profile's components and flows, least covered first, each with its cells by STRIDE letter."""
    out = []
    for c in cov["components"]:
        element = v.elements.get(c["component"], {"id": c["component"], "label": c["component"], "role": ""})
        out.append({**c, "element": element, "cells": [c["stride"].get(s.letter) for s in stride()]})
    return sorted(out, key=lambda c: (c["ratio"], natural(c["component"])))


def _properties(cov: dict) -> list[dict]:
    category = {c.property_id: c for c in stride()}
    return [{**p, "name": name, "label": category[name].property_label, "letter": category[name].letter,
             "unsatisfied_on": sorted(p["unsatisfied_on"], key=natural)}
            for name, p in cov["properties"].items()]


def _zones(v, cov: dict) -> list[dict]:
    return [{**totals, "id": None if zone == "(flows)" else zone,
             "label": "Data flows" if zone == "(flows)" else v.elements.get(zone, {"label": zone})["label"]}
            for zone, totals in cov["zones"].items()]


def _addressed(cov: dict) -> list[dict]:
    """Each addressed threat once, with the elements it is addressed on and what addresses it there
    (requirement or control, chain, provenance; each with the elements it counts for)."""
    threats = {}
    for c in cov["components"]:
        for threat, by in c["addressed_by"].items():
            t = threats.setdefault(threat, {"threat": threat, "elements": [], "by": {}})
            t["elements"].append(c["component"])
            for b in by:
                t["by"].setdefault((b["kind"], b["id"], b["via"]), {**b, "elements": []})["elements"].append(c["component"])
    return [{**t, "by": sorted(t["by"].values(), key=lambda b: (b["kind"], natural(b["id"]), b["via"]))}
            for t in sorted(threats.values(), key=lambda t: natural(t["threat"]))]
