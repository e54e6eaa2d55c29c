"""What handling one delivery did: the record, the Task, or why nothing was logged."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .settings import CallType

# Standard key prefixes, the same in every org.
_PREFIXES = {"003": "Contact", "00Q": "Lead", "001": "Account", "500": "Case",
             "006": "Opportunity", "00T": "Task", "005": "User"}


def sobject_of(record_id: str | None) -> str | None:
    """The sObject a standard record Id belongs to, from its key prefix."""
    return _PREFIXES.get((record_id or "")[:3])


@dataclass(frozen=True)
class RecordRef:
    """A Salesforce record the core matched, created or related a Task to."""

    sobject: str
    id: str
    name: str | None = None
    created: bool = False
    person_account: bool = False
    person_contact_id: str | None = None

    @property
    def kind(self) -> str:
        """``Contact``, ``Lead``, ``Account``, ``PersonAccount``, ``Case`` or ``Opportunity``."""
        return "PersonAccount" if self.person_account else self.sobject


@dataclass
class Outcome:
    """The result of one delivery.

    ``logged`` is False when the rules say not to log; ``rule`` then names the rule
    (``R1.5`` do_nothing workflow, ``R2.2`` number closed, ``R3.5`` unknown number,
    ``R3.6`` anonymous caller) and ``reason`` says it in words. ``task_action`` is
    ``created``, ``updated`` (a later event, R8.2), ``unchanged`` (a redelivery, R8.1) or
    ``ignored`` (an Aircall event that changes nothing in Salesforce; ``reason`` says so).
    ``requests`` counts the HTTP requests made to Salesforce, retries included.
    """

    event: str
    key: str
    logged: bool
    rule: str | None = None
    reason: str = ""
    call_type: CallType | None = None
    status: str | None = None
    record: RecordRef | None = None
    related: RecordRef | None = None
    task_id: str | None = None
    task_action: str | None = None
    requests: int = 0

    @property
    def related_id(self) -> str | None:
        return self.related.id if self.related else None

    @property
    def case_created(self) -> bool:
        return bool(self.related and self.related.sobject == "Case" and self.related.created)

    @property
    def record_created(self) -> bool:
        return bool(self.record and self.record.created)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        data = asdict(self)
        data["call_type"] = self.call_type.value if self.call_type else None
        for key in ("record", "related"):
            ref = getattr(self, key)
            if ref is not None:
                data[key]["kind"] = ref.kind
        data["related_id"] = self.related_id
        data["case_created"] = self.case_created
        return data
