"""Shorthand scenario events expanded into complete Aircall webhooks.

Payloads have the shape of Aircall's public API (see ``reference/examples``): call
timestamps in unix seconds, message timestamps in milliseconds. Every generated value is
seeded from the scenario and the event's ref, so a rerun yields identical webhooks.

Choices where Aircall leaves room:

- Timing. ``now`` (the org clock at the event) is ``ended_at``. An answered call starts
  ``duration`` seconds earlier and is answered ``wait`` seconds after it starts, so
  ``duration`` covers the whole call, as in Aircall's example. An unanswered call starts
  ``wait`` seconds before it ends. ``duration`` is always the event's ``duration``. Hence the
  wait time of R6.7 (``answered_at - started_at``, or ``ended_at - started_at``) is ``wait``.
- Agent. Without ``agent``, answered and outbound calls and outbound messages get
  :data:`DEFAULT_AGENT`, who is no Salesforce user; missed calls, voicemails and inbound
  messages get ``user: null``, as when nobody picked up.
- ``recording: true`` generates a recording URL, its short URL and its ``asset`` page; a given
  URL is the call's only recording link (no short URL, ``asset`` null), so that it is the link
  a Task shows.
- Without ``external`` the other party is ``+44 7700 900NNN``, a range reserved for fiction.
- Ids (call, user, number, contact, comment, tag) are hashes of the scenario seed and what
  they identify: a user or number keeps its id across the calls of a scenario.
- A missed call or voicemail has ``missed_call_reason`` ``out_of_opening_hours`` when the line
  was closed, else ``agents_did_not_answer``.
- Messages also carry ``user`` and the full ``number`` and ``contact`` objects of calls (so
  that subjects, R2.3 and R3 can be checked); the example's keys are all present.
- ``deliver:`` sends the call as other Aircall events too, each a snapshot of the call when
  Aircall sends it: ``call.created`` and ``call.ringing_on_agent`` (at ``started_at``) and
  ``call.answered`` (at ``answered_at``) know no end, duration, links, comments or tags;
  ``call.hungup`` (at ``ended_at``) has everything but the recording and voicemail links;
  ``call.ended`` (at ``ended_at``) is the whole call; ``call.commented``, ``call.tagged``,
  ``call.untagged``, ``call.voicemail_left`` and ``call.comm_assets_generated`` are the whole
  call sent a minute later.
- ``national: true`` writes the other party's number and the line's digits as dialled within
  their country (``06 12 34 56 78``), without ``e164_digits``; the line keeps its ``country``.
"""
from __future__ import annotations

import copy
import hashlib

import phonenumbers
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from faker import Faker

from simulator.core import phones

from simulator.scenario import (
    ANONYMOUS,
    CallStep,
    CommentStep,
    CreateStep,
    NumberSpec,
    RedeliverStep,
    Scenario,
    SettingsStep,
    SmsStep,
    UpdateStep,
    UserSpec,
    WebhookStep,
)

API = "https://api.aircall.io/v1"
DEFAULT_AGENT = UserSpec(ref=None, FirstName="Default", LastName="Agent",
                         Email="default.agent@aircall.example")
MISSED_CLOSED = "out_of_opening_hours"
MISSED_OPEN = "agents_did_not_answer"


# --- the payload shapes ----------------------------------------------------------------------------
# One builder of each Aircall payload. The defaults make a complete delivery on their own (a
# call to a Paris line, a message from a French mobile), for tests and benchmarks; the
# scenario factory below fills in generated, seeded values.

DEFAULT_NUMBER = {"id": 123, "direct_link": f"{API}/numbers/123", "name": "Paris Support",
                  "digits": "+33 1 76 36 06 95", "e164_digits": "+33176360695", "country": "FR",
                  "time_zone": "Europe/Paris", "open": True, "availability_status": "open",
                  "is_ivr": False, "live_recording_activated": True, "priority": None}
DEFAULT_USER = {"id": 456, "name": "Madelaine Dupont", "email": "madelaine.dupont@example.com"}


