"""Load + inference time and per-component threats-query latency, fast engine vs owlrl,
for the example model and generated models; ratios are computed within this one run.
--rounds prints instead, per size, the CPU seconds and peak RSS of the semi-naive fast engine next to
the naive fixpoint (kg.reasoning.baseline), each in its own process.

    python bench/inference.py [--sizes 100,1000,10000] [--owlrl-max 1000] [--queries 50] [--rounds]
"""

import argparse
import resource
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import generate  # noqa: E402
from kg.analysis import analyse  # noqa: E402
from kg.model.load import load_model  # noqa: E402
from kg.threats import threat_rows  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ai-system.yaml"


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def _latencies(analysis, ids, count):
    samples = []
    for element in ids[:count]:
        _, seconds = _timed(lambda: threat_rows(analysis, element))
        samples.append(seconds * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def measure(name, path, n, engines, queries):
    model, load_s = _timed(lambda: load_model(path, validate=False))
    row = {"model": name, "components": n, "triples": len(model.graph), "load_s": load_s}
    ids = [str(model.graph.value(s, model.graph.namespace_manager.expand_curie("dcterms:identifier")))
           for s in model.lines] if model.lines else []
    ids = [i for i in ids if i.startswith("c") or name == "example"]
    for engine in engines:
        analysis, infer_s = _timed(lambda: analyse(model, engine))
        row[f"{engine}_infer_s"] = infer_s
        row[f"{engine}_inferred"] = len(analysis.inference.inferred())
        if engine == "fast":
            row["p50_ms"], row["p95_ms"] = _latencies(analysis, ids or ["ai-model"], queries)
    if "owlrl_infer_s" in row:
        row["ratio"] = row["owlrl_infer_s"] / row["fast_infer_s"]
    return row


def _child(n: int, engine: str) -> None:
    """Reason over generated-n with `engine` (fast or naive); print CPU seconds of reasoning and peak RSS MB."""
    from pyoxigraph import RdfFormat, Store

    from kg.analysis import model_ntriples, ontology_ntriples
    from kg.reasoning import baseline, fast, run_steps
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bench-{n}.yaml"
        path.write_text(yaml.safe_dump(generate(n), sort_keys=False))
        data = ontology_ntriples() + model_ntriples(load_model(path, validate=False))
    store = Store()
    store.load(data, RdfFormat.N_TRIPLES)
    run_steps(store)
    started = time.process_time()
    (fast if engine == "fast" else baseline).materialize(store)
    print(time.process_time() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(store))


def rounds(sizes) -> None:
    print(f"{'comps':>7}{'triples':>10}{'naive cpu s':>13}{'fast cpu s':>12}{'naive/fast':>12}"
          f"{'naive RSS MB':>14}{'fast RSS MB':>13}")
    for n in sizes:
        runs = {}
        for engine in ("naive", "fast"):
            out = subprocess.run([sys.executable, __file__, "--child", f"{n}:{engine}"], check=True,
                                 capture_output=True, text=True).stdout.split()
            runs[engine] = (float(out[0]), float(out[1]), int(out[2]))
        assert runs["naive"][2] == runs["fast"][2], "the engines disagree on the closure's size"
        print(f"{n:>7}{runs['fast'][2]:>10}{runs['naive'][0]:>13.2f}{runs['fast'][0]:>12.2f}"
              f"{runs['naive'][0] / runs['fast'][0]:>11.1f}x{runs['naive'][1]:>14.0f}{runs['fast'][1]:>13.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--owlrl-max", type=int, default=1000, help="largest model owlrl is run on")
    parser.add_argument("--queries", type=int, default=50, help="components queried per model")
    parser.add_argument("--rounds", action="store_true", help="semi-naive fast engine vs the naive fixpoint")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        n, engine = args.child.split(":")
        return _child(int(n), engine)
    if args.rounds:
        return rounds(int(s) for s in args.sizes.split(","))
    rows = [measure("example", EXAMPLE, 9, ["fast", "owlrl"], args.queries)]
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"bench-{n}.yaml"
            path.write_text(yaml.safe_dump(generate(n), sort_keys=False))
            engines = ["fast", "owlrl"] if n <= args.owlrl_max else ["fast"]
            rows.append(measure(f"generated-{n}", path, n, engines, args.queries))
            print(f"... {n} components done", file=sys.stderr, flush=True)
    header = (f"{'model':<16}{'comps':>7}{'triples':>9}{'load s':>8}{'fast s':>9}{'owlrl s':>9}{'owlrl/fast':>11}"
              f"{'inferred':>10}{'p50 ms':>8}{'p95 ms':>8}")
    print(header)
    print("-" * len(header))
    for r in rows:
        owlrl = f"{r['owlrl_infer_s']:.2f}" if "owlrl_infer_s" in r else "-"
        ratio = f"{r['ratio']:.0f}x" if "ratio" in r else "-"
        print(f"{r['model']:<16}{r['components']:>7}{r['triples']:>9}{r['load_s']:>8.2f}{r['fast_infer_s']:>9.3f}"
              f"{owlrl:>9}{ratio:>11}{r['fast_inferred']:>10}{r['p50_ms']:>8.1f}{r['p95_ms']:>8.1f}")


if __name__ == "__main__":
    main()
