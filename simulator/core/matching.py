"""Finding the record that owns a phone number (R4), and creating one when none does (R3).

One SOSL search over the standard phone fields of Contact, Lead and Account; priority
Contact > Lead > Account > Person Account (R4.2); within one type the first record Salesforce
returned wins (R4.3): nothing here sorts.
"""
from __future__ import annotations

import re

from simple_salesforce import format_soql

from . import phones
from .api import SalesforceApi, sosl_escape
from .events import AircallContact
from .outcome import RecordRef
from .settings import UnknownNumber
from .text import truncate

PRIORITY = ("Contact", "Lead", "Account", "PersonAccount")
CREATES = {UnknownNumber.CREATE_CONTACT: "Contact", UnknownNumber.CREATE_LEAD: "Lead",
           UnknownNumber.CREATE_ACCOUNT: "Account"}
NOT_PROVIDED = "[not provided]"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# The phone fields that make a record own a number (R4.4). ``IN PHONE FIELDS`` also searches
# Fax (and any custom phone field of a real org): a record found only through those is not a
# match, so the fields are returned and checked.
PHONE_FIELDS = {
    "Contact": ("Phone", "MobilePhone", "HomePhone", "OtherPhone", "AssistantPhone"),
    "Lead": ("Phone", "MobilePhone"),
    "Account": ("Phone",),
    "PersonAccount": ("PersonMobilePhone", "PersonHomePhone", "PersonOtherPhone", "PersonAssistantPhone"),
}


def search_term(e164: str, default_country: str | None = None) -> str:
    """What is searched for ``e164``: the number, and also its national form when the caller is
    in the org's default country, for Salesforce matches digits and finds ``06 12 34 56 78``
    by ``+33612345678`` only approximately (R4.6)."""
    national = phones.national_digits(e164) if phones.region_of(e164) == default_country else None
    return f"{e164} OR {national}" if national and national != e164.lstrip("+") else e164


def search_sosl(e164: str, person_accounts: bool, default_country: str | None = None) -> str:
    """The SOSL search for the records owning ``e164`` (R4.4, R4.5, R4.6)."""
    contact = ["Id", "Name", *PHONE_FIELDS["Contact"]]
    account = ["Id", "Name", *PHONE_FIELDS["Account"]]
    if person_accounts:
        contact.append("IsPersonAccount")
        account += ["IsPersonAccount", "PersonContactId", "FirstName", "LastName",
                    *PHONE_FIELDS["PersonAccount"]]
    lead = ["Id", "Name", *PHONE_FIELDS["Lead"]]
    return (f"FIND {{{sosl_escape(search_term(e164, default_country))}}} IN PHONE FIELDS RETURNING Contact({', '.join(contact)}), "
            f"Lead({', '.join(lead)} WHERE IsConverted = false), Account({', '.join(account)})")


def owns(record: dict, kind: str, e164: str, default_country: str | None = None) -> bool:
    """Whether one of the record's R4.4 phone fields holds ``e164``; a national number stored
    in Salesforce is read in the org's ``default_country``, else in the caller's (R4.6)."""
    fields = PHONE_FIELDS[kind] + (PHONE_FIELDS["Account"] if kind == "PersonAccount" else ())
    region = default_country or phones.region_of(e164)
    return any(isinstance(record.get(f), str) and phones.to_e164(record[f], region) == e164
               for f in fields)


def _ref(record: dict, kind: str) -> RecordRef:
    sobject = record["attributes"]["type"]
    name = record.get("Name")
    if kind == "PersonAccount" and not name:
        name = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
    return RecordRef(sobject=sobject, id=record["Id"], name=name or None,
                     person_account=kind == "PersonAccount",
                     person_contact_id=record.get("PersonContactId") if kind == "PersonAccount" else None)


def choose(records: list[dict], e164: str | None = None,
           default_country: str | None = None) -> RecordRef | None:
    """The record a call is logged on, among SOSL results in Salesforce's order (R4.2, R4.3).
    With ``e164``, a record owns the number only through the phone fields of R4.4.

    A person account's hidden Contact (IsPersonAccount) is not a Contact: the person
    account is found as an Account.
    """
    first: dict[str, dict] = {}
    for record in records:
        sobject = (record.get("attributes") or {}).get("type")
        if sobject == "Contact" and record.get("IsPersonAccount"):
            continue
        if sobject == "Lead" and record.get("IsConverted"):
            continue
        kind = "PersonAccount" if sobject == "Account" and record.get("IsPersonAccount") else sobject
        if e164 is not None and kind in PHONE_FIELDS and not owns(record, kind, e164, default_country):
            continue
        first.setdefault(kind, record)
    for kind in PRIORITY:
        if kind in first:
            return _ref(first[kind], kind)
    return None


def find_record(api: SalesforceApi, e164: str, person_accounts: bool,
                default_country: str | None = None) -> RecordRef | None:
    """The record owning ``e164``, or None (one request)."""
    return choose(api.search(search_sosl(e164, person_accounts, default_country)), e164,
                  default_country)


def created_record_soql(sobject: str, e164: str, person_accounts: bool) -> str:
    """SOQL finding a record the integration created for ``e164`` (its Phone is exactly it).

    SOSL indexes new records asynchronously in a real org; this query sees them at once, so a
    redelivered or retried event never creates the record twice.
    """
    extra = {"Lead": " AND IsConverted = false"}.get(sobject, "")
    if person_accounts and sobject in ("Contact", "Account"):
        extra = " AND IsPersonAccount = false"
    return format_soql(f"SELECT Id, Name FROM {sobject} WHERE Phone = {{}}{extra} LIMIT 1", e164)


def find_created(api: SalesforceApi, sobject: str, e164: str, person_accounts: bool,
                 *, retried: bool = True) -> RecordRef | None:
    soql = created_record_soql(sobject, e164, person_accounts)
    records = api.query(soql) if retried else api.raw_query(soql)
    if not records:
        return None
    return RecordRef(sobject=sobject, id=records[0]["Id"], name=records[0].get("Name"))


def _email(contact: AircallContact | None) -> str | None:
    email = contact.email if contact else None
    if email and len(email) <= 80 and _EMAIL.match(email):
        return email
    return None


def new_record(sobject: str, e164: str, contact: AircallContact | None) -> tuple[dict, str]:
    """Fields of the record created for an unknown number, and its display name (R3.2, R3.3)."""
    first = truncate(contact.first_name, 40) if contact and contact.first_name else None
    last = truncate(contact.last_name, 80) if contact and contact.last_name else None
    if sobject == "Account":
        person = " ".join(p for p in (first, last) if p)
        name = truncate((contact.company if contact else None) or person or e164, 255)
        return {"Name": name, "Phone": e164}, name
    fields = {"LastName": last or e164, "Phone": e164}
    if first:
        fields["FirstName"] = first
    email = _email(contact)
    if email:
        fields["Email"] = email
    if sobject == "Lead":
        fields["Company"] = truncate((contact.company if contact else None) or NOT_PROVIDED, 255)
    name = " ".join(p for p in (first, fields["LastName"]) if p)
    return fields, name


def create_record(api: SalesforceApi, sobject: str, e164: str, contact: AircallContact | None,
                  person_accounts: bool) -> RecordRef:
    """Create the record for an unknown number; a retry after a lost answer reuses it."""
    fields, name = new_record(sobject, e164, contact)

    def recheck() -> str | None:
        found = find_created(api, sobject, e164, person_accounts, retried=False)
        return found.id if found else None

    record_id = api.create(sobject, fields, recheck=recheck)
    return RecordRef(sobject=sobject, id=record_id, name=name, created=True)