def call_webhook(*, call_id: int | str = 1834567890, event: str = "call.ended",
                 direction: str = "inbound", external: str = "+33 6 12 34 56 78",
                 answered: bool = True, started_at: int = 1732622895, wait: int = 14,
                 duration: int = 95, ended_at: int | None = None, voicemail: str | None = None,
                 recording: str | None = None, recording_short_url: str | None = None,
                 asset: str | None = None, number: Mapping[str, Any] | None = None,
                 user: Mapping[str, Any] | None = DEFAULT_USER, contact: dict | None = None,
                 comments: Iterable[str | dict] = (), tags: Iterable[str | dict] = (),
                 token: str = "t0k3n", number_open: bool | None = True,
                 missed_call_reason: str | None = None, call_uuid: str | None = None,
                 teams: Iterable[dict] = (), **data_overrides: Any) -> dict:
    """One call delivery.

    ``wait`` is the seconds before answer (or before hang-up, unanswered); ``ended_at``
    defaults to the answer plus ``duration``. Comments and tags are texts (numbered from 1)
    or complete objects. ``data_overrides`` replace keys of ``data`` last.
    """
    answered_at = started_at + wait if answered else None
    if ended_at is None:
        ended_at = (answered_at + duration) if answered else started_at + wait
    num = dict(number or DEFAULT_NUMBER)
    if number_open is not None:
        num["open"] = number_open
        num["availability_status"] = "open" if number_open else "closed"
    data = {
        "id": call_id,
        "call_uuid": call_uuid,
        "direct_link": f"{API}/calls/{call_id}",
        "direction": direction,
        "status": "done",
        "missed_call_reason": missed_call_reason,
        "started_at": started_at,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "duration": duration,
        "raw_digits": external,
        "voicemail": voicemail,
        "recording": recording,
        "recording_short_url": recording_short_url,
        "asset": asset,
        "archived": False,
        "cost": "0",
        "user": dict(user) if user else None,
        "assigned_to": None,
        "transferred_by": None,
        "transferred_to": None,
        "contact": contact,
        "number": num,
        "teams": list(teams),
        "comments": [c if isinstance(c, dict) else
                     {"id": i + 1, "content": c, "posted_at": ended_at} for i, c in enumerate(comments)],
        "tags": [t if isinstance(t, dict) else {"id": i + 1, "name": t} for i, t in enumerate(tags)],
        "participants": [],
    }
    data.update(data_overrides)
    return {"resource": "call", "event": event, "timestamp": ended_at, "token": token, "data": data}


def aircall_contact(first_name: str | None = None, last_name: str | None = None,
                    company: str | None = None, email: str | None = None,
                    phone: str | None = None, *, contact_id: int = 789,
                    phone_id: int = 1, email_id: int = 2) -> dict:
    """An Aircall contact object as found on calls and messages."""
    return {
        "id": contact_id,
        "direct_link": f"{API}/contacts/{contact_id}",
        "first_name": first_name,
        "last_name": last_name,
        "company_name": company,
        "is_shared": True,
        "phone_numbers": [{"id": phone_id, "label": "Mobile", "value": phone}] if phone else [],
        "emails": [{"id": email_id, "label": "Work", "value": email}] if email else [],
    }


def message_webhook(*, message_id: str = "b7c1e0d2-6a3f-4f0e-9c1a-0f2d3e4a5b6c",
                    direction: str = "inbound", external: str = "+33 6 12 34 56 78",
                    body: str = "Hi, can you call me back?", sent_at_ms: int = 1732623999000,
                    number: Mapping[str, Any] | None = None, user: Mapping[str, Any] | None = None,
                    contact: dict | None = None, token: str = "t0k3n", channel: str | None = None,
                    **data_overrides: Any) -> dict:
    """One message delivery: ``message.received`` for inbound, ``message.sent`` for outbound."""
    num = dict(number or DEFAULT_NUMBER)
    inbound = direction == "inbound"
    data = {
        "id": message_id,
        "direct_link": f"{API}/numbers/{num.get('id')}/messages/{message_id}",
        "direction": direction,
        "channel": channel,
        "status": "received" if inbound else "sent",
        "body": body,
        "external_number": external,
        "created_at": sent_at_ms,
        "sent_at": sent_at_ms,
        "updated_at": sent_at_ms,
        "media_url": [],
        "number": num,
        "contact": contact,
        "user": dict(user) if user else None,
    }
    data.update(data_overrides)
    event = "message.received" if inbound else "message.sent"
    return {"resource": "message", "event": event, "timestamp": sent_at_ms // 1000, "token": token,
            "data": data}


