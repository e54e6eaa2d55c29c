"""The Task logged for a call or a message (R6, R7.1) and finding it again (R8.1).

Each Task carries its idempotency key in ``CallObject``: the Aircall call id for a call
(R6.11), ``sms:<message id>`` for a message.
"""
from __future__ import annotations

from dataclasses import dataclass

from simple_salesforce import format_soql

from . import state
from .api import SalesforceApi
from .events import CallEvent, Event, MessageEvent
from .outcome import RecordRef
from .settings import Action, CallType
from .text import DESCRIPTION_MAX, SUBJECT_MAX, CallDescription, truncate

STATUS = {Action.COMPLETED: "Completed", Action.IN_PROGRESS: "In Progress"}
UNKNOWN_AGENT = "unknown agent"

SUBJECTS = {
    CallType.OUTBOUND_ANSWERED: "Outbound answered call to {record} via {number} made by {user}",
    CallType.OUTBOUND_UNANSWERED: "Outbound unanswered call via {number} made by {user} to {record}",
    CallType.INBOUND_ANSWERED: "Inbound answered call from {record} on {number} answered by {user}",
    CallType.MISSED: "Missed call from {record} on {number}",
    CallType.VOICEMAIL: "Voicemail from {record} on {number}",
}
SMS_SUBJECTS = {
    "message.sent": "{kind} sent from {user} via {number} to {record}",
    "message.received": "{kind} received from {record} to {number}",
}


def _agent(event: Event) -> str:
    user = event.user
    return (user.name or user.email or UNKNOWN_AGENT) if user else UNKNOWN_AGENT


def subject(event: Event, record_name: str) -> str:
    """The Task Subject (R6.4, R7.1), cut to 255 characters (R6.12)."""
    template = SUBJECTS[event.call_type] if isinstance(event, CallEvent) else SMS_SUBJECTS[event.event]
    kind = "WhatsApp message" if getattr(event, "whatsapp", False) else "SMS"
    text = template.format(record=record_name, number=event.number.name, user=_agent(event), kind=kind)
    return truncate(text, SUBJECT_MAX)


def call_description(event: CallEvent, include_recording: bool) -> CallDescription:
    """The Description content of a call (R6.7 to R6.9)."""
    return CallDescription(
        wait_seconds=event.wait_seconds,
        recording=event.recording_url if include_recording else None,
        voicemail=event.voicemail_url if include_recording else None,
        comments=event.comments,
        tags=event.tags,
    )


def message_description(event: MessageEvent) -> str:
    return truncate(event.body, DESCRIPTION_MAX)


def who_what(record: RecordRef, related: RecordRef | None) -> dict:
    """WhoId / WhatId for the matched record and the related Case or Opportunity (R6.1, R6.2)."""
    if record.person_account:
        fields = {"WhatId": record.id}
        if record.person_contact_id:
            fields["WhoId"] = record.person_contact_id
        return fields
    if record.sobject == "Account":
        return {"WhatId": record.id}
    fields = {"WhoId": record.id}
    if related is not None and record.sobject == "Contact":
        fields["WhatId"] = related.id
    return fields


def record_label(record: RecordRef, event: Event) -> str:
    return record.name or event.external or event.raw_digits


DISPOSITION_MAX = 255  # Task.CallDisposition's length (cut, never rejected: R6.12)


def disposition(call: CallEvent) -> str:
    """The Task's CallDisposition ("Call Result"): Answered, Voicemail, or Unanswered with
    Aircall's missed-call reason when it gave one."""
    if call.answered_at:
        return "Answered"
    if call.call_type is CallType.VOICEMAIL:
        return "Voicemail"
    if not call.missed_call_reason:
        return "Unanswered"
    return truncate(f"Unanswered: {call.missed_call_reason}", DISPOSITION_MAX)


STATE_MAX = DESCRIPTION_MAX // 4


def with_state(visible: str, logged: state.Logged) -> str:
    """The Description: the visible text, then the state line.

    A state line longer than a quarter of the field (hundreds of long comments) is left out:
    later events then only add the lines the Description lacks, as for a Description edited
    in Salesforce.
    """
    line = logged.line()
    if len(line) > STATE_MAX:
        return truncate(visible, DESCRIPTION_MAX)
    visible = truncate(visible, DESCRIPTION_MAX - len(line) - 1)
    return f"{visible}\n{line}" if visible else line


def call_fields(call: CallEvent, label: str, status: str | None, visible: str,
                include_recording: bool) -> dict:
    """The fields of a call Task that follow what is known of the call (R6, R8.2)."""
    fields = {
        "Subject": subject(call, label),
        "ActivityDate": call.activity_date.isoformat(),
        "CallType": "Outbound" if call.direction == "outbound" else "Inbound",
        "CallDurationInSeconds": call.duration,
        "CallDisposition": disposition(call),
        "Description": with_state(visible, state.Logged(call if include_recording else state.withheld(call),
                                                        label, status)),
    }
    if status is not None:
        fields["Status"] = status
    return fields


def task_fields(event: Event, record: RecordRef, related: RecordRef | None, owner_id: str | None,
                action: Action | None, include_recording: bool) -> dict:
    """All fields of the Task to create for ``event``."""
    label = record_label(record, event)
    fields = {
        "Subject": subject(event, label),
        "ActivityDate": event.activity_date.isoformat(),
        "Priority": "Normal",
        "CallObject": event.key,
        **who_what(record, related),
    }
    if isinstance(event, CallEvent):
        fields.update({"Type": "Call", "TaskSubtype": "Call"})
        fields.update(call_fields(event, label, STATUS[action],
                                  call_description(event, include_recording).render(), include_recording))
    else:
        fields.update({"Status": "Completed", "TaskSubtype": "Task",
                       "Description": message_description(event)})
    if not fields["Description"]:
        del fields["Description"]
    if owner_id:
        fields["OwnerId"] = owner_id
    return fields


@dataclass(frozen=True)
class ExistingTask:
    id: str
    description: str | None
    who_id: str | None
    what_id: str | None
    status: str | None
    fields: dict


_FOUND = ("Id", "Description", "WhoId", "WhatId", "Status", "Subject", "ActivityDate", "CallType",
          "CallDurationInSeconds", "CallDisposition")


def find_task_soql(key: str) -> str:
    return format_soql(f"SELECT {', '.join(_FOUND)} FROM Task "
                       "WHERE CallObject = {} ORDER BY CreatedDate ASC LIMIT 1", key)


def find_task(api: SalesforceApi, key: str, *, retried: bool = True) -> ExistingTask | None:
    """The Task already logged under ``key`` (the oldest, should there be several)."""
    record = api.first(find_task_soql(key), retried=retried)
    if record is None:
        return None
    return ExistingTask(id=record["Id"], description=record.get("Description"),
                        who_id=record.get("WhoId"), what_id=record.get("WhatId"),
                        status=record.get("Status"),
                        fields={k: record.get(k) for k in _FOUND if k != "Id"})
