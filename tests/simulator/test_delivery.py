"""The delivery simulator (a scenario's ``delivery:`` policy): its seeded plan, Aircall's timeout
and retries, and the runner delivering by it to every kind of integration."""
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import fake_salesforce
from simulator import delivery
from simulator.aircall import ScenarioWebhooks
from simulator.integrations import PythonCallable, Refused, WebService
from simulator.runner import Runner
from simulator.scenario import ScenarioError, load_scenario, parse_scenario

CALLS = """
name: Delivery trial
org:
  records:
    - {ref: alice, sobject: Contact, LastName: Martin, Phone: "+33 6 12 34 56 78"}
    - {ref: bob, sobject: Contact, LastName: Stone, Phone: "+33 6 22 34 56 78"}
events:
  - call: {ref: c1, type: inbound_answered, external: "+33612345678", duration: 95, wait: 12}
  - call: {ref: c2, type: missed, external: "+33622345678"}
  - update: {ref: bob, fields: {Title: CEO}}
  - call: {ref: c3, type: outbound_answered, external: "+33622345678", duration: 40}
  - sms: {ref: s1, direction: inbound, external: "+33612345678"}
expect:
  tasks: {c1: {fields: {CallDurationInSeconds: 95}}, c2: {}, c3: {fields: {CallDurationInSeconds: 40}}, s1: {}}
  task_count: 4
"""


def scenario(policy: str, text: str = CALLS):
    return parse_scenario(text + f"delivery: {policy}\n")


def planned(sc):
    figures = Counter()
    steps = delivery.plan(sc, ScenarioWebhooks(sc, "t"), sc.delivery, figures)
    return steps, figures


def shape(steps):
    return [(type(s).__name__, getattr(s, "webhook", {}).get("event"), getattr(s, "target", None), s.at,
             getattr(s, "concurrent", False)) for s in steps]


def test_a_call_sends_its_lifecycle_with_call_ended_30_s_later_on_the_org_clock():
    steps, figures = planned(scenario("{}"))
    sends = [s for s in steps if isinstance(s, delivery.Send)]
    c1 = [(s.webhook["event"], s.at) for s in sends if s.target == "c1"]
    assert [name for name, _ in c1] == ["call.answered", "call.hungup", "call.ended"]
    assert c1[2][1] - c1[1][1] == timedelta(seconds=30)
    # The next call and the update come between c1's hang-up and its call.ended.
    order = [(s.target if isinstance(s, delivery.Send) else "update", getattr(s, "webhook", {}).get("event"))
             for s in steps]
    assert order.index(("c2", "call.hungup")) < order.index(("c1", "call.ended"))
    assert order.index(("update", None)) < order.index(("c1", "call.ended"))
    # An unanswered call has no call.answered; the payloads say what was known then.
    c1_answered, c1_hungup, c1_ended = (s.webhook["data"] for s in sends if s.target == "c1")
    assert c1_answered["ended_at"] is None and c1_answered["duration"] == 0
    assert c1_hungup["recording"] is None and c1_ended["recording"]
    assert [s.webhook["event"] for s in sends if s.target == "c2"] == ["call.hungup", "call.ended"]
    assert figures["webhooks"] == len(sends) == 3 + 2 + 3 + 1
    times = [s.at for s in steps]
    assert times == sorted(times)


def test_without_lifecycle_a_call_is_its_call_ended():
    steps, _ = planned(scenario("{lifecycle: false}"))
    assert [s.webhook["event"] for s in steps if isinstance(s, delivery.Send)] == [
        "call.ended", "call.ended", "call.ended", "message.received"]


def test_the_plan_is_seeded():
    policy = "{seed: %d, duplicates: 0.5, concurrent: 0.5, reorder: 0.5, window: 3}"
    first, figures = planned(scenario(policy % 7))
    assert shape(first) == shape(planned(scenario(policy % 7))[0])
    assert shape(first) != shape(planned(scenario(policy % 8))[0])
    assert figures["duplicates"] and figures["concurrent"] and figures["reordered"]
    assert [s.at for s in first] == sorted(s.at for s in first)   # the clock only moves forward
    copies = sum(isinstance(s, delivery.Send) for s in first)
    assert copies == figures["webhooks"] + figures["duplicates"] - figures["concurrent"]


