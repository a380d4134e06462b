"""Questions over every system in a store: which systems inherit a threat and leave it open, and the
coverage of a profile system by system. Each system answers from its assessment: the answers kept
with its version (kg.systems.versions), else computed by the same code as a single model, sharing the
release's index of catalog links and its requirement ↔ threat chains."""

from functools import cache

from kg.assessment import Assessment
from kg.coverage import OPEN_STATES
from kg.mapping import MappingIndex
from kg.profiles import Profile
from kg.provenance import LinkIndex
from kg.store import registry
from kg.store.dataset import DatasetView
from kg.systems import releases, versions


def _assessments(store, snap: registry.Snapshot):
    @cache
    def shared():
        catalogs = releases.catalog_view(store) if snap.release else DatasetView(store, [], [])
        links = LinkIndex(catalogs)
        return links, MappingIndex(catalogs, links)

    def analysed(system):
        analysis = versions.analysis(store, snap, system)
        analysis.links, analysis.mappings = shared()   # the release's, the same for every system
        return analysis

    for system in sorted(snap.systems):
        yield system, Assessment(lambda s=system: analysed(s), versions.kept_answers(store, snap, system))


def exposed(store, threat: str, profile: Profile) -> list[dict]:
    """Every element of every system that inherits `threat` (an IRI), with its state under the profile."""
    found = []
    for system, assessed in _assessments(store, registry.snapshot(store)):
        ids = {r["threat"] for r in _unfolded(assessed.threats()) if r["iri"] == threat}
        if not ids:
            continue
        for c in assessed.coverage(profile)["components"]:
            for t in [t for t in c["threats"] if t in ids]:
                state = c["states"][t]
                found.append({"system": system, "component": c["component"], "threat": t,
                              "state": state["state"], "open": state["state"] in OPEN_STATES,
                              "by": [b["id"] for b in state["by"]], "requires": state["requires"]})
    return found


def coverage_by_system(store, profile: Profile) -> list[dict]:
    """The profile's coverage totals of every system."""
    out = []
    for system, assessed in _assessments(store, registry.snapshot(store)):
        result = assessed.coverage(profile)
        out.append({"system": system, **result["totals"],
                    "components": len(result["components"]),
                    "weakest": min(result["components"], key=lambda c: c["ratio"])["component"]
                    if result["components"] else None})
    return out


def _unfolded(rows: list[dict]):
    """The rows and the rows folded under them."""
    for row in rows:
        yield row
        yield from _unfolded(row.get("folded", []))
