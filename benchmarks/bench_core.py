"""Throughput of the logging core against the in-process fake org.

Replays N inbound calls (default 10,000) from numbers owned by Contacts, through one
CallLogger whose user cache is warm, and reports calls per second, CPU time per call and
Salesforce requests per call. Run: ``python benchmarks/bench_core.py [--calls N] [--contacts M]``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fake_salesforce  # noqa: E402
from simulator.core import CallLogger, RetryPolicy, Settings  # noqa: E402
from simulator.aircall import call_webhook  # noqa: E402


def phone(n: int) -> str:
    return f"+33 6 {n // 1000000 % 100:02d} {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}"


def run(calls: int, contacts: int, settings: Settings) -> dict:
    org = fake_salesforce.Org()
    org.seed([{"sobject": "Contact", "fields": {"FirstName": "Customer", "LastName": f"N{n}",
                                                 "Phone": phone(n)}} for n in range(contacts)])
    sf = fake_salesforce.connect(fake_salesforce.create_app(org))
    logger = CallLogger(sf, settings, retry=RetryPolicy(attempts=3, base_delay=0.1), cache_ttl=None)
    logger.warm_up()
    hooks = [call_webhook(call_id=100000 + i, external=phone(i % contacts),
                          started_at=1793610000 + i * 30) for i in range(calls)]
    per_call = []
    start_count = org.api_count
    started = time.perf_counter()
    cpu_started = time.process_time()
    for hook in hooks:
        outcome = logger.handle(hook)
        if not outcome.logged:
            raise SystemExit(f"call {outcome.key} was not logged: {outcome.reason}")
        per_call.append(outcome.requests)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "calls": calls,
        "seconds": elapsed,
        "calls_per_second": calls / elapsed,
        "cpu_ms_per_call": cpu / calls * 1000,
        "requests_per_call": statistics.mean(per_call),
        "max_requests_per_call": max(per_call),
        "org_requests_per_call": (org.api_count - start_count) / calls,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--related", choices=("none", "case", "opportunity"), default="none",
                        help="log_on_related setting (default none: the 3-request path)")
    args = parser.parse_args(argv)
    result = run(args.calls, args.contacts, Settings(log_on_related=args.related))
    print(f"calls:                 {result['calls']}")
    print(f"elapsed:               {result['seconds']:.2f} s")
    print(f"calls per second:      {result['calls_per_second']:.0f}")
    print(f"CPU ms per call:       {result['cpu_ms_per_call']:.3f} (client and in-process fake together; "
          "steadier than wall time on a loaded machine)")
    print(f"requests per call:     {result['requests_per_call']:.2f} "
          f"(max {result['max_requests_per_call']}, org counted {result['org_requests_per_call']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
