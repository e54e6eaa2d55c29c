"""Person accounts: an Account of the person record type carries a hidden Contact.

The Account's Person* fields (and FirstName, LastName, Salutation) are kept in step with the
Contact, which cannot be updated or deleted on its own. Where the fake differs: the record type
decides, as in an org with person accounts enabled; there is no conversion between kinds.
"""
from __future__ import annotations

from .. import errors
from .base import Behaviour

PERSON_FIELDS = {  # Account person field -> its hidden Contact's field
    "Salutation": "Salutation", "FirstName": "FirstName", "LastName": "LastName",
    "PersonEmail": "Email", "PersonTitle": "Title", "PersonMobilePhone": "MobilePhone",
    "PersonHomePhone": "HomePhone", "PersonOtherPhone": "OtherPhone",
    "PersonAssistantPhone": "AssistantPhone", "PersonBirthdate": "Birthdate",
}


def full_name(first: str | None, last: str | None) -> str | None:
    return " ".join(p for p in (first, last) if p) or None


class PersonAccounts(Behaviour):
    """The Account side: its name, required fields and hidden Contact."""
    objects = frozenset({"Account"})

    def required(self, org, obj, row):
        if row.get("RecordTypeId") == org.person_record_type_id:
            return [] if row.get("LastName") else ["LastName"]
        return [] if row.get("Name") else ["Name"]

    def derive(self, org, obj, row, given, old):
        person = row.get("RecordTypeId") == org.person_record_type_id
        if old is not None and "RecordTypeId" in given and bool(old.get("IsPersonAccount")) != person:
            raise errors.InvalidFieldForInsertUpdate(
                "Cannot change the record type between business and person accounts", ["RecordTypeId"])
        row["IsPersonAccount"] = int(person)
        if person:
            if "Name" in given:
                raise errors.InvalidFieldForInsertUpdate(
                    "Person accounts take FirstName and LastName, not Name", ["Name"])
            row["Name"] = full_name(row.get("FirstName"), row.get("LastName"))
        else:
            used = [k for k in PERSON_FIELDS if given.get(k) is not None]
            if used:
                raise errors.InvalidFieldForInsertUpdate(
                    f"Business accounts cannot use person account fields: {', '.join(used)}", used)

    def after_write(self, org, obj, row, given, old, user_id):
        if not row.get("IsPersonAccount"):
            return
        contact_obj = org.schema.get("Contact")
        if old is None:
            crow = dict(org.default_row(contact_obj))
            crow.update({k: row[k] for k in ("CreatedDate", "LastModifiedDate", "SystemModstamp",
                                             "CreatedById", "LastModifiedById", "OwnerId")})
            crow.update({c: row.get(a) for a, c in PERSON_FIELDS.items()}, AccountId=row["Id"],
                        IsPersonAccount=1, IsDeleted=0, Name=row["Name"],
                        Id=org.ids.next(contact_obj.key_prefix))
            org.store.insert(contact_obj, crow)
            org.index_phones(contact_obj, crow, fresh=True)   # in a seed, the store marks none
            org.store.update(obj, row["Id"], {"PersonContactId": crow["Id"]})
            row["PersonContactId"] = crow["Id"]
            return
        if not row.get("PersonContactId"):
            return
        changes = {PERSON_FIELDS[k]: v for k, v in given.items() if k in PERSON_FIELDS}
        if "OwnerId" in given:
            changes["OwnerId"] = given["OwnerId"]
        if changes:
            crow = org.store.get(contact_obj, row["PersonContactId"])
            new = {**crow, **changes, "Name": row["Name"], "LastModifiedDate": row["LastModifiedDate"],
                   "SystemModstamp": row["SystemModstamp"], "LastModifiedById": user_id}
            org.store.update(contact_obj, crow["Id"], {k: v for k, v in new.items() if crow.get(k) != v})
            org.index_phones(contact_obj, new)


class PersonContacts(Behaviour):
    """The hidden Contact side: changed and deleted only through its Account."""
    objects = frozenset({"Contact"})
    checks_creates = False

    def check(self, org, obj, values, old):
        if old is not None and old.get("IsPersonAccount"):
            raise errors.InvalidFieldForInsertUpdate(
                "Person account contacts cannot be updated directly: update the Account "
                f"{old['AccountId']} instead (its Person* fields)")

    def before_delete(self, org, obj, row):
        if row.get("IsPersonAccount"):
            raise errors.DeleteFailed("Person account contacts cannot be deleted directly: "
                                      f"delete the Account {row['AccountId']}")
