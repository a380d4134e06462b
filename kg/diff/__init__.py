"""What a change to a threat model changes: `compare` two assessments (kg.diff.comparison), read
each side from a file, a git revision or a store (kg.diff.sources), print it (kg.diff.formats)."""

from kg.diff.comparison import compare

__all__ = ["compare"]
