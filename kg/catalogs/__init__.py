"""Importers of the official catalogs (one module per source format) and their shared builder."""
