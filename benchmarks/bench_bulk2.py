"""Bulk API 2.0 ingest speed: a CSV of Contacts inserted through a real client, unmodified.

    python benchmarks/bench_bulk2.py [--rows 100000] [--client jsforce|simple-salesforce]

A standalone ``fake-salesforce serve`` in its own process; the client creates an insert job,
uploads a CSV of Contacts (LastName, FirstName, Email, Phone: distinct people with distinct
phone numbers), closes the job, polls it and downloads the per-row results. The client is
jsforce's bulk2 (Node.js, as .ci/run installs it under .venv/node_modules, or under
CALLSIM_NODE_PREFIX); where Node.js is not installed, simple-salesforce's bulk2 stands in, and
the table says so.

Reported: rows/s end to end (the client's own wall time from upload to results), the same per
CPU second the server used (on a shared machine, wall time also counts waiting for a core), and
as a peer measured in the same run, the same job worked in-process by the org (CSV parsing,
validation and storage, no HTTP). Target (2-core machine): >= 20,000 rows/s through the client.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.servers import FAKE_SERVE, served  # noqa: E402
from fake_salesforce import Org  # noqa: E402

DRIVER = ROOT / "tests" / "clients" / "jsforce_driver.js"
TARGET = 20_000


def rows(n: int) -> list[tuple]:
    """Distinct people with distinct phone numbers (as a contact list would be)."""
    return [(f"Last{i}", f"First{i}", f"user{i}@example.com", f"+1 415 {200 + i // 10000:03d} {i % 10000:04d}")
            for i in range(n)]


def csv_text(data: list[tuple]) -> str:
    return "LastName,FirstName,Email,Phone\n" + "".join(",".join(r) + "\n" for r in data)


def node_tools() -> tuple[Path, Path] | None:
    """(node, node_modules) when Node.js and jsforce are installed."""
    modules = Path(os.environ.get("CALLSIM_NODE_PREFIX", ROOT / ".venv")) / "node_modules"
    nodes = sorted(modules.glob("node-*-*/bin/node"))
    return (nodes[0], modules) if nodes and (modules / "jsforce").exists() else None


def jsforce_ingest(url: str, csv_path: Path, node: Path, modules: Path) -> dict:
    step = (f'ctx.conn = new jsforce.Connection({{loginUrl: ctx.url, version: "59.0"}});'
            'await ctx.conn.login("admin@example.com", "password");'
            f'const input = require("fs").readFileSync({json.dumps(str(csv_path))}, "utf8");'
            'const t = Date.now();'
            'const r = await ctx.conn.bulk2.loadAndWaitForResults({object: "Contact", operation: "insert",'
            ' input, pollInterval: 100, pollTimeout: 600000});'
            'return {seconds: (Date.now() - t) / 1000, ok: r.successfulResults.length,'
            ' failed: r.failedResults.length};')
    env = {**os.environ, "NODE_PATH": str(modules)}
    done = subprocess.run([str(node), str(DRIVER)], input=json.dumps({"url": url, "steps": [step]}),
                          capture_output=True, text=True, env=env, timeout=900)
    if done.returncode:
        raise RuntimeError(done.stderr)
    (result,) = json.loads(done.stdout)
    if "error" in result:
        raise RuntimeError(result["error"])
    return result["ok"]


def simple_salesforce_ingest(url: str, csv_path: Path) -> dict:
    import csv
    import io

    import fake_salesforce

    sf = fake_salesforce.connect(url)
    started = time.perf_counter()
    (job,) = sf.bulk2.Contact.insert(csv_file=str(csv_path), wait=0.1)
    ok = sf.bulk2.Contact.get_successful_records(job["job_id"])
    failed = sf.bulk2.Contact.get_failed_records(job["job_id"])
    seconds = time.perf_counter() - started
    count = lambda text: sum(1 for _ in csv.DictReader(io.StringIO(text)))  # noqa: E731
    return {"seconds": seconds, "ok": count(ok), "failed": count(failed)}


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far; None where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_process(data: list[tuple], text: str) -> float:
    """Rows/s of the same job worked by an org in this process: no HTTP, no client."""
    org = Org()
    started = time.perf_counter()
    job = org.bulk.create_ingest({"object": "Contact", "operation": "insert"}, org.admin_id)
    org.bulk.upload(job.id, text.encode())
    org.bulk.set_state("ingest", job.id, "UploadComplete")
    org.bulk.poll("ingest", job.id)
    org.bulk.ingest_results(job.id, "successfulResults")
    seconds = time.perf_counter() - started
    assert (job.state, job.failed, job.processed) == ("JobComplete", 0, len(data)), job.info()
    return len(data) / seconds


def run(n: int, client: str | None = None) -> dict:
    tools = node_tools()
    in_ci = os.environ.get("CI", "").lower() == "true"   # .ci/run installs jsforce: no stand-in there
    client = client or ("jsforce" if tools or in_ci else "simple-salesforce")
    if client == "jsforce" and not tools:
        raise SystemExit("Node.js 22 and jsforce are not under .venv/node_modules: run .ci/run first")
    data = rows(n)
    text = csv_text(data)
    csv_path = ROOT / ".venv" / "bench-bulk2.csv"
    csv_path.parent.mkdir(exist_ok=True)
    csv_path.write_text(text)
    with served(FAKE_SERVE) as (url, pid):
        cpu_before = cpu_seconds(pid)
        result = jsforce_ingest(url, csv_path, *tools) if client == "jsforce" \
            else simple_salesforce_ingest(url, csv_path)
        cpu_after = cpu_seconds(pid)
    if (result["ok"], result["failed"]) != (n, 0):
        raise SystemExit(f"the ingest did not store every row: {result}")
    rate = n / result["seconds"]
    peer = in_process(data, text)
    name = "jsforce bulk2" if client == "jsforce" else "simple-salesforce bulk2"
    rows_out = [[f"{name} over HTTP, end to end (wall clock)", f"{rate:,.0f}", f"{rate / peer:.2f}x",
                 f">= {TARGET:,}/s", "met" if rate >= TARGET else "missed"]]
    server = None
    if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
        server = n / (cpu_after - cpu_before)
        rows_out.append(["the same, per CPU second of the server", f"{server:,.0f}", f"{server / peer:.2f}x", "", ""])
    rows_out.append(["peer: the same job in-process, no HTTP (wall clock)", f"{peer:,.0f}", "1.00x", "", ""])
    notes = [] if client == "jsforce" else [
        "Node.js and jsforce are not installed here: simple-salesforce's bulk2 stood in for jsforce."]
    return {"figures": {"rows": n, "client": client, "seconds": result["seconds"], "rows_per_s": rate,
                        "server_rows_per_cpu_s": server, "in_process_rows_per_s": peer},
            "headers": [f"Bulk API 2.0 insert, {n:,} Contacts", "rows/s", "this / in-process", "target", ""],
            "rows": rows_out, "notes": notes}


def main(argv=None) -> int:
    from tabulate import tabulate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--client", choices=("jsforce", "simple-salesforce"),
                        help="default: jsforce when Node.js is installed, else simple-salesforce")
    args = parser.parse_args(argv)
    out = run(args.rows, args.client)
    print(tabulate(out["rows"], headers=out["headers"], tablefmt="github"))
    for note in out["notes"]:
        print(f"\n{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
