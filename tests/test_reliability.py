"""At-least-once delivery into a faulty Salesforce: webhooks from 8 threads, with duplicates
(some of them concurrent) and hostile deliveries, into the served receiver logging into a
served fake org that injects faults of every kind. Exactly one Task per distinct call, none
lost, none doubled, and no 5xx (nor HTML) for a delivery that can never succeed.

Size: 600 webhooks by default; CALLSIM_RELIABILITY_WEBHOOKS=5000 for the full run. The
figures are printed (run with ``-s`` to see them).
"""
import json
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from cheroot import wsgi

import fake_salesforce
from fake_salesforce.control import ControlClient
from fake_salesforce.server import FakeServer
from simulator.aircall import call_webhook
from simulator.core import RetryPolicy, Settings
from simulator.core.api import with_timeout
from simulator.core.receiver import DEFAULT_PATH, create_receiver

TOKEN = "t0k3n"
WEBHOOKS = int(os.environ.get("CALLSIM_RELIABILITY_WEBHOOKS", "600"))
FAULT_RATE = 0.15
# Every kind of fault, on every Salesforce request the core makes (together about FAULT_RATE).
FAULT_KINDS = [
    {"kind": "error", "error_code": "SERVER_UNAVAILABLE", "status": 503},
    {"kind": "error", "error_code": "UNABLE_TO_LOCK_ROW"},
    {"kind": "error", "error_code": "REQUEST_LIMIT_EXCEEDED"},
    {"kind": "error", "error_code": "INVALID_SESSION_ID"},
    {"kind": "lose_answer"},
    {"kind": "latency", "seconds": 0.05},
    {"kind": "hang", "seconds": 2},
    {"kind": "drop"},
]
HOSTILE = [b"[" * 100_000, b'{"token": NaN}', b"not json",
           json.dumps(call_webhook(token=TOKEN, call_id=1, duration=10**20)).encode(),
           json.dumps(call_webhook(token=TOKEN, call_id="9" * 1000)).encode(),
           json.dumps(call_webhook(token=TOKEN, call_id=2, comments=["\ud800"])).encode()]


def _serve(app) -> tuple[wsgi.Server, str]:
    server = wsgi.Server(("127.0.0.1", 0), app, numthreads=8, server_name="receiver")
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    return server, f"http://127.0.0.1:{server.bind_addr[1]}"


def test_at_least_once_delivery_into_a_faulty_org_logs_each_call_once():
    rng = random.Random(16)
    # Per-kind probabilities add up to about FAULT_RATE of the requests (the first matching rule fires).
    share = 1 - (1 - FAULT_RATE) ** (1 / len(FAULT_KINDS))
    rules = [{"path": "/services/data/*", **kind, "probability": share, "seed": i}
             for i, kind in enumerate(FAULT_KINDS)]
    with FakeServer(fake_salesforce.Org(), threads=16) as fake:
        ControlClient(fake.url).seed("Contact", [{"LastName": "Martin", "Phone": "+33612345678"}])
        sf = with_timeout(fake_salesforce.connect(fake.url), (1.0, 1.0))
        receiver, url = _serve(create_receiver(lambda: sf, Settings(), TOKEN,
                                               retry=RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)))
        try:
            # The deliveries: distinct calls, 10% duplicates (a quarter of them next to their
            # original, so two threads send them at the same time), 1% hostile.
            hostile = max(len(HOSTILE), WEBHOOKS // 100)
            duplicates = WEBHOOKS // 10
            calls = WEBHOOKS - duplicates - hostile
            plan = [("call", 10_000 + n) for n in range(calls)]
            rng.shuffle(plan)
            concurrent = duplicates // 4
            for n in range(duplicates):
                original = plan[rng.randrange(len(plan))]
                if n < concurrent:
                    plan.insert(plan.index(original) + 1, original)
                else:
                    plan.insert(rng.randrange(len(plan) + 1), original)
            for n in range(hostile):
                plan.insert(rng.randrange(len(plan) + 1), ("hostile", n % len(HOSTILE)))
            ControlClient(fake.url).set_faults(rules)

            answers: Counter = Counter()
            bad: list = []
            lock = threading.Lock()
            local = threading.local()

            def deliver(item):
                """As Aircall does: again after a 5xx, a timeout or a dropped connection."""
                session = getattr(local, "session", None) or requests.Session()
                local.session = session
                kind, ref = item
                body = HOSTILE[ref] if kind == "hostile" else json.dumps(call_webhook(token=TOKEN, call_id=ref))
                for attempt in range(30):
                    try:
                        response = session.post(url + DEFAULT_PATH, data=body, timeout=5,
                                                headers={"Content-Type": "application/json"})
                    except requests.RequestException:
                        with lock:
                            answers["no answer"] += 1
                        continue
                    json_answer = response.headers.get("Content-Type", "").startswith("application/json")
                    with lock:
                        answers[response.status_code] += 1
                        if not json_answer:
                            bad.append((kind, response.status_code, "not JSON"))
                    if kind == "hostile":
                        if not 400 <= response.status_code < 500:
                            with lock:
                                bad.append((kind, ref, response.status_code, response.text[:200]))
                        return
                    if response.status_code < 500:
                        if response.status_code != 200:
                            with lock:
                                bad.append((kind, ref, response.status_code, response.text[:200]))
                        return
                with lock:
                    bad.append((kind, ref, "gave up after 30 deliveries"))

            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(deliver, plan))
            seconds = time.perf_counter() - started

            faults = ControlClient(fake.url).faults()
            ControlClient(fake.url).clear_faults()
            tasks = fake_salesforce.connect(fake.url).query_all("SELECT CallObject FROM Task")["records"]
        finally:
            receiver.stop()
    per_call = Counter(t["CallObject"] for t in tasks)
    distinct = {ref for kind, ref in plan if kind == "call"}
    lost = len(distinct) - len(per_call)
    doubled = sum(1 for n in per_call.values() if n > 1)
    requests_made = sum(answers.values())
    fault_hits = {(f["kind"] if f["kind"] != "error" else f["error_code"]): f["hits"] for f in faults}
    print(f"\nreliability: {len(plan)} webhooks ({len(distinct)} calls, {duplicates} duplicates, "
          f"{concurrent} of them concurrent, {hostile} hostile) from 8 threads in {seconds:.1f} s "
          f"({len(plan) / seconds:.1f} webhooks/s); {requests_made} deliveries with redeliveries; "
          f"answers {dict(sorted(answers.items(), key=str))}; faults injected {fault_hits} "
          f"({sum(fault_hits.values())} in all); Tasks expected {len(distinct)}, found {len(tasks)}; "
          f"lost {lost}, doubled {doubled}; bad answers {len(bad)}")
    assert bad == []
    assert sum(fault_hits.values()) > 0 and all(fault_hits.values())
    assert lost == 0 and doubled == 0
    assert len(tasks) == len(distinct)
