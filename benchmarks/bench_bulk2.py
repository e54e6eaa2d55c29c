"""Benchmark a Bulk API 2.0 CSV ingest through jsforce's bulk2 client (Node.js), unmodified.

A standalone ``fake-salesforce serve`` in its own process; jsforce uploads a CSV of Contacts
(LastName, FirstName, Email, Phone), closes the job, polls it and downloads the per-row
results. Reported: rows/s end to end, and as a peer measured in the same run, the org's own
write path (``Org.apply_batch``) on the same rows in-process, without HTTP or CSV.

Needs the Node.js clients that .ci/run installs under .venv/node_modules.
Run: python benchmarks/bench_bulk2.py [--rows 100000] [--json FILE]
Target (2-core machine): >= 20,000 rows/s through jsforce.
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

from benchmarks.servers import standalone_server  # noqa: E402
from fake_salesforce import Org  # noqa: E402

DRIVER = ROOT / "tests" / "clients" / "jsforce_driver.js"


def rows(n: int) -> list[tuple]:
    """Distinct people with distinct phone numbers (as a contact list would be)."""
    return [(f"Last{i}", f"First{i}", f"user{i}@example.com", f"+1 415 {200 + i // 10000:03d} {i % 10000:04d}")
            for i in range(n)]


def csv_text(data: list[tuple]) -> str:
    return "LastName,FirstName,Email,Phone\n" + "".join(",".join(r) + "\n" for r in data)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    modules = ROOT / ".venv" / "node_modules"
    nodes = sorted(modules.glob("node-*-*/bin/node"))
    if not nodes or not (modules / "jsforce").exists():
        sys.exit("Node.js 22 and jsforce are not under .venv/node_modules: run .ci/run first")
    data = rows(args.rows)
    csv_path = ROOT / ".venv" / "bench-bulk2.csv"
    csv_path.write_text(csv_text(data))

    with standalone_server() as url:
        result = jsforce_ingest(url, csv_path, nodes[0], modules)
    assert result["ok"] == args.rows and result["failed"] == 0, result

    org = Org()
    peer_rows = data[: min(args.rows, 20_000)]
    start = time.perf_counter()
    org.apply_batch("create", [{"attributes": {"type": "Contact"}, "LastName": a, "FirstName": b,
                                "Email": c, "Phone": d} for a, b, c, d in peer_rows])
    peer = len(peer_rows) / (time.perf_counter() - start)
    rate = args.rows / result["seconds"]
    figures = {"rows": args.rows, "jsforce_bulk2_seconds": round(result["seconds"], 2),
               "jsforce_bulk2_rows_per_s": round(rate), "org_apply_batch_rows_per_s": round(peer),
               "ratio_to_apply_batch": round(rate / peer, 2), "target_rows_per_s": 20_000}
    for key, value in figures.items():
        print(f"{key:28} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
