"""Questions over every system in a store: which systems inherit a threat and leave it open, and the
coverage of a profile system by system. Each system is answered by the same code as a single model
(threat rows, coverage), without explanations, sharing the release's index of catalog links and its
requirement ↔ threat chains."""

from kg.coverage import coverage
from kg.mapping import MappingIndex
from kg.profiles import Profile
from kg.provenance import LinkIndex
from kg.store import registry, releases, systems
from kg.store.dataset import DatasetView
from kg.threats import threat_rows


def _analyses(store, snap: registry.Snapshot):
    catalogs = releases.catalog_view(store) if snap.release else DatasetView(store, [], [])
    links = LinkIndex(catalogs)
    chains = MappingIndex(catalogs, links)
    for system in sorted(snap.systems):
        analysis = systems.analysis(store, snap, system)
        analysis.links, analysis.mappings = links, chains   # the release's, the same for every system
        yield system, analysis


def exposed(store, threat: str, profile: Profile) -> list[dict]:
    """Every element of every system that inherits `threat` (an IRI), open or addressed under the profile."""
    found = []
    for system, analysis in _analyses(store, registry.snapshot(store)):
        rows = threat_rows(analysis, threat=threat, explain=False)
        if not rows:
            continue
        result = coverage(analysis, profile, rows)
        for c in result["components"]:
            for t in c["threats"]:
                found.append({"system": system, "component": c["component"], "threat": t,
                              "status": "open" if t in c["open"] else "addressed",
                              "addressed_by": [b["id"] for b in c["addressed_by"].get(t, [])]})
    return found


def coverage_by_system(store, profile: Profile) -> list[dict]:
    """The profile's coverage totals of every system."""
    out = []
    for system, analysis in _analyses(store, registry.snapshot(store)):
        result = coverage(analysis, profile, threat_rows(analysis, explain=False))
        out.append({"system": system, **result["totals"],
                    "components": len(result["components"]),
                    "weakest": min(result["components"], key=lambda c: c["ratio"])["component"]
                    if result["components"] else None})
    return out
