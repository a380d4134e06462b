"""Get one catalog file into a staging folder and verify it.

Origins: the official URL (a zip is downloaded whole and its member extracted), a mirror laid out
like the shared catalogs folder (--base-url: URL/<path>) or a local folder with that layout (--from).
THREATKG_OFFICIAL_BASE=URL (for tests and mirrors of the publishers' hosts) fetches an official
https://<host>/<path> from URL/<host>/<path> instead.
HTTP uses requests with connect/read timeouts and retries with exponential backoff on connection
errors, timeouts, broken transfers and HTTP 429/5xx; other HTTP errors fail at once. Every file is
written as <name>.part, checked for size and sha256, then renamed. Problems raise InputError.
"""

import hashlib
import os
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

import click
import requests

from kg.catalogs.sources import SourceFile
from kg.errors import InputError, Problem

TIMEOUT = (10, 60)          # seconds: connect, read (between bytes)
ATTEMPTS = 3
BACKOFF = 1.0               # seconds before the 2nd attempt, doubled for each further one
CHUNK = 1 << 16
_RETRY_STATUS = {429, 500, 502, 503, 504}
_REASONS = (("Connection refused", "connection refused"),
            ("Name or service not known", "host not found"),
            ("Temporary failure in name resolution", "host not found"),
            ("IncompleteRead", "connection closed before the end of the file"),
            ("timed out", "timed out"))


class _Retryable(Exception):
    """A transient failure: try again after a pause."""


def mirror_url(base_url: str, rel_path: str) -> str:
    return base_url.rstrip("/") + "/" + quote(rel_path)


def official_url(url: str) -> str:
    """The official URL, or its copy under THREATKG_OFFICIAL_BASE."""
    base = os.environ.get("THREATKG_OFFICIAL_BASE")
    return base.rstrip("/") + "/" + url.split("://", 1)[1] if base else url


def fetch_file(spec: SourceFile, dest: Path, *, base_url: str | None = None,
               from_dir: Path | None = None) -> str:
    """Put the verified content of spec at dest; return where it came from (URL or path)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if from_dir is not None:
        origin = str(from_dir / spec.path)
        _copy_local(Path(origin), part, spec)
    elif base_url is not None:
        origin = mirror_url(base_url, spec.path)
        _download(origin, part, spec.path, spec.size, limit=spec.size)
    elif spec.url is None:
        raise InputError(Problem(spec.path, "no official download exists for this file; "
                                            "fetch it from a mirror with --base-url or --from"))
    elif spec.zip_member:
        origin = official_url(spec.url)
        archive = dest.with_name(dest.name + ".zip.part")
        _download(origin, archive, f"{spec.path} (zip)", spec.size, limit=2 * spec.size + CHUNK)
        _extract(archive, spec.zip_member, part, origin, spec.size)
        archive.unlink()
    else:
        origin = official_url(spec.url)
        _download(origin, part, spec.path, spec.size, limit=spec.size)
    verify(part, spec, origin)
    os.replace(part, dest)
    return origin


def sha256_of(path: Path) -> tuple[str, int]:
    """The sha256 hex digest and byte size of a file."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def git_blob_of(path: Path) -> str:
    """The git object id of the file's content (sha1 of "blob <size>\\0" + content)."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, spec: SourceFile, origin: str) -> None:
    """Size and sha256 (or the git blob id) must match sources.yaml; the message names the file and
    both digests."""
    if spec.git_blob:
        actual = git_blob_of(path)
        if actual != spec.git_blob:
            raise InputError(Problem(spec.path, f"verification failed: expected git blob {spec.git_blob}, "
                                                f"got {actual} ({path.stat().st_size} bytes) from {origin}"))
        return
    actual, size = sha256_of(path)
    if actual != spec.sha256 or size != spec.size:
        raise InputError(Problem(spec.path, f"verification failed: expected sha256 {spec.sha256} "
                                            f"({spec.size} bytes), got {actual} ({size} bytes) from {origin}"))


def _copy_local(src: Path, out: Path, spec: SourceFile) -> None:
    try:
        if src.is_dir():
            raise IsADirectoryError
        if src.exists() and not src.is_file():     # never opened: a FIFO blocks, /dev/zero never ends
            raise InputError(Problem(str(src), "not a regular file (a device, pipe or socket), expected a file"))
        fh = open(src, "rb")
    except FileNotFoundError:
        raise InputError(Problem(str(src), "missing from the --from folder")) from None
    except IsADirectoryError:
        raise InputError(Problem(str(src), "is a directory, expected a file")) from None
    with fh:
        _write_bounded((iter(lambda: fh.read(CHUNK), b"")), out, spec.size, spec.path, str(src))


def _download(url: str, out: Path, label: str, expected: int, *, limit: int) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _get(url, out, label, expected, limit)
        except _Retryable as err:
            if attempt == ATTEMPTS:
                raise InputError(Problem(url, f"download failed after {ATTEMPTS} attempts: {err}")) from None
            click.echo(f"{label}: {err}; retrying", err=True)
            time.sleep(BACKOFF * 2 ** (attempt - 1))


def _get(url: str, out: Path, label: str, expected: int, limit: int) -> None:
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT) as resp:
            if resp.status_code in _RETRY_STATUS:
                raise _Retryable(f"HTTP {resp.status_code} {resp.reason}")
            if resp.status_code != 200:
                raise InputError(Problem(url, f"HTTP {resp.status_code} {resp.reason}"))
            _write_bounded(resp.iter_content(CHUNK), out, limit, label, url,
                           _length(resp.headers.get("Content-Length")) or expected)
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema) as err:
        raise InputError(Problem(url, f"not a valid http(s) URL ({err})")) from None
    except requests.exceptions.TooManyRedirects:
        raise InputError(Problem(url, "too many redirects")) from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError) as err:
        raise _Retryable(_reason(err)) from None


def _length(header: str | None) -> int | None:
    """The Content-Length a server announced, for the progress bar; None unless a plausible size."""
    return int(header) if header and header.isdigit() and len(header) <= 18 else None


def _write_bounded(chunks, out: Path, limit: int, label: str, origin: str, length: int | None = None) -> None:
    """Write chunks to out with a progress bar on stderr; stop when more than limit bytes arrive."""
    written = 0
    with open(out, "wb") as fh, click.progressbar(length=length or limit, label=label, file=sys.stderr) as bar:
        for chunk in chunks:
            written += len(chunk)
            if written > limit:
                raise InputError(Problem(label, f"larger than the expected {limit} bytes from {origin}"))
            fh.write(chunk)
            bar.update(len(chunk))
        fh.flush()
        os.fsync(fh.fileno())


def _extract(archive: Path, member: str, out: Path, url: str, size: int) -> None:
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src:
            _write_bounded(iter(lambda: src.read(CHUNK), b""), out, size, member, url)
    except zipfile.BadZipFile:
        raise InputError(Problem(url, "not a zip archive")) from None
    except KeyError:
        raise InputError(Problem(url, f"the zip archive has no member {member}")) from None


def _reason(err: Exception) -> str:
    text = str(err)
    return next((short for needle, short in _REASONS if needle in text), text)

