"""``fake-salesforce serve --workers 2``: two processes serve one org. Every client connection
here is new (``Connection: close``), so the system hands consecutive requests to either
process; state kept by one process alone would show as refused sessions, repeated ids, a
wrong count or a missing page."""
from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timezone

import pytest
import requests

import fake_salesforce
from fake_salesforce.control import ControlClient

SERVE = [sys.executable, "-c", "from fake_salesforce.cli import main; main()", "serve", "--port", "0",
         "--quiet", "--workers", "2"]


@pytest.fixture(scope="module")
def served():
    proc = subprocess.Popen(SERVE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = pids = None
    while pids is None:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"serve --workers 2 did not start: {proc.stderr.read()}")
        if "listening on" in line:
            url = line.rsplit(" ", 1)[1].strip()
        if "worker processes" in line:
            pids = line.split("pids ", 1)[1].rstrip(")\n").split(", ")
    yield url, pids
    proc.terminate()
    assert proc.wait(timeout=20) == 0
    assert "Stopped." in proc.stdout.read()


@pytest.fixture
def url(served):
    url = served[0]
    ControlClient(url).reset()
    return url


def fresh(url):
    """A logged-in client whose every request opens a new connection."""
    sf = fake_salesforce.connect(url)
    sf.session.headers["Connection"] = "close"
    return sf


def test_two_processes_serve(served):
    assert len(set(served[1])) == 2


def test_a_session_is_valid_in_every_process_and_ids_are_unique_and_ordered(url):
    sf = fresh(url)
    ids = [sf.Contact.create({"LastName": f"Seq{i}"})["id"] for i in range(40)]
    assert ids == sorted(ids) and len(set(ids)) == 40        # creation order, as one process gives
    assert [sf.Contact.get(i)["LastName"] for i in ids] == [f"Seq{i}" for i in range(40)]

    made, failures = [], []

    def create(n):
        client = fresh(url)
        try:
            made.extend(client.Contact.create({"LastName": f"T{n}-{i}"})["id"] for i in range(30))
        except Exception as e:  # noqa: BLE001
            failures.append(e)
    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert failures == []
    assert len(set(made)) == 120 and not set(made) & set(ids)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 160
    log = requests.get(f"{url}/_fake/requests").json()
    assert log["api_requests"] == 40 + 40 + 120 + 1            # creates, gets, threads' creates, the count
    assert sum(1 for e in log["requests"] if e["method"] == "POST" and "/sobjects/Contact" in e["path"]) == 160


def test_the_clock_and_a_reset_reach_every_process(url):
    control = ControlClient(url)
    control.set_clock(now=datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc))
    sf = fresh(url)
    for i in range(10):
        record = sf.Contact.get(sf.Contact.create({"LastName": f"C{i}"})["id"])
        assert record["CreatedDate"] == "2026-03-04T05:06:07.000+0000"
    first_ids = [sf.Contact.create({"LastName": "x"})["id"]]
    control.reset()
    for _ in range(6):                         # sessions ended with the reset, in every process
        answer = requests.get(f"{url}/services/data/v59.0/limits",
                              headers={"Authorization": f"Bearer {sf.session_id}", "Connection": "close"})
        assert answer.status_code == 401
    sf = fresh(url)
    assert all(sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0 for _ in range(6))
    again = sf.Contact.create({"LastName": "x"})["id"]
    assert again[:6] == first_ids[0][:6]


def test_query_pages_are_served_by_any_process(url):
    ControlClient(url).seed("Contact", [{"LastName": f"P{i:03d}"} for i in range(450)])
    sf = fresh(url)
    sf.session.headers["Sforce-Query-Options"] = "batchSize=200"
    names = [r["LastName"] for r in sf.query_all("SELECT LastName FROM Contact ORDER BY LastName")["records"]]
    assert names == [f"P{i:03d}" for i in range(450)]


def test_what_one_process_keeps_is_refused_not_ignored(url):
    sf = fresh(url)
    answer = sf.session.post(f"{url}/services/data/v59.0/jobs/ingest",
                             json={"object": "Contact", "operation": "insert"},
                             headers={"Authorization": f"Bearer {sf.session_id}"})
    assert answer.status_code == 501 and answer.json()[0]["errorCode"] == "FAKE_NOT_IMPLEMENTED"
    answer = requests.post(f"{url}/_fake/faults", json={"faults": [{"kind": "drop"}]})
    assert answer.status_code == 501 and "fault rules" in answer.json()[0]["message"]


def test_faults_file_with_workers_is_a_usage_error(tmp_path):
    faults = tmp_path / "faults.yaml"
    faults.write_text("faults: []\n")
    done = subprocess.run([*SERVE, "--faults", str(faults)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--faults" in done.stderr
