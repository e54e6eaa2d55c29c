"""Parsing SOQL whose string values change every time, as a call logger's lookups do.

    python benchmarks/bench_parse.py [--queries 3000] [--repeat 5]

Reports the median time per query of the grammar alone (every query parsed in full) and of
``parse_query`` (parsed once per shape, the values put back into the cached tree), and their
ratio, measured in the same run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fake_salesforce.soql.parser import _PARSER, parse_query  # noqa: E402


def query(i: int) -> str:
    return (f"SELECT Id, Name, AccountId FROM Contact WHERE Phone = '+33 6 12 34 {i % 100:02d} "
            f"{i // 100 % 100:02d}' AND Email != 'x{i:05d}@example.com' "
            "ORDER BY LastModifiedDate DESC LIMIT 1")


def per_query(parse, n: int) -> float:
    texts = [query(i) for i in range(n)]
    started = time.perf_counter()
    for text in texts:
        parse(text)
    return (time.perf_counter() - started) / n * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    full, shaped = [], []
    for _ in range(args.repeat):        # interleaved, so both see the same machine load
        full.append(per_query(lambda t: _PARSER.parse(t, start="query"), args.queries))
        shaped.append(per_query(parse_query, args.queries))
    a, b = statistics.median(full), statistics.median(shaped)
    print(f"parse every query:     {a:8.1f} us")
    print(f"parse once per shape:  {b:8.1f} us")
    print(f"ratio:                 {a / b:8.2f}x")
    return 0


if __name__ == "__main__":
    main()
