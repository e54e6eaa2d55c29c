"""``USING SCOPE``: which scopes each object offers, and the test each puts on its rows.

One table serves the compiler (the test of ``USING SCOPE name``) and describe (the object's
``supportedScopes``), so what describe lists is exactly what a query accepts.

- ``everything``: every record.
- ``mine``: records the running user owns (OwnerId); a Dashboard is the running user's when it
  sits in their personal folder (its FolderId is their user id).
- ``mru``: the object's 200 most recently modified records (as ``/recent``).
- ``delegated``: the Tasks and Events the running user created and another user owns.
- ``team``: Accounts and Opportunities whose team (AccountTeamMember, OpportunityTeamMember)
  has the running user; on other owned objects, the records owned by a user who reports to the
  running user (User.ManagerId), as Salesforce's "My team's" scope of custom objects; on User,
  the users who report to the running user.
- ``my_territory`` / ``my_team_territory``: with Enterprise Territory Management's objects
  (Territory2, UserTerritory2Association, ObjectTerritory2Association), the Accounts and Leads
  assigned to a territory of the running user (or of a user who reports to them), the
  Opportunities whose Territory2Id is one, and the Users assigned to one. An org with no
  territories seeded answers no records: that is the exact answer, not a stand-in.
- ``mine_and_my_groups`` (ProcessInstanceWorkitem only, as in Salesforce): workitems whose actor
  is the running user or a queue or group that has them as a member (GroupMember).
- ``allPrivate`` (Dashboard): the dashboards in any user's personal folder.
- ``user_owned`` / ``queue_owned``: on objects a queue may own (Case, Lead), the records owned
  by a user / by a queue.

Where the fake differs from Salesforce:
- ``mru`` keeps the most recently modified records, for every user alike (the fake records no
  views).
- The fake has no scoping rules, so no object offers ``scopingRule``.
- describe's scope labels are the fake's wording, shaped on Salesforce's ("All accounts",
  "My accounts", "My team's accounts").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..schema import SObjectDef
from ..store import q

_TEAMS = {"Account": ("AccountTeamMember", "AccountId"),
          "Opportunity": ("OpportunityTeamMember", "OpportunityId")}
_LIVE = '"IsDeleted" = 0'

Column = Callable[[str], str]          # a field name -> its SQL column in the query


def _reports() -> str:
    """The users who report to the running user (their ManagerId): the running user's team."""
    return f'SELECT "Id" FROM "User" WHERE "ManagerId" = ? AND {_LIVE}'


def _territories(users_sql: str) -> str:
    """The territories (Territory2) the users ``users_sql`` selects are assigned to."""
    return (f'SELECT "Territory2Id" FROM "UserTerritory2Association" WHERE "UserId" IN '
            f'({users_sql}) AND {_LIVE}')


def _owned(obj: SObjectDef) -> bool:
    return obj.field("OwnerId") is not None


def _queue_owned(obj: SObjectDef) -> bool:
    return _owned(obj) and "Group" in obj.field("OwnerId").reference_to


def _has_territory(obj: SObjectDef) -> bool:
    return obj.name in ("Account", "Lead", "User") or obj.field("Territory2Id") is not None


def _in_territories(obj: SObjectDef, col: Column, territories: str) -> str:
    """The records of ``obj`` assigned to one of ``territories``: Accounts and Leads through
    ObjectTerritory2Association, Users by their UserTerritory2Association, other objects by
    their Territory2Id."""
    if obj.name in ("Account", "Lead"):
        return (f'{col("Id")} IN (SELECT "ObjectId" FROM "ObjectTerritory2Association" '
                f'WHERE "Territory2Id" IN ({territories}) AND {_LIVE})')
    if obj.name == "User":
        return (f'{col("Id")} IN (SELECT "UserId" FROM "UserTerritory2Association" '
                f'WHERE "Territory2Id" IN ({territories}) AND {_LIVE})')
    return f'{col("Territory2Id")} IN ({territories})'


def _mine(obj, col, uid):
    if obj.name == "Dashboard":
        return f"{col('FolderId')} = ?", [uid]
    return f"{col('OwnerId')} = ?", [uid]


