"""Loading and validating scenario files: defaults, and every kind of mistake with its message."""
from __future__ import annotations

import shutil
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from simulator.core import Action, CallType, Settings

from simulator.scenario import (
    DEFAULT_ADMIN,
    DEFAULT_NOW,
    DEFAULT_NUMBER,
    CallStep,
    CommentStep,
    CreateStep,
    RedeliverStep,
    ScenarioError,
    SmsStep,
    UpdateStep,
    WebhookStep,
    is_ref,
    load_scenario,
    load_scenarios,
    parse_scenario,
    validate_paths,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "scenarios"
VALID = DATA / "valid"
INVALID = DATA / "invalid"
LABEL = "scenarios/x.yaml"


def errors_of(text: str) -> list[str]:
    """The error messages for scenario text, without the file prefix."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(textwrap.dedent(text), LABEL)
    prefix = f"{LABEL}: "
    assert all(e.startswith(prefix) for e in caught.value.errors)
    return [e[len(prefix):] for e in caught.value.errors]


def parse(text: str):
    return parse_scenario(textwrap.dedent(text), LABEL)


# --- one mistake, one message ------------------------------------------------------------------

CASES = [
    # required keys
    ("name missing", """
        events: []
     """, ["name: required key missing"]),
    ("events missing", """
        name: X
     """, ["events: required key missing"]),
    ("call ref and type missing", """
        name: X
        events:
          - call: {external: "+33612345678"}
     """, ["events[0].call.ref: required key missing", "events[0].call.type: required key missing"]),
    ("sms direction missing", """
        name: X
        events:
          - sms: {ref: s1}
     """, ["events[0].sms.direction: required key missing"]),
    ("comment content missing", """
        name: X
        events:
          - call: {ref: c1, type: missed}
          - comment: {call: c1}
     """, ["events[1].comment.content: required key missing"]),
    ("record sobject misspelt", """
        name: X
        org:
          records:
            - {ref: a, sobjet: Account, Name: Acme}
        events: []
     """, ["org.records[0].sobject: required key missing (found 'sobjet'; a misspelling?)"]),
    ("user without Email", """
        name: X
        org:
          users:
            - {ref: sam, LastName: Agent}
        events: []
     """, ["org.users[0].Email: required key missing"]),
    ("expected record without where", """
        name: X
        events: []
        expect:
          records:
            - {ref: n, sobject: Lead}
     """, ["expect.records[0].where: required key missing"]),

    # unknown keys
    ("unknown top-level key", """
        name: X
        evnets: []
     """, ["events: required key missing", "evnets: unknown key; did you mean 'events'?"]),
    ("unknown call key", """
        name: X
        events:
          - call: {ref: c1, type: missed, extrenal: "+33612345678"}
     """, ["events[0].call.extrenal: unknown key; did you mean 'external'?"]),
    ("unknown key without a close match", """
        name: X
        events:
          - comment: {call: c0, content: hi, colour: red}
     """, ["events[0].comment.call: 'c0' does not name a call event",
           "events[0].comment.colour: unknown key; expected one of ref, call, content"]),
    ("unknown settings key", """
        name: X
        settings: {log_when_close: false}
        events: []
     """, ["settings.log_when_close: unknown key; did you mean 'log_when_closed'?"]),
    ("unknown contact key", """
        name: X
        events:
          - call: {ref: c1, type: missed, contact: {company_name: Acme}}
     """, ["events[0].call.contact.company_name: unknown key; did you mean 'company'?"]),
    ("unknown event kind", """
        name: X
        events:
          - cal: {ref: c1}
     """, ["events[0].cal: unknown key; did you mean 'call'?"]),

    # types
    ("name not a string", """
        name: 12
        events: []
     """, ["name: expected a non-empty string, got 12"]),
    ("duration not an integer", """
        name: X
        events:
          - call: {ref: c1, type: inbound_answered, duration: long}
     """, ["events[0].call.duration: expected an integer >= 0, got 'long'"]),
    ("negative wait", """
        name: X
        events:
          - call: {ref: c1, type: missed, wait: -2}
     """, ["events[0].call.wait: expected an integer >= 0, got -2"]),
    ("boolean is not an integer", """
        name: X
        events:
          - call: {ref: c1, type: missed, duration: true}
     """, ["events[0].call.duration: expected an integer >= 0, got true"]),
    ("number_open not a boolean", """
        name: X
        events:
          - call: {ref: c1, type: missed, number_open: "no"}
     """, ["events[0].call.number_open: expected true or false, got 'no'"]),
    ("comments not a list", """
        name: X
        events:
          - call: {ref: c1, type: missed, comments: hello}
     """, ["events[0].call.comments: expected a list of strings, got 'hello'"]),
    ("tag not a string", """
        name: X
        events:
          - call: {ref: c1, type: missed, tags: [vip, 7]}
     """, ["events[0].call.tags[1]: expected a non-empty string, got 7"]),
    ("users not a list", """
        name: X
        org: {users: sam}
        events: []
     """, ["org.users: expected a list, got 'sam'"]),
    ("events not a list", """
        name: X
        events: {call: {ref: c1, type: missed}}
     """, ["events: expected a list of events, got a mapping"]),
    ("record value not a scalar", """
        name: X
        org:
          records:
            - {ref: a, sobject: Account, Name: [Acme]}
        events: []
     """, ["org.records[0].Name: expected a scalar value (string, number, true/false or null), got a list"]),
    ("at without a time zone", """
        name: X
        events:
          - at: "2026-11-02T10:00:00"
            call: {ref: c1, type: missed}
     """, ["events[0].at: expected an ISO 8601 date-time with a time zone (e.g. 2026-11-02T09:00:00Z), "
           "got '2026-11-02T10:00:00'"]),
    ("at a date only", """
        name: X
        events:
          - at: 2026-11-03
            call: {ref: c1, type: missed}
     """, ["events[0].at: expected an ISO 8601 date-time with a time zone (e.g. 2026-11-02T09:00:00Z), "
           "got 2026-11-03"]),
    ("org.now not a date-time", """
        name: X
        org: {now: soon}
        events: []
     """, ["org.now: expected an ISO 8601 date-time with a time zone (e.g. 2026-11-02T09:00:00Z), got 'soon'"]),
    ("LastModifiedDate not a date-time", """
        name: X
        org:
          records:
            - {ref: a, sobject: Account, Name: Acme, LastModifiedDate: yesterday}
        events: []
     """, ["org.records[0].LastModifiedDate: expected an ISO 8601 date-time with a time zone "
           "(e.g. 2026-11-02T09:00:00Z), got 'yesterday'"]),
    ("CreatedDate without a time zone", """
        name: X
        events:
          - create: {ref: a, sobject: Account, Name: Acme, CreatedDate: "2026-01-01T00:00:00"}
     """, ["events[0].create.CreatedDate: expected an ISO 8601 date-time with a time zone "
           "(e.g. 2026-11-02T09:00:00Z), got '2026-01-01T00:00:00'"]),
    ("task_count negative", """
        name: X
        events: []
        expect: {task_count: -1}
     """, ["expect.task_count: expected an integer >= 0, got -1"]),
    ("external unquoted", """
        name: X
        events:
          - call: {ref: c1, type: missed, external: +33612345678}
     """, ["events[0].call.external: expected a phone number as a quoted string such as "
           "\"+33 6 12 34 56 78\", got 33612345678"]),
    ("external without country code", """
        name: X
        events:
          - sms: {ref: s1, direction: inbound, external: "0612345678"}
     """, ["events[0].sms.external: '0612345678' is not a phone number in international format "
           "(+ and country code, e.g. \"+33 6 12 34 56 78\") or 'anonymous'"]),
    ("recording not a URL", """
        name: X
        events:
          - call: {ref: c1, type: inbound_answered, recording: "ftp://files/x.mp3"}
     """, ["events[0].call.recording: expected true, false or an http(s) URL, got 'ftp://files/x.mp3'"]),
    ("contact email invalid", """
        name: X
        events:
          - call: {ref: c1, type: missed, contact: {email: jean-at-acme}}
     """, ["events[0].call.contact.email: expected an email address, got 'jean-at-acme'"]),
    ("agent email invalid", """
        name: X
        events:
          - call: {ref: c1, type: missed, agent: "sam@"}
     """, ["events[0].call.agent: expected an email address, got 'sam@'"]),
    ("ref not a name", """
        name: X
        events:
          - call: {ref: "call one", type: missed}
     """, ["events[0].call.ref: expected a ref: a name of letters, digits, '_', '-' or '.', "
           "starting with a letter, got 'call one'"]),
    ("time zone unknown", """
        name: X
        org:
          numbers:
            - {ref: n, name: Line, digits: "+33 1 76 36 06 95", time_zone: Paris}
        events: []
     """, ["org.numbers[0].time_zone: 'Paris' is not an IANA time zone such as Europe/Paris"]),
    ("number digits invalid", """
        name: X
        org:
          numbers:
            - {ref: n, name: Line, digits: "12"}
        events: []
     """, ["org.numbers[0].digits: '12' is not a phone number in international format "
           "(+ and country code, e.g. \"+33 6 12 34 56 78\")"]),
    ("numbers empty", """
        name: X
        org: {numbers: []}
        events: []
     """, ["org.numbers: expected at least one number (leave the key out for the default line)"]),
    ("webhook not a mapping", """
        name: X
        events:
          - webhook: call.ended
     """, ["events[0].webhook: expected a mapping (an Aircall webhook), got 'call.ended'"]),

    # enum values
    ("call type", """
        name: X
        events:
          - call: {ref: c1, type: inbound}
     """, ["events[0].call.type: 'inbound' is not one of outbound_answered, outbound_unanswered, "
           "inbound_answered, missed, voicemail"]),
    ("workflow action", """
        name: X
        settings: {call_workflow: {voicemail: skip}}
        events: []
     """, ["settings.call_workflow.voicemail: 'skip' is not one of completed, in_progress, do_nothing"]),
    ("workflow call type", """
        name: X
        settings: {call_workflow: {answered: completed}}
        events: []
     """, ["settings.call_workflow.answered: unknown key; did you mean 'inbound_answered'?"]),
    ("unknown_number", """
        name: X
        settings: {unknown_number: create_case}
        events: []
     """, ["settings.unknown_number: 'create_case' is not one of create_contact, create_lead, "
           "create_account, do_nothing"]),
    ("log_on_related", """
        name: X
        settings: {log_on_related: account}
        events: []
     """, ["settings.log_on_related: 'account' is not one of none, case, opportunity"]),
    ("sms direction", """
        name: X
        events:
          - sms: {ref: s1, direction: in}
     """, ["events[0].sms.direction: 'in' is not one of inbound, outbound"]),
    ("sobject", """
        name: X
        events:
          - create: {ref: w, sobject: Widget, Name: W}
     """, ["events[0].create.sobject: 'Widget' is not one of Account, Contact, Lead, Case, Opportunity, "
           "OpportunityContactRole, Task, Event, PersonAccount"]),
    ("create_case without case", """
        name: X
        settings: {create_case: true}
        events: []
     """, ["settings.create_case: true requires log_on_related: case"]),
    ("covers not a rule id", """
        name: X
        covers: [R4.1, "4.2", R5]
        events: []
     """, ["covers[1]: '4.2' is not a rule id like R4.2", "covers[2]: 'R5' is not a rule id like R4.2"]),

    ("covers a rule that does not exist", """
        name: X
        covers: [R4.1, R9.9]
        events: []
     """, ["covers[1]: 'R9.9' is not a logging rule; the rules are R1.1 to R8.6 (docs/rules.md)"]),

    # field names are those of the org's schema
    ("record field unknown", """
        name: X
        org:
          records:
            - {ref: a, sobject: Account, Nmae: Acme}
        events: []
     """, ["org.records[0].Nmae: Account has no field 'Nmae'; did you mean 'Name'?"]),
    ("person account field", """
        name: X
        org:
          records:
            - {ref: j, sobject: PersonAccount, LastName: Doe, PersonMobilePhone: "+44 7700 900123", Mobile: "1"}
        events: []
     """, ["org.records[0].Mobile: PersonAccount has no field 'Mobile'"]),
    ("user field unknown", """
        name: X
        org:
          users: [{ref: sam, LastName: Agent, Email: sam@example.com, Activ: true}]
        events: []
     """, ["org.users[0].Activ: User has no field 'Activ'; did you mean 'IsActive'?"]),
    ("created record field unknown", """
        name: X
        events:
          - create: {ref: l, sobject: Lead, LastName: L, Compnay: X}
     """, ["events[0].create.Compnay: Lead has no field 'Compnay'; did you mean 'Company'?"]),
    ("update field unknown", """
        name: X
        org:
          records: [{ref: bob, sobject: Contact, LastName: Stone}]
        events:
          - update: {ref: bob, fields: {Titel: CEO}}
     """, ["events[0].update.fields.Titel: Contact has no field 'Titel'; did you mean 'Title'?"]),
    ("expected record where field unknown", """
        name: X
        events: []
        expect:
          records:
            - {ref: n, sobject: Lead, where: {Phon: "+12125550100"}, fields: {Company: X}}
     """, ["expect.records[0].where.Phon: Lead has no field 'Phon'; did you mean 'Phone'?"]),
    ("expected Task field unknown", """
        name: X
        events:
          - call: {ref: c1, type: missed}
        expect:
          tasks:
            c1: {fields: {Stauts: Open}}
     """, ["expect.tasks.c1.fields.Stauts: Task has no field 'Stauts'; did you mean 'Status'?"]),

    # ref uniqueness
    ("record and user share a ref", """
        name: X
        org:
          users: [{ref: sam, LastName: Agent, Email: sam@example.com}]
          records: [{ref: sam, sobject: Contact, LastName: Sam}]
        events: []
     """, ["org.records[0].ref: 'sam' is already used by org.users[0].ref"]),
    ("event and record share a ref", """
        name: X
        org:
          records: [{ref: c1, sobject: Contact, LastName: C}]
        events:
          - call: {ref: c1, type: missed}
     """, ["events[0].call.ref: 'c1' is already used by org.records[0].ref"]),
    ("expected record and event share a ref", """
        name: X
        events:
          - call: {ref: c1, type: missed}
        expect:
          records: [{ref: c1, sobject: Lead, where: {Phone: "+12125550100"}}]
     """, ["expect.records[0].ref: 'c1' is already used by events[0].call.ref"]),
    ("number and record share a ref", """
        name: X
        org:
          numbers: [{ref: line, name: Line, digits: "+33 1 76 36 06 95"}]
          records: [{ref: line, sobject: Account, Name: L}]
        events: []
     """, ["org.records[0].ref: 'line' is already used by org.numbers[0].ref"]),
    ("a record named like the default number", """
        name: X
        org:
          records: [{ref: main, sobject: Account, Name: Main}]
        events: []
     """, ["org.records[0].ref: 'main' is already used by the default number"]),
    ("admin is reserved for users", """
        name: X
        org:
          users: [{ref: admin, LastName: Root, Email: root@example.com}]
        events: []
     """, ["org.users[0].ref: 'admin' is reserved for the default admin user"]),
    ("admin is reserved for records", """
        name: X
        events:
          - create: {ref: admin, sobject: Lead, LastName: A, Company: B}
     """, ["events[0].create.ref: 'admin' is already used by the default admin user"]),

    # references
    ("unknown number", """
        name: X
        org:
          numbers: [{ref: support, name: Support, digits: "+33 1 76 36 06 95"}]
        events:
          - call: {ref: c1, type: missed, number: suport}
     """, ["events[0].call.number: 'suport' does not name a number (did you mean 'support'?)"]),
    ("unknown agent", """
        name: X
        events:
          - call: {ref: c1, type: inbound_answered, agent: sam}
     """, ["events[0].call.agent: 'sam' does not name a user (or give an email); defined: admin"]),
    ("agent naming a record", """
        name: X
        org:
          records: [{ref: bob, sobject: Lead, LastName: Stone, Company: Acme}]
        events:
          - call: {ref: c1, type: inbound_answered, agent: bob}
     """, ["events[0].call.agent: 'bob' names a record (org.records[0].ref), expected a user (or give an email)"]),
    ("redeliver a later call", """
        name: X
        events:
          - redeliver: c1
          - call: {ref: c1, type: missed}
     """, ["events[0].redeliver: 'c1' is not defined before this point (it is defined at events[1].call.ref)"]),
    ("redeliver a record", """
        name: X
        org:
          records: [{ref: bob, sobject: Lead, LastName: Stone, Company: Acme}]
        events:
          - redeliver: bob
     """, ["events[0].redeliver: 'bob' names a record (org.records[0].ref), expected a call, SMS, webhook or comment event"]),
    ("comment on an SMS", """
        name: X
        events:
          - sms: {ref: s1, direction: inbound}
          - comment: {call: s1, content: hi}
     """, ["events[1].comment.call: 's1' names an SMS event (events[0].sms.ref), expected a call event"]),
    ("update before the create", """
        name: X
        events:
          - update: {ref: late, fields: {Title: CEO}}
          - create: {ref: late, sobject: Lead, LastName: Late, Company: X}
     """, ["events[0].update.ref: 'late' is not defined before this point (it is defined at events[1].create.ref)"]),
    ("update without fields", """
        name: X
        org:
          records: [{ref: bob, sobject: Lead, LastName: Stone, Company: Acme}]
        events:
          - update: {ref: bob, fields: {}}
     """, ["events[0].update.fields: expected a mapping with at least one field, got {}"]),
    ("@ref to a later record", """
        name: X
        org:
          records:
            - {ref: alice, sobject: Contact, LastName: Martin, AccountId: "@acme"}
            - {ref: acme, sobject: Account, Name: Acme}
        events: []
     """, ["org.records[0].AccountId: '@acme' is not defined before this point (it is defined at org.records[1].ref)"]),
    ("@ref to nothing in a created record", """
        name: X
        org:
          records: [{ref: acme, sobject: Account, Name: Acme}]
        events:
          - create: {ref: bo, sobject: Contact, LastName: B, AccountId: "@acmee"}
     """, ["events[0].create.AccountId: '@acmee' does not name a record or user (did you mean 'acme'?)"]),
    ("@ref to an event", """
        name: X
        events:
          - call: {ref: c1, type: missed}
        expect:
          tasks:
            c1: {fields: {WhatId: "@c1"}}
     """, ["expect.tasks.c1.fields.WhatId: '@c1' names a call event (events[0].call.ref), "
           "expected a record or user"]),
    ("@ref to an expected record from a seeded record", """
        name: X
        org:
          records: [{ref: deal, sobject: Opportunity, Name: D, ContactId: "@newc"}]
        events: []
        expect:
          records: [{ref: newc, sobject: Contact, where: {Phone: "+12125550100"}}]
     """, ["org.records[0].ContactId: '@newc' is not defined before this point "
           "(it is defined at expect.records[0].ref)"]),
    ("integration owner unknown", """
        name: X
        settings: {integration_owner: root}
        events: []
     """, ["settings.integration_owner: 'root' does not name a user; defined: admin"]),
    ("timeline of an unknown record", """
        name: X
        org:
          records: [{ref: alice, sobject: Contact, LastName: Martin}]
        events: []
        expect:
          timelines:
            alcie: {past_activities: []}
     """, ["expect.timelines.alcie: 'alcie' does not name a record (did you mean 'alice'?)"]),
    ("timeline of a Task", """
        name: X
        org:
          records: [{ref: t1, sobject: Task, Subject: Hello}]
        events: []
        expect:
          timelines:
            t1: {past_activities: []}
     """, ["expect.timelines.t1: 't1' is a Task, which has no Activity timeline; expected one of "
           "Account, Case, Contact, Lead, Opportunity, PersonAccount"]),
    ("timeline entry unknown", """
        name: X
        org:
          records: [{ref: alice, sobject: Contact, LastName: Martin}]
        events:
          - call: {ref: c1, type: missed}
        expect:
          timelines:
            alice: {past_activities: [c1], next_steps: [c2]}
     """, ["expect.timelines.alice.next_steps[0]: 'c2' does not name a call, SMS or webhook event; defined: c1"]),
    ("timeline entry naming a record", """
        name: X
        org:
          records: [{ref: alice, sobject: Contact, LastName: Martin}]
        events: []
        expect:
          timelines:
            alice: {past_activities: [alice]}
     """, ["expect.timelines.alice.past_activities[0]: 'alice' names a record (org.records[0].ref), "
           "expected a call, SMS or webhook event"]),
    ("not_logged unknown", """
        name: X
        events:
          - call: {ref: c1, type: missed}
        expect: {not_logged: [c1, s1]}
     """, ["expect.not_logged[1]: 's1' does not name a call, SMS or webhook event; defined: c1"]),
    ("tasks key unknown", """
        name: X
        events:
          - sms: {ref: s1, direction: inbound}
        expect:
          tasks:
            s2: {description_contains: [Hello]}
     """, ["expect.tasks.s2: 's2' does not name a call, SMS or webhook event; defined: s1"]),
    ("not_logged and expected on a timeline", """
        name: X
        org:
          records: [{ref: alice, sobject: Contact, LastName: Martin}]
        events:
          - call: {ref: c1, type: missed}
        expect:
          timelines:
            alice: {next_steps: [c1]}
          not_logged: [c1]
     """, ["expect.not_logged[0]: 'c1' is also expected on the timeline of 'alice'"]),

    # events and the clock
    ("two kinds in one event", """
        name: X
        events:
          - call: {ref: c1, type: missed}
            sms: {ref: s1, direction: inbound}
     """, ["events[0]: expected exactly one of call, sms, update, create, webhook, redeliver, comment, settings, "
           "found call and sms"]),
    ("an event with only at", """
        name: X
        events:
          - at: "2026-11-02T10:00:00Z"
     """, ["events[0]: expected exactly one of call, sms, update, create, webhook, redeliver, comment, settings"]),
    ("an event that is not a mapping", """
        name: X
        events:
          - call
     """, ["events[0]: expected a mapping with one of call, sms, update, create, webhook, redeliver, "
           "comment, settings, got 'call'"]),
    ("at before org.now", """
        name: X
        org: {now: "2026-11-02T09:00:00Z"}
        events:
          - at: "2026-11-02T08:59:59Z"
            call: {ref: c1, type: missed}
     """, ["events[0].at: 2026-11-02T08:59:59Z is before the org clock (2026-11-02T09:00:00Z); "
           "the clock only moves forward, one second after every event"]),
    ("at repeated", """
        name: X
        events:
          - at: "2026-11-02T10:00:00+01:00"
            call: {ref: c1, type: missed}
          - at: "2026-11-02T09:00:00Z"
            call: {ref: c2, type: missed}
     """, ["events[1].at: 2026-11-02T09:00:00Z is before the org clock (2026-11-02T09:00:01Z); "
           "the clock only moves forward, one second after every event"]),
    ("an answered call shorter than its wait", """
        name: X
        events:
          - call: {ref: c1, type: outbound_answered, duration: 10, wait: 12}
     """, ["events[0].call.wait: 12 s is longer than the call's duration (10 s); "
           "an answered call's duration includes its wait"]),
    ("expected record where not a mapping", """
        name: X
        events: []
        expect:
          records:
            - {ref: n, sobject: Lead, where: "+12125550100"}
     """, ["expect.records[0].where: expected a mapping with at least one field, got '+12125550100'"]),
    # found by mutating the library's scenarios: each was a traceback before
    ("at past the clock's range", """
        name: X
        events:
          - at: "9999-12-31T23:59:59Z"
            call: {ref: c1, type: missed}
     """, ["events[0].at: expected a date-time from 1970 to 9998 (webhooks carry it as unix seconds), "
           "got '9999-12-31T23:59:59Z'"]),
    ("now past year 9999 in UTC", """
        name: X
        org: {now: "9999-12-31T23:59:59-14:00"}
        events: []
     """, ["org.now: expected an ISO 8601 date-time with a time zone (e.g. 2026-11-02T09:00:00Z), "
           "got '9999-12-31T23:59:59-14:00'"]),
    ("an alias inside its own anchor", """
        name: X
        events: &e [*e]
     """, ["events[0]: a YAML alias inside the node it names (a value that contains itself)"]),
    ("a field value that is not a finite number", """
        name: X
        org:
          records:
            - {ref: a, sobject: Contact, LastName: .nan}
        events: []
        expect:
          records:
            - {ref: b, sobject: Account, where: {NumberOfEmployees: .inf}}
     """, ["org.records[0].LastName: expected a finite number, got nan",
           "expect.records[0].where.NumberOfEmployees: expected a finite number, got inf"]),
    ("keys YAML reads as a number, true or a date", """
        name: X
        true: 1
        events:
          - call: {ref: c1, type: missed, 3: x}
        settings: {2026-01-01: x}
     """, ["key true is not a string: quote it ('true')", "events[0].call: key 3 is not a string: quote it ('3')",
           "settings: key 2026-01-01 is not a string: quote it ('2026-01-01')"]),
    ("a lone @ as a field value", """
        name: X
        org:
          records:
            - {ref: a, sobject: Contact, LastName: "@"}
        events: []
     """, ["org.records[0].LastName: '@' alone names nothing: expected '@' and a ref, such as '@alice'"]),
    ("aliases expanding past the limit", "name: X\nevents: []\n" + "".join(
        f"k{n}: &a{n} [{', '.join([f'*a{n - 1}' if n else '0'] * 10)}]\n" for n in range(6)),
     ["more than 100,000 values once its YAML aliases are expanded"]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistake_is_reported(text, expected):
    assert errors_of(text) == expected


def test_every_mistake_of_a_file_is_reported_at_once():
    errors = errors_of("""
        name: X
        settings: {unknown_number: maybe, log_on_related: all}
        events:
          - call: {ref: c1, type: inbound}
          - sms: {ref: c1, direction: sideways}
    """)
    assert errors == [
        "settings.unknown_number: 'maybe' is not one of create_contact, create_lead, create_account, do_nothing",
        "settings.log_on_related: 'all' is not one of none, case, opportunity",
        "events[0].call.type: 'inbound' is not one of outbound_answered, outbound_unanswered, "
        "inbound_answered, missed, voicemail",
        "events[1].sms.ref: 'c1' is already used by events[0].call.ref",
        "events[1].sms.direction: 'sideways' is not one of inbound, outbound",
    ]


def test_scenario_error_is_a_value_error_listing_every_mistake():
    with pytest.raises(ValueError) as caught:
        parse_scenario("name: 1\nevents: 2\n", LABEL)
    error = caught.value
    assert isinstance(error, ScenarioError)
    assert error.errors == [
        f"{LABEL}: name: expected a non-empty string, got 1",
        f"{LABEL}: events: expected a list of events, got 2",
    ]
    assert str(error) == "\n".join(error.errors)


# --- fixture files ------------------------------------------------------------------------------


def expected_in(path: Path) -> list[str]:
    """The ``# error:`` lines a fixture file declares, with the file prefix."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [f"{path}: {line.split('# error: ', 1)[1]}" for line in lines if line.startswith("# error: ")]


@pytest.mark.parametrize("path", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.name)
def test_invalid_fixture_reports_declared_errors(path):
    expected = expected_in(path)
    assert expected, f"{path} declares no errors"
    assert validate_paths([path]) == expected


@pytest.mark.parametrize("path", sorted(VALID.rglob("*.y*ml")), ids=lambda p: p.name)
def test_valid_fixture_loads(path):
    assert validate_paths([path]) == []
    assert load_scenario(path).path == str(path)


def test_directories_are_walked_for_yaml_and_yml_in_order():
    names = [s.name for s in load_scenarios([VALID])]
    assert names == ["Every key at once", "Minimal", "An SMS from an unknown number"]


def test_invalid_directory_reports_every_file(tmp_path):
    errors = validate_paths([INVALID])
    assert errors == [e for p in sorted(INVALID.glob("*.yaml")) for e in expected_in(p)]
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([VALID, INVALID])
    assert caught.value.errors == errors


def test_a_missing_path_is_an_error(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert validate_paths([missing]) == [f"{missing}: no such file or directory"]


def test_scenario_names_are_unique_across_files(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yml"
    shutil.copy(VALID / "minimal.yaml", first)
    shutil.copy(VALID / "minimal.yaml", second)
    assert validate_paths([tmp_path]) == [f"{second}: name: 'Minimal' is already used by {first}"]


# --- what a valid file becomes --------------------------------------------------------------------


@pytest.fixture(scope="module")
def full():
    return load_scenario(VALID / "full.yaml")


def test_full_scenario_top_level(full):
    assert full.name == "Every key at once"
    assert full.covers == ["R4.1", "R4.2", "R8.1", "R8.2"]
    assert full.raw["events"][0]["call"]["ref"] == "c1"
    assert full.settings == Settings(
        call_workflow={"outbound_unanswered": "do_nothing"}, log_when_closed=False,
        unknown_number="create_lead", log_on_related="case", create_case=True,
        include_recording=True, integration_owner="sam")
    assert full.settings.action_for(CallType.OUTBOUND_UNANSWERED) is Action.DO_NOTHING


def test_full_scenario_org(full):
    org = full.org
    assert org.now == datetime(2026, 11, 2, 8, tzinfo=timezone.utc)
    assert [u.ref for u in org.users] == ["sam", "kim"]
    assert org.users[1].fields["IsActive"] is False
    assert [(n.ref, n.time_zone) for n in org.numbers] == [
        ("support", "Europe/Paris"), ("sales", "America/Los_Angeles")]
    assert [r.ref for r in org.records] == ["bob", "acme", "alice", "jane", "case1", "deal", "old"]
    assert full.record("alice").fields == {"LastName": "Martin", "Phone": "+33612345678", "AccountId": "@acme"}
    # an unquoted YAML date becomes text, audit fields are normalised to UTC
    assert full.record("deal").fields["CloseDate"] == "2026-12-31"
    assert full.record("old").fields["LastModifiedDate"] == "2026-01-01T00:00:00Z"


def test_full_scenario_events(full):
    kinds = [type(e) for e in full.events]
    assert kinds == [CallStep, SmsStep, UpdateStep, CreateStep, WebhookStep, RedeliverStep,
                     CommentStep, CallStep, CallStep]
    c1 = full.event("c1")
    assert (c1.type, c1.external, c1.number, c1.agent, c1.duration, c1.wait) == (
        "inbound_answered", "+33 6 12 34 56 78", "support", "sam", 95, 12)
    assert (c1.recording, c1.comments, c1.tags, c1.number_open) == (True, ["Wants a callback"], ["billing"], True)
    assert (c1.contact.first_name, c1.contact.last_name, c1.contact.email, c1.contact.company) == (
        "Jean", "Martin", "jean@acme.example", "Acme SAS")
    assert full.events[2].fields == {"Title": "CEO"}
    assert full.record("lateLead").sobject == "Lead"
    webhook = full.event("w1")
    assert "ref" not in webhook.payload and webhook.payload["event"] == "call.ended"
    assert full.events[5].target == "c1"
    assert (full.events[6].call, full.events[6].content) == ("c1", "Called back, solved")
    assert full.event("c3").external == "anonymous"


def test_full_scenario_expectations(full):
    expect = full.expect
    assert expect.timelines["case1"].past_activities == ["c1", "s1"]
    assert expect.timelines["case1"].next_steps == []
    assert expect.timelines["newlead"].next_steps == ["c2"]
    assert expect.records[0].where == {"Phone": "+12125550100"}
    assert expect.not_logged == ["c3"]
    assert expect.tasks["c1"].fields["WhoId"] == "@alice"
    assert expect.tasks["c1"].description_contains == ["Wait time: 12 s", "Tags: billing"]
    assert expect.task_count == 4


def test_agents_resolve_to_users(full):
    assert full.agent_user(full.event("c1")).ref == "sam"
    assert full.agent_user(full.event("c2")).ref == "kim"  # an email of a defined user
    outsider = full.agent_user(full.event("c3"))
    assert (outsider.ref, outsider.email) == (None, "outside@agency.example")
    assert full.user("admin") is DEFAULT_ADMIN


def test_event_times_follow_the_org_clock(full):
    times = [t.strftime("%H:%M:%S") for t in full.event_times()]
    assert times == ["10:00:00", "10:00:01", "10:00:02", "10:00:03", "10:00:04", "10:00:05",
                     "11:00:00", "11:00:01", "11:00:02"]


# --- defaults --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minimal():
    return load_scenario(VALID / "minimal.yaml")


def test_defaults_of_a_minimal_scenario(minimal):
    assert minimal.description == "" and minimal.covers == []
    assert minimal.settings == Settings()
    assert minimal.settings.integration_owner is None  # the core's default: the API user
    assert minimal.org.now == DEFAULT_NOW == datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
    assert minimal.org.users == [] and minimal.org.records == []
    assert minimal.org.numbers == [DEFAULT_NUMBER]
    assert (DEFAULT_NUMBER.ref, DEFAULT_NUMBER.name, DEFAULT_NUMBER.time_zone) == (
        "main", "Main line", "America/New_York")
    assert minimal.expect.timelines == {} and minimal.expect.task_count is None
    assert minimal.event_times() == [DEFAULT_NOW]


def test_settings_block_is_the_cores_settings(minimal):
    other = parse("name: Y\nsettings: {call_workflow: {missed: completed}}\nevents: []\n")
    assert isinstance(other.settings, Settings)
    assert other.settings.action_for(CallType.MISSED) is Action.COMPLETED
    assert other.settings.action_for(CallType.VOICEMAIL) is Action.IN_PROGRESS
    assert minimal.settings.action_for(CallType.MISSED) is Action.IN_PROGRESS


CALL_DEFAULTS = [
    # type, duration, wait, recording
    ("outbound_answered", 60, 5, True),
    ("inbound_answered", 60, 5, True),
    ("outbound_unanswered", 0, 5, False),
    ("missed", 0, 5, False),
    ("voicemail", 0, 5, False),
]


@pytest.mark.parametrize("call_type, duration, wait, recording", CALL_DEFAULTS)
def test_call_defaults(call_type, duration, wait, recording):
    call = parse(f"name: X\nevents:\n  - call: {{ref: c1, type: {call_type}}}\n").events[0]
    assert (call.duration, call.wait, call.recording) == (duration, wait, recording)
    assert (call.number, call.agent, call.external, call.number_open) == ("main", None, None, True)
    assert (call.comments, call.tags, call.contact) == ([], [], None)


def test_events_use_the_first_number_by_default():
    scenario = parse("""
        name: X
        org:
          numbers:
            - {ref: paris, name: Paris, digits: "+33 1 76 36 06 95"}
            - {ref: ny, name: New York, digits: "+1 212 555 0000"}
        events:
          - sms: {ref: s1, direction: outbound}
    """)
    assert scenario.events[0].number == "paris"
    assert scenario.events[0].body is None
    assert scenario.number("paris").time_zone == "Europe/Paris"


def test_timeline_sections_default_to_empty():
    scenario = parse("""
        name: X
        org:
          records: [{ref: alice, sobject: Contact, LastName: Martin}]
        events: []
        expect:
          timelines:
            alice: {}
    """)
    timeline = scenario.expect.timelines["alice"]
    assert (timeline.past_activities, timeline.next_steps) == ([], [])


@pytest.mark.parametrize("value, expected", [("@alice", True), ("alice", False), (3, False), ("", False)])
def test_is_ref(value, expected):
    assert is_ref(value) is expected


_REPO = Path(__file__).resolve().parents[2]
_SHIPPED_YAML = sorted([*(_REPO / "scenarios").rglob("*.yaml"), *(_REPO / "examples").rglob("*.yaml")])


@pytest.mark.parametrize("path", _SHIPPED_YAML, ids=lambda p: str(p.relative_to(_REPO)))
def test_shipped_yaml_reads_the_same_without_libyaml(path):
    """The loader falls back to PyYAML's pure-Python parser where libyaml is missing; the
    library's files must mean the same to both (a plain 'Still there?' before '}' in a flow
    mapping is an error to the pure-Python parser only)."""
    import yaml
    text = path.read_text(encoding="utf-8")
    pure = yaml.load(text, Loader=yaml.SafeLoader)
    if hasattr(yaml, "CSafeLoader"):
        assert pure == yaml.load(text, Loader=yaml.CSafeLoader)
