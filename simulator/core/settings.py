"""Integration settings: the ``settings:`` block of a scenario, or a settings YAML file.

Keys and defaults are those of the scenario format (``docs/scenario-format.md``). Every mistake is
reported as a :class:`SettingsError` naming the key path and what was expected.
"""
from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any, Mapping

import phonenumbers
import yaml
from pydantic import BeforeValidator, ConfigDict, ValidationError, model_validator

from .errors import SettingsError
from .validation import Flag, Strict, fail, one_of, problems, raise_at, show


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


class CallWorkflow(Strict):
    """The action of each call type (R1.2); a partial mapping keeps the other defaults."""

    model_config = ConfigDict(frozen=True)

    outbound_answered: Annotated[Action, one_of(Action)] = Action.COMPLETED
    outbound_unanswered: Annotated[Action, one_of(Action)] = Action.COMPLETED
    inbound_answered: Annotated[Action, one_of(Action)] = Action.COMPLETED
    missed: Annotated[Action, one_of(Action)] = Action.IN_PROGRESS
    voicemail: Annotated[Action, one_of(Action)] = Action.IN_PROGRESS

    def __getitem__(self, call_type: CallType) -> Action:
        return getattr(self, CallType(call_type).value)

    def items(self):
        return [(CallType(k), v) for k, v in self]


def _country(value: Any) -> str | None:
    if value is None:
        return None
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise fail("country", f"{show(value)} is not an ISO 3166 alpha-2 country code "
                              "(such as FR, US, GB)")
    return code


def _owner(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise fail("owner", f"expected a User Id, email or username, got {show(value)}")
    return value.strip() if value is not None else None


class Settings(Strict):
    """How calls and messages are logged: the scenario ``settings:`` block, or a settings file.

    ``integration_owner`` is the fallback Task owner (R6.10): a Salesforce User Id, or the
    email or username of an active User (in a scenario: the ref of a user); ``None`` lets
    Salesforce assign the API user. ``default_country`` (ISO 3166 alpha-2, ``FR``) is the
    country of the numbers the org stores without ``+`` (R4.6); ``None`` reads such a number
    in the caller's country. :meth:`from_dict` and :meth:`from_yaml` raise
    :class:`SettingsError`; the constructor raises pydantic's ``ValidationError``.
    """

    model_config = ConfigDict(frozen=True)

    call_workflow: CallWorkflow = CallWorkflow()
    log_when_closed: Flag = True
    unknown_number: Annotated[UnknownNumber, one_of(UnknownNumber)] = UnknownNumber.DO_NOTHING
    log_on_related: Annotated[LogOnRelated, one_of(LogOnRelated)] = LogOnRelated.NONE
    create_case: Flag = False
    include_recording: Flag = True
    integration_owner: Annotated[str | None, BeforeValidator(_owner)] = None
    default_country: Annotated[str | None, BeforeValidator(_country)] = None

    @model_validator(mode="after")
    def _case_needs_related(self):
        if self.create_case and self.log_on_related is not LogOnRelated.CASE:
            raise_at("create_case", True, "true requires log_on_related: case")
        return self

    def action_for(self, call_type: CallType) -> Action:
        """The workflow action chosen for a call type (R1.2)."""
        return self.call_workflow[call_type]

    def replace(self, **changes: Any) -> "Settings":
        """A copy with ``changes`` applied and validated."""
        return Settings.from_dict({**self.to_dict(), **changes})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, where: str = "settings") -> "Settings":
        """Settings from a mapping shaped like the scenario ``settings:`` block.

        ``where`` prefixes key paths in error messages (``scenarios/x.yaml: settings``).
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise SettingsError(f"{where}: expected a mapping, got {show(data)}", path=where)
        try:
            return cls.model_validate({str(k): v for k, v in data.items()})
        except ValidationError as exc:
            raise _settings_error(exc, where) from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Settings":
        """Settings from a YAML file: the mapping itself, or a file whose only key is ``settings``."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"{path}: cannot read settings file: {exc.strerror or exc}",
                                path=str(path)) from None
        except UnicodeDecodeError as exc:
            raise SettingsError(f"{path}: cannot read settings file: not UTF-8 text ({exc.reason} "
                                f"at byte {exc.start})", path=str(path)) from None
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
            "default_country": self.default_country,
        }


def _settings_error(exc: ValidationError, where: str) -> SettingsError:
    path, message = problems(exc, where)[0]
    return SettingsError(f"{path}: {message}", path=path)

