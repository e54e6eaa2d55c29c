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


def in_threads(work, count=4) -> list[Exception]:
    """Run ``work(n)`` in ``count`` threads at once; what any of them raised."""
    failures: list[Exception] = []

    def run(n):
        try:
            work(n)
        except Exception as e:  # noqa: BLE001
            failures.append(e)
    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return failures


def test_two_processes_serve(served):
    assert len(set(served[1])) == 2


def test_a_session_is_valid_in_every_process_and_ids_are_unique_and_ordered(url):
    sf = fresh(url)
    ids = []
    for i in range(40):
        ids.append(sf.Contact.create({"LastName": f"Seq{i}"})["id"])
        # at once, from whichever process answers: counted, and first in the default order
        assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == i + 1
        assert sf.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"] == ids[-1]
    assert ids == sorted(ids) and len(set(ids)) == 40        # creation order, as one process gives
    assert [sf.Contact.get(i)["LastName"] for i in ids] == [f"Seq{i}" for i in range(40)]

    made = []

    def create(n):
        client = fresh(url)
        made.extend(client.Contact.create({"LastName": f"T{n}-{i}"})["id"] for i in range(30))
    assert in_threads(create) == []
    assert len(set(made)) == 120 and not set(made) & set(ids)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 160
    log = requests.get(f"{url}/_fake/requests").json()
    assert log["api_requests"] == 40 * 3 + 40 + 120 + 1        # creates and queries, gets, threads' creates, the count
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


def warm(sf, times=12):
    """Requests enough for both processes to have answered this session (and kept it)."""
    for _ in range(times):
        sf.query("SELECT COUNT() FROM Contact")


def refused(url, token, times=8):
    return [requests.get(f"{url}/services/data/v59.0/limits",
                         headers={"Authorization": f"Bearer {token}", "Connection": "close"}).status_code
            for _ in range(times)]


def test_an_ended_session_is_refused_by_every_process_at_once(url):
    first, second = fresh(url), fresh(url)
    warm(first)
    warm(second)
    revoked = requests.post(f"{url}/services/oauth2/revoke", data={"token": first.session_id},
                            headers={"Connection": "close"})
    assert revoked.status_code == 200
    assert refused(url, first.session_id) == [401] * 8
    warm(second)                                  # another session lives on
    assert ControlClient(url).expire_sessions() == 1
    assert refused(url, second.session_id) == [401] * 8
    warm(fresh(url))                              # a new login works everywhere


