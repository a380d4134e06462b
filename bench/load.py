"""A bounded local load test: the web app served by waitress on 127.0.0.1 (a child process started
here, stopped at the end), N concurrent keep-alive clients for S seconds, each alternating the
component page and the JSON API's threats of the system. Prints requests/s, p50/p95/p99 latency
and the error count; exits 1 when a request failed. Catalogs come from THREATKG_HOME as usual.

    python bench/load.py [--clients 20] [--seconds 30] [--threads 8] [--system ai-system]
                         [--component ai-model] [MODEL ...]
"""

import argparse
import http.client
import logging
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ai-system.yaml"
HOST = "127.0.0.1"   # loopback only


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


def fetch(connection: http.client.HTTPConnection, path: str) -> int:
    connection.request("GET", path, headers={"Accept": "text/html,application/json"})
    response = connection.getresponse()
    response.read()
    return response.status


def client(port: int, paths: list[str], deadline: float, samples: dict, errors: list, lock: threading.Lock):
    """One client: the paths in turn over one keep-alive connection (a new one after a failure)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    mine = {path: [] for path in paths}
    failed, turn = 0, 0
    while time.monotonic() < deadline:
        path = paths[turn % len(paths)]
        turn += 1
        started = time.perf_counter()
        try:
            ok = fetch(connection, path) == 200
        except (OSError, http.client.HTTPException):
            ok = False
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=60)
        mine[path].append(time.perf_counter() - started)
        failed += not ok
    connection.close()
    with lock:
        for path, latencies in mine.items():
            samples[path] += latencies
        errors.append(failed)


def percentiles(latencies: list[float]) -> str:
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return f"p50 {cuts[49] * 1000:7.1f} ms  p95 {cuts[94] * 1000:7.1f} ms  p99 {cuts[98] * 1000:7.1f} ms"


def measure(port: int, paths: list[str], clients: int, seconds: float) -> tuple[dict, int, float]:
    """Latencies per path, failed requests and elapsed seconds of `clients` clients for `seconds`."""
    warm = http.client.HTTPConnection(HOST, port, timeout=120)
    for path in paths:   # the first request of each builds the system's view: not part of the measure
        if fetch(warm, path) != 200:
            raise SystemExit(f"GET {path} does not answer 200")
    warm.close()
    samples, errors, lock = {path: [] for path in paths}, [], threading.Lock()
    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(port, paths, started + seconds, samples, errors, lock))
               for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return samples, sum(errors), time.monotonic() - started


def p95(latencies: list[float]) -> float:
    """The 95th percentile, in milliseconds."""
    return (statistics.quantiles(latencies, n=100)[94] if len(latencies) > 1 else latencies[0]) * 1000


def load(port: int, paths: list[str], clients: int, seconds: float) -> int:
    samples, errors, elapsed = measure(port, paths, clients, seconds)
    every = [s for latencies in samples.values() for s in latencies]
    print(f"{clients} clients, {elapsed:.1f} s: {len(every)} requests, {len(every) / elapsed:.1f} requests/s, "
          f"{errors} errors")
    print(f"  all{' ' * 46}{percentiles(every)}")
    for path, latencies in samples.items():
        print(f"  {path:<48} {percentiles(latencies)}  ({len(latencies)} requests)")
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=[str(EXAMPLE)])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    parser.add_argument("--system", default="ai-system")
    parser.add_argument("--component", default="ai-model")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.models, args.threads)
        return
    paths = [f"/system/{args.system}/component/{args.component}", f"/api/systems/{args.system}/threats"]
    child, port = start_server(args.models, args.threads)
    try:
        failed = load(port, paths, args.clients, args.seconds)
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
