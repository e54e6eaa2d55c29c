"""Converted Leads are read-only, and no record may point at one."""
from __future__ import annotations

from .. import errors
from .base import Behaviour


class ConvertedLeads(Behaviour):
    objects = frozenset({"Lead"})
    checks_creates = False

    def check(self, org, obj, values, old):
        if old is not None and old.get("IsConverted"):
            raise errors.CannotUpdateConvertedLead("cannot reference converted lead")

    def referenced(self, org, obj, row, field):
        if row.get("IsConverted"):
            raise errors.CannotUpdateConvertedLead("cannot reference converted lead", [field.name])
