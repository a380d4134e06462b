"""Tests of the importers and exporters of other tools' models."""
