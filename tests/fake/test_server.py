"""The standalone server: `fake-salesforce serve` as a user runs it, TLS, persistence, threads."""
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

import fake_salesforce
from fake_salesforce import Org
from fake_salesforce.server import FakeServer

CLI = [sys.executable, "-c", "from fake_salesforce.cli import main; main()"]


class Served:
    def __init__(self, *args):
        self.proc = subprocess.Popen([*CLI, "serve", "--port", "0", "--quiet", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("server did not start: " + self.proc.stderr.read())
            self.lines.append(line)
            if "listening on" in line:
                self.url = line.rsplit(" ", 1)[1].strip()
                break

    def stop(self, signum=signal.SIGTERM):
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout=10)
        self.lines.append(self.proc.stdout.read())
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


def test_serve_prints_url_credentials_and_snippet_and_stops_cleanly():
    served = Served()
    try:
        sf = fake_salesforce.connect(served.url)
        assert sf.Contact.create({"LastName": "Served"})["success"]
    finally:
        code = served.stop()
    text = "".join(served.lines)
    assert code == 0
    assert "username: admin@example.com   password: password" in text
    assert f'sf = fake_salesforce.connect("{served.url}")' in text
    assert "Stopped." in text


def test_ctrl_c_stops_cleanly():
    served = Served()
    assert served.stop(signal.SIGINT) == 0
    assert "Stopped." in "".join(served.lines)


def test_db_file_survives_a_restart(tmp_path):
    db = tmp_path / "org.db"
    served = Served("--db", str(db))
    try:
        sf = fake_salesforce.connect(served.url)
        kept = sf.Contact.create({"LastName": "Kept", "Phone": "+1 415 555 0100"})["id"]
    finally:
        served.stop()
    served = Served("--db", str(db))
    try:
        sf = fake_salesforce.connect(served.url)
        assert sf.Contact.get(kept)["LastName"] == "Kept"
        newer = sf.Contact.create({"LastName": "Newer"})["id"]
        assert newer != kept and newer > kept  # ids go on after the ones already handed out
    finally:
        served.stop()


def test_seed_file_and_custom_schema(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("records:\n  - {sobject: Contact, fields: {LastName: Seeded, External_Id__c: S-1}}\n")
    schema = Path(__file__).resolve().parents[1] / "data" / "custom_schema.yaml"
    served = Served("--seed", str(seed), "--schema", str(schema))
    try:
        sf = fake_salesforce.connect(served.url)
        assert sf.Contact.get_by_custom_id("External_Id__c", "S-1")["LastName"] == "Seeded"
    finally:
        served.stop()
    assert "seeded 1 record from" in "".join(served.lines)


def test_seed_goes_only_into_a_new_org(tmp_path):
    db, seed = tmp_path / "org.db", tmp_path / "seed.yaml"
    seed.write_text("records:\n  - {sobject: Contact, fields: {LastName: Seeded}}\n")
    for run in range(2):
        served = Served("--db", str(db), "--seed", str(seed))
        try:
            sf = fake_salesforce.connect(served.url)
            assert sf.query("SELECT Id FROM Contact WHERE LastName = 'Seeded'")["totalSize"] == 1
        finally:
            served.stop()
    text = "".join(served.lines)
    assert f"--seed {seed} skipped: {db} already holds an org" in text
    assert "seeded" not in text


def test_a_kept_org_keeps_its_id_seed(tmp_path):
    """Reopened with another --id-seed, the org goes on with the seed it was made with (its ids
    and its org id stay those of one org), and says so; without the flag it says nothing."""
    db = tmp_path / "org.db"
    served = Served("--db", str(db), "--id-seed", "7")
    try:
        sf = fake_salesforce.connect(served.url)
        first = sf.Contact.create({"LastName": "First"})["id"]
        org_id = sf.query("SELECT Id FROM Organization")["records"][0]["Id"]
    finally:
        served.stop()
    for flags in (["--id-seed", "8"], []):
        served = Served("--db", str(db), *flags)
        try:
            sf = fake_salesforce.connect(served.url)
            later = sf.Contact.create({"LastName": "Later"})["id"]
            assert sf.query("SELECT Id FROM Organization")["records"][0]["Id"] == org_id
            assert later[3:6] == first[3:6] and later > first
        finally:
            served.stop()
        text = "".join(served.lines)
        assert ("--id-seed 8 not applied" in text
                and f"the org in {db} keeps the id seed it was made with (7)" in text) == bool(flags)


def test_credentials_that_do_not_open_a_kept_org_are_pointed_out(tmp_path):
    db = tmp_path / "org.db"
    Served("--db", str(db)).stop()
    served = Served("--db", str(db), "--username", "ops@example.com")
    served.stop()
    assert f"these credentials do not log in to the org in {db}" in "".join(served.lines)


def test_custom_credentials(tmp_path):
    served = Served("--username", "ops@example.com", "--password", "s3cret", "--security-token", "TKN")
    try:
        assert fake_salesforce.connect(served.url, "ops@example.com", "s3cret", "TKN").session_id
        with pytest.raises(SalesforceAuthenticationFailed):
            fake_salesforce.connect(served.url, "ops@example.com", "s3cret")
    finally:
        served.stop()


@pytest.mark.parametrize("args, message", [
    (["--seed", "missing.yaml"], "does not exist"),
    (["--order", "random"], "'random' is not one of"),
    (["--port", "70000"], "70000 is not in the range"),
])
def test_bad_flags_get_clear_errors(args, message):
    result = subprocess.run([*CLI, "serve", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert message in result.stderr


def test_bad_schema_file_is_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("objects:\n  Thing__c: {fields: {}}\n")
    result = subprocess.run([*CLI, "serve", "--schema", str(bad)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"{bad}: objects.Thing__c.key_prefix: a new object needs a 3-character key prefix" in result.stderr


def test_tls_with_a_self_signed_certificate(tmp_path):
    served = Served("--tls", "--cert-dir", str(tmp_path))
    try:
        assert served.url.startswith("https://localhost:")
        sf = fake_salesforce.connect(served.url, verify=str(tmp_path / "fake-salesforce.crt"))
        assert sf.Lead.create({"LastName": "Secure", "Company": "TLS"})["success"]
    finally:
        served.stop()


def test_tls_respects_verify_even_with_requests_ca_bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    served = Served("--tls", "--cert-dir", str(tmp_path))
    try:
        sf = fake_salesforce.connect(served.url, verify=str(tmp_path / "fake-salesforce.crt"))
        assert sf.session_id
    finally:
        served.stop()


def test_concurrent_writes_are_never_lost():
    org = Org()
    with FakeServer(org) as server:
        clients = [fake_salesforce.connect(server.url) for _ in range(8)]
        created: list[str] = []
        failures: list[BaseException] = []

        def work(sf, n):
            try:
                for i in range(40):
                    created.append(sf.Contact.create({"LastName": f"T{n}-{i}", "Phone": f"+1 212 555 {n:02d}{i:02d}"})["id"])
                    sf.Contact.update(created[-1], {"Title": "Updated"})
            except BaseException as e:  # reported below
                failures.append(e)

        threads = [threading.Thread(target=work, args=(sf, n)) for n, sf in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        assert len(set(created)) == 320
        result = clients[0].query("SELECT COUNT() FROM Contact WHERE Title = 'Updated'")
        assert result["totalSize"] == 320


def _ask(conn) -> bytes:
    """One request on a kept-alive socket; the answer's status line."""
    conn.sendall(b"GET /services/data/v59.0/limits HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while b"INVALID_SESSION_ID" not in answer:   # the whole (small) body
        data = conn.recv(65536)
        assert data, "the server closed the connection"
        answer += data
    return answer.split(b"\r\n", 1)[0]


def test_a_kept_alive_connection_is_answered_after_a_pause_longer_than_the_linger():
    import socket
    import time

    from fake_salesforce.server import LINGER

    with FakeServer(Org()) as server, socket.create_connection((server.host, server.port), timeout=5) as conn:
        assert _ask(conn) == b"HTTP/1.1 401 UNAUTHORIZED"
        assert _ask(conn) == b"HTTP/1.1 401 UNAUTHORIZED"   # while the thread lingers on it
        time.sleep(LINGER * 4)                             # back with the selector thread
        assert _ask(conn) == b"HTTP/1.1 401 UNAUTHORIZED"


def test_more_kept_alive_connections_than_threads_may_linger_are_all_answered():
    """4 threads: 2 may wait on their connections, the other 2 serve the rest in turn."""
    import socket

    with FakeServer(Org(), threads=4) as server:
        conns = [socket.create_connection((server.host, server.port), timeout=5) for _ in range(7)]
        try:
            for _ in range(3):
                assert [_ask(conn) for conn in conns] == [b"HTTP/1.1 401 UNAUTHORIZED"] * 7
        finally:
            for conn in conns:
                conn.close()


@pytest.mark.parametrize("args, status", [((), 302), (("--pages-open",), 200)])
def test_web_pages_need_a_login_unless_served_open(args, status):
    served = Served(*args)
    try:
        response = requests.get(f"{served.url}/lightning/o/Contact/list", allow_redirects=False)
        assert response.status_code == status
        if status == 302:
            assert response.headers["Location"].startswith("/login")
    finally:
        served.stop()
    assert f"web pages: {served.url}/" in "".join(served.lines)


def test_seed_file_dates_written_plainly_in_yaml(tmp_path):
    """YAML reads an unquoted 1990-01-01 as a date; the seed takes it as the text it was (it was
    refused as 'Cannot deserialize instance of date from date value datetime.date(...)')."""
    seed = tmp_path / "seed.yaml"
    seed.write_text("records:\n  - {sobject: Contact, fields: {LastName: Dated, Birthdate: 1990-01-01,"
                    " LastModifiedDate: 2026-01-02T03:04:05Z}}\n")
    served = Served("--seed", str(seed))
    try:
        sf = fake_salesforce.connect(served.url)
        record = sf.query("SELECT Birthdate, LastModifiedDate FROM Contact WHERE LastName = 'Dated'")["records"][0]
    finally:
        served.stop()
    assert record["Birthdate"] == "1990-01-01"
    assert record["LastModifiedDate"] == "2026-01-02T03:04:05.000+0000"
