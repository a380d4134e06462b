"""Synthetic system models of any size, shaped like real ones: nested zones, every component
kind, request chains that cross zones, bidirectional calls, stores and controls."""

import random

ZONES = [("internet", "untrusted", None), ("dmz", "dmz", None), ("internal", "internal", None),
         ("app", "internal", "internal"), ("data", "restricted", "internal"), ("dev", "development", "internal")]
KINDS_BY_ZONE = {
    "internet": [["user"], ["client-application"], ["external-service"]],
    "dmz": [["api-gateway"], ["auth-service"], ["web-application"]],
    "app": [["model-inference-service"], ["llm"], ["agent"], ["web-service"], ["message-queue"]],
    "data": [["database"], ["sql-database"], ["log-store"], ["vector-store"], ["file-store"]],
    "dev": [["training-pipeline"], ["training-data-store"], ["model-registry"]],
}
TECHNOLOGIES = ["python", "java", "go", "sql", "nginx", "kafka", "postgresql"]


def generate(n: int, seed: int = 7, system: str | None = None) -> dict:
    """A YAML-shaped model document with n components (system id: `system`, else bench-N)."""
    rng = random.Random(seed)
    zone_names = list(KINDS_BY_ZONE)
    components, flows = [], []
    for i in range(n):
        zone = zone_names[i % len(zone_names)]
        component = {"id": f"c{i}", "label": f"Component {i}", "kinds": rng.choice(KINDS_BY_ZONE[zone]), "zone": zone}
        if zone != "internet" and rng.random() < 0.5:
            component["attributes"] = {"technology": rng.choice(TECHNOLOGIES), "internet_facing": zone == "dmz"}
        components.append(component)
    for i in range(1, n):
        target = f"c{i}"
        source = f"c{rng.randrange(max(0, i - 6), i)}"
        flows.append({"id": f"f{i}", "source": source, "target": target, "protocol": "https",
                      "bidirectional": rng.random() < 0.3, "data": ["requests"]})
    return {
        "system": {"id": system or f"bench-{n}", "name": f"Generated system of {n} components"},
        "zones": [{"id": z, "kind": k, **({"parent": p} if p else {})} for z, k, p in ZONES],
        "components": components,
        "flows": flows,
        "controls": [{"id": "segmentation", "kind": "network-segmentation", "protects": ["data"]},
                     {"id": "gateway-authn", "kind": "access-control", "protects": ["dmz"]}],
    }
