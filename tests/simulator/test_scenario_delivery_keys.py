"""Scenario keys for how events are delivered and what is checked: default_country, org.order,
deliver, national, settings events, edits of Tasks, person Contacts, expect.absent and task_counts."""
import textwrap

import pytest

from simulator.runner import Runner
from simulator.scenario import CallStep, ScenarioError, parse_scenario

LABEL = "scenarios/x.yaml"


def errors_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(textwrap.dedent(text), LABEL)
    return [e.removeprefix(f"{LABEL}: ") for e in caught.value.errors]


CASES = [
    ('bad default_country setting', """
name: X
settings: {default_country: France}
events: []
""", [
        "settings.default_country: 'France' is not an ISO 3166 alpha-2 country code (such as FR, US, GB)",
    ]),
    ('bad org default_country and order', """
name: X
org: {default_country: 33, order: newest}
events: []
""", [
        'org.default_country: 33 is not an ISO 3166 alpha-2 country code (such as FR, US, GB)',
        "org.order: 'newest' is not one of most_recent, insertion, shuffle",
    ]),
    ('bad deliver', """
name: X
events:
  - call: {ref: c1, type: missed, deliver: [call.answered]}
  - call: {ref: c2, type: inbound_answered, deliver: [call.finished]}
  - call: {ref: c3, type: missed, deliver: []}
  - call: {ref: c4, type: missed, deliver: call.ended}
  - call: {ref: c5, type: missed, deliver: [call.voicemail_left]}
""", [
        'events[0].call.deliver: call.answered: a missed call is never answered',
        "events[1].call.deliver[0]: 'call.finished' is not one of call.created, call.ringing_on_agent, call.answered, call.hungup, call.ended, call.commented, call.tagged, call.untagged, call.voicemail_left, call.comm_assets_generated",
        'events[2].call.deliver: expected at least one Aircall call event (call.ended by default)',
        "events[3].call.deliver: expected a list of Aircall call events, got 'call.ended'",
        'events[4].call.deliver: call.voicemail_left: a missed call has no voicemail (use type: voicemail)',
    ]),
    ('bad national', """
name: X
events:
  - call: {ref: c1, type: missed, national: "yes"}
  - sms: {ref: s1, direction: inbound, national: 1}
""", [
        "events[0].call.national: expected true or false, got 'yes'",
        'events[1].sms.national: expected true or false, got 1',
    ]),
    ('bad settings event', """
name: X
settings: {log_on_related: case}
events:
  - settings: {unknown_number: create_case}
  - settings: {}
  - settings: {log_on_related: none}
  - settings: {log_on_related: case, create_case: true, call_workflow: {missed: never}}
  - settings: {integration_owner: bob}
  - settings: {unkown_number: create_lead}
""", [
        "events[0].settings.unknown_number: 'create_case' is not one of create_contact, create_lead, create_account, do_nothing",
        'events[1].settings: expected a mapping of the settings that change, got {}',
        "events[3].settings.call_workflow.missed: 'never' is not one of completed, in_progress, do_nothing",
        "events[4].settings.integration_owner: 'bob' does not name a user; defined: admin",
        "events[5].settings.unkown_number: unknown key; did you mean 'unknown_number'?",
    ]),
    ('bad absent and task_counts', """
name: X
org:
  records:
    - {ref: alice, sobject: Contact, LastName: M}
    - {ref: t1, sobject: Task, Subject: S}
events: []
expect:
  absent:
    - {sobject: Lead}
    - {sobject: Lead, where: {Phon: "+1"}}
    - {sobject: Widget, where: {Phone: "+1"}}
  task_counts: {alice: -1, bob: 1, t1: 0}
""", [
        'expect.absent[0].where: required key missing',
        "expect.absent[1].where.Phon: Lead has no field 'Phon'; did you mean 'Phone'?",
        "expect.absent[2].sobject: 'Widget' is not one of Account, Contact, Lead, Case, Opportunity, OpportunityContactRole, Task, Event, PersonAccount",
        'expect.task_counts.alice: expected an integer >= 0, got -1',
        "expect.task_counts.bob: 'bob' does not name a record; defined: alice, t1",
        "expect.task_counts.t1: 't1' is a Task, which has no Activity timeline; expected one of Account, Case, Contact, Lead, Opportunity, PersonAccount",
    ]),
    ('bad update of an event and person contact', """
name: X
org:
  records:
    - {ref: alice, sobject: Contact, LastName: M}
    - {ref: jane, sobject: PersonAccount, LastName: D}
    - {ref: k, sobject: Case, ContactId: "@alice.PersonContactId"}
    - {ref: k2, sobject: Case, ContactId: "@jane.PersonContactId"}
events:
  - update: {ref: c1, fields: {Status: Completed}}
  - call: {ref: c1, type: missed}
  - update: {ref: c1, fields: {Statuz: Completed}}
  - create: {ref: k3, sobject: Case, ContactId: "@nobody.PersonContactId"}
""", [
        "org.records[2].ContactId: '@alice.PersonContactId': 'alice' is a Contact; only a PersonAccount has a person Contact",
        "events[0].update.ref: 'c1' is not defined before this point (it is defined at events[1].call.ref)",
        "events[2].update.fields.Statuz: Task has no field 'Statuz'; did you mean 'Status'?",
        "events[3].create.ContactId: '@nobody.PersonContactId' does not name a record or user; defined: admin, alice, jane, k, k2, k3",
    ]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistakes_are_reported(text, expected):
    assert errors_of(text) == expected


def test_a_settings_event_that_breaks_a_rule_of_the_settings_in_force():
    assert errors_of("""
        name: X
        settings: {log_on_related: case, create_case: true}
        events:
          - settings: {log_on_related: none}
    """) == ["events[0].settings.create_case: true requires log_on_related: case"]


def test_settings_events_merge_into_the_settings_in_force():
    sc = parse_scenario(textwrap.dedent("""
        name: X
        settings: {call_workflow: {missed: do_nothing}, unknown_number: create_lead}
        events:
          - settings: {call_workflow: {voicemail: completed}, default_country: fr}
          - settings: {unknown_number: do_nothing}
    """))
    first, second = (e.in_force for e in sc.events)
    assert first.call_workflow.missed == "do_nothing" and first.call_workflow.voicemail == "completed"
    assert first.default_country == "FR" and first.unknown_number == "create_lead"
    assert second.unknown_number == "do_nothing" and second.default_country == "FR"


def test_defaults_of_the_new_keys():
    sc = parse_scenario("name: X\nevents:\n  - call: {ref: c1, type: missed}\n")
    call = sc.events[0]
    assert isinstance(call, CallStep) and call.deliver == ["call.ended"] and call.national is False
    assert sc.org.order == "most_recent" and sc.org.default_country is None
    assert sc.org_default_country == "US" and sc.settings.default_country is None
    assert sc.expect.absent == [] and sc.expect.task_counts == {}


def _run(text: str):
    return Runner().run(parse_scenario(textwrap.dedent(text)))


def test_absent_and_task_counts_fail_when_the_org_disagrees():
    result = _run("""
        name: X
        org:
          records:
            - {ref: alice, sobject: Contact, LastName: Martin, Phone: "+33 6 12 34 56 78"}
        events:
          - call: {ref: c1, type: missed, external: "+33612345678"}
          - redeliver: c1
        expect:
          absent:
            - {sobject: Contact, where: {LastName: Martin}}
            - {sobject: Lead, where: {LastName: Martin}}
          task_counts: {alice: 2}
    """)
    failed = {(c.kind, c.subject) for c in result.failures}
    assert failed == {("absent", "Contact where LastName=Martin"), ("task_count", "alice")}
    assert [c.actual for c in result.failures if c.kind == "task_count"] == [1]


def test_editing_the_task_of_an_event_that_logged_none_stops_the_run():
    result = _run("""
        name: X
        events:
          - call: {ref: c1, type: missed, external: "+33612345678"}
          - update: {ref: c1, fields: {Status: Completed}}
    """)
    assert "events[1].update: 'c1' logged 0 Tasks, expected one to edit" in result.error


def test_an_org_order_reaches_the_fake_org():
    runner = Runner()
    result = runner.run(parse_scenario(textwrap.dedent("""
        name: X
        org: {order: shuffle, default_country: GB}
        events: []
    """)))
    assert result.passed
    info = runner.control.info()
    assert (info["order"], info["default_country"]) == ("shuffle", "GB")
    runner.run(parse_scenario("name: Y\nevents: []\n"))
    info = runner.control.info()
    assert (info["order"], info["default_country"]) == ("recent", "US")
