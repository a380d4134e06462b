"""Kept answers of a model file: an assessment's answers (kg.assessment) written once per model
version (the file's path and bytes), catalog release, reasoner and ThreatKG build under
THREATKG_HOME/cache/answers, and read back by every later command about the same file. Anything
that could change an answer is part of the key, so a kept answer is never stale; a cache that
cannot be read or written is only skipped."""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from kg import atomic
from kg.model.source import MAX_BYTES
from kg.paths import catalogs_data_dir, home, ontologies_dir

_PKG = Path(__file__).resolve().parent
KEEP = 200   # answer files kept (the most recently written)


@lru_cache(maxsize=1)
def build_digest() -> str:
    """SHA-256 of the code, queries, ontology and curated catalog data that answers are made from."""
    h = hashlib.sha256()
    for root, patterns in ((_PKG, ("*.py", "*.rq", "*.ru")), (ontologies_dir(), ("*",)), (catalogs_data_dir(), ("*",))):
        for path in sorted(p for pattern in patterns for p in root.rglob(pattern)
                           if p.is_file() and "__pycache__" not in p.parts):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def location(model_path: str, engine: str, release: str | None) -> Path | None:
    """Where the answers about this model file are kept, or None when it is not a regular readable
    file within the size limit (the model loader then says why)."""
    path = Path(model_path)
    try:   # only a regular file within the loader's limit: anything else is the loader's to refuse
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        content = path.read_bytes()
    except OSError:
        return None
    key = hashlib.sha256(json.dumps([str(model_path), engine, release, build_digest()]).encode()
                         + b"\0" + content).hexdigest()
    return home() / "cache" / "answers" / f"{key[:40]}.json"


def read(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(path: Path | None, answers: dict) -> None:
    """Keep the answers, and only the newest KEEP files of the folder."""
    if path is None or atomic.write(path, json.dumps(answers, ensure_ascii=False).encode()) is not None:
        return
    kept = sorted(path.parent.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP:]:
        old.unlink(missing_ok=True)