def _stable_int(*parts: Any, low: int = 1, high: int = 999_999) -> int:
    """An integer in [low, high] determined by ``parts`` alone."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low + 1)


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _e164(digits: str) -> str:
    return phones.to_e164(digits)


def national(digits: str) -> str:
    """A number as dialled within its country (``06 12 34 56 78``)."""
    number = phones.parse(digits)
    if number is None:
        return digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


LATER = 60    # seconds after the end at which comments, tags and assets are sent (deliver:)


def call_snapshot(full: Mapping[str, Any], event: str) -> dict:
    """The webhook Aircall sends as ``event`` for the call whose ``call.ended`` is ``full``."""
    hook = copy.deepcopy(dict(full))
    data = hook["data"]
    hook["event"] = event
    links = ("recording", "recording_short_url", "voicemail", "asset")
    if event in ("call.created", "call.ringing_on_agent", "call.answered"):
        early = event != "call.answered"
        data.update(answered_at=None if early else data["answered_at"], ended_at=None, duration=0,
                    comments=[], tags=[], missed_call_reason=None,
                    status="initial" if early else "answered", **{k: None for k in links})
        hook["timestamp"] = data["started_at"] if early else data["answered_at"]
    elif event == "call.hungup":
        data.update({k: None for k in links})
    elif event != "call.ended":
        hook["timestamp"] = data["ended_at"] + LATER
    return hook


def _agent_fields(agent: UserSpec | Mapping[str, Any]) -> Mapping[str, Any]:
    return agent.fields if isinstance(agent, UserSpec) else agent


class WebhookFactory:
    """Builds Aircall webhooks for one scenario; identical inputs give identical payloads."""

    def __init__(self, scenario_seed: str | int, token: str):
        self.seed = str(scenario_seed)
        self.token = token
        self._fake = Faker("en_US")

    # shared pieces

    def _faker(self, *parts: Any) -> Faker:
        self._fake.seed_instance(_stable_int(self.seed, *parts, high=2**62))
        return self._fake

    def _id(self, *parts: Any, low: int = 1, high: int = 999_999) -> int:
        return _stable_int(self.seed, *parts, low=low, high=high)

    def user(self, agent: UserSpec | Mapping[str, Any] | None, time_zone: str) -> dict | None:
        """An Aircall user from a user spec (or its fields); None stays None."""
        if agent is None:
            return None
        fields = _agent_fields(agent)
        email = str(fields.get("Email") or "")
        name = " ".join(str(fields[k]) for k in ("FirstName", "LastName") if fields.get(k))
        if not name:
            local = email.split("@", 1)[0]
            name = " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)
        uid = self._id("user", email.lower())
        return {
            "id": uid,
            "direct_link": f"{API}/users/{uid}",
            "name": name,
            "email": email,
            "available": True,
            "availability_status": "available",
            "time_zone": time_zone,
            "language": "en-US",
        }

    def number(self, spec: NumberSpec, is_open: bool = True, in_national: bool = False) -> dict:
        """An Aircall number object (``in_national``: its digits in national format only)."""
        nid = self._id("number", spec.ref)
        e164, country = phones.to_e164(spec.digits), phones.region_of(spec.digits)
        return {
            "id": nid,
            "direct_link": f"{API}/numbers/{nid}",
            "name": spec.name,
            "digits": national(spec.digits) if in_national else spec.digits,
            "e164_digits": None if in_national else e164,
            "country": country,
            "time_zone": spec.time_zone,
            "open": is_open,
            "availability_status": "open" if is_open else "closed",
            "is_ivr": False,
            "live_recording_activated": True,
            "priority": None,
        }

    def contact(self, event: CallStep | SmsStep, external: str) -> dict | None:
        """The Aircall contact of an event's ``contact:`` block; None without one."""
        spec = event.contact
        if spec is None:
            return None
        cid = self._id("contact", event.ref)
        phone = spec.phone or (None if external == ANONYMOUS else _e164(external))
        return aircall_contact(spec.first_name, spec.last_name, spec.company, spec.email, phone,
                               contact_id=cid, phone_id=self._id("contact-phone", cid),
                               email_id=self._id("contact-email", cid))

    def _external(self, event: CallStep | SmsStep, fake: Faker) -> str:
        """The other party: as written, or a number in a range reserved for fiction."""
        if event.external is not None:
            return event.external
        return f"+44 7700 900{fake.random_int(0, 999):03d}"

    @staticmethod
    def _as_written(event: CallStep | SmsStep, external: str) -> str:
        """The other party's number as the webhook writes it (``national:``)."""
        return national(external) if event.national and external != ANONYMOUS else external

    def _comment(self, call_id: int, position: int, content: str, posted_at: int,
                 user: dict | None) -> dict:
        author = user or self.user(DEFAULT_AGENT, "UTC")
        return {
            "id": self._id("comment", call_id, position, content),
            "content": content,
            "posted_at": posted_at,
            "posted_by": {"id": author["id"], "name": author["name"]},
        }

    def _tag(self, name: str) -> dict:
        return {"id": self._id("tag", name), "name": name}

    def _envelope(self, resource: str, event: str, timestamp: int, data: dict) -> dict:
        return {"resource": resource, "event": event, "timestamp": timestamp,
                "token": self.token, "data": data}

    # webhooks

    def call_ended(self, call_event: CallStep, number_spec: NumberSpec,
                   agent_user: UserSpec | Mapping[str, Any] | None, now: datetime) -> dict:
        """The ``call.ended`` webhook of a call that ended at ``now``."""
        fake = self._faker("call", call_event.ref)
        call_id = self._id("call", call_event.ref, low=1_000_000_000, high=9_999_999_999)
        uuid_hex = fake.uuid4().replace("-", "")
        external = self._external(call_event, fake)
        ended = _seconds(now)
        started = ended - (call_event.duration if call_event.answered else call_event.wait)
        if agent_user is None and (call_event.answered or call_event.direction == "outbound"):
            agent_user = DEFAULT_AGENT
        user = self.user(agent_user, number_spec.time_zone)

        recording = call_event.recording
        given_url = isinstance(recording, str)
        if recording is True:
            signature = fake.hexify("^" * 64)
            recording = (f"https://aircall-recordings.s3.amazonaws.com/{uuid_hex}.mp3"
                         f"?X-Amz-Signature={signature}")
        recording = recording or None
        short_url = f"https://short-urls.aircall.io/v1/{fake.uuid4()}" if recording and not given_url else None
        voicemail = None
        if call_event.type == "voicemail":
            voicemail = (f"https://aircall-voicemails.s3.amazonaws.com/{uuid_hex}.mp3"
                         f"?X-Amz-Signature={fake.hexify('^' * 64)}")
        asset = None
        if recording and not given_url:
            asset = f"https://assets.aircall.io/recording/{call_id}"
        elif voicemail:
            asset = f"https://assets.aircall.io/voicemail/{call_id}"
        reason = None
        if call_event.direction == "inbound" and not call_event.answered:
            reason = MISSED_OPEN if call_event.number_open else MISSED_CLOSED

        return call_webhook(
            call_id=call_id, call_uuid=f"CA{uuid_hex}", direction=call_event.direction,
            missed_call_reason=reason, answered=call_event.answered, started_at=started,
            wait=call_event.wait, duration=call_event.duration, ended_at=ended,
            external=self._as_written(call_event, external),
            voicemail=voicemail, recording=recording, recording_short_url=short_url, asset=asset,
            user=user, contact=self.contact(call_event, external),
            number=self.number(number_spec, call_event.number_open, call_event.national), number_open=None,
            teams=[{"id": self._id("team", number_spec.ref), "name": f"{number_spec.name} team"}],
            comments=[self._comment(call_id, i, text, ended, user)
                      for i, text in enumerate(call_event.comments)],
            tags=[self._tag(name) for name in call_event.tags], token=self.token)

    def commented(self, original_webhook: Mapping[str, Any], content: str, now: datetime) -> dict:
        """A ``call.commented`` webhook: the call's data with one more comment."""
        data = copy.deepcopy(dict(original_webhook["data"]))
        comments = list(data.get("comments") or [])
        comments.append(self._comment(data["id"], len(comments), content, _seconds(now),
                                      data.get("user")))
        data["comments"] = comments
        return self._envelope("call", "call.commented", _seconds(now), data)

    def tagged(self, original_webhook: Mapping[str, Any], tags: list[str], now: datetime) -> dict:
        """A ``call.tagged`` webhook: the call's data with the tags added (once each)."""
        data = copy.deepcopy(dict(original_webhook["data"]))
        current = list(data.get("tags") or [])
        names = {t["name"] for t in current}
        current += [self._tag(name) for name in tags if name not in names]
        data["tags"] = current
        return self._envelope("call", "call.tagged", _seconds(now), data)

    def message(self, sms_event: SmsStep, number_spec: NumberSpec,
                agent_user: UserSpec | Mapping[str, Any] | None, now: datetime) -> dict:
        """``message.received`` (inbound) or ``message.sent`` (outbound) at ``now``."""
        fake = self._faker("sms", sms_event.ref)
        message_id = fake.uuid4()
        external = self._external(sms_event, fake)
        body = sms_event.body if sms_event.body is not None else fake.sentence(nb_words=8)
        if agent_user is None and sms_event.direction == "outbound":
            agent_user = DEFAULT_AGENT
        return message_webhook(
            message_id=message_id, direction=sms_event.direction,
            external=self._as_written(sms_event, external), body=body, sent_at_ms=_seconds(now) * 1000,
            number=self.number(number_spec, sms_event.number_open, sms_event.national),
            contact=self.contact(sms_event, external),
            user=self.user(agent_user, number_spec.time_zone), token=self.token)


