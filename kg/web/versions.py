"""A stored system's kept versions and the changes between any two: kg.diff.compare on their
assessments, read from the answers kept with each version (kg.systems.versions), as `threatkg diff
NAME@OLD NAME@NEW --format json` gives them. Pages here, their JSON twins in kg.web.api. Only a
server on a store keeps versions: elsewhere these are 404."""

import threading

from flask import Blueprint, abort, current_app, render_template, request

from kg.diff import compare
from kg.diff.comparison import is_empty
from kg.profiles import DEFAULT_PROFILE
from kg.systems import versions
from kg.systems.versions import KeptVersion
from kg.web import registry
from kg.web.coverage_pages import builtin_or_404, profiles
from kg.web.pages import view_or_404

bp = Blueprint("versions", __name__)

CACHED = 32              # comparisons kept per server process
_lock = threading.Lock()


def _store():
    """The store this server serves, or None (model files)."""
    return getattr(registry(), "store", None)


@bp.app_context_processor
def _keeps_versions() -> dict:
    """`keeps_versions` for every template: whether the system pages link to versions and changes."""
    return {"keeps_versions": _store() is not None}


def kept_or_404(system: str) -> list[KeptVersion]:
    """The system's kept versions, oldest first; 404 when the server has no store or no such system."""
    if _store() is None:
        abort(404, "Versions are kept only by a server on a store (threatkg serve --store URL).")
    view_or_404(system)
    kept = versions.kept(_store(), system)
    if not any(v.current for v in kept):      # removed since the registry was last read
        abort(404, f"No system {system} is served here.")
    return kept


def _roles(kept: list[KeptVersion]) -> dict[str, KeptVersion]:
    """`current` and `previous` (the current one when it is the only one)."""
    current = next(v for v in kept if v.current)
    return {"current": current, "previous": next((v for v in kept if not v.current), current)}


def pick(kept: list[KeptVersion], wanted: str | None, default: str) -> KeptVersion:
    """The version an argument names: an id, `current` or `previous` (absent: `default`), else 404."""
    wanted = wanted or default
    named = _roles(kept).get(wanted) or next((v for v in kept if v.id == wanted), None)
    if named is None:
        abort(404, f"No version {wanted[:100]} of this system is kept: a store keeps the current and the previous "
                   f"version only ({', '.join(v.id for v in kept)}).")
    return named


def requested_profiles() -> list[str]:
    """The ?profile= names (repeatable; default the default profile): built-in ones only, else 404."""
    return list(dict.fromkeys(builtin_or_404(name) for name in request.args.getlist("profile") or [DEFAULT_PROFILE]))


def changes(kept: list[KeptVersion]) -> tuple[KeptVersion, KeptVersion, dict]:
    """The ?old= and ?new= kept versions (default previous → current) and their comparison, computed
    once per pair, release and profiles."""
    old, new = pick(kept, request.args.get("old"), "previous"), pick(kept, request.args.get("new"), "current")
    names = requested_profiles()
    served = registry()
    snap = served.snapshot()
    key = (old.stored.iri, new.stored.iri, snap.release.iri if snap.release else None, tuple(names))
    cache = current_app.extensions.setdefault("version_changes", {})
    with _lock:
        found = cache.get(key)
    if found is None:
        before, after = (versions.version_assessment(served.store, snap, v.stored) for v in (old, new))
        found = compare(before, after, [profiles()[name] for name in names])
        with _lock:
            while len(cache) >= CACHED:
                cache.pop(next(iter(cache)))
            cache[key] = found
    return old, new, found


def listing(kept: list[KeptVersion]) -> list[dict]:
    """Each kept version as the page and the API show it, newest first, with its predecessor's id."""
    return [{"id": v.id, "created": v.stored.created, "issued": v.issued, "source": v.stored.source_name,
             "release": v.release, "current": v.current, "predecessor": kept[i - 1].id if i else None}
            for i, v in reversed(list(enumerate(kept)))]


@bp.get("/system/<system>/versions")
def page(system):
    v = view_or_404(system)
    return render_template("versions/versions.html", view=v, versions=listing(kept_or_404(system)),
                           release=_release())


@bp.get("/system/<system>/changes")
def changes_page(system):
    v, kept = view_or_404(system), kept_or_404(system)
    old, new, diff = changes(kept)
    return render_template("versions/changes.html", view=v, versions=listing(kept),
                           old=old, new=new, diff=diff, empty=is_empty(diff), profiles=profiles().values())


def _release() -> str | None:
    release = registry().snapshot().release
    return release.iri.rsplit("/", 1)[-1] if release else None
