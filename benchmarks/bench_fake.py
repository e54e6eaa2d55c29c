"""Benchmark the fake org through simple-salesforce.

1. sObject create + get round trips per second, in-process and over HTTP (a standalone
   `fake-salesforce serve` in its own process, as users run it).
2. get-by-Id latency with 1,000 and with 1,000,000 Contacts in the org.

Run: python benchmarks/bench_fake.py [--round-trips 2000] [--sizes 1000,1000000] [--json FILE]
Targets (2-core machine): >= 1,000 round trips/s in-process, >= 400/s over HTTP; get-by-Id at
1,000,000 records no more than 1.5x its time at 1,000.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fake_salesforce  # noqa: E402
from fake_salesforce.control import ControlClient  # noqa: E402
from benchmarks.servers import standalone_server  # noqa: E402

SEED_BATCH = 5_000


def round_trips(sf, n: int) -> float:
    """create + get pairs per second."""
    for i in range(50):  # warm-up
        sf.Contact.get(sf.Contact.create({"LastName": f"Warm{i}"})["id"])
    start = time.perf_counter()
    for i in range(n):
        record_id = sf.Contact.create({"LastName": f"Bench{i}", "Phone": f"+1 415 555 {i % 10000:04d}"})["id"]
        sf.Contact.get(record_id)
    return n / (time.perf_counter() - start)


def seed_contacts(control: ControlClient, total: int, progress: bool) -> list[str]:
    ids: list[str] = []
    started = time.perf_counter()
    while len(ids) < total:
        n = min(SEED_BATCH, total - len(ids))
        base = len(ids)
        ids += control.seed("Contact", [{"LastName": f"Seed{base + i}", "FirstName": "Bench",
                                         "Email": f"seed{base + i}@example.com",
                                         "Phone": f"+1 212 {(base + i) // 10000 % 1000:03d} {(base + i) % 10000:04d}"}
                                        for i in range(n)])
        if progress and (len(ids) % 100_000 == 0 or len(ids) == total):
            rate = len(ids) / (time.perf_counter() - started)
            print(f"  seeded {len(ids):,}/{total:,} Contacts ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    return ids


def get_latency(sf, ids: list[str], n: int) -> float:
    """Median milliseconds of a get-by-Id of a random existing Contact."""
    rng = random.Random(1)
    for _ in range(50):
        sf.Contact.get(rng.choice(ids))
    samples = []
    for _ in range(n):
        record_id = rng.choice(ids)
        t0 = time.perf_counter()
        sf.Contact.get(record_id)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--round-trips", type=int, default=2000, help="create+get pairs per transport")
    parser.add_argument("--sizes", default="1000,1000000", help="org sizes for get-by-Id (comma-separated)")
    parser.add_argument("--gets", type=int, default=2000, help="get-by-Id samples per size")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")

    results: dict = {"round_trips_per_s": {}, "get_by_id_median_ms": {}}
    org = fake_salesforce.Org()
    sf = fake_salesforce.connect(fake_salesforce.create_app(org))
    results["round_trips_per_s"]["in-process"] = round_trips(sf, args.round_trips)
    with standalone_server() as url:
        results["round_trips_per_s"]["http"] = round_trips(fake_salesforce.connect(url), args.round_trips)

    for size in sizes:
        org.reset()
        app = fake_salesforce.create_app(org)
        print(f"Seeding {size:,} Contacts ...", file=sys.stderr, flush=True)
        ids = seed_contacts(ControlClient(app), size, progress=size >= 100_000)
        results["get_by_id_median_ms"][size] = get_latency(fake_salesforce.connect(app), ids, args.gets)

    rows = [[f"create+get round trips/s, {k}", f"{v:,.0f}",
             ">= 1,000" if k == "in-process" else ">= 400"]
            for k, v in results["round_trips_per_s"].items()]
    lat = results["get_by_id_median_ms"]
    for size, ms in lat.items():
        rows.append([f"get-by-Id median ms, {size:,} Contacts", f"{ms:.3f}", ""])
    if len(lat) >= 2:
        small, big = lat[min(lat)], lat[max(lat)]
        results["get_by_id_ratio"] = big / small
        rows.append([f"get-by-Id ratio {max(lat):,} / {min(lat):,}", f"{big / small:.2f}x", "<= 1.5x"])
    print(tabulate(rows, headers=["measure", "value", "target"], tablefmt="github"))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
