"""Seeding speed: records per second through ``POST /_fake/seed`` and from a ``--seed`` file.

    python benchmarks/bench_seed.py [--records 100000] [--batch 10000]

1. ``POST /_fake/seed`` in batches of ``--batch`` Contacts, in-process (the control API through
   ``ControlClient``, as a test would seed its org), each value validated as on create.
2. A JSON ``--seed`` file of ``--records`` Contacts, read and loaded as ``fake-salesforce serve
   --seed FILE`` does before it starts listening.

The floor measured in the same run is a bare ``executemany`` of the same rows into a SQLite table
of the same width: what SQLite itself takes, with no validation at all. Phone numbers are
parsed for the search index at the first phone search after a write, not while seeding: the
table shows that search's rate too (records indexed per second).
Rates are per CPU second of this process (the machine may be shared; waiting for a core is
not the seeding's cost). Targets: >= 50,000 records/s through the control API, >= 100,000/s from a seed file.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fake_salesforce  # noqa: E402
from fake_salesforce.cli import _load_seed  # noqa: E402
from fake_salesforce.control import ControlClient  # noqa: E402


def contact(i: int) -> dict:
    return {"FirstName": "Seed", "LastName": f"Contact{i}", "Email": f"seed{i}@example.com",
            "Phone": f"+1 212 {i // 10000 % 1000:03d} {i % 10000:04d}", "Title": "Buyer"}


def control_api(records: int, batch: int) -> float:
    org = fake_salesforce.Org()
    control = ControlClient(fake_salesforce.create_app(org))
    started = time.process_time()
    for base in range(0, records, batch):
        control.seed("Contact", [contact(i) for i in range(base, min(records, base + batch))])
    return records / (time.process_time() - started)


def seed_file(records: int) -> tuple[float, float]:
    """Records/s loading a seed file, then records/s of the first phone search after it (which
    works out the phone keys of every seeded record: see Org.index_phones)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seed.json"
        path.write_text(json.dumps({"records": [{"sobject": "Contact", "fields": contact(i)}
                                                for i in range(records)]}))
        org = fake_salesforce.Org()
        started = time.process_time()
        org.seed(_load_seed(path))
        seeded = time.process_time()
        found = org.search("FIND {(212) 000-0001} IN PHONE FIELDS RETURNING Contact(LastName)")
        searched = time.process_time()
        assert [r["LastName"] for r in found["searchRecords"]] == ["Contact1"], found
        return records / (seeded - started), records / (searched - seeded)


def sqlite_floor(records: int) -> float:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE c (Id TEXT PRIMARY KEY, FirstName, LastName, Email, Phone, Title)")
    started = time.process_time()
    with conn:
        conn.executemany("INSERT INTO c VALUES (?, ?, ?, ?, ?, ?)",
                         ([f"003{i:015d}"] + list(contact(i).values()) for i in range(records)))
    return records / (time.process_time() - started)


def run(records: int = 100_000, batch: int = 10_000) -> dict:
    floor = sqlite_floor(records)
    api = control_api(records, batch)
    from_file, phones = seed_file(records)
    rows = [["POST /_fake/seed, in-process", f"{api:,.0f}", f"{floor / api:.1f}x", ">= 50,000/s",
             "met" if api >= 50_000 else "missed"],
            ["--seed file (JSON)", f"{from_file:,.0f}", f"{floor / from_file:.1f}x", ">= 100,000/s",
             "met" if from_file >= 100_000 else "missed"],
            ["then the first phone search (indexes every seeded phone)", f"{phones:,.0f}",
             f"{floor / phones:.1f}x", "", ""],
            ["floor: bare SQLite executemany", f"{floor:,.0f}", "1.0x", "", ""]]
    return {"figures": {"control_api": api, "seed_file": from_file, "first_phone_search": phones,
                        "sqlite_floor": floor},
            "headers": [f"seeding {records:,} Contacts", "records/s", "floor / this", "target", ""],
            "rows": rows, "notes": []}


def main(argv=None) -> int:
    from tabulate import tabulate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000, help="records per POST /_fake/seed")
    args = parser.parse_args(argv)
    out = run(args.records, args.batch)
    print(tabulate(out["rows"], headers=out["headers"], tablefmt="github"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
