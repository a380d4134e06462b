"""Latency of the main store queries on the embedded store vs an Oxigraph server vs Virtuoso, for
growing numbers of stored systems, side by side; ratios are against the embedded store in this one run.

Starts its own Oxigraph server and Virtuoso on free 127.0.0.1 ports with private data folders
(stopped at exit, also on Ctrl+C), unless --oxigraph / --virtuoso give running ones (which must not
hold other systems: the bench adds sys-000, sys-001, …). Each store gets the installed catalogs
(THREATKG_HOME) pushed, then the generated systems added incrementally: up to the first size,
measure, up to the next, measure, …

    python bench/stores.py [--systems 1,10,100] [--components 100] [--repeat 5] [--budget 60]
                           [--cross-max 100] [--stores embedded,oxigraph,virtuoso]
                           [--oxigraph URL] [--virtuoso URL] [--markdown]
"""

import argparse
import contextlib
import csv
import io
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("THREATKG_STORE_TIMEOUT", "900")   # the cross-system questions send long queries

from bench.generate import generate  # noqa: E402
from kg.catalogs import installed  # noqa: E402
from kg.coverage import IN_PLACE, coverage  # noqa: E402
from kg.ids import iri_of  # noqa: E402
from kg.model.load import parse_model  # noqa: E402
from kg.profiles import load as load_profile  # noqa: E402
from kg.sparql import run_query  # noqa: E402
from kg.store import (  # noqa: E402
    DatasetView,
    open_store,
    registry,  # noqa: E402
)
from kg.systems import across, releases, versions  # noqa: E402
from kg.threats import threat_rows  # noqa: E402
from tests.servers import oxigraph_server, virtuoso_server  # noqa: E402  (the test suite's, started the same way)

REPO = Path(__file__).resolve().parent.parent
STORES = ("embedded", "oxigraph", "virtuoso")
PROFILE = "asvs-4.0.3-L1"
THREAT = "CAPEC-66"
PAIRS_PER_SYSTEM = """SELECT ?system (COUNT(*) AS ?pairs) WHERE {
  { SELECT DISTINCT ?system ?element ?threat WHERE {
      ?element tm:exposedTo ?threat ; tm:partOf ?s . ?s a tm:System ; dcterms:identifier ?system } }
} GROUP BY ?system ORDER BY ?system"""


# ------------------------------------------------------------------ measuring
def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]   # nearest rank


class Cell:
    """Latencies of one query on one store at one size, and the answer signature of each run."""

    def __init__(self):
        self.samples, self.answers = [], []

    def run(self, fn, signature, repeat: int, budget: float):
        """Up to `repeat` runs (run i gets i), fewer once they took more than `budget` seconds."""
        for i in range(repeat):
            result, seconds = _timed(lambda: fn(i))
            self.samples.append(seconds)
            self.answers.append(signature(result))
            if sum(self.samples) > budget:
                break
        return self


def _system(i: int, n: int) -> str:
    return f"sys-{(i * 7) % n:03d}"


def _component(i: int, components: int) -> str:
    return f"c{(i * 17 + 3) % components}"


def _via(rows) -> int:
    return sum(len(r["via"]) for r in rows)


def queries(n: int, components: int, profile, threat: str):
    """(label, fn(store, snap, run) → result, signature(result), describe(signature), runs at most) of every
    measured query."""

    def one_system(store, snap, i):
        return _system(i, n), threat_rows(versions.analysis(store, snap, _system(i, n)))

    def one_component(store, snap, i):
        analysis = versions.analysis(store, snap, _system(i, n))
        return _system(i, n), _component(i, components), threat_rows(analysis, component=_component(i, components))

    def coverage_one(store, snap, i):
        analysis = versions.analysis(store, snap, _system(i, n))
        return _system(i, n), coverage(analysis, profile, threat_rows(analysis, explain=False))["totals"]

    def exposed_open(store, snap, i):
        rows = across.exposed(store, threat, IN_PLACE)
        return rows, sorted({r["system"] for r in rows if r["status"] == "open"})

    def pairs(store, snap, i):
        view = DatasetView(store, *registry.snapshot(store).dataset())
        return list(csv.DictReader(io.StringIO(run_query(view, PAIRS_PER_SYSTEM, "csv"))))

    return [
        ("1 registry snapshot", lambda s, snap, i: registry.snapshot(s),
         lambda r: (len(r.systems), len(r.release.graphs) if r.release else 0),
         lambda a: f"{a[0]} systems, {a[1]} catalog graphs", None),
        ("2 threats of a system, explained", one_system,
         lambda r: (r[0], len(r[1]), _via(r[1])), lambda a: f"{a[1]} rows, {a[2]} explanations", None),
        ("3 threats of a component, explained", one_component,
         lambda r: (r[0], r[1], len(r[2]), _via(r[2])), lambda a: f"{a[2]} rows ({a[1]})", None),
        (f"4 coverage of a system ({PROFILE})", coverage_one,
         lambda r: (r[0], tuple(sorted(r[1].items()))),
         lambda a: "{threats} threats, {open} open".format(**dict(a[1])), None),
        (f"5 who leaves {THREAT} open (all)", exposed_open,
         lambda r: (len(r[0]), sum(x["status"] == "open" for x in r[0]), tuple(r[1])),
         lambda a: f"{a[0]} rows, {a[1]} open, in {len(a[2])} systems", None),
        (f"6 coverage by system ({PROFILE})", lambda s, snap, i: across.coverage_by_system(s, profile),
         lambda r: tuple((x["system"], x["threats"], x["addressed"], x["open"], x["components"]) for x in r),
         lambda a: f"{len(a)} systems, {sum(x[1] for x in a)} threats, {sum(x[3] for x in a)} open", 1),
        ("7 SPARQL: threat pairs per system", pairs,
         lambda r: tuple((x["system"], int(x["pairs"])) for x in r),
         lambda a: f"{len(a)} systems, {sum(x[1] for x in a)} pairs", None),
    ]