def _mru(obj, col, uid):
    return (f"{col('Id')} IN (SELECT \"Id\" FROM {q(obj.name)} WHERE {_LIVE} "
            f"ORDER BY \"LastModifiedDate\" DESC, \"Id\" DESC LIMIT 200)", [])


def _team(obj, col, uid):
    if obj.name in _TEAMS:
        member, field_name = _TEAMS[obj.name]
        return (f"{col('Id')} IN (SELECT {q(field_name)} FROM {q(member)} "
                f"WHERE \"UserId\" = ? AND {_LIVE})", [uid])
    if obj.name == "User":
        return f"{col('Id')} IN ({_reports()})", [uid]
    return f"{col('OwnerId')} IN ({_reports()})", [uid]


def _owner_kind(prefix_test: str):
    def test(obj, col, uid):
        return f"substr({col('OwnerId')}, 1, 3) {prefix_test} '005'", []
    return test


@dataclass(frozen=True)
class ScopeDef:
    name: str                                           # as describe spells it
    label: str                                          # {} is the object's plural label
    offered: Callable[[SObjectDef], bool]
    test: Callable[[SObjectDef, Column, str], tuple[str, list]] | None   # None: every record


SCOPES = [
    ScopeDef("everything", "All {}", lambda obj: True, None),
    ScopeDef("mine", "My {}", lambda obj: _owned(obj) or obj.name == "Dashboard", _mine),
    ScopeDef("mru", "Recently viewed {}", lambda obj: True, _mru),
    ScopeDef("delegated", "Delegated {}", lambda obj: obj.name in ("Task", "Event"),
             lambda obj, col, uid: (f"{col('CreatedById')} = ? AND {col('OwnerId')} != ?",
                                    [uid, uid])),
    ScopeDef("team", "My team's {}",
             lambda obj: obj.name in _TEAMS or obj.name == "User" or _owned(obj), _team),
    ScopeDef("my_territory", "My territories' {}", _has_territory,
             lambda obj, col, uid: (_in_territories(obj, col, _territories("?")), [uid])),
    ScopeDef("my_team_territory", "My team's territories' {}", _has_territory,
             lambda obj, col, uid: (_in_territories(obj, col, _territories(_reports())), [uid])),
    ScopeDef("mine_and_my_groups", "My {} and my groups' {}",
             lambda obj: obj.name == "ProcessInstanceWorkitem",
             lambda obj, col, uid: (f"({col('ActorId')} = ? OR {col('ActorId')} IN (SELECT "
                                    f"\"GroupId\" FROM \"GroupMember\" WHERE \"UserOrGroupId\" = ? "
                                    f"AND {_LIVE}))", [uid, uid])),
    ScopeDef("allPrivate", "All private {}", lambda obj: obj.name == "Dashboard",
             lambda obj, col, uid: (f"substr({col('FolderId')}, 1, 3) = '005'", [])),
    ScopeDef("user_owned", "User-owned {}", _queue_owned, _owner_kind("=")),
    ScopeDef("queue_owned", "Queue-owned {}", _queue_owned, _owner_kind("!=")),
]
BY_NAME = {s.name.upper(): s for s in SCOPES}
# the construct refused (501) for any other scope, or a scope the FROM object does not offer
REFUSED = ("SOQL USING SCOPE (other than " + ", ".join(s.name for s in SCOPES[:-1])
           + f" and {SCOPES[-1].name})")


def scope_test(name: str, obj: SObjectDef, col: Column,
               user_id: str | None) -> tuple[str, list] | None:
    """The test of ``USING SCOPE name`` (upper case) on ``obj``'s rows: ``("", [])`` for every
    record, or None where the object does not offer the scope (or no user runs the query)."""
    scope = BY_NAME.get(name)
    if scope is None or not scope.offered(obj) or user_id is None and scope.test is not None:
        return None
    return scope.test(obj, col, user_id) if scope.test else ("", [])


def known(name: str) -> bool:
    """Whether ``name`` (upper case) is a scope the fake knows on some object."""
    return name in BY_NAME


def supported_scopes(obj: SObjectDef) -> list[dict]:
    """describe's ``supportedScopes`` of ``obj``: the scopes a query on it accepts."""
    plural = obj.label_plural.lower()
    return [{"name": s.name, "label": s.label.format(plural, plural)}
            for s in SCOPES if s.offered(obj)]
