"""Tasks and Events: the Account they roll up to, and the rules of WhoId and WhatId."""
from __future__ import annotations

from .. import errors
from .base import Behaviour


class Activities(Behaviour):
    objects = frozenset({"Task", "Event"})

    def derive(self, org, obj, row, given, old):
        if row.get("WhoId") and row["WhoId"].startswith(org.schema.get("Lead").key_prefix) \
                and row.get("WhatId"):
            raise errors.FieldIntegrityException(
                "field integrity exception: WhatId (a Lead cannot be related to another record)",
                ["WhatId"])
        row["AccountId"] = self._account(org, row)
        if obj.name == "Event":
            start = row.get("StartDateTime")
            row["ActivityDate"] = start[:10] if start else None

    @staticmethod
    def _account(org, row: dict) -> str | None:
        """The What's Account (or its AccountId), else the Who Contact's Account."""
        what = org.row_of(row.get("WhatId"))
        if what:
            wobj, wrow = what
            if wobj.name == "Account":
                return wrow["Id"]
            if "AccountId" in wobj.fields and wrow.get("AccountId"):
                return wrow["AccountId"]
        who = org.row_of(row.get("WhoId"))
        if who and who[0].name == "Contact":
            return who[1].get("AccountId")
        return None
