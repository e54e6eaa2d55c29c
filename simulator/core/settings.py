"""Integration settings: the ``settings:`` block of a scenario, or a settings YAML file.

Keys and defaults are those of the scenario format (``scenario-format.md``). Every mistake is
reported as a :class:`SettingsError` naming the key path and what was expected.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

from .errors import SettingsError


class CallType(enum.StrEnum):
    """The five call types of R1.1."""

    OUTBOUND_ANSWERED = "outbound_answered"
    OUTBOUND_UNANSWERED = "outbound_unanswered"
    INBOUND_ANSWERED = "inbound_answered"
    MISSED = "missed"
    VOICEMAIL = "voicemail"


class Action(enum.StrEnum):
    """What the call workflow does with a call type (R1.2)."""

    COMPLETED = "completed"
    IN_PROGRESS = "in_progress"
    DO_NOTHING = "do_nothing"


class UnknownNumber(enum.StrEnum):
    """What to do when no record owns the number (R3.1)."""

    CREATE_CONTACT = "create_contact"
    CREATE_LEAD = "create_lead"
    CREATE_ACCOUNT = "create_account"
    DO_NOTHING = "do_nothing"


class LogOnRelated(enum.StrEnum):
    """Whether calls of a Contact are also related to its Case or Opportunity (R5.1)."""

    NONE = "none"
    CASE = "case"
    OPPORTUNITY = "opportunity"


DEFAULT_CALL_WORKFLOW: Mapping[CallType, Action] = MappingProxyType({
    CallType.OUTBOUND_ANSWERED: Action.COMPLETED,
    CallType.OUTBOUND_UNANSWERED: Action.COMPLETED,
    CallType.INBOUND_ANSWERED: Action.COMPLETED,
    CallType.MISSED: Action.IN_PROGRESS,
    CallType.VOICEMAIL: Action.IN_PROGRESS,
})

_KEYS = ("call_workflow", "log_when_closed", "unknown_number", "log_on_related", "create_case",
         "include_recording", "integration_owner")


def _one_of(values: type[enum.StrEnum]) -> str:
    return ", ".join(v.value for v in values)


def _choice(value: Any, enum_type: type[enum.StrEnum], path: str):
    if isinstance(value, str):
        try:
            return enum_type(value)
        except ValueError:
            pass
    raise SettingsError(f"{path}: {value!r} is not one of {_one_of(enum_type)}", path=path)


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{path}: expected true or false, got {value!r}", path=path)
    return value


@dataclass(frozen=True)
class Settings:
    """How calls and messages are logged. Build with :meth:`from_dict` or :meth:`from_yaml`.

    ``integration_owner`` is the fallback Task owner (R6.10): a Salesforce User Id, or the
    email or username of an active User; ``None`` lets Salesforce assign the API user.
    """

    call_workflow: Mapping[CallType, Action] = field(default_factory=lambda: DEFAULT_CALL_WORKFLOW)
    log_when_closed: bool = True
    unknown_number: UnknownNumber = UnknownNumber.DO_NOTHING
    log_on_related: LogOnRelated = LogOnRelated.NONE
    create_case: bool = False
    include_recording: bool = True
    integration_owner: str | None = None

    def __post_init__(self):
        # Validate and normalise values given directly to the constructor as well.
        workflow = dict(DEFAULT_CALL_WORKFLOW)
        if not isinstance(self.call_workflow, Mapping):
            raise SettingsError("settings.call_workflow: expected a mapping of call type to action",
                                path="settings.call_workflow")
        for key, value in self.call_workflow.items():
            call_type = _choice(key, CallType, f"settings.call_workflow.{key}")
            workflow[call_type] = _choice(value, Action, f"settings.call_workflow.{key}")
        object.__setattr__(self, "call_workflow", MappingProxyType(workflow))
        object.__setattr__(self, "log_when_closed", _bool(self.log_when_closed, "settings.log_when_closed"))
        object.__setattr__(self, "unknown_number",
                           _choice(self.unknown_number, UnknownNumber, "settings.unknown_number"))
        object.__setattr__(self, "log_on_related",
                           _choice(self.log_on_related, LogOnRelated, "settings.log_on_related"))
        object.__setattr__(self, "create_case", _bool(self.create_case, "settings.create_case"))
        object.__setattr__(self, "include_recording",
                           _bool(self.include_recording, "settings.include_recording"))
        if self.create_case and self.log_on_related is not LogOnRelated.CASE:
            raise SettingsError(
                f"settings.create_case: true needs log_on_related: case "
                f"(log_on_related is {self.log_on_related.value!r})", path="settings.create_case")
        owner = self.integration_owner
        if owner is not None and (not isinstance(owner, str) or not owner.strip()):
            raise SettingsError(
                f"settings.integration_owner: expected a User Id, email or username, got {owner!r}",
                path="settings.integration_owner")
        if owner is not None:
            object.__setattr__(self, "integration_owner", owner.strip())

    def action_for(self, call_type: CallType) -> Action:
        """The workflow action chosen for a call type (R1.2)."""
        return self.call_workflow[call_type]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, where: str = "settings") -> "Settings":
        """Settings from a mapping shaped like the scenario ``settings:`` block.

        ``where`` prefixes key paths in error messages (``scenarios/x.yaml: settings``).
        """
        try:
            return cls._from_dict(data)
        except SettingsError as exc:
            if where == "settings":
                raise
            message = exc.message.replace("settings", where, 1)
            raise SettingsError(message, path=(exc.path or "").replace("settings", where, 1)) from None

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any] | None) -> "Settings":
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise SettingsError(f"settings: expected a mapping, got {type(data).__name__}",
                                path="settings")
        unknown = [str(k) for k in data if k not in _KEYS]
        if unknown:
            raise SettingsError(
                f"settings.{unknown[0]}: unknown setting; expected one of {', '.join(_KEYS)}",
                path=f"settings.{unknown[0]}")
        kwargs = dict(data)
        workflow = kwargs.get("call_workflow")
        if workflow is None:
            kwargs.pop("call_workflow", None)
        elif not isinstance(workflow, Mapping):
            raise SettingsError(
                f"settings.call_workflow: expected a mapping of call type to action, got {workflow!r}",
                path="settings.call_workflow")
        else:
            for key in workflow:
                if key not in {c.value for c in CallType}:
                    raise SettingsError(
                        f"settings.call_workflow.{key}: unknown call type; expected one of "
                        f"{_one_of(CallType)}", path=f"settings.call_workflow.{key}")
        if "integration_owner" in kwargs and kwargs["integration_owner"] is not None \
                and not isinstance(kwargs["integration_owner"], str):
            raise SettingsError(
                f"settings.integration_owner: expected a User Id, email or username, got "
                f"{kwargs['integration_owner']!r}", path="settings.integration_owner")
        return cls(**kwargs)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Settings":
        """Settings from a YAML file: the mapping itself, or a file whose only key is ``settings``."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"{path}: cannot read settings file: {exc.strerror or exc}",
                                path=str(path)) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise SettingsError(f"{path}: not valid YAML{at}: {getattr(exc, 'problem', exc)}",
                                path=str(path)) from None
        if isinstance(data, Mapping) and set(data) == {"settings"}:
            data = data["settings"]
        return cls.from_dict(data, where=f"{path}: settings")

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data, in the shape :meth:`from_dict` reads."""
        return {
            "call_workflow": {k.value: v.value for k, v in self.call_workflow.items()},
            "log_when_closed": self.log_when_closed,
            "unknown_number": self.unknown_number.value,
            "log_on_related": self.log_on_related.value,
            "create_case": self.create_case,
            "include_recording": self.include_recording,
            "integration_owner": self.integration_owner,
        }
