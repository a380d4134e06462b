"""How fast the answers are, against the goals of the assess-once issue, each figure next to a
baseline measured in the same run (a bare `import rdflib, pyoxigraph` process; pyoxigraph loading
the same triples), with the ratio.

    python bench/answers.py [--sizes 1000] [--samples 20]

Whole commands are timed as fresh processes (wall seconds, median of 3): about a model file the
first time (its kept answers dropped before each run) and again (read from the answers kept for it),
and about systems kept in a store (answers kept with their versions); in-process figures are medians /
p95 over `--samples` components of a generated system; the web row serves the example with waitress
(bench/load.py) and compares the component page's p95 under `--clients` clients with one client's.
"""

import argparse
import gc
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402
from bench.load import measure, p95, start_server  # noqa: E402
from kg.analysis import analyse  # noqa: E402
from kg.coverage import coverage  # noqa: E402
from kg.model.load import parse_model  # noqa: E402
from kg.paths import home  # noqa: E402
from kg.profiles import DEFAULT_PROFILE, load  # noqa: E402
from kg.store import open_store  # noqa: E402
from kg.systems import releases, versions  # noqa: E402
from kg.threats import threat_rows  # noqa: E402

EXAMPLE = ROOT / "examples" / "ai-system.yaml"


def wall(command: list[str], runs: int = 3, before=lambda: None) -> float:
    times = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def forget_answers():
    """Drop the answers kept for model files, so that the next command computes them."""
    shutil.rmtree(home() / "cache" / "answers", ignore_errors=True)


def timed(fn):
    """Seconds fn takes, the garbage of the steps before collected first (not billed to fn)."""
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def row(name: str, goal: str, value: str, baseline: str = "", ratio: str = "") -> None:
    print(f"{name:58} {goal:>14} {value:>12} {baseline:>22} {ratio:>8}")


def fill(folder: str, count: int) -> None:
    """An embedded store holding the example and count - 1 generated 6-component systems."""
    store = open_store(folder)
    releases.ensure(store)
    versions.add(store, parse_model(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE)),
                 EXAMPLE.read_text(encoding="utf-8"))
    for i in range(1, count):
        text = yaml.safe_dump(generate(6, seed=i, system=f"sys-{i:03}"))
        versions.add(store, parse_model(text, f"sys-{i:03}.yaml"), text)
    del store       # the store's lock is released with it: the timed processes open the folder


def web_row(clients: int, seconds: float) -> None:
    """The component page under `clients` concurrent clients (with the threats API), against one client."""
    child, port = start_server([str(EXAMPLE)], threads=8)
    try:
        paths = ["/system/ai-system/component/ai-model", "/api/systems/ai-system/threats"]
        alone, _, _ = measure(port, paths[:1], 1, 3.0)
        samples, errors, _ = measure(port, paths, clients, seconds)
    finally:
        child.terminate()
        child.wait(timeout=10)
    loaded = p95(samples[paths[0]])
    row(f"web: component page, {clients} clients, p95 ({errors} errors)", "<= 50 ms, 0 err", f"{loaded:.1f} ms",
        f"1 client {p95(alone[paths[0]]):.1f} ms", f"{loaded / p95(alone[paths[0]]):.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000", help="components of the generated systems")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--systems", type=int, default=100, help="systems in the store of the cross-system row")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients of the web row (0: none)")
    parser.add_argument("--load-seconds", type=float, default=15.0)
    args = parser.parse_args()
    python = sys.executable
    bare = wall([python, "-c", "import rdflib, pyoxigraph"])
    print(f"{'operation':58} {'goal':>14} {'measured':>12} {'baseline':>22} {'ratio':>8}")
    for name, command, goal in (
            ("threats examples/ai-system.yaml --format json (process)", ["threats", str(EXAMPLE), "--format", "json"],
             "<= 1 s, 2.5x"),
            ("coverage --profile asvs-4.0.3-L1 (process)", ["coverage", str(EXAMPLE), "--profile", "asvs-4.0.3-L1"],
             "<= 1.2 s"),
            ("report --format html (process)", ["report", str(EXAMPLE), "--format", "html", "-o", "/dev/null"],
             "<= 1.2 s")):
        first = wall([python, "-m", "kg.cli", *command], before=forget_answers)
        kept = wall([python, "-m", "kg.cli", *command])
        row(name + ", first", goal, f"{first:.2f} s", f"bare import {bare:.2f} s", f"{first / bare:.1f}x")
        row(name + ", kept answers", goal, f"{kept:.2f} s", f"first {first:.2f} s", f"{kept / bare:.1f}x bare")
    with tempfile.TemporaryDirectory() as store:
        subprocess.run([python, "-m", "kg.cli", "systems", "add", str(EXAMPLE), "--store", store],
                       check=True, capture_output=True, cwd=ROOT)
        for name, command, goal in (
                ("threats ai-system --store DIR (process)", ["threats", "ai-system"], "<= 0.3 s"),
                ("coverage ai-system --store DIR, default profile (process)",
                 ["coverage", "ai-system", "--profile", DEFAULT_PROFILE], "<= 0.3 s"),
                ("systems threat CAPEC-66 --open, 1 system (process)", ["systems", "threat", "CAPEC-66", "--open"],
                 "<= 50 ms + process")):
            seconds = wall([python, "-m", "kg.cli", *command, "--store", store])
            row(name, goal, f"{seconds:.2f} s", f"bare import {bare:.2f} s", f"{seconds / bare:.1f}x")
    if args.systems:
        with tempfile.TemporaryDirectory() as store:
            fill(store, args.systems)
            seconds = wall([python, "-m", "kg.cli", "systems", "threat", "CAPEC-66", "--open", "--store", store])
            row(f"systems threat CAPEC-66 --open, {args.systems} systems (process)", "<= 0.5 s", f"{seconds:.2f} s",
                f"bare import {bare:.2f} s", f"{seconds / bare:.1f}x")
    if args.clients:
        web_row(args.clients, args.load_seconds)
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        text = yaml.safe_dump(generate(size, seed=7, system=f"gen-{size}"))
        model = parse_model(text, f"gen-{size}.yaml")
        started = time.perf_counter()
        analysis = analyse(model)
        reasoned = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as folder:
            data = Path(folder) / "model.nt"
            data.write_bytes(model.graph.serialize(format="nt", encoding="utf-8"))
            from pyoxigraph import RdfFormat, Store
            load_only = timed(lambda: Store().load(path=str(data), format=RdfFormat.N_TRIPLES))
        row(f"analyse a {size}-component model (infer + catalogs)", "<= 15 s at 10k", f"{reasoned:.2f} s",
            f"load only {load_only:.3f} s", f"{reasoned / max(load_only, 1e-6):.0f}x")
        ids = sorted({r["component"] for r in threat_rows(analysis, explain=False)})[:args.samples]
        samples = sorted(timed(lambda i=i: threat_rows(analysis, i)) * 1000 for i in ids)
        p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
        row(f"one component's explained threats, {size} components (p95)", "<= 10 ms at 1k",
            f"{p95:.1f} ms", f"median {statistics.median(samples):.1f} ms")
        rows = []
        all_rows = timed(lambda: rows.extend(threat_rows(analysis)))
        row(f"all threats of {size} components, explained", "<= 2 s at 1k", f"{all_rows:.2f} s")
        profile = load("asvs-4.0.3-L1")
        row(f"coverage of {size} components (asvs-4.0.3-L1), rows computed", "<= 1 s at 1k",
            f"{timed(lambda: coverage(analysis, profile, rows)):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
