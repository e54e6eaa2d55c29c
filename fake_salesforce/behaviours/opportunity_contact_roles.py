"""Opportunity contact roles: one primary role per Opportunity, mirrored in its ContactId.

Creating an Opportunity with a ContactId creates its primary role, as Salesforce does.
"""
from __future__ import annotations

from .base import Behaviour


class OpportunityContactRoles(Behaviour):
    objects = frozenset({"Opportunity", "OpportunityContactRole"})

    def after_write(self, org, obj, row, given, old, user_id):
        if obj.name == "Opportunity":
            if old is None and row.get("ContactId"):
                org.create("OpportunityContactRole", {"OpportunityId": row["Id"],
                           "ContactId": row["ContactId"], "IsPrimary": True}, user_id, allow_audit=False)
        elif row.get("IsPrimary") and (old is None or given.get("IsPrimary")):
            org.store.execute(
                'UPDATE "OpportunityContactRole" SET IsPrimary = 0 '
                "WHERE OpportunityId = ? AND Id != ? AND IsPrimary = 1",
                [row["OpportunityId"], row["Id"]])
            org.store.execute('UPDATE "Opportunity" SET ContactId = ? WHERE Id = ?',
                              [row["ContactId"], row["OpportunityId"]])
