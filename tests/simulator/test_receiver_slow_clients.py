"""Slow clients against the webhook receiver as ``callsim webhooks`` serves it: a delivery still
answers in under a second while 50 connections sit half-open."""
import socket
import threading
import time

import requests

from simulator.aircall import call_webhook
from simulator.cli import webhook_server
from simulator.core import Settings
from simulator.core.receiver import DEFAULT_PATH, create_receiver

HALF_OPEN = 50
TOKEN = "slow-token"


def test_a_delivery_answers_while_50_connections_are_half_open(fake_org, sf):
    fake_org.control.seed("Contact", [{"LastName": "Martin", "Phone": "+33612345678"}])
    server = webhook_server(create_receiver(lambda: sf, Settings(), TOKEN), "127.0.0.1", 0)
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    host, port = server.bind_addr[:2]
    held = []
    try:
        for _ in range(HALF_OPEN):
            sock = socket.create_connection((host, port), timeout=5)
            sock.sendall(f"POST {DEFAULT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le".encode())
            held.append(sock)
        time.sleep(0.5)  # let the server's workers pick them up
        timings = []
        for n in range(5):
            started = time.perf_counter()
            answer = requests.post(f"http://{host}:{port}{DEFAULT_PATH}", timeout=10,
                                   json=call_webhook(token=TOKEN, call_id=700 + n))
            timings.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
    finally:
        for sock in held:
            sock.close()
        server.stop()
    print(f"\nreceiver slow clients: {HALF_OPEN} half-open connections held; 5 deliveries took "
          f"{', '.join(f'{t * 1000:.0f} ms' for t in timings)} (worst {max(timings) * 1000:.0f} ms)")
    assert max(timings) < 1.0
