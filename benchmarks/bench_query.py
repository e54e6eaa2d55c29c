"""Query and search latency of the fake org at several sizes, in-process through simple-salesforce.

    python benchmarks/bench_query.py [--sizes 1000,1000000] [--repeat 50]

For each size, a fresh org is seeded with that many Contacts (spread over Accounts, each with a
distinct phone number and email), then the median latency is measured of:
- a SOSL phone search (``FIND {+1 (415) 555-0123} IN PHONE FIELDS RETURNING Contact(Id, Name)``),
- a SOQL lookup on an indexed field (``... WHERE Email = '...'``),
- a 2,000-row page with a parent path (``SELECT Id, Name, Account.Name FROM Contact LIMIT 2000``).

Orgs are seeded through the control API (``POST /_fake/seed``, in batches), as a user would.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fake_salesforce  # noqa: E402
from fake_salesforce.control import ControlClient  # noqa: E402

CONTACTS_PER_ACCOUNT = 10
BATCH = 5_000


def phone_of(i: int) -> str:
    return f"+1 (415) {200 + i // 10_000:03d}-{i % 10_000:04d}"


def seed(org, n: int) -> None:
    """Seed ``n`` Contacts and ``n / 10`` Accounts through the control API (``/_fake/seed``)."""
    control = ControlClient(fake_salesforce.create_app(org))
    account_ids: list[str] = []
    accounts = max(n // CONTACTS_PER_ACCOUNT, 1)
    for start in range(0, accounts, BATCH):
        account_ids += control.seed("Account", [{"Name": f"Account {a}"}
                                                for a in range(start, min(start + BATCH, accounts))])
    for start in range(0, n, BATCH):
        control.seed("Contact", [{"FirstName": "Jean", "LastName": f"Martin{i}",
                                  "Email": f"jean{i}@example.com", "Phone": phone_of(i),
                                  "AccountId": account_ids[i // CONTACTS_PER_ACCOUNT]}
                                 for i in range(start, min(start + BATCH, n))])
        if n >= 100_000 and (start + BATCH) % 100_000 == 0:
            print(f"  seeded {start + BATCH:,}/{n:,} Contacts", file=sys.stderr, flush=True)


def median_ms(call, repeat: int) -> float:
    call()  # warm caches (parser, statement cache, indexes)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(n: int, repeat: int) -> dict:
    org = fake_salesforce.Org()
    started = time.perf_counter()
    seed(org, n)
    seeded = time.perf_counter() - started
    sf = fake_salesforce.connect(fake_salesforce.create_app(org))
    target = n // 2
    phone_query = f"FIND {{{phone_of(target)}}} IN PHONE FIELDS RETURNING Contact(Id, Name)"
    email_query = f"SELECT Id, Name FROM Contact WHERE Email = 'jean{target}@example.com'"
    page_query = "SELECT Id, Name, Account.Name FROM Contact LIMIT 2000"

    def search():
        found = sf.search(phone_query)["searchRecords"]
        if len(found) != 1:
            raise SystemExit(f"phone search found {len(found)} records, expected 1")

    def lookup():
        if sf.query(email_query)["totalSize"] != 1:
            raise SystemExit("email lookup did not find exactly one record")

    def page():
        if len(sf.query(page_query)["records"]) != min(2000, n):
            raise SystemExit("the page is short")

    return {"contacts": n, "seed_s": seeded, "sosl_phone_ms": median_ms(search, repeat),
            "soql_email_ms": median_ms(lookup, repeat), "page_2000_ms": median_ms(page, max(repeat // 5, 5))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,1000000",
                        help="comma-separated numbers of Contacts (default: 1000,1000000)")
    parser.add_argument("--repeat", type=int, default=50, help="timed runs per measure (default: 50)")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes comma-separated integers")
    results = [measure(n, args.repeat) for n in sizes]
    header = f"{'contacts':>10} {'seed (s)':>9} {'SOSL phone (ms)':>16} {'SOQL email (ms)':>16} {'2000-row page (ms)':>19}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['contacts']:>10,} {r['seed_s']:>9.1f} {r['sosl_phone_ms']:>16.2f} "
              f"{r['soql_email_ms']:>16.2f} {r['page_2000_ms']:>19.2f}")
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(f"\nratio {large['contacts']:,} / {small['contacts']:,}: "
              f"SOSL phone x{large['sosl_phone_ms'] / small['sosl_phone_ms']:.2f}, "
              f"SOQL email x{large['soql_email_ms'] / small['soql_email_ms']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