def test_duplicates_reorder_and_concurrent_copies():
    steps, figures = planned(scenario("{duplicates: 1, concurrent: 1}"))
    assert all(s.concurrent for s in steps if isinstance(s, delivery.Send))
    steps, figures = planned(scenario("{duplicates: 1, window: 1}"))
    events = [(s.target, s.webhook["event"]) for s in steps if isinstance(s, delivery.Send)]
    assert all(n == 2 for n in Counter(events).values())
    in_order, _ = planned(scenario("{}"))
    reordered, figures = planned(scenario("{reorder: 1, window: 2, seed: 1}"))
    assert figures["reordered"] == figures["webhooks"]
    assert shape(reordered) != shape(in_order)


@pytest.mark.parametrize("policy, message", [
    ("{duplicates: 1.5}", "delivery.duplicates: expected a probability: a number from 0 to 1, got 1.5"),
    ("{timeout: 0}", "delivery.timeout: expected seconds: a number above 0 and at most 60, got 0"),
    ("{retries: -1}", "delivery.retries: expected a number of retries: an integer from 0 to 20, got -1"),
    ("{window: 2.5}", "delivery.window: expected a number of places: an integer from 1 to 50, got 2.5"),
    ("{lifecycle: yes please}", "delivery.lifecycle: expected true or false, got 'yes please'"),
    ("{ended_after: 9000}", "delivery.ended_after: expected seconds: an integer from 0 to 3600, got 9000"),
    ("{reordr: 0.5}", "delivery.reordr: unknown key; did you mean 'reorder'?"),
    ("[0.5]", "delivery: expected a mapping, got a list"),
])
def test_a_bad_policy_is_a_clear_error(policy, message):
    with pytest.raises(ScenarioError) as caught:
        scenario(policy)
    assert f"<string>: {message}" in caught.value.errors


# --- Aircall's timeout and retries ------------------------------------------------------------


def sender(deliver, **policy):
    sc = scenario("{" + ", ".join(f"{k}: {v}" for k, v in policy.items()) + "}")
    figures = Counter()
    return delivery.Sender(deliver, sc.delivery, figures), figures


def test_a_late_answer_is_retried_while_the_late_attempt_still_runs():
    running, overlapped, calls = [], [], []
    lock = threading.Lock()

    def deliver(webhook, once=False):
        with lock:
            calls.append(time.monotonic())
            overlapped.append(len(running))
            running.append(1)
        try:
            if len(calls) == 1:
                time.sleep(0.6)            # the first attempt is slower than Aircall waits
            return "logged"
        finally:
            with lock:
                running.pop()

    send, figures = sender(deliver, timeout=0.2, retries=3)
    started = time.monotonic()
    outcome, error = send.send({"event": "call.ended"})
    assert (outcome, error) == ("logged", None)
    assert figures["timeouts"] == 1 and figures["retries"] == 1 and figures["deliveries"] == 2
    assert overlapped == [0, 1]                       # the retry ran beside the late attempt
    assert time.monotonic() - started >= 0.6          # and send waited for both to finish


def test_transient_refusals_are_retried_final_ones_are_not():
    answers = iter([Refused("HTTP 503"), Refused("HTTP 502"), "logged"])

    def flaky(webhook, once=False):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer
    send, figures = sender(flaky, retries=5)
    assert send.send({}) == ("logged", None) and figures["retries"] == 2

    def refusing(webhook, once=False):
        raise Refused("HTTP 422: never", transient=False)
    send, figures = sender(refusing, retries=5)
    assert send.send({}) == (None, "HTTP 422: never")
    assert figures["deliveries"] == 1 and figures["refused"] == 1

    def down(webhook, once=False):
        raise Refused("HTTP 503: down")
    send, figures = sender(down, retries=2)
    assert send.send({}, copies=2) == (None, "HTTP 503: down (gave up after 3 deliveries)")
    assert figures["deliveries"] == 6 and figures["gave_up"] == 2


# --- every kind of integration -------------------------------------------------------------------

DUPLICATED = "{seed: 2, duplicates: 1, concurrent: 0.5, reorder: 0.5, lifecycle: false}"

NAIVE = '''
def log_call(sf, webhook):
    """One Task per delivery: no idempotency."""
    if webhook.get("event") != "call.ended":
        return
    sf.Task.create({"Subject": "Call", "CallObject": str(webhook["data"]["id"])})
'''

IDEMPOTENT = '''
import threading
LOCK = threading.Lock()

def log_call(sf, webhook):
    """One Task per call: looked up by CallObject first, under a lock."""
    if webhook.get("event") != "call.ended":
        return
    key = str(webhook["data"]["id"])
    with LOCK:
        if not sf.query("SELECT Id FROM Task WHERE CallObject = '%s'" % key)["records"]:
            sf.Task.create({"Subject": "Call", "CallObject": key})
'''

