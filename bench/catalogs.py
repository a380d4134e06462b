"""Installed catalogs + the seed model: load the pre-materialized catalogs and infer the seed
with the fast engine (target: at most 1 s), next to owlrl reasoning over the same data.

    python bench/catalogs.py [--from ../shared/catalogs] [--skip-owlrl]

Uses the catalogs installed under THREATKG_HOME; with --from it first installs them into a
temporary THREATKG_HOME through `threatkg catalogs fetch --from DIR`.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from click.testing import CliRunner  # noqa: E402

from kg.analysis import analyse, ontology_ntriples  # noqa: E402
from kg.catalogs import installed  # noqa: E402
from kg.cli import main as cli  # noqa: E402
from kg.model.load import load_model  # noqa: E402
from kg.reasoning import infer, ntriples_of  # noqa: E402
from kg.threats import threat_rows  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ai-system.yaml"


def _seconds(fn, repeat=5):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return result, statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", help="install the catalogs from this folder first")
    parser.add_argument("--skip-owlrl", action="store_true")
    args = parser.parse_args()
    if args.source:
        os.environ["THREATKG_HOME"] = tempfile.mkdtemp(prefix="threatkg-bench-")
        started = time.perf_counter()
        result = CliRunner().invoke(cli, ["catalogs", "fetch", "--from", args.source])
        if result.exit_code:
            sys.exit(result.output)
        print(f"fetch --from (copy, verify, build, materialize): {time.perf_counter() - started:.2f} s")
    release = installed.require()
    model = load_model(EXAMPLE)
    analysis, both = _seconds(lambda: analyse(model))
    _, infer_only = _seconds(lambda: analyse(model, with_catalogs=False))
    rows, query_s = _seconds(lambda: threat_rows(analysis), repeat=3)
    print(f"store after load: {len(analysis.store)} triples")
    print(f"{'step':<52}{'seconds':>10}")
    print(f"{'infer seed (fast), no catalogs':<52}{infer_only:>10.3f}")
    print(f"{'load installed catalogs + closure, infer seed (fast)':<52}{both:>10.3f}")
    print(f"{'all threats of the seed with explanations':<52}{query_s:>10.3f}   ({len(rows)} rows)")
    if not args.skip_owlrl:
        data = ontology_ntriples() + model.graph.serialize(format="nt", encoding="utf-8") + b"".join(
            ntriples_of(path) for path in release.graph_files())
        _, owlrl_s = _seconds(lambda: infer(data, "owlrl"), repeat=1)
        print(f"{'owlrl: closure of catalogs + seed from scratch':<52}{owlrl_s:>10.3f}")
        print(f"ratio owlrl / (load + fast): {owlrl_s / both:.0f}x")


if __name__ == "__main__":
    main()
