"""create + get throughput of ``fake-salesforce serve`` with one process and with ``--workers N``.

    python benchmarks/bench_workers.py [--workers 2] [--threads 8] [--seconds 5] [--rounds 3]
                                       [--client-processes 2]

Client threads create a Contact and get it back, in a loop, against one server, then against N
worker processes sharing the org; rounds interleave them and the median is taken. Two clients:

- ``simple-salesforce``: each thread its own simple-salesforce client (logged in once), all in
  this one Python process. It spends over 1 ms of CPU a pair, so with 8 threads its own GIL
  caps it below what one server process can answer: no number of workers shows there.
- ``light``: the same requests, byte for byte (the headers simple-salesforce's session would
  send, its session id included, captured from it), written on keep-alive sockets with a
  minimal HTTP/1.1 reader, by threads spread over ``--client-processes`` processes: about a
  tenth of simple-salesforce's CPU a request, so that the server is the busier side.

Besides pairs per second, the CPU seconds each side spent (the client processes, the server's
processes, from /proc) say what bounds the figure: on a 2-core machine client and server share
the cores. So do the cores the benchmark's processes kept busy and the machine's idle time
during each load: with the machine busy (no idle time), N workers get no more CPU than one
process did, and where the kernel shares CPU between sessions rather than processes
(autogroup scheduling, shown at the end), the benchmark's processes together get one session's
share however many there are.

After each load on the workers it checks what they must keep: every created id distinct and
readable, the record count, and the API count equal to the calls made. Target: N = 2 at
least 1.3x one process, 0 errors.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

import fake_salesforce  # noqa: E402
from fake_salesforce.control import ControlClient  # noqa: E402

SERVE = [sys.executable, "-c", "from fake_salesforce.cli import main; main()", "serve", "--port", "0", "--quiet"]
CLIENTS = ("simple-salesforce", "light")


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


def machine_ticks() -> tuple[int, int]:
    """(idle, all) CPU ticks of the machine since it started (/proc/stat; zeros elsewhere)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(t) for t in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return ticks[3] + ticks[4], sum(ticks)


def autogroup() -> str:
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            return "on" if f.read().strip() == "1" else "off"
    except OSError:
        return "unknown"


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Tally:
    """What the client threads of one process did."""

    def __init__(self, threads: int):
        self.made: list[list[str]] = [[] for _ in range(threads)]
        self.calls = [0] * threads
        self.errors: list[str] = []

    def result(self, cpu: float, reconnects: int = 0) -> dict:
        return {"ids": [i for m in self.made for i in m], "calls": sum(self.calls),
                "errors": self.errors, "cpu": cpu, "reconnects": reconnects}


def _run_threads(threads: int, loop, start_at: float, stop_at: float) -> float:
    """Run ``loop(n)`` in ``threads`` threads from ``start_at`` (``time.monotonic``, one clock for
    every process of the machine) until they pass ``stop_at``; the CPU seconds spent."""
    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    time.sleep(max(start_at - time.monotonic(), 0))
    cpu = time.process_time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.process_time() - cpu


def simple_salesforce_load(url: str, threads: int):
    """Each thread its own simple-salesforce client, logged in now; ``run(start_at, stop_at)``
    makes them work."""
    clients = [fake_salesforce.connect(url) for _ in range(threads)]
    tally = Tally(threads)
    stop_at = 0.0

    def loop(n: int) -> None:
        sf = clients[n]
        while time.monotonic() < stop_at:
            try:
                tally.calls[n] += 1
                record_id = sf.Contact.create({"LastName": f"W{n}"})["id"]
                tally.calls[n] += 1
                if sf.Contact.get(record_id)["Id"] != record_id:
                    tally.errors.append(f"get {record_id} answered another record")
                tally.made[n].append(record_id)
            except Exception as e:  # noqa: BLE001  (counted and shown, never hidden)
                tally.errors.append(f"{type(e).__name__}: {e}"[:200])

    def run(start_at: float, stop: float) -> dict:
        nonlocal stop_at
        stop_at = stop
        return tally.result(_run_threads(threads, loop, start_at, stop_at))

    return run


