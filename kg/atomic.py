"""Files written atomically: a temporary file beside the target, then a rename, so a concurrent
reader sees the old file or the whole new one, never half of it."""

import os
import tempfile
from pathlib import Path


def write(path: Path, content: bytes) -> str | None:
    """Write the file (and its folder); None when done, else why it could not be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        return str(err)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(temporary, path)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        return str(err)
    return None
