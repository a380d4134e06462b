"""A bounded local load test: the web app served by waitress on 127.0.0.1 (a child process started
here, stopped at the end), N concurrent keep-alive clients for S seconds, each going round the
component page, the JSON API's threats of the system and a cheap SPARQL query. With --heavy H, the
same run is repeated with H more clients each sending a heavy (seconds-long, finite) SPARQL query
in a loop. Prints, for each run, requests/s, errors (any cheap request not answered 200) and
p50/p95/p99 latency of each cheap path, and what the heavy queries got (200, 503, 429, other);
exits 1 when a cheap request failed. Every client connects from its own loopback address
(127.0.0.2, 127.0.0.3 …), as distinct users would, so the per-address SPARQL limit applies to each.
Catalogs come from THREATKG_HOME as usual.

    python bench/load.py [--clients 20] [--seconds 30] [--heavy 0] [--threads 16]
                         [--system ai-system] [--component ai-model] [MODEL ...]
"""

import argparse
import http.client
import logging
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ai-system.yaml"
HOST = "127.0.0.1"   # loopback only
CHEAP_QUERY = "SELECT ?c ?label WHERE { ?c a tm:Component ; rdfs:label ?label } ORDER BY ?c LIMIT 20"
# Every pair of statements sharing a node, counted: a join over the catalogs that takes seconds.
HEAVY_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?b ?q ?c . FILTER(isIRI(?c)) }"


def sparql_path(query: str) -> str:
    return "/sparql?query=" + quote(query)


def serve(models: list[str], threads: int) -> None:
    """The child: serve the app on a free loopback port and print that port."""
    from waitress import create_server

    from kg.web import create_app
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)   # queued requests are expected here
    server = create_server(create_app(models), host=HOST, port=0, threads=threads)
    print(server.effective_port, flush=True)
    server.run()


def start_server(models: list[str], threads: int) -> tuple[subprocess.Popen, int]:
    child = subprocess.Popen([sys.executable, __file__, "--serve", "--threads", str(threads), *models],
                             stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    if not line.strip().isdigit():
        child.kill()
        raise SystemExit(f"the server did not start (exit code {child.wait()})")
    return child, int(line)


def connect(port: int, number: int) -> http.client.HTTPConnection:
    """A connection from client `number`'s own loopback address (127.0.0.2, 127.0.0.3 …)."""
    return http.client.HTTPConnection(HOST, port, timeout=60, source_address=(f"127.0.{number // 250}.{2 + number % 250}", 0))


def fetch(connection: http.client.HTTPConnection, path: str) -> int:
    accept = "application/sparql-results+json" if path.startswith("/sparql") else "text/html,application/json"
    connection.request("GET", path, headers={"Accept": accept})
    response = connection.getresponse()
    response.read()
    return response.status


def client(port: int, number: int, paths: list[str], deadline: float, samples: dict, statuses: Counter,
           lock: threading.Lock):
    """One client: the paths in turn over one keep-alive connection (a new one after a failure)."""
    connection = connect(port, number)
    mine, seen, turn = {path: [] for path in paths}, Counter(), 0
    while time.monotonic() < deadline:
        path = paths[turn % len(paths)]
        turn += 1
        started = time.perf_counter()
        try:
            seen[fetch(connection, path)] += 1
        except (OSError, http.client.HTTPException):
            seen["failed"] += 1
            connection.close()
            connection = connect(port, number)
        mine[path].append(time.perf_counter() - started)
    connection.close()
    with lock:
        for path, latencies in mine.items():
            samples[path] += latencies
        statuses.update(seen)


def percentiles(latencies: list[float]) -> str:
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return f"p50 {cuts[49] * 1000:7.1f} ms  p95 {cuts[94] * 1000:7.1f} ms  p99 {cuts[98] * 1000:7.1f} ms"


def measure(port: int, paths: list[str], clients: int, seconds: float, heavy: int) -> tuple[dict, Counter, dict, Counter, float]:
    """Latencies per path and statuses of `clients` cheap clients, and the same of `heavy` clients
    sending the heavy query, over `seconds`; and the elapsed seconds."""
    warm = connect(port, 0)
    for path in paths:   # the first request of each builds the system's view: not part of the measure
        if fetch(warm, path) != 200:
            raise SystemExit(f"GET {path} does not answer 200")
    warm.close()
    lock, deadline = threading.Lock(), time.monotonic() + seconds
    cheap, heavy_paths = ({path: [] for path in paths}, Counter()), ({sparql_path(HEAVY_QUERY): []}, Counter())
    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(port, n, paths, deadline, *cheap, lock)) for n in range(clients)]
    workers += [threading.Thread(target=client, args=(port, clients + n, list(heavy_paths[0]), deadline, *heavy_paths, lock))
                for n in range(heavy)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return *cheap, *heavy_paths, time.monotonic() - started


def load(port: int, paths: list[str], clients: int, seconds: float, heavy: int, names: dict) -> int:
    samples, statuses, heavy_samples, heavy_statuses, elapsed = measure(port, paths, clients, seconds, heavy)
    every = [s for latencies in samples.values() for s in latencies]
    errors = sum(n for status, n in statuses.items() if status != 200)
    print(f"{clients} clients{f' + {heavy} heavy' if heavy else ''}, {elapsed:.1f} s: {len(every)} requests, "
          f"{len(every) / elapsed:.1f} requests/s, {errors} errors {dict(statuses) if errors else ''}")
    print(f"  {'all':<24} {percentiles(every)}")
    for path, latencies in samples.items():
        print(f"  {names[path]:<24} {percentiles(latencies)}  ({len(latencies)} requests)")
    if heavy:
        [latencies] = heavy_samples.values()
        print(f"  {'heavy query':<24} {percentiles(latencies)}  statuses {dict(sorted(heavy_statuses.items(), key=str))}")
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=[str(EXAMPLE)])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--heavy", type=int, default=0, help="clients sending the heavy SPARQL query (a second run)")
    parser.add_argument("--threads", type=int, default=16, help="waitress worker threads (as `threatkg serve`)")
    parser.add_argument("--system", default="ai-system")
    parser.add_argument("--component", default="ai-model")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.models, args.threads)
        return
    names = {f"/system/{args.system}/component/{args.component}": "component page",
             f"/api/systems/{args.system}/threats": "threats API", sparql_path(CHEAP_QUERY): "cheap SPARQL"}
    child, port = start_server(args.models, args.threads)
    try:
        failed = load(port, list(names), args.clients, args.seconds, 0, names)
        if args.heavy:
            failed += load(port, list(names), args.clients, args.seconds, args.heavy, names)
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