def test_every_change_of_the_clock_reaches_every_process_at_once(url):
    control = ControlClient(url)
    sf = fresh(url)

    def created_dates(times=8):
        return {sf.Contact.get(sf.Contact.create({"LastName": "c"})["id"])["CreatedDate"] for _ in range(times)}

    control.set_clock(now=datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc))
    assert created_dates() == {"2026-03-04T05:06:07.000+0000"}
    control.set_clock(now=datetime(2027, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert created_dates() == {"2027-01-02T03:04:05.000+0000"}
    control.advance(90)
    assert created_dates() == {"2027-01-02T03:05:35.000+0000"}
    control.unfreeze()
    assert all(d.startswith(f"{datetime.now(timezone.utc).year}-") for d in created_dates())


def test_the_api_count_moves_by_one_a_call_whichever_process_answers(url):
    sf = fresh(url)
    usage = []
    for _ in range(12):
        answer = sf.session.get(f"{url}/services/data/v59.0/limits",
                                headers={"Authorization": f"Bearer {sf.session_id}", "Connection": "close"})
        usage.append(int(answer.headers["Sforce-Limit-Info"].split("=")[1].split("/")[0]))
    assert usage == list(range(usage[0], usage[0] + 12))
    assert ControlClient(url).info()["api_requests"] == usage[-1]
    log = ControlClient(url).requests()
    assert [e["path"] for e in log[-12:]] == ["/services/data/v59.0/limits"] * 12


def test_writes_from_both_processes_at_once_all_succeed_in_order(url):
    """Each process's threads queue for the database's write lock behind the other's writes."""
    made: list[list[str]] = [[] for _ in range(8)]

    def create(n):
        sf = fake_salesforce.connect(url)       # keep-alive: both processes busy at once
        for i in range(30):
            record_id = sf.Contact.create({"LastName": f"T{n}-{i}"})["id"]
            assert sf.Contact.get(record_id)["LastName"] == f"T{n}-{i}"
            made[n].append(record_id)
    assert in_threads(create, 8) == []
    ids = [i for m in made for i in m]
    assert len(set(ids)) == 240 and all(m == sorted(m) for m in made)
    assert fresh(url).query("SELECT COUNT() FROM Contact")["totalSize"] == 240


def test_a_worker_holding_more_than_its_share_of_connections_ends_one(tmp_path):
    """Worker 0 of 2 alone here: it holds every connection, twice its share once there are two
    (the other worker holds none), so it ends one after an answer; the client goes on."""
    from fake_salesforce.org import Org
    from fake_salesforce.server import FakeServer

    with FakeServer(Org(shared=True, db_path=str(tmp_path / "org.db")), worker=(0, 2)) as server:
        first, second = fake_salesforce.connect(server.url), fake_salesforce.connect(server.url)
        closed = []
        for i in range(6):
            for sf in (first, second):
                answer = sf.session.get(f"{server.url}/services/data/v59.0/limits",
                                        headers={"Authorization": f"Bearer {sf.session_id}"})
                assert answer.status_code == 200
                closed.append(answer.headers.get("Connection") == "close")
        assert any(closed) and not all(closed)
        assert first.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


OTHER_PROCESS = """
import fcntl, os, sys, threading
board, holds, waits = os.open(sys.argv[1], os.O_RDWR), int(sys.argv[2]) * 8, int(sys.argv[3]) * 8
fcntl.lockf(board, fcntl.LOCK_EX, 8, holds)
print("holding", flush=True)

def wait():
    fcntl.lockf(board, fcntl.LOCK_EX, 8, waits)   # held by the other process until it lets go
    fcntl.lockf(board, fcntl.LOCK_UN, 8, waits)
waiting = threading.Thread(target=wait)
waiting.start()
waiting.join(20)
fcntl.lockf(board, fcntl.LOCK_UN, 8, holds)
"""


def test_the_board_s_locks_are_never_read_as_a_deadlock(tmp_path):
    """The system owns byte-range locks by process: one thread of this process holding the API
    count's slot while another waits for a slot the other process holds, as that process waits
    for the API count, would read as a deadlock (EDEADLK: a 500 in a worker), though each lock is
    let go a moment later. A process's threads take the board's slots one at a time."""
    import time

    from fake_salesforce.shared import Board

    db = str(tmp_path / "org.db")
    board = Board(db)
    release, failures = threading.Event(), []

    def hold():
        with board.locked(Board.API_COUNT):
            release.wait(20)
    holder = threading.Thread(target=hold)
    holder.start()
    # another process holding the request log's slot and waiting for the API count's
    child = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS, board.path, str(Board.LOG_COUNT),
                              str(Board.API_COUNT)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "holding\n"
        time.sleep(0.3)                         # the child waits for the API count now

        def add():
            try:
                board.add(Board.LOG_COUNT)      # held by the other process
            except OSError as e:
                failures.append(e)
        adder = threading.Thread(target=add)
        adder.start()
        time.sleep(0.3)
        release.set()
        adder.join(20)
        assert child.wait(20) == 0
    finally:
        release.set()
        holder.join(20)
        child.kill()
    assert failures == []
    assert board.get(Board.LOG_COUNT) == 1


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


def test_the_request_log_keeps_the_newest_entries_of_every_process(tmp_path):
    """Two orgs on one file in this process stand for two worker processes."""
    from urllib.parse import unquote_plus

    from fake_salesforce.app import create_app
    from fake_salesforce.org import Org

    apps = [create_app(Org(shared=True, db_path=str(tmp_path / "org.db"), request_log_size=5)) for _ in range(2)]
    clients = [fake_salesforce.connect(app) for app in apps]
    for i in range(23):                   # past the size several times: the log file is replaced
        clients[i % 2].query(f"SELECT Id FROM Contact WHERE LastName = 'n{i}'")

    def names(app):
        return [unquote_plus(e["path"]).rsplit("'", 2)[1] for e in ControlClient(app).requests()]
    assert names(apps[0]) == names(apps[1]) == [f"n{i}" for i in range(18, 23)]
    assert [e["path"] for e in ControlClient(apps[1]).requests(limit=2)] == \
        [e["path"] for e in ControlClient(apps[0]).requests()[-2:]]
    assert ControlClient(apps[0]).info()["api_requests"] == 23
    ControlClient(apps[1]).clear_requests()
    assert ControlClient(apps[0]).requests() == []
    clients[0].query("SELECT Id FROM Contact WHERE LastName = 'after'")
    assert names(apps[1]) == ["after"]

    def query(n):                          # the file replaced by several threads at once
        client = fake_salesforce.connect(apps[n % 2])
        for i in range(25):
            client.query(f"SELECT Id FROM Contact WHERE LastName = 't{n}-{i}'")
    assert in_threads(query) == []
    assert len(names(apps[0])) == 5 and ControlClient(apps[1]).info()["api_requests"] == 24 + 100


def test_the_request_log_is_written_while_other_threads_replace_its_file(tmp_path):
    """A thread that opens the new log file must not close the one another thread is writing."""
    import json
    from collections import namedtuple

    from fake_salesforce.shared import Board, SharedRequestLog

    Entry = namedtuple("Entry", "method path status user_id at duration_ms error_code")
    db = str(tmp_path / "org.db")
    logs = [SharedRequestLog(db + "-requests", 3, Entry, Board(db)) for _ in range(2)]

    def append(n):
        for i in range(1500):
            logs[n % 2].append(Entry("GET", f"/t{n}/{i}", 200, None, "2026-01-01T00:00:00Z", 1.0, None))
    assert in_threads(append, count=6) == []
    assert len(list(logs[0])) == 3
    assert all(json.loads(line) for path in (db + "-requests", db + "-requests.1")
               for line in open(path, encoding="utf-8").read().splitlines())


def test_ids_go_on_after_a_restart_even_without_the_board_file(tmp_path):
    import os

    from fake_salesforce.org import Org

    db = str(tmp_path / "org.db")
    org = Org(shared=True, db_path=db)
    first = fake_salesforce.connect(org)
    made = [first.Contact.create({"LastName": f"R{i}"})["id"] for i in range(3)]
    first.session.close()
    org.store.close()
    os.remove(db + "-board")          # e.g. memory-backed storage cleared: the records say where ids are
    again = fake_salesforce.connect(Org(shared=True, db_path=db))
    made.append(again.Contact.create({"LastName": "R3"})["id"])
    assert made == sorted(made) and len(set(made)) == 4
    assert again.query("SELECT COUNT() FROM Contact")["totalSize"] == 4
