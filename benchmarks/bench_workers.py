"""create + get throughput of ``fake-salesforce serve`` with one process and with ``--workers N``.

    python benchmarks/bench_workers.py [--workers 2] [--threads 8] [--seconds 10] [--rounds 3]

Client threads (each its own simple-salesforce client, logged in once) create a Contact and
get it back, in a loop, against one server, then against N worker processes sharing the org;
rounds interleave the two and the median is taken. Besides pairs per second, the CPU seconds
each side spent (the client process, the server's processes, from /proc) say what bounds the
figure: on a 2-core machine the client threads themselves take about one core.

After the load on the workers it checks what they must keep: every created id distinct and
readable, the record count, and the API count equal to the calls made. Target: N = 2 at
least 1.3x one process, 0 errors.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

import fake_salesforce  # noqa: E402
from fake_salesforce.control import ControlClient  # noqa: E402

SERVE = [sys.executable, "-c", "from fake_salesforce.cli import main; main()", "serve", "--port", "0", "--quiet"]


@contextlib.contextmanager
def server(workers: int):
    """A served org; yields its URL and the pids of the processes that serve it."""
    argv = SERVE + (["--workers", str(workers)] if workers > 1 else [])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        url, pids = None, [proc.pid]
        while True:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{argv} did not start")
            if "listening on" in line:
                url = line.rsplit(" ", 1)[1].strip()
                if workers == 1:
                    break
            if "worker processes" in line:
                pids = [int(p) for p in line.split("pids ", 1)[1].rstrip(")\n").split(", ")]
                break
        yield url, pids
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def load(url: str, pids: list[int], threads: int, seconds: float) -> dict:
    """Pairs per second, errors, ids made, and CPU seconds per pair of client and server."""
    clients = [fake_salesforce.connect(url) for _ in range(threads)]
    made: list[list[str]] = [[] for _ in range(threads)]
    errors: list[str] = []
    calls = [0] * threads
    barrier = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def run(n: int) -> None:
        sf = clients[n]
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            try:
                calls[n] += 1
                record_id = sf.Contact.create({"LastName": f"W{n}"})["id"]
                calls[n] += 1
                if sf.Contact.get(record_id)["Id"] != record_id:
                    errors.append(f"get {record_id} answered another record")
                made[n].append(record_id)
            except Exception as e:  # noqa: BLE001  (counted and shown, never hidden)
                errors.append(f"{type(e).__name__}: {e}"[:200])

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    client_cpu, server_cpu = time.process_time(), cpu_seconds(pids)
    stop_at[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    barrier.wait()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    pairs = sum(len(m) for m in made)
    return {"pairs_per_s": pairs / elapsed, "errors": errors, "ids": [i for m in made for i in m],
            "calls": sum(calls),
            "client_cpu_ms": (time.process_time() - client_cpu) / max(pairs, 1) * 1000,
            "server_cpu_ms": (cpu_seconds(pids) - server_cpu) / max(pairs, 1) * 1000}


def check(url: str, ids: list[str], calls: int) -> list[str]:
    """What the workers must keep; the problems found."""
    problems = []
    if len(set(ids)) != len(ids):
        problems.append(f"{len(ids) - len(set(ids))} ids handed out twice")
    sf = fake_salesforce.connect(url)
    sf.session.headers["Connection"] = "close"   # each request may reach another process
    counted = sf.query("SELECT COUNT() FROM Contact")["totalSize"]
    if counted != len(ids):
        problems.append(f"{counted} Contacts in the org, {len(ids)} created")
    sample = ids[:: max(len(ids) // 200, 1)]
    for record_id in sample:
        if sf.Contact.get(record_id)["Id"] != record_id:
            problems.append(f"{record_id} not readable")
    api = requests.get(f"{url}/_fake/requests?limit=1").json()["api_requests"]
    if api != calls + 1 + len(sample):
        problems.append(f"API count {api}, calls made {calls + 1 + len(sample)}")
    return problems


def main(argv=None) -> int:
    from tabulate import tabulate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.workers < 2:
        parser.error("--workers must be at least 2 (it is compared with one process)")
    figures: dict[str, list[dict]] = {"1 process": [], f"{args.workers} workers": []}
    problems: list[str] = []
    with server(1) as (one_url, one_pids), server(args.workers) as (many_url, many_pids):
        for _ in range(args.rounds):
            for name, url, pids in (("1 process", one_url, one_pids),
                                    (f"{args.workers} workers", many_url, many_pids)):
                ControlClient(url).reset()
                result = load(url, pids, args.threads, args.seconds)
                figures[name].append(result)
                if name != "1 process":
                    problems += check(url, result["ids"], result["calls"])
    rows = []
    for name, results in figures.items():
        rows.append([name, f"{statistics.median(r['pairs_per_s'] for r in results):,.0f}",
                     sum(len(r["errors"]) for r in results),
                     f"{statistics.median(r['client_cpu_ms'] for r in results):.2f}",
                     f"{statistics.median(r['server_cpu_ms'] for r in results):.2f}"])
    one = statistics.median(r["pairs_per_s"] for r in figures["1 process"])
    many = statistics.median(r["pairs_per_s"] for r in figures[f"{args.workers} workers"])
    print(tabulate(rows, headers=["server", "create+get pairs/s", "errors", "client CPU ms a pair",
                                  "server CPU ms a pair"], tablefmt="github"))
    print(f"\n{args.workers} workers / 1 process: {many / one:.2f}x (target >= 1.3x, 0 errors), "
          f"{args.threads} client threads, {os.cpu_count()} CPUs")
    for name, results in figures.items():
        for r in results:
            for e in r["errors"][:3]:
                print(f"error ({name}): {e}")
    for p in problems:
        print(f"PROBLEM: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
