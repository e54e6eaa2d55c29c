"""The Case or Opportunity a Contact's calls and messages are also related to (R5).

Only Contacts have them (R5.2), only open ones qualify (R5.3), the first Salesforce returns
wins (R5.4), and only Cases are ever created (R5.5 to R5.7).
"""
from __future__ import annotations

from simple_salesforce import format_soql

from .api import SalesforceApi
from .outcome import RecordRef
from .text import SUBJECT_MAX, truncate


def open_case_soql(contact_id: str) -> str:
    """No ORDER BY: the first Case Salesforce returns wins (R5.4)."""
    return format_soql("SELECT Id, CaseNumber FROM Case WHERE ContactId = {} AND IsClosed = false "
                       "LIMIT 1", contact_id)


def find_open_case(api: SalesforceApi, contact_id: str, *, retried: bool = True) -> RecordRef | None:
    record = api.first(open_case_soql(contact_id), retried=retried)
    if record is None:
        return None
    return RecordRef(sobject="Case", id=record["Id"], name=record.get("CaseNumber"))


def open_opportunity_soql(contact_id: str) -> str:
    """The Contact's open Opportunities through OpportunityContactRole (R5.8), primary role
    first; among equals, the most recently updated Opportunity (R5.4). The roles are queried,
    so the Opportunity's own last update has to be named: left to the default order, the
    roles' order would decide instead."""
    return format_soql(
        "SELECT OpportunityId, Opportunity.Name FROM OpportunityContactRole "
        "WHERE ContactId = {} AND Opportunity.IsClosed = false "
        "ORDER BY IsPrimary DESC, Opportunity.LastModifiedDate DESC LIMIT 1",
        contact_id)


def find_open_opportunity(api: SalesforceApi, contact_id: str) -> RecordRef | None:
    records = api.query(open_opportunity_soql(contact_id))
    if not records:
        return None
    opportunity = records[0].get("Opportunity") or {}
    return RecordRef(sobject="Opportunity", id=records[0]["OpportunityId"],
                     name=opportunity.get("Name"))


def create_case(api: SalesforceApi, contact_id: str, subject: str) -> RecordRef:
    """Open a Case for the Contact (R5.5); a retry after a lost answer reuses the one made."""

    def recheck() -> str | None:
        found = find_open_case(api, contact_id, retried=False)
        return found.id if found else None

    case_id = api.create("Case", {"ContactId": contact_id, "Subject": truncate(subject, SUBJECT_MAX),
                                  "Origin": "Phone"}, recheck=recheck)
    return RecordRef(sobject="Case", id=case_id, created=True)
