"""Every benchmark of the project, from one entry point.

    python -m benchmarks            # full: the figures, written to benchmarks/results.md
    python -m benchmarks --quick    # CI: each benchmark runs once on tiny inputs (checks they run)
    python -m benchmarks --only requests,seed [--out FILE]

The full run takes minutes (it seeds a 1,000,000-Contact org); its figures are ratios against
floors or peers measured in the same run, with the machine, Python and library versions beside
them, since absolute times on a shared machine mean little.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time
from datetime import datetime, timezone
from importlib import import_module, metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# name: (module, arguments in quick mode, arguments in full mode)
BENCHMARKS = {
    "requests": ("bench_requests", ["--calls", "20", "--rounds", "1"], []),
    "seed": ("bench_seed", ["--records", "500", "--batch", "250"], []),
    "bulk2": ("bench_bulk2", ["--rows", "200"], []),
    "parse": ("bench_parse", ["--queries", "50", "--repeat", "1"], []),
    "fake": ("bench_fake", ["--round-trips", "20", "--sizes", "200,400", "--gets", "20"], []),
    "query": ("bench_query", ["--sizes", "200", "--repeat", "2"], []),
    "core": ("bench_core", ["--calls", "20", "--contacts", "50"], []),
    "scenarios": ("bench_scenarios", ["--calls", "20"], []),
    "pages": ("bench_pages", ["--tasks", "30", "--repeat", "2"], []),
    "workers": ("bench_workers", ["--seconds", "1", "--rounds", "1", "--threads", "2"], []),
}
LIBRARIES = ("requests", "urllib3", "simple-salesforce", "flask", "werkzeug", "cheroot", "lark",
             "simple-mockforce")


def environment() -> list[str]:
    """The machine, Python and library versions the figures were taken with."""
    try:
        load = "load average %.1f %.1f %.1f" % os.getloadavg()
    except OSError:
        load = "load average unknown"
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return [f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
            f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
            f"{platform.release()}, {load} at the start",
            f"- Python {platform.python_version()} ({platform.python_implementation()})",
            "- " + ", ".join(versions)]


def run_one(name: str, quick: bool) -> tuple[str, float]:
    module_name, quick_args, full_args = BENCHMARKS[name]
    module = import_module(f"benchmarks.{module_name}")
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        status = module.main(quick_args if quick else full_args)
    if status:
        raise SystemExit(f"benchmark {name} failed with status {status}")
    return out.getvalue(), time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny inputs, only checks every benchmark runs")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, help="where the full run writes its table "
                                                 "(default benchmarks/results.md)")
    args = parser.parse_args(argv)
    names = list(BENCHMARKS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    lines = ["# Benchmark results", "", *environment(), ""]
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        text, seconds = run_one(name, args.quick)
        lines += [f"## {name} ({BENCHMARKS[name][0]}.py, {seconds:.0f} s)", "", text.rstrip(), ""]
    report = "\n".join(lines) + "\n"
    if args.quick:
        print(f"all {len(names)} benchmarks ran (quick mode: the figures mean nothing)")
        return 0
    out = args.out or ROOT / "benchmarks" / "results.md"
    out.write_text(report)
    print(report)
    print(f"written to {out}", file=sys.stderr)
    return 0
