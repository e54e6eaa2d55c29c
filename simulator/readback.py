"""Reading back what the logging core wrote: Tasks by call, timelines, records by name.

Shared by the runner (checking expectations) and the behaviour tables (filling cells). Every
read is a SOQL query through a Salesforce client, never a look at the fake's tables.
"""
from __future__ import annotations

from typing import Callable

from simple_salesforce import format_soql

from simulator.core import state
from simulator.core.outcome import sobject_of

PAST, NEXT = "past_activities", "next_steps"
SECTION_TITLES = {PAST: "Past Activities", NEXT: "Next Steps"}
# The Task fields needed to draw a timeline as the record page does (simulator.html).
TIMELINE_FIELDS = ("Id", "Subject", "CallObject", "IsClosed", "Status", "ActivityDate", "CreatedDate",
                   "CompletedDateTime", "TaskSubtype", "CallType", "CallDurationInSeconds",
                   "CallDisposition", "Description", "WhoId", "Who.Name", "WhatId", "What.Name")
KIND_NAMES = {"Contact": "Contact", "Lead": "Lead", "Account": "Account",
              "PersonAccount": "Person Account", "Case": "Case", "Opportunity": "Opportunity",
              "User": "User"}


def visible_description(description: str | None) -> str | None:
    """A Task's Description as a person reads it: without the core's last line recording the
    call (see :mod:`simulator.core.state`)."""
    if description is None:
        return None
    text, logged = state.split(description)
    return text if logged is not None else description


def section_of(task: dict) -> str:
    """The timeline section a Task shows in: closed Tasks are past activities (R1.3)."""
    return PAST if task["IsClosed"] else NEXT


class OrgView:
    """Queries an org through ``query`` (SOQL text to a list of records)."""

    def __init__(self, query: Callable[[str], list[dict]]):
        self.query = query
        self._labels: dict[str, str] = {}

    def tasks_with_key(self, key: str, fields=("Id", "Subject", "CallObject", "IsClosed")) -> list[dict]:
        """The Tasks whose CallObject (the core's idempotency key) is ``key``."""
        return self.query(format_soql(f"SELECT {', '.join(fields)} FROM Task WHERE CallObject = {{}}",
                                      key))

    def timeline(self, record_id: str, sobject: str,
                 fields=("Id", "Subject", "CallObject", "IsClosed")) -> dict[str, list[dict]]:
        """A record's Activity timeline as Salesforce builds it: Tasks (with ``fields``) by section.

        Contacts and Leads show Tasks by WhoId; Accounts by WhatId or AccountId; a person
        account also shows its person Contact's; Cases and Opportunities by WhatId.
        """
        if sobject in ("Contact", "Lead"):
            where = format_soql("WhoId = {}", record_id)
        elif sobject == "Account":
            where = format_soql("WhatId = {0} OR AccountId = {0}", record_id)
        elif sobject == "PersonAccount":
            rows = self.query(format_soql("SELECT PersonContactId FROM Account WHERE Id = {}", record_id))
            contact = rows[0]["PersonContactId"] if rows else None
            where = format_soql("WhatId = {} OR WhoId = {}", record_id, contact)
        else:  # Case, Opportunity
            where = format_soql("WhatId = {}", record_id)
        rows = self.query(f"SELECT {', '.join(fields)} FROM Task WHERE {where}")
        return {PAST: [r for r in rows if section_of(r) == PAST],
                NEXT: [r for r in rows if section_of(r) == NEXT]}

    def label(self, record_id: str | None) -> str:
        """A record as ``Type Name``: ``Contact Alice Martin``, ``Person Account Jane Doe``."""
        if not record_id:
            return "(none)"
        if record_id not in self._labels:
            self._labels[record_id] = self._read_label(record_id)
        return self._labels[record_id]

    def _read_label(self, record_id: str) -> str:
        sobject = sobject_of(record_id)
        if sobject == "Account":
            row = self._one("SELECT Name, IsPersonAccount FROM Account WHERE Id = {}", record_id)
            kind = "PersonAccount" if row.get("IsPersonAccount") else "Account"
            return f"{KIND_NAMES[kind]} {row.get('Name')}"
        if sobject == "Contact":
            row = self._one("SELECT Name, IsPersonAccount FROM Contact WHERE Id = {}", record_id)
            suffix = " (a person account's contact)" if row.get("IsPersonAccount") else ""
            return f"Contact {row.get('Name')}{suffix}"
        if sobject in ("Case", "Opportunity"):
            title = "Subject" if sobject == "Case" else "Name"
            row = self._one(f"SELECT {title}, IsClosed FROM {sobject} WHERE Id = {{}}", record_id)
            return f"{sobject} '{row.get(title)}' ({'closed' if row.get('IsClosed') else 'open'})"
        if sobject in ("Lead", "User"):
            row = self._one(f"SELECT Name FROM {sobject} WHERE Id = {{}}", record_id)
            return f"{sobject} {row.get('Name')}"
        return f"{sobject or 'record'} {record_id}"

    def _one(self, soql: str, record_id: str) -> dict:
        rows = self.query(format_soql(soql, record_id))
        return rows[0] if rows else {}

    def logged_on(self, task: dict | None) -> str:
        """The record whose timeline shows the Task: its Account (WhatId), else its WhoId."""
        if task is None:
            return "(none)"
        if task.get("WhatId") and sobject_of(task["WhatId"]) == "Account":
            return self.label(task["WhatId"])
        return self.label(task.get("WhoId") or task.get("WhatId"))
