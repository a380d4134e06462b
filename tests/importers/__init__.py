"""Tests of the importers of other tools' threat models (kg.importers), on the shared sample models."""
