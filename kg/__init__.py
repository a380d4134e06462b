"""ThreatKG: a knowledge-graph threat catalog (architecture + catalogs + STRIDE, OWL 2 RL, SPARQL)."""

__version__ = "0.1.0"
