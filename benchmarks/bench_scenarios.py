"""How fast scenarios replay, in-process.

1. The whole scenario library (`scenarios/`), target: under 10 s.
2. One generated scenario of 1,000 calls (Contacts, Leads, unknown numbers, comments,
   redeliveries), target: under 5 s.

Run: python benchmarks/bench_scenarios.py [--calls 1000] [--library scenarios]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml
from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.report import scenario_report  # noqa: E402
from simulator.runner import Runner  # noqa: E402
from simulator.scenario import load_scenarios, parse_scenario  # noqa: E402

TYPES = ("inbound_answered", "outbound_answered", "missed", "voicemail", "outbound_unanswered")


def generated(calls: int) -> str:
    """A scenario of ``calls`` calls over 50 Contacts and 50 Leads, with every 10th number unknown."""
    records = [{"ref": f"c{n}", "sobject": "Contact", "LastName": f"Contact{n}", "Phone": f"+1 212 555 {n:04d}"}
               for n in range(50)]
    records += [{"ref": f"l{n}", "sobject": "Lead", "LastName": f"Lead{n}", "Company": "Acme",
                 "Phone": f"+1 212 556 {n:04d}"} for n in range(50)]
    events, timelines = [], {r["ref"]: {"past_activities": [], "next_steps": []} for r in records}
    for i in range(calls):
        kind = TYPES[i % len(TYPES)]
        owner = f"c{i % 50}" if i % 2 else f"l{i % 50}"
        unknown = i % 10 == 0
        external = f"+1 646 555 {i:04d}" if unknown else next(r["Phone"] for r in records if r["ref"] == owner)
        events.append({"call": {"ref": f"call{i}", "type": kind, "external": external}})
        if i % 25 == 0:
            events.append({"comment": {"call": f"call{i}", "content": f"Follow-up {i}"}})
        if i % 40 == 0:
            events.append({"redeliver": f"call{i}"})
        if not unknown:
            section = "next_steps" if kind in ("missed", "voicemail") else "past_activities"
            timelines[owner][section].append(f"call{i}")
    logged = sum(len(t["past_activities"]) + len(t["next_steps"]) for t in timelines.values())
    return yaml.safe_dump({
        "name": f"Generated: {calls} calls", "description": "A busy day on one line.",
        "org": {"records": records}, "events": events,
        "expect": {"timelines": timelines, "task_count": logged},
    }, sort_keys=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--library", type=Path, default=Path(__file__).resolve().parents[1] / "scenarios")
    args = parser.parse_args(argv)

    runner = Runner()
    scenarios = load_scenarios([args.library])
    started = time.perf_counter()
    results = runner.run_all(scenarios)
    library_s = time.perf_counter() - started
    failed = [r for r in results if not r.passed]

    big = parse_scenario(generated(args.calls), "generated.yaml")
    started = time.perf_counter()
    result = runner.run(big)
    big_s = time.perf_counter() - started
    if not result.passed:
        print(scenario_report(result), file=sys.stderr)

    print(tabulate([
        [f"scenario library ({len(scenarios)} scenarios)", f"{library_s:.2f} s",
         "< 10 s", "all pass" if not failed else f"{len(failed)} FAILED"],
        [f"generated scenario, {args.calls:,} calls ({len(big.events):,} events)", f"{big_s:.2f} s",
         "< 5 s", "pass" if result.passed else "FAILED"],
        ["  per call", f"{big_s / args.calls * 1000:.2f} ms", "", f"{result.requests / args.calls:.1f} API requests/call"],
    ], headers=["measure", "time", "target", "result"], tablefmt="github"))
    return 0 if result.passed and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
