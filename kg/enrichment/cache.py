"""Answers of external endpoints as JSON files under THREATKG_HOME/cache/enrichment/, one per endpoint URL,
query and start IRI. Written atomically; an unreadable file counts as absent (and is fetched again)."""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from kg import atomic
from kg.paths import home


def path_of(url: str, query: str, query_text: str, start: str) -> Path:
    """The file of one answer: a changed URL or query text never reads an old answer."""
    key = hashlib.sha256(json.dumps([url, query, query_text, start]).encode("utf-8")).hexdigest()
    return home() / "cache" / "enrichment" / f"{key}.json"


def read(path: Path) -> dict | None:
    """The cached answer ({fetched, rows, …}), or None when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        age(data["fetched"])
        if all(t["type"] in ("iri", "literal") and isinstance(t["value"], str)
               for row in data["rows"] for t in row.values()):
            return data
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return None


def write(path: Path, data: dict) -> str | None:
    """Write atomically; a message when the cache cannot be written."""
    failed = atomic.write(path, json.dumps(data, ensure_ascii=False).encode())
    return f"not cached: {failed}" if failed else None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def age(fetched: str) -> float:
    """Seconds since an ISO 8601 time with a time zone (ValueError for anything else)."""
    then = datetime.fromisoformat(fetched)
    if then.tzinfo is None:
        raise ValueError(f"no time zone: {fetched}")
    return (datetime.now(UTC) - then).total_seconds()
