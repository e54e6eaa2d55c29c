"""Query and search latency of the fake org at several sizes, in-process through simple-salesforce.

    python benchmarks/bench_query.py [--sizes 1000,1000000] [--repeat 50]

For each size, a fresh org is seeded with that many Contacts (spread over Accounts, each with a
distinct phone number, email and department ``D0000000``...), then the median latency is
measured of:
- a SOSL phone search (``FIND {+1 (415) 555-0123} IN PHONE FIELDS RETURNING Contact(Id, Name)``),
- a SOQL lookup on an indexed field (``... WHERE Email = '...'``),
- a 1,000-row page with a parent path (``SELECT Id, Name, Account.Name FROM Contact LIMIT 1000``:
  1,000 records at every size, so the smallest org, of 1,000 Contacts, is compared fairly),
- filters on fields without an index of their own until a query uses them: ``Phone =``,
  ``Title =`` and ``Title IN`` (first 10 rows of 1 to 2,000 matches), a prefix
  (``Department LIKE 'D050000%'``, 10 rows), a range (``Department >= ... AND Department < ...``,
  first 10 rows of 1,000 matches), ``COUNT()`` with no filter, with ``Title =`` and with the range,
- ``Email LIKE '%x%'`` (one row), beside its peer in the same run: the same query as a plain
  SQLite table scan (``NOT INDEXED``, straight on the fake's database, no HTTP shaping), the plan
  the fake used before it kept trigram indexes.
Every measure checks the number of records it gets.
The ``db (MB)`` column is the database's size after the measures (rows and indexes); the lines
after the table give the size of each index the measures created on first use. The ratio line
gives, for each measure, its time at the largest size over its time at the smallest.

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


def department(i: int) -> str:
    return f"D{i:07d}"


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
                                  "Title": f"Title {i % 1000}", "Department": department(i),
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


PAGE = 1000
# The indexes and tables the fake keeps for filters, created on the first query that needs them.
FIRST_USE = ("_trigram_", "_rows")


def index_sizes(org) -> dict[str, float]:
    """MB taken by each index or table a filter created on first use (SQLite's ``dbstat``)."""
    rows = org.store.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    sizes: dict[str, float] = {}
    for name, size in rows:
        if name.startswith(FIRST_USE) or name.endswith("_recent"):
            key = name.split("_data")[0].split("_idx")[0].split("_docsize")[0].split("_config")[0]
            sizes[key] = sizes.get(key, 0) + size / 1e6
    return sizes


def measure(n: int, repeat: int) -> dict:
    org = fake_salesforce.Org()
    started = time.perf_counter()
    seed(org, n)
    seeded = time.perf_counter() - started
    sf = fake_salesforce.connect(fake_salesforce.create_app(org))
    target = n // 2
    phone_query = f"FIND {{{phone_of(target)}}} IN PHONE FIELDS RETURNING Contact(Id, Name)"
    email_query = f"SELECT Id, Name FROM Contact WHERE Email = 'jean{target}@example.com'"
    page_query = f"SELECT Id, Name, Account.Name FROM Contact LIMIT {PAGE}"

    def search():
        found = sf.search(phone_query)["searchRecords"]
        if len(found) != 1:
            raise SystemExit(f"phone search found {len(found)} records, expected 1")

    def lookup():
        if sf.query(email_query)["totalSize"] != 1:
            raise SystemExit("email lookup did not find exactly one record")

    def page():
        if len(sf.query(page_query)["records"]) != min(PAGE, n):
            raise SystemExit("the page is short")

    def counted(text: str, expected: int):
        def run():
            got = sf.query(text)["totalSize"]
            if got != expected:
                raise SystemExit(f"{text}: {got} records, expected {expected}")
        return run

    per_title = sum(1 for i in range(n) if i % 1000 == 7)
    prefix = department(target)[:-1]
    low, high = max(target - 500, 0), min(target + 500, n)
    in_range = f"Department >= '{department(low)}' AND Department < '{department(high)}'"
    substring = f"n{target}@"
    filters = {
        "Phone =": counted(f"SELECT Id FROM Contact WHERE Phone = '{phone_of(target)}'", 1),
        "Title =": counted("SELECT Id FROM Contact WHERE Title = 'Title 7' LIMIT 10", min(10, per_title)),
        "Title IN": counted("SELECT Id FROM Contact WHERE Title IN ('Title 7', 'Title 8') LIMIT 10",
                            min(10, 2 * per_title)),
        "LIKE 'x%'": counted(f"SELECT Id FROM Contact WHERE Department LIKE '{prefix}%'",
                             sum(1 for i in range(n) if department(i).startswith(prefix))),
        "range": counted(f"SELECT Id FROM Contact WHERE {in_range} LIMIT 10", min(10, high - low)),
        "COUNT()": counted("SELECT COUNT() FROM Contact", n),
        "COUNT() Title =": counted("SELECT COUNT() FROM Contact WHERE Title = 'Title 7'", per_title),
        "COUNT() range": counted(f"SELECT COUNT() FROM Contact WHERE {in_range}", high - low),
        "LIKE '%x%'": counted(f"SELECT Id FROM Contact WHERE Email LIKE '%{substring}%'", 1),
    }

    def scan():
        # The peer: the same filter and order as a table scan, straight on the fake's database.
        rows = org.store.execute(
            "SELECT Id FROM Contact NOT INDEXED WHERE Email LIKE ? ESCAPE '\\' AND IsDeleted = 0 "
            "ORDER BY LastModifiedDate DESC, Id DESC", [f"%{substring}%"]).fetchall()
        if len(rows) != 1:
            raise SystemExit(f"the table scan found {len(rows)} rows, expected 1")

    result = {"contacts": n, "seed_s": seeded, "SOSL phone": median_ms(search, repeat),
              "SOQL email": median_ms(lookup, repeat), f"{PAGE}-row page": median_ms(page, repeat)}
    for name, call in filters.items():
        result[name] = median_ms(call, repeat)
    result["scan '%x%'"] = median_ms(scan, max(repeat // 5, 5))
    # The database's size once every measure has run: rows plus every index (the ones the
    # filters above created on first use included).
    pages, page_size = (org.store.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
    result["db_mb"] = pages * page_size / 1e6
    result["indexes"] = index_sizes(org)
    return result


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
    names = [k for k in results[0] if k not in ("contacts", "seed_s", "db_mb", "indexes")]
    print(f"{'contacts':>10} {'seed (s)':>9} {'db (MB)':>9} " + " ".join(f"{k:>15}" for k in names) + "   (ms)")
    for r in results:
        print(f"{r['contacts']:>10,} {r['seed_s']:>9.1f} {r['db_mb']:>9.1f} " + " ".join(f"{r[k]:>15.2f}" for k in names))
    for r in results:
        over_scan = r["LIKE '%x%'"] / r["scan '%x%'"]
        print(f"{r['contacts']:>10,} LIKE '%x%' over the table scan: x{over_scan:.3f}; "
              "indexes created on first use (MB): "
              + ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["indexes"].items())))
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(f"{'ratio':>10} {'':>9} {'':>9} " + " ".join(f"{'x%.2f' % (large[k] / small[k]):>15}" for k in names)
              + f"   ({large['contacts']:,} / {small['contacts']:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