def _summary(signature) -> str:
    text = repr(signature)
    return text if len(text) <= 160 else text[:157] + "..."


# ------------------------------------------------------------------ output
def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def _cell(samples: list[float] | None, repeat: int) -> str:
    if not samples:
        return "-"
    if len(samples) == 1:
        return _duration(samples[0]) + (" (1 run)" if repeat > 1 else "")
    text = f"{_duration(statistics.median(samples))} / {_duration(_p95(samples))}"
    return text + (f" ({len(samples)} runs)" if len(samples) < repeat else "")


def _ratio(samples, base) -> str:
    if not samples or not base:
        return "-"
    return f"{statistics.median(samples) / statistics.median(base):.1f}x"


def table(rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows[1:]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join([lines[0], "-" * (sum(widths) + 2 * (len(widths) - 1))] + lines[1:])


def report(size, components, names, loads, push, results, repeat, markdown) -> str:
    header = ["query"] + [f"{name} p50 / p95" for name in names] + [f"{name} ÷ embedded" for name in names[1:]]
    if names[0] != "embedded":
        header = header[:1 + len(names)]
    rows = [header]

    def row(label, per_store, reps):
        cells = [_cell(per_store.get(name), reps) for name in names]
        ratios = [_ratio(per_store.get(name), per_store.get("embedded")) for name in names[1:]] \
            if names[0] == "embedded" else []
        rows.append([label] + cells + ratios)

    if push:
        row("load: push the catalog release (once)", {k: [v] for k, v in push.items()}, 1)
    added = len(next(iter(loads.values())))
    row(f"load: add a system of {components} components ({added} added)", loads, added)
    for label, cells in results.items():
        reps = 1 if label.startswith("6") else repeat
        row(label, {name: cell.samples for name, cell in cells.items()}, reps)
    title = f"{size} system{'s' if size != 1 else ''} of {components} components ({size * components} components)"
    return (f"### {title}\n\n" if markdown else f"{title}\n") + table(rows, markdown)


def agreement(results: dict, names: list[str]) -> list[str]:
    """Differences between each store's answers and the first store's (run by run)."""
    problems = []
    for label, cells in results.items():
        base = names[0]
        if base not in cells:
            continue
        for name in names[1:]:
            if name not in cells:
                continue
            for i, (mine, theirs) in enumerate(zip(cells[name].answers, cells[base].answers)):
                if mine != theirs:
                    problems.append(f"  {label}, run {i + 1}: {name} {_summary(mine)} != {base} {_summary(theirs)}")
    return problems


# ------------------------------------------------------------------ main
def load_machine() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
    except OSError:
        return f"{os.cpu_count()} cores"


def bench(args, urls: dict[str, str]) -> int:
    names = [name for name in STORES if name in urls]
    stores = {name: open_store(urls[name]) for name in names}
    sizes = sorted({int(s) for s in args.systems.split(",")})
    profile = load_profile(PROFILE)
    threat = str(iri_of(THREAT))
    if installed.current() is None:
        print(f"note: no catalogs installed ({installed.not_installed_message()}): STRIDE only", file=sys.stderr)
    say = lambda text: print(f"... {text}", file=sys.stderr, flush=True)  # noqa: E731
    began = time.monotonic()
    print(f"bench/stores.py: {', '.join(f'{n} = {urls[n]}' for n in names)}; {load_machine()} at start")
    print(f"repeat {args.repeat} (a cell stops after {args.budget:g} s), cross-system coverage up to "
          f"{args.cross_max} systems; cells are median / p95 over the runs\n", flush=True)

    push = {}
    for name, store in stores.items():
        existing = registry.snapshot(store).systems
        if existing:
            raise SystemExit(f"the {name} store already holds systems ({', '.join(sorted(existing)[:5])} …): "
                             "give an empty one")
        _, push[name] = _timed(lambda: releases.ensure(store))
        say(f"{name}: catalogs pushed in {push[name]:.1f} s")

    loaded, differences = 0, 0
    for size in sizes:
        loads = {name: [] for name in names}
        for i in range(loaded, size):
            sid = f"sys-{i:03d}"
            source = yaml.safe_dump(generate(args.components, seed=i, system=sid), sort_keys=False)
            model = parse_model(source, f"{sid}.yaml", validate=False)
            for name, store in stores.items():
                loads[name].append(_timed(lambda: versions.add(store, model, source))[1])
            if (i + 1) % 10 == 0 or i + 1 == size:
                say(f"{i + 1} systems loaded ({time.monotonic() - began:.0f} s)")
        loaded = size
        results, described = {}, {}
        snaps = {name: registry.snapshot(store) for name, store in stores.items()}
        for name, store in stores.items():   # process-wide caches (ontology, TBox, profiles) outside the measure
            analysis = versions.analysis(store, snaps[name], _system(0, size))
            threat_rows(analysis, component=_component(0, args.components))
        for label, fn, signature, describe, most in queries(size, args.components, profile, threat):
            if label.startswith("6") and size > args.cross_max:
                continue
            results[label], described[label.split()[0]] = {}, describe
            for name, store in stores.items():
                results[label][name] = Cell().run(lambda i: fn(store, snaps[name], i), signature,
                                                  most or args.repeat, args.budget)
                say(f"{size} systems, {label}, {name}: {len(results[label][name].samples)} runs, "
                    f"median {_duration(statistics.median(results[label][name].samples))}")
        print(report(size, args.components, names, {n: loads[n] for n in names}, push if size == sizes[0] else {},
                     results, args.repeat, args.markdown))
        first = {label.split()[0]: cells[names[0]].answers[0] for label, cells in results.items()}
        print(f"\nanswers (run 1, {names[0]}): " + "; ".join(f"{q}: {described[q](a)}" for q, a in first.items()))
        problems = agreement(results, names)
        differences += len(problems)
        if len(names) > 1:
            print(f"answers: {'the same' if not problems else 'DIFFERENT'} on {', '.join(names)} "
                  f"({len(results)} queries, compared run by run)" + (":" if problems else ""))
            if problems:
                print("\n".join(problems))
        if size > args.cross_max:
            print(f"(query 6 skipped above --cross-max {args.cross_max} systems)")
        print(f"({load_machine()}; {time.monotonic() - began:.0f} s so far)\n", flush=True)
    print(f"total {time.monotonic() - began:.0f} s")
    return 1 if differences else 0


def _terminated(*_) -> None:
    print("terminated (SIGTERM)", file=sys.stderr, flush=True)
    sys.exit(143)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", default="1,10,100", help="numbers of stored systems to measure at")
    parser.add_argument("--components", type=int, default=100, help="components per generated system")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query and store")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds after which a query stops being repeated on a store (at least one run)")
    parser.add_argument("--cross-max", type=int, default=100, help="largest size the cross-system coverage runs at")
    parser.add_argument("--stores", default=",".join(STORES), help="which of embedded,oxigraph,virtuoso")
    parser.add_argument("--oxigraph", metavar="URL", help="a running, empty Oxigraph server (base URL)")
    parser.add_argument("--virtuoso", metavar="URL", help="a running, empty Virtuoso (http://HOST:PORT/sparql)")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables")
    args = parser.parse_args()
    wanted = [s.strip() for s in args.stores.split(",") if s.strip()]
    if unknown := set(wanted) - set(STORES):
        parser.error(f"unknown store(s): {', '.join(sorted(unknown))}")
    signal.signal(signal.SIGTERM, _terminated)   # stop the servers on SIGTERM too
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="threatkg-bench-stores-")))
        urls = {}
        if "embedded" in wanted:
            urls["embedded"] = "memory:"
        if "oxigraph" in wanted:
            if not args.oxigraph:
                (work / "oxigraph").mkdir()
            urls["oxigraph"] = args.oxigraph or stack.enter_context(oxigraph_server(work / "oxigraph")).base_url
        if "virtuoso" in wanted:
            urls["virtuoso"] = args.virtuoso or stack.enter_context(virtuoso_server(work / "virtuoso")).query_url
        try:
            status = bench(args, urls)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            status = 130
    sys.exit(status)


if __name__ == "__main__":
    main()