ONLY_CALLS = CALLS.replace('  - sms: {ref: s1, direction: inbound, external: "+33612345678"}\n', "").replace(
    ", s1: {}", "").replace("task_count: 4", "task_count: 3").replace(
    "c1: {fields: {CallDurationInSeconds: 95}}", "c1: {}").replace("c3: {fields: {CallDurationInSeconds: 40}}", "c3: {}")


@pytest.fixture
def modules(tmp_path, monkeypatch):
    (tmp_path / "naive_logger.py").write_text(NAIVE)
    (tmp_path / "idempotent_logger.py").write_text(IDEMPOTENT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def run(integration, policy=DUPLICATED):
    runner = Runner(integration=integration)
    try:
        return runner.run(scenario(policy, ONLY_CALLS))
    finally:
        runner.close()


def test_builtin_logs_each_call_once_under_duplicates_and_reordering():
    result = Runner().run(scenario(DUPLICATED))
    assert result.passed, result.failures or result.error
    assert result.delivery["duplicates"] == result.delivery["webhooks"] and result.delivery["concurrent"]


def test_a_function_without_idempotency_is_caught_and_one_with_it_passes(modules):
    naive = run(PythonCallable("naive_logger:log_call"))
    assert not naive.passed
    assert {(c.subject, c.actual) for c in naive.failures if c.kind == "task"} == {
        ("c1", "2 Task(s)"), ("c2", "2 Task(s)"), ("c3", "2 Task(s)")}
    assert run(PythonCallable("idempotent_logger:log_call")).passed


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}/aircall", server


def test_a_web_service_slower_than_aircall_waits_is_retried(modules):
    """The service's first answer comes after Aircall's timeout: the webhook is delivered again
    while the first delivery is still being worked; an idempotent service logs one Task."""
    import json

    from simple_salesforce import Salesforce

    import idempotent_logger

    handshake = modules / "org.json"
    seen = []

    @Request.application
    def app(request):
        webhook = request.get_json()
        seen.append(webhook["data"]["id"])
        org = json.loads(handshake.read_text())
        import requests
        session = requests.Session()
        session.verify = org["ca_file"]
        session.trust_env = False  # else requests prefers REQUESTS_CA_BUNDLE
        sf = Salesforce(instance_url=org["instance_url"], session_id=org["access_token"],
                        version=org["api_version"], session=session)
        if len(seen) == 1:
            time.sleep(0.8)
        idempotent_logger.log_call(sf, webhook)
        return Response("ok")

    url, server = serve(app)
    try:
        result = run(WebService(url, quiet=0.1, handshake=handshake),
                     "{timeout: 0.3, retries: 3, lifecycle: false}")
    finally:
        server.shutdown()
    assert result.passed, result.failures or result.error
    assert result.delivery["timeouts"] >= 1 and result.delivery["retries"] >= 1
    assert len(seen) == result.delivery["deliveries"] > len(set(seen)) == 3


LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "delivery"


@pytest.mark.parametrize("name, figure", [("policy_faults_and_redelivery", "retries"),
                                          ("policy_slow_salesforce_retried", "timeouts"),
                                          ("policy_duplicated_reordered", "concurrent")])
def test_the_library_scenarios_exercise_what_they_claim(name, figure):
    result = Runner().run(load_scenario(LIBRARY / f"{name}.yaml"))
    assert result.passed, result.failures or result.error
    assert result.delivery[figure] > 0, result.delivery


def test_a_call_with_its_own_deliver_list_keeps_it_and_settings_keep_their_place():
    text = CALLS.replace("duration: 95, wait: 12}", "duration: 95, wait: 12,\n           deliver: [call.ended, call.answered]}")
    text = text.replace("  - update: {ref: bob, fields: {Title: CEO}}\n",
                        "  - update: {ref: bob, fields: {Title: CEO}}\n  - settings: {include_recording: false}\n")
    sc = scenario("{seed: 4}", text)
    steps, _ = planned(sc)
    assert [s.webhook["event"] for s in steps if isinstance(s, delivery.Send) and s.target == "c1"] == [
        "call.ended", "call.answered"]
    kinds = [type(s.event).__name__ for s in steps if isinstance(s, delivery.Change)]
    assert kinds == ["UpdateStep", "SettingsStep"]
    runner = Runner()
    result = runner.run(sc)
    assert result.passed, result.failures or result.error
    tasks = {e.ref: e.outcome.task_id for e in result.events if e.ref in ("c1", "c3")}
    sf = fake_salesforce.connect(runner.target)
    described = {ref: sf.Task.get(task_id)["Description"] for ref, task_id in tasks.items()}
    assert "Recording: " in described["c1"] and "Recording: " not in described["c3"]  # settings changed between
