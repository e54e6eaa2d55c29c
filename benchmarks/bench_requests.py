"""CPU time per REST call through simple-salesforce, against floors measured in the same run.

    python benchmarks/bench_requests.py [--calls 200] [--rounds 11] [--no-http]

For create, get, update and a one-row query by Id, the mean CPU time per call (median over
interleaved rounds; client and server together: over HTTP, the client's process plus the
server's, read from the server process's CPU clock) of:
- the fake org (1,000 Contacts) in-process, a bare Flask app and a bare WSGI app through the
  same in-process adapter (``fake_salesforce.make_session``), and simple-mockforce, a peer that
  fakes the same calls inside ``requests``, when it is installed;
- over HTTP: ``fake-salesforce serve`` and the bare Flask and WSGI apps, each in its own process
  on the same server (cheroot, 16 threads), one client thread.

Targets: in-process at most 1.5x the bare Flask app and 0.6x simple-mockforce; over HTTP at
most 1.3x the bare Flask app.

The ratios are taken round by round (the fake's time over the other's in the same round, the
median of those), with the order of the compared apps rotating from round to round: on a shared
machine the load moves between rounds, and a ratio of two times taken close together moves less
than either time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import logging
from pathlib import Path

from simple_salesforce import Salesforce

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fake_salesforce  # noqa: E402
from benchmarks import floors  # noqa: E402
from benchmarks.servers import served as server  # noqa: E402
from fake_salesforce.client import INPROCESS_HOST, make_session  # noqa: E402

OPS = ("create", "get", "update", "query")
MOCKFORCE_TARGET = 0.6
HERE = Path(__file__).resolve().parent


def floor_client(target, instance_url: str) -> Salesforce:
    return Salesforce(instance_url=instance_url, session_id="floor", session=make_session(target))


def cpu_clock(server_pid: int | None = None):
    """CPU seconds used so far by this process, plus the server process ``server_pid`` if given.

    CPU time, not wall time: on a shared, loaded machine the wall time of a call is mostly
    waiting for a core, while the CPU a call costs stays put. The server's is read from its
    process CPU clock (Linux: nanoseconds, every thread); where that clock cannot be read, from
    /proc in clock ticks (10 ms: a coarse reading that needs long rounds).
    """
    if not server_pid:
        return time.process_time
    clock_id = (~server_pid << 3) | 2   # Linux's CPU clock of process server_pid (CPUCLOCK_SCHED)
    try:
        time.clock_gettime(clock_id)
    except OSError:
        tick = os.sysconf("SC_CLK_TCK")

        def now() -> float:
            with open(f"/proc/{server_pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return time.process_time() + (int(fields[11]) + int(fields[12])) / tick  # utime + stime

        return now
    return lambda: time.process_time() + time.clock_gettime(clock_id)


def time_ops(sf: Salesforce, calls: int, query_calls: int | None = None, clock=time.process_time) -> dict[str, float]:
    """Mean CPU milliseconds per call of each operation (``query_calls`` queries, default ``calls``)."""
    ids = []
    out = {}
    started = clock()
    for i in range(calls):
        ids.append(sf.Contact.create({"LastName": f"Bench{i}", "Phone": f"+1 415 555 {i % 10000:04d}"})["id"])
    out["create"] = (clock() - started) / calls * 1000
    started = clock()
    for record_id in ids:
        sf.Contact.get(record_id)
    out["get"] = (clock() - started) / calls * 1000
    started = clock()
    for i, record_id in enumerate(ids):
        sf.Contact.update(record_id, {"Title": f"T{i}"})
    out["update"] = (clock() - started) / calls * 1000
    queried = ids[:query_calls or calls]
    started = clock()
    for record_id in queried:
        sf.query(f"SELECT Id, Name, Phone FROM Contact WHERE Id = '{record_id}'")
    out["query"] = (clock() - started) / len(queried) * 1000
    return out


def mockforce_runner():
    """A function timing simple-mockforce, or None when it is not installed."""
    try:
        from simple_mockforce import mock_salesforce
    except ImportError:
        return None

    @mock_salesforce
    def run(calls: int) -> dict[str, float]:
        logging.getLogger("simple_mockforce").setLevel(logging.ERROR)  # its note that query is partial
        sf = Salesforce(username="u@example.com", password="p", security_token="t")
        for i in range(1000):
            sf.Contact.create({"LastName": f"Seed{i}"})
        return time_ops(sf, calls, query_calls=10)  # its queries scan in Python: 80+ ms each

    return run


def fake_org_client(target) -> Salesforce:
    return fake_salesforce.connect(target)


def measure(targets: dict, calls: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Each target's per-call times in each of ``rounds`` rounds, the targets interleaved: every
    round runs each once, in an order that rotates from round to round."""
    samples: dict[str, dict[str, list[float]]] = {name: {op: [] for op in OPS} for name in targets}
    names = list(targets)
    for name in names:  # warm-up
        targets[name](min(calls, 30))
    for i in range(rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            for op, ms in targets[name](calls).items():
                samples[name][op].append(ms)
    return samples


def median_ratio(ours: list[float], theirs: list[float]) -> float:
    """The median over rounds of one time over the other taken in the same round."""
    return statistics.median(a / b for a, b in zip(ours, theirs))


def run(calls: int = 200, rounds: int = 11, http: bool = True, peer: bool = True) -> dict:
    """The figures and the rows of the table."""
    org = fake_salesforce.Org()
    org.seed([{"sobject": "Contact", "fields": {"LastName": f"Seed{i}"}} for i in range(1000)])
    fake_sf = fake_org_client(fake_salesforce.create_app(org))
    sample = fake_sf.Contact.get(fake_sf.Contact.create({"LastName": "Sample", "Phone": "+1 415 555 0100"})["id"])
    floors.use_record(sample)  # the floors answer the same bytes
    flask_sf = floor_client(floors.flask_app(), f"https://{INPROCESS_HOST}")
    wsgi_sf = floor_client(floors.wsgi_app, f"https://{INPROCESS_HOST}")
    targets = {"fake": lambda n: time_ops(fake_sf, n), "flask": lambda n: time_ops(flask_sf, n),
               "wsgi": lambda n: time_ops(wsgi_sf, n)}
    notes = []
    mock = mockforce_runner() if peer else None
    if mock:
        targets["simple-mockforce"] = mock
    elif peer:
        notes.append("simple-mockforce is not installed: the peer column is empty")
    results = {"in-process": measure(targets, calls, rounds)}
    if http:
        py = sys.executable
        record_file = Path(tempfile.mkdtemp()) / "record.json"
        record_file.write_text(json.dumps(sample))
        with server([py, "-c", "from fake_salesforce.cli import main; main()",
                    "serve", "--port", "0", "--quiet"]) as (fake_url, fake_pid), \
                server([py, str(HERE / "floors.py"), "flask", str(record_file)]) as (flask_url, flask_pid), \
                server([py, str(HERE / "floors.py"), "wsgi", str(record_file)]) as (wsgi_url, wsgi_pid):
            fake_http = fake_org_client(fake_url)
            flask_http = floor_client(flask_url, flask_url)
            wsgi_http = floor_client(wsgi_url, wsgi_url)
            results["http"] = measure({
                "fake": lambda n: time_ops(fake_http, n, clock=cpu_clock(fake_pid)),
                "flask": lambda n: time_ops(flask_http, n, clock=cpu_clock(flask_pid)),
                "wsgi": lambda n: time_ops(wsgi_http, n, clock=cpu_clock(wsgi_pid))}, calls, rounds)
    rows = []
    figures = {}
    for transport, samples in results.items():
        limit = 1.5 if transport == "in-process" else 1.3
        figures[transport] = {name: {op: statistics.median(v) for op, v in ops.items()}
                              for name, ops in samples.items()}
        for op in OPS:
            fake, mock = samples["fake"][op], samples.get("simple-mockforce", {}).get(op)
            vs_flask = median_ratio(fake, samples["flask"][op])
            target, verdict = f"<= {limit}x Flask", "met" if vs_flask <= limit else "missed"
            vs_peer = ""
            if mock:
                ratio = median_ratio(fake, mock)
                vs_peer = f"{ratio:.2f}x"
                target += f", <= {MOCKFORCE_TARGET}x mockforce"
                verdict += ", met" if ratio <= MOCKFORCE_TARGET else ", missed"
            mine = figures[transport]
            rows.append([f"{op}, {transport}", f"{mine['fake'][op]:.3f}", f"{mine['flask'][op]:.3f}",
                         f"{mine['wsgi'][op]:.3f}",
                         f"{mine['simple-mockforce'][op]:.3f}" if mock else "",
                         f"{vs_flask:.2f}x", vs_peer, target, verdict])
    return {"figures": figures, "notes": notes,
            "headers": ["CPU ms a call (median)", "fake", "bare Flask", "bare WSGI", "simple-mockforce",
                        "fake / Flask", "fake / mockforce", "target", ""],
            "rows": rows}


def main(argv=None) -> int:
    from tabulate import tabulate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls of each kind per round")
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds (median taken)")
    parser.add_argument("--no-http", action="store_true", help="in-process only")
    args = parser.parse_args(argv)
    out = run(args.calls, args.rounds, http=not args.no_http)
    print(tabulate(out["rows"], headers=out["headers"], tablefmt="github"))
    for note in out["notes"]:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
