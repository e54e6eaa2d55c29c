"""Slow clients: a normal request still answers in under a second while 50 connections sit
half-open (a partial request line and headers, never finished)."""
import socket
import time

import fake_salesforce
from fake_salesforce.server import FakeServer

HALF_OPEN = 50


def hold_half_open(host: str, port: int, n: int) -> list[socket.socket]:
    sockets = []
    for _ in range(n):
        sock = socket.create_connection((host, port), timeout=5)
        sock.sendall(b"POST /services/data/v62.0/sobjects/Contact HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        sockets.append(sock)
    return sockets


def test_a_normal_request_answers_while_50_connections_are_half_open():
    with FakeServer(fake_salesforce.Org()) as server:
        sf = fake_salesforce.connect(server.url)
        held = hold_half_open(server.host, server.port, HALF_OPEN)
        try:
            time.sleep(0.5)  # let the server's workers pick them up
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
                timings.append(time.perf_counter() - started)
        finally:
            for sock in held:
                sock.close()
    print(f"\nslow clients: {HALF_OPEN} half-open connections held; 5 queries took "
          f"{', '.join(f'{t * 1000:.0f} ms' for t in timings)} (worst {max(timings) * 1000:.0f} ms)")
    assert max(timings) < 1.0
