"""Settings: the scenario ``settings:`` keys, their defaults, and errors naming the key path."""
import pytest
from pydantic import ValidationError

from simulator.core import Action, CallType, LogOnRelated, Settings, SettingsError, UnknownNumber


def test_defaults_are_those_of_the_scenario_format():
    s = Settings.from_dict({})
    assert dict(s.call_workflow) == {
        CallType.OUTBOUND_ANSWERED: Action.COMPLETED,
        CallType.OUTBOUND_UNANSWERED: Action.COMPLETED,
        CallType.INBOUND_ANSWERED: Action.COMPLETED,
        CallType.MISSED: Action.IN_PROGRESS,
        CallType.VOICEMAIL: Action.IN_PROGRESS,
    }
    assert s.log_when_closed is True
    assert s.unknown_number is UnknownNumber.DO_NOTHING
    assert s.log_on_related is LogOnRelated.NONE
    assert s.create_case is False
    assert s.include_recording is True
    assert s.integration_owner is None
    assert Settings.from_dict(None) == s == Settings()


def test_partial_call_workflow_keeps_other_defaults():
    s = Settings.from_dict({"call_workflow": {"missed": "do_nothing"}})
    assert s.action_for(CallType.MISSED) is Action.DO_NOTHING
    assert s.action_for(CallType.VOICEMAIL) is Action.IN_PROGRESS


def test_every_value_round_trips_through_to_dict():
    data = {
        "call_workflow": {"outbound_answered": "in_progress", "outbound_unanswered": "do_nothing",
                          "inbound_answered": "completed", "missed": "completed",
                          "voicemail": "do_nothing"},
        "log_when_closed": False, "unknown_number": "create_lead", "log_on_related": "case",
        "create_case": True, "include_recording": False, "integration_owner": "admin@example.com",
        "default_country": "FR",
    }
    assert Settings.from_dict(data).to_dict() == data


@pytest.mark.parametrize("data, message", [
    ({"call_workflow": {"missed": "skip"}},
     "settings.call_workflow.missed: 'skip' is not one of completed, in_progress, do_nothing"),
    ({"call_workflow": {"inbound": "completed"}},
     "settings.call_workflow.inbound: unknown key; did you mean 'inbound_answered'?"),
    ({"call_workflow": {"busy": "completed"}},
     "settings.call_workflow.busy: unknown key; expected one of outbound_answered, "
     "outbound_unanswered, inbound_answered, missed, voicemail"),
    ({"call_workflow": ["completed"]},
     "settings.call_workflow: expected a mapping, got a list"),
    ({"log_when_closed": "no"}, "settings.log_when_closed: expected true or false, got 'no'"),
    ({"unknown_number": "create_opportunity"},
     "settings.unknown_number: 'create_opportunity' is not one of create_contact, create_lead, "
     "create_account, do_nothing"),
    ({"log_on_related": "Case"}, "settings.log_on_related: 'Case' is not one of none, case, opportunity"),
    ({"create_case": 1}, "settings.create_case: expected true or false, got 1"),
    ({"create_case": True}, "settings.create_case: true requires log_on_related: case"),
    ({"include_recording": None}, "settings.include_recording: expected true or false, got null"),
    ({"integration_owner": 5}, "settings.integration_owner: expected a User Id, email or username, got 5"),
    ({"integration_owner": " "}, "settings.integration_owner: expected a User Id, email or username, got ' '"),
    ({"default_country": "France"},
     "settings.default_country: 'France' is not an ISO 3166 alpha-2 country code (such as FR, US, GB)"),
    ({"default_country": 33},
     "settings.default_country: 33 is not an ISO 3166 alpha-2 country code (such as FR, US, GB)"),
    ({"log_when_open": True}, "settings.log_when_open: unknown key; did you mean 'log_when_closed'?"),
    ({"owner": "x"}, "settings.owner: unknown key; expected one of call_workflow, log_when_closed, "
                     "unknown_number, log_on_related, create_case, include_recording, integration_owner, "
                     "default_country"),
])
def test_mistakes_name_the_key_path(data, message):
    with pytest.raises(SettingsError) as info:
        Settings.from_dict(data)
    assert str(info.value) == message
    assert info.value.path == message.split(":")[0]


def test_not_a_mapping():
    with pytest.raises(SettingsError, match=r"^settings: expected a mapping, got a list$"):
        Settings.from_dict(["a"])


def test_where_prefixes_the_path():
    with pytest.raises(SettingsError) as info:
        Settings.from_dict({"unknown_number": "x"}, where="scenarios/a.yaml: settings")
    assert str(info.value).startswith("scenarios/a.yaml: settings.unknown_number: 'x' is not one of")


def test_from_yaml(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("unknown_number: create_contact\ncall_workflow:\n  missed: completed\n")
    s = Settings.from_yaml(path)
    assert s.unknown_number is UnknownNumber.CREATE_CONTACT
    assert s.action_for(CallType.MISSED) is Action.COMPLETED


def test_from_yaml_accepts_a_settings_block(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("settings:\n  log_on_related: opportunity\n")
    assert Settings.from_yaml(path).log_on_related is LogOnRelated.OPPORTUNITY


def test_from_yaml_errors_name_the_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("log_on_related: everything\n")
    with pytest.raises(SettingsError, match=rf"^{path}: settings.log_on_related: 'everything' is not one of"):
        Settings.from_yaml(path)
    path.write_text("a: [\n")
    with pytest.raises(SettingsError, match=rf"^{path}: not valid YAML at line 2"):
        Settings.from_yaml(path)
    with pytest.raises(SettingsError, match=r"cannot read settings file"):
        Settings.from_yaml(tmp_path / "missing.yaml")


def test_empty_yaml_file_gives_defaults(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("")
    assert Settings.from_yaml(path) == Settings()


def test_constructor_validates_too():
    with pytest.raises(ValidationError, match="unknown_number"):
        Settings(unknown_number="maybe")
    assert Settings(unknown_number="create_account").unknown_number is UnknownNumber.CREATE_ACCOUNT
