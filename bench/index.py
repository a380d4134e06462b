"""The answer index against the full catalog graphs: quads, and the time to load each into a fresh
pyoxigraph store, the index in every serialization that keeps graph names (N-Quads, TriG, one
N-Triples document per graph), strict and lenient, and its table rows (JSON), each run interleaved
with the others.

    python bench/index.py [--repeat 7]

Reads the release installed under THREATKG_HOME (fetched by this version, so it has an index).
"""

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyoxigraph import RdfFormat, Store, parse, serialize  # noqa: E402

from kg.catalogs import index, installed  # noqa: E402


def _full(release):
    def load():
        store = Store()
        for path in release.graph_files() + [release.inferred_file]:
            store.load(path=str(path), format=RdfFormat.N_QUADS)
        return store
    return load


def _document(data: bytes, fmt, lenient: bool):
    return lambda: Store().load(data, format=fmt, lenient=lenient)


def _per_graph(documents: dict, lenient: bool):
    def load():
        store = Store()
        for graph, data in documents.items():
            store.load(data, format=RdfFormat.N_TRIPLES, to_graph=graph, lenient=lenient)
        return store
    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    release = installed.require()
    path = index.usable(release)
    if path is None:
        sys.exit(f"{release.path}: no answer index of the current rules: run `threatkg catalogs fetch`")
    quads = list(parse(path=str(path), format=RdfFormat.N_QUADS))
    by_graph = defaultdict(list)
    for q in quads:
        by_graph[q.graph_name].append(q.triple)
    nquads, trig = path.read_bytes(), serialize(quads, format=RdfFormat.TRIG)
    tables = (release.path / index.TABLES).read_bytes()
    triples = {g: serialize(ts, format=RdfFormat.N_TRIPLES) for g, ts in by_graph.items()}
    runs = {"full graphs, N-Quads": _full(release),
            **{f"index, {name}{' lenient' if lenient else ''}": make(lenient)
               for lenient in (False, True)
               for name, make in (("N-Quads", lambda le: _document(nquads, RdfFormat.N_QUADS, le)),
                                  ("TriG", lambda le: _document(trig, RdfFormat.TRIG, le)),
                                  ("N-Triples per graph", lambda le: _per_graph(triples, le)))},
            "index tables, JSON": lambda: json.loads(tables)}
    samples = defaultdict(list)
    for _ in range(args.repeat):
        for name, load in runs.items():
            started = time.perf_counter()
            load()
            samples[name].append(time.perf_counter() - started)
    full = sum(1 for p in release.graph_files() + [release.inferred_file]
               for _ in parse(path=str(p), format=RdfFormat.N_QUADS))
    print(f"quads: full {full}, index {len(quads)} ({len(quads) / full:.0%}); "
          f"bytes: N-Quads {len(nquads)}, TriG {len(trig)}, N-Triples {sum(map(len, triples.values()))}, "
          f"tables {len(tables)}")
    base = statistics.median(samples["full graphs, N-Quads"])
    for name, times in samples.items():
        median = statistics.median(times)
        print(f"{name:36} median {median * 1000:6.0f} ms  min {min(times) * 1000:6.0f} ms  "
              f"({median / base:.2f} of full)")


if __name__ == "__main__":
    main()