def call_lifecycle(ended: Mapping[str, Any], ended_after: int) -> list[tuple[int, dict]]:
    """The webhooks Aircall sends for the call whose ``call.ended`` is ``ended`` (snapshots, as
    :func:`call_snapshot` makes them), each with its delay in seconds after the hang-up:
    ``call.answered`` for an answered call, ``call.hungup``, and ``call.ended`` itself
    ``ended_after`` seconds later."""
    names = (["call.answered"] if ended["data"].get("answered_at") else []) + ["call.hungup"]
    hooks = [(0, call_snapshot(ended, name)) for name in names]
    later = copy.deepcopy(dict(ended))
    later["timestamp"] = ended["data"]["ended_at"] + ended_after
    return hooks + [(ended_after, later)]


class ScenarioWebhooks:
    """The webhooks of one scenario's events, in order; remembers them for redelivery."""

    def __init__(self, scenario: Scenario, token: str):
        self.scenario = scenario
        self.factory = WebhookFactory(scenario.seed, token)
        self.delivered: dict[str, dict] = {}
        self._latest_call: dict[str, dict] = {}

    def webhook_for(self, event, now: datetime) -> dict | None:
        """The (last) webhook an event delivers at ``now``; None for Salesforce-side events."""
        hooks = self.webhooks_for(event, now)
        return hooks[-1] if hooks else None

    def webhooks_for(self, event, now: datetime) -> list[dict]:
        """The webhooks an event delivers at ``now``, in order: none for Salesforce-side events
        and settings, one for most, those of ``deliver:`` for a call."""
        sc = self.scenario
        if isinstance(event, (UpdateStep, CreateStep, SettingsStep)):
            return []
        if isinstance(event, CallStep):
            full = self.factory.call_ended(event, sc.number(event.number), sc.agent_user(event), now)
            self._latest_call[event.ref] = full
            hooks = [call_snapshot(full, name) for name in event.deliver]
            self.delivered[event.ref] = hooks[-1]
            return copy.deepcopy(hooks)
        elif isinstance(event, SmsStep):
            hook = self.factory.message(event, sc.number(event.number), sc.agent_user(event), now)
        elif isinstance(event, WebhookStep):
            hook = copy.deepcopy(event.payload)
        elif isinstance(event, RedeliverStep):
            return [copy.deepcopy(self.delivered[event.target])]
        elif isinstance(event, CommentStep):
            hook = self.factory.commented(self._latest_call[event.call], event.content, now)
            self._latest_call[event.call] = hook
        else:
            raise TypeError(f"not a scenario event: {event!r}")
        if getattr(event, "ref", None):
            self.delivered[event.ref] = hook
        return [copy.deepcopy(hook)]

    def expand_all(self) -> list[tuple[Any, dict | None]]:
        """Every event with its webhook, at the times the org clock gives them."""
        return [(ev, self.webhook_for(ev, t))
                for ev, t in zip(self.scenario.events, self.scenario.event_times())]


__all__ = ["DEFAULT_AGENT", "ScenarioWebhooks", "WebhookFactory", "aircall_contact", "call_lifecycle",
           "call_webhook", "message_webhook"]
