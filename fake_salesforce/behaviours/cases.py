"""Cases: a CaseNumber from the org's counter, and the Account of the Case's Contact."""
from __future__ import annotations

from .base import Behaviour


class Cases(Behaviour):
    objects = frozenset({"Case"})

    def derive(self, org, obj, row, given, old):
        if old is None:
            n = int(org.store.meta("case_number", "1000")) + 1
            org.store.set_meta("case_number", n)
            row["CaseNumber"] = f"{n:08d}"
        if "ContactId" in given and row.get("ContactId") and not given.get("AccountId"):
            contact = org.store.get(org.schema.get("Contact"), row["ContactId"])
            row["AccountId"] = contact.get("AccountId") if contact else None
