"""The hooks a per-object behaviour may implement (see the package's docstring)."""
from __future__ import annotations

from typing import Any

from ..schema import FieldDef, SObjectDef

Org = Any  # the fake_salesforce.org.Org running the hook (not imported: org imports this package)


class Behaviour:
    objects: frozenset[str] = frozenset()
    # whether ``check`` may refuse a create (False: it looks at updates only, and creates skip it)
    checks_creates: bool = True

    def check(self, org: Org, obj: SObjectDef, values: dict, old: dict | None) -> None:
        pass

    def required(self, org: Org, obj: SObjectDef, row: dict) -> list[str]:
        return []

    def derive(self, org: Org, obj: SObjectDef, row: dict, given: dict, old: dict | None) -> None:
        pass

    def referenced(self, org: Org, obj: SObjectDef, row: dict, field: FieldDef) -> None:
        pass

    def after_write(self, org: Org, obj: SObjectDef, row: dict, given: dict, old: dict | None,
                    user_id: str) -> None:
        pass

    def before_delete(self, org: Org, obj: SObjectDef, row: dict) -> None:
        pass