class LightClient:
    """One keep-alive connection sending a client's requests as it would send them: the request
    line, ``Host``, then the headers its ``requests`` session prepares (``PreparedRequest``)."""

    def __init__(self, sf, host: str, port: int):
        self.sf, self.host, self.port = sf, host, port
        self.sock = None
        self.reconnects = -1

    def _connect(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = socket.create_connection((self.host, self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.reconnects += 1

    def prepare(self, method: str, path: str, body: str | None = None) -> bytes:
        """The bytes of a request of ``self.sf``'s (``path`` under its REST base URL)."""
        prepared = self.sf.session.prepare_request(
            requests.Request(method, self.sf.base_url + path, data=body, headers=self.sf.headers))
        parts = urlsplit(prepared.url)
        lines = [f"{method} {parts.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in prepared.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n" + (body or "")).encode()

    def send(self, request: bytes) -> tuple[int, bytes]:
        """Status and body of the answer to ``request``. A new connection after an answer saying
        ``Connection: close``, as every HTTP/1.1 client does (the server keeps a limited number
        of idle connections open)."""
        if self.sock is None:
            self._connect()
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in lines[1:]
                       if line[:15].lower() == b"content-length:"), None)
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {lines[0]!r}")
        while len(self.buffer) < length:
            self._read()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if any(line.lower() == b"connection: close" for line in lines[1:]):
            self.sock.close()
            self.sock = None
        return int(lines[0].split(b" ", 2)[1]), body

    def _read(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data


def light_load(url: str, threads: int):
    """Each thread one ``LightClient`` (logged in through simple-salesforce now); ``run(start_at,
    stop_at)`` makes them work."""
    parts = urlsplit(url)
    clients = [LightClient(fake_salesforce.connect(url), parts.hostname, parts.port) for _ in range(threads)]
    for client in clients:
        client.sf.session.close()   # its login's connection: only the light ones stay open
    tally = Tally(threads)
    stop_at = 0.0

    def loop(n: int) -> None:
        client = clients[n]
        create = client.prepare("POST", "sobjects/Contact/", json.dumps({"LastName": f"W{n}"}))
        get_prefix = client.prepare("GET", "sobjects/Contact/X").split(b"X HTTP/1.1", 1)
        while time.monotonic() < stop_at:
            try:
                tally.calls[n] += 1
                status, body = client.send(create)
                if status != 201:
                    raise RuntimeError(f"create answered {status}: {body[:150]!r}")
                record_id = json.loads(body)["id"]
                tally.calls[n] += 1
                status, body = client.send(get_prefix[0] + record_id.encode() + b" HTTP/1.1" + get_prefix[1])
                if status != 200 or json.loads(body)["Id"] != record_id:
                    raise RuntimeError(f"get {record_id} answered {status}: {body[:150]!r}")
                tally.made[n].append(record_id)
            except Exception as e:  # noqa: BLE001  (counted and shown, never hidden)
                tally.errors.append(f"{type(e).__name__}: {e}"[:200])
                if isinstance(e, OSError):
                    return

    def run(start_at: float, stop: float) -> dict:
        nonlocal stop_at
        stop_at = stop
        cpu = _run_threads(threads, loop, start_at, stop_at)
        return tally.result(cpu, sum(max(c.reconnects, 0) for c in clients))

    return run


def _client_process(kind: str, url: str, threads: int, pipe) -> None:
    run = (light_load if kind == "light" else simple_salesforce_load)(url, threads)
    pipe.send("ready")
    start_at, stop_at = pipe.recv()
    pipe.send(run(start_at, stop_at))
    pipe.close()


def load(kind: str, url: str, pids: list[int], threads: int, seconds: float, processes: int) -> dict:
    """Pairs per second, errors, ids made, and CPU seconds per pair of client and server.
    The simple-salesforce client runs in this process; the light one in ``processes`` others."""
    if kind == "simple-salesforce":
        run = simple_salesforce_load(url, threads)
        start_at = time.monotonic() + 0.05
        server_cpu, ticks = cpu_seconds(pids), machine_ticks()
        results = [run(start_at, start_at + seconds)]
    else:
        context = multiprocessing.get_context("fork")
        pipes, procs = [], []
        for i in range(processes):
            ours, theirs = context.Pipe()
            share = threads // processes + (i < threads % processes)
            proc = context.Process(target=_client_process, args=(kind, url, share, theirs), daemon=True)
            proc.start()
            pipes.append(ours)
            procs.append(proc)
        for pipe in pipes:
            pipe.recv()
        start_at = time.monotonic() + 0.1
        for pipe in pipes:
            pipe.send((start_at, start_at + seconds))
        time.sleep(max(start_at - time.monotonic(), 0))
        server_cpu, ticks = cpu_seconds(pids), machine_ticks()
        results = [pipe.recv() for pipe in pipes]
        for proc in procs:
            proc.join()
    server_cpu = cpu_seconds(pids) - server_cpu
    idle, every = (now - then for now, then in zip(machine_ticks(), ticks))
    client_cpu = sum(r["cpu"] for r in results)
    ids = [i for r in results for i in r["ids"]]
    pairs = max(len(ids), 1)
    return {"pairs_per_s": len(ids) / seconds, "errors": [e for r in results for e in r["errors"]],
            "ids": ids, "calls": sum(r["calls"] for r in results),
            "reconnects": sum(r["reconnects"] for r in results),
            "client_cpu_ms": client_cpu / pairs * 1000,
            "server_cpu_ms": server_cpu / pairs * 1000,
            "cores": (client_cpu + server_cpu) / seconds, "idle": idle / every if every else float("nan")}


def statements_a_pair(shared: bool, pairs: int = 20) -> float:
    """SQLite statements a create + get pair runs in the server, in-process: one process's org,
    or an org shared by several processes (``serve --workers``)."""
    import tempfile

    from fake_salesforce.app import create_app
    from fake_salesforce.org import Org

    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as folder:
        org = Org(shared=True, db_path=os.path.join(folder, "org.db")) if shared else Org()
        sf = fake_salesforce.connect(create_app(org))
        sf.Contact.get(sf.Contact.create({"LastName": "warm"})["id"])
        seen = []
        org.store.conn.set_trace_callback(seen.append)
        for n in range(pairs):
            sf.Contact.get(sf.Contact.create({"LastName": f"S{n}"})["id"])
        org.store.conn.set_trace_callback(None)
        sf.session.close()
        org.store.close()
    return len(seen) / pairs


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
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processes the light client's threads are spread over")
    parser.add_argument("--clients", default=",".join(CLIENTS), help="which clients: " + ", ".join(CLIENTS))
    args = parser.parse_args(argv)
    if args.workers < 2:
        parser.error("--workers must be at least 2 (it is compared with one process)")
    kinds = [k.strip() for k in args.clients.split(",") if k.strip()]
    if not kinds or set(kinds) - set(CLIENTS):
        parser.error(f"--clients: give some of {', '.join(CLIENTS)}")
    servers = ("1 process", f"{args.workers} workers")
    figures: dict[tuple[str, str], list[dict]] = {(k, s): [] for k in kinds for s in servers}
    problems: list[str] = []
    with server(1) as (one_url, one_pids), server(args.workers) as (many_url, many_pids):
        for _ in range(args.rounds):
            for kind in kinds:
                for name, url, pids in ((servers[0], one_url, one_pids), (servers[1], many_url, many_pids)):
                    ControlClient(url).reset()
                    result = load(kind, url, pids, args.threads, args.seconds, args.client_processes)
                    figures[kind, name].append(result)
                    problems += [f"{kind}, {name}: {p}" for p in check(url, result["ids"], result["calls"])]

    def median(results, key):
        return statistics.median(r[key] for r in results)

    rows = []
    for (kind, name), results in figures.items():
        processes = 1 if kind == "simple-salesforce" else args.client_processes
        rows.append([f"{kind} ({processes} process{'es' * (processes > 1)})", name,
                     f"{median(results, 'pairs_per_s'):,.0f}", sum(len(r["errors"]) for r in results),
                     f"{median(results, 'client_cpu_ms'):.2f}", f"{median(results, 'server_cpu_ms'):.2f}",
                     f"{median(results, 'cores'):.2f}", f"{median(results, 'idle'):.0%}"])
    print(tabulate(rows, headers=["client", "server", "create+get pairs/s", "errors", "client CPU ms a pair",
                                  "server CPU ms a pair", "cores busy (client + server)", "machine idle"],
                   tablefmt="github"))
    print(f"\nSQLite statements a create+get pair: {statements_a_pair(False):.1f} in one process, "
          f"{statements_a_pair(True):.1f} in an org shared by worker processes")
    load_average = "load average %.1f %.1f %.1f" % os.getloadavg()
    print(f"{args.threads} client threads, {os.cpu_count()} CPUs, {load_average} at the end, "
          f"autogroup scheduling {autogroup()}")
    for kind in kinds:
        one = median(figures[kind, servers[0]], "pairs_per_s")
        many = median(figures[kind, servers[1]], "pairs_per_s")
        print(f"{kind}: {args.workers} workers / 1 process: {many / one:.2f}x (target >= 1.3x, 0 errors)")
    for (kind, name), results in figures.items():
        reconnects = sum(r["reconnects"] for r in results)
        if reconnects:
            print(f"{kind}, {name}: {reconnects} new connections after the server closed one")
        for r in results:
            for e in r["errors"][:3]:
                print(f"error ({kind}, {name}): {e}")
    for p in problems:
        print(f"PROBLEM: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
