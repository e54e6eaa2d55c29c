"""Server-side time to draw a record page whose timeline holds 1,000 Tasks.

    python benchmarks/bench_pages.py [--tasks 1000] [--repeat 30]

A Contact is given ``--tasks`` Tasks (half open, half closed, due dates spread over three
years) through the control API; another Contact gets 10. The median time of a GET of each
record page (in-process WSGI, logged in, rendered HTML) is measured, with the timeline paged
as Salesforce pages it (10 entries a section, "View more"), and the fully expanded page for
comparison. The floor measured in the same run is a REST GET of the same Contact.

Target: the 1,000-Task page under 300 ms, and within 3x the 10-Task page.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fake_salesforce  # noqa: E402
from fake_salesforce.client import INPROCESS_HOST  # noqa: E402
from fake_salesforce.control import ControlClient  # noqa: E402

BASE = f"https://{INPROCESS_HOST}"


def tasks_for(contact: str, n: int) -> list[dict]:
    start = date(2024, 1, 1)
    return [{"Subject": f"Call {i}", "WhoId": contact, "Status": "Completed" if i % 2 else "In Progress",
             "ActivityDate": (start + timedelta(days=i % 1000)).isoformat(), "TaskSubtype": "Call",
             "CallType": "Inbound", "CallDurationInSeconds": 60 + i % 300, "CallObject": f"call-{i}",
             "Description": f"Waiting time: {i % 30} s\nComments: call number {i}"} for i in range(n)]


def median_ms(call, repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000, help="Tasks on the big record (default 1000)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per measure (default 30)")
    args = parser.parse_args(argv)

    org = fake_salesforce.Org()
    app = fake_salesforce.create_app(org)
    control = ControlClient(app)
    big, small = control.seed("Contact", [{"FirstName": "Alice", "LastName": "Martin"},
                                          {"FirstName": "Bob", "LastName": "Stone"}])
    for start in range(0, args.tasks, 5000):
        control.seed("Task", tasks_for(big, args.tasks)[start:start + 5000])
    control.seed("Task", tasks_for(small, 10))
    sf = fake_salesforce.connect(app)
    session = fake_salesforce.make_session(app)
    cookie = {"Cookie": f"fake_sf_sid={sf.session_id}"}

    def page(contact: str, query: str = ""):
        def get():
            response = session.get(f"{BASE}/lightning/r/Contact/{contact}/view{query}", headers=cookie,
                                   allow_redirects=False)
            if response.status_code != 200 or "Past Activities" not in response.text:
                raise SystemExit(f"the record page failed: {response.status_code}")
        return get

    def rest():
        sf.Contact.get(big)

    results = {
        "REST GET of the Contact (floor)": median_ms(rest, args.repeat),
        "record page, 10 Tasks": median_ms(page(small), args.repeat),
        f"record page, {args.tasks:,} Tasks (paged)": median_ms(page(big), args.repeat),
        f"record page, {args.tasks:,} Tasks, all expanded": median_ms(
            page(big, f"?past={args.tasks}&next={args.tasks}"), max(args.repeat // 5, 3)),
    }
    width = max(len(k) for k in results)
    for name, ms in results.items():
        print(f"{name:<{width}}  {ms:8.2f} ms")
    paged = results[f"record page, {args.tasks:,} Tasks (paged)"]
    floor = results["REST GET of the Contact (floor)"]
    ratio = paged / results["record page, 10 Tasks"]
    print(f"\n{args.tasks:,}-Task page: {paged:.1f} ms (target < 300 ms), x{ratio:.2f} the 10-Task page "
          f"(target <= 3), x{paged / floor:.1f} a REST GET")
    return 0 if paged < 300 and ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
