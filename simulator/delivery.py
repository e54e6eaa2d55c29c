"""The delivery simulator: a scenario's webhooks sent to the integration the way Aircall sends them.

A scenario's ``delivery:`` policy (docs/scenario-format.md) turns its events into a plan, made
before anything is sent, every draw from a generator seeded with the policy's ``seed``:

- ``lifecycle``: a call sends ``call.answered`` (answered calls), ``call.hungup``, and
  ``call.ended`` ``ended_after`` seconds later on the org clock (never a wall-clock sleep), so
  the calls that follow are delivered in between, as they are in production. A call that lists
  its own Aircall events (``deliver:``) is sent those, in that order, at its time.
- ``reorder``: a webhook arrives up to ``window`` places late.
- ``duplicates``: a webhook is delivered twice (at least once, R8.1); ``concurrent`` of the
  duplicates are sent at the same time as the original, the others up to ``window`` places later.
- ``timeout`` and ``retries``: a delivery the integration does not answer within ``timeout``
  seconds, or answers with a 5xx (a transient :class:`~simulator.integrations.Refused`), is sent
  again, up to ``retries`` times, while the late attempt may still be running, as Aircall does
  (its timeout is 5 s). A refusal for good (a 4xx, an invalid event) is not retried.

Salesforce-side steps (``update``, ``create``) and ``settings`` keep their place; the org clock only moves forward:
a webhook delivered late is delivered at the clock of its new place.
"""
from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as AnswerTimeout
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable

from simulator.aircall import ScenarioWebhooks, call_lifecycle
from simulator.integrations import Refused
from simulator.scenario import (
    CallStep, CommentStep, CreateStep, DeliveryPolicy, RedeliverStep, Scenario, SettingsStep, UpdateStep,
)

#: The figures of a run, in the order reports show them.
FIGURES = ("webhooks", "deliveries", "duplicates", "concurrent", "reordered", "timeouts", "retries",
           "refused", "gave_up")


@dataclass(frozen=True)
class Send:
    """One webhook to send at ``at`` on the org clock (two copies at once when ``concurrent``)."""

    event: Any               # the scenario step it comes from
    target: str | None       # the ref whose Task it logs
    webhook: dict
    at: datetime
    concurrent: bool = False


@dataclass(frozen=True)
class Change:
    """An ``update`` or ``create`` step, made in Salesforce at ``at``."""

    event: Any
    at: datetime


def target_of(event) -> str | None:
    """The ref of the event whose Task a step's webhook logs."""
    if isinstance(event, RedeliverStep):
        return event.target
    if isinstance(event, CommentStep):
        return event.call
    return getattr(event, "ref", None)


def plan(scenario: Scenario, webhooks: ScenarioWebhooks, policy: DeliveryPolicy,
         figures: Counter) -> list[Send | Change]:
    """The scenario's steps in delivery order, each at its org clock."""
    timed: list[tuple[datetime, Send | Change]] = []
    for event, when in zip(scenario.events, scenario.event_times()):
        if isinstance(event, (UpdateStep, CreateStep, SettingsStep)):
            timed.append((when, Change(event, when)))
            continue
        hooks = webhooks.webhooks_for(event, when)
        if isinstance(event, CallStep) and policy.lifecycle and "deliver" not in event.model_fields_set:
            for delay, part in call_lifecycle(hooks[-1], policy.ended_after):
                at = when + timedelta(seconds=delay)
                timed.append((at, Send(event, target_of(event), part, at)))
        else:  # a call's own deliver: list is kept, in its order, at the call's time
            timed.extend((when, Send(event, target_of(event), hook, when)) for hook in hooks)
    timed.sort(key=lambda pair: pair[0])  # stable: same-time steps keep the file's order
    figures["webhooks"] = sum(isinstance(item, Send) for _, item in timed)

    rng = random.Random(policy.seed)
    ranked: list[tuple[float, int, Send | Change]] = []
    for place, (_, item) in enumerate(timed):
        if isinstance(item, Change):
            ranked.append((place, len(ranked), item))
            continue
        rank: float = place
        if rng.random() < policy.reorder:
            rank = place + rng.randint(1, policy.window) + 0.5
            figures["reordered"] += 1
        if rng.random() < policy.duplicates:
            figures["duplicates"] += 1
            if rng.random() < policy.concurrent:
                item = replace(item, concurrent=True)
                figures["concurrent"] += 1
            else:
                ranked.append((place + rng.randint(1, policy.window) + 0.5, len(ranked), item))
        ranked.append((rank, len(ranked), item))
    ranked.sort(key=lambda r: (r[0], r[1]))

    steps, clock = [], datetime.min.replace(tzinfo=timed[0][0].tzinfo) if timed else None
    for _, _, item in ranked:
        clock = max(clock, item.at)
        steps.append(replace(item, at=clock))
    return steps


class Sender:
    """Sends one webhook as Aircall does: retried after a timeout or a transient refusal.

    ``deliver(webhook, once=True)`` is the integration's bound delivery (one attempt, a
    :class:`Refused` for a failure). Attempts run on threads so that a late one keeps running
    while its retry is sent; :meth:`send` returns once every attempt it started has finished.
    """

    def __init__(self, deliver: Callable[..., Any], policy: DeliveryPolicy, figures: Counter):
        self.deliver = deliver
        self.policy = policy
        self.figures = figures
        self._lock = threading.Lock()

    def _count(self, name: str) -> None:
        with self._lock:
            self.figures[name] += 1

    def send(self, webhook: dict, copies: int = 1) -> tuple[Any, str | None]:
        """The outcome of the first answered attempt (None from a foreign integration), and the
        error when a copy was refused for good or never answered in time."""
        attempts = copies * (1 + self.policy.retries)
        with ThreadPoolExecutor(max_workers=copies + attempts, thread_name_prefix="aircall") as pool:
            runs = [pool.submit(self._deliveries, pool, webhook) for _ in range(copies)]
            answers = [run.result() for run in runs]
        outcome = next((o for o, _ in answers if o is not None), None)
        error = next((e for _, e in answers if e is not None), None)
        return outcome, error

    def _deliveries(self, pool: ThreadPoolExecutor, webhook: dict) -> tuple[Any, str | None]:
        """One of Aircall's deliveries of the webhook, with its retries."""
        error = None
        for attempt in range(1 + self.policy.retries):
            self._count("deliveries")
            if attempt:
                self._count("retries")
            future = pool.submit(self.deliver, webhook, once=True)
            try:
                return future.result(timeout=self.policy.timeout), None
            except AnswerTimeout:
                self._count("timeouts")
                error = f"no answer within {self.policy.timeout:g} s"
            except Refused as e:
                if not e.transient:
                    self._count("refused")
                    return None, str(e)
                error = str(e)
        self._count("gave_up")
        return None, f"{error} (gave up after {1 + self.policy.retries} deliveries)"


__all__ = ["FIGURES", "Change", "Send", "Sender", "plan", "target_of"]
