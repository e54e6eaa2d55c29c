"""Servers in their own processes for the benchmarks: started, waited for, stopped."""
from __future__ import annotations

import contextlib
import subprocess
import sys
from typing import Iterator

FAKE_SERVE = [sys.executable, "-c", "from fake_salesforce.cli import main; main()", "serve", "--port", "0", "--quiet"]


@contextlib.contextmanager
def served(argv: list[str]) -> Iterator[tuple[str, int]]:
    """A server in its own process; yields the URL it prints ("... listening on URL") and its pid."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        while True:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{argv} did not start")
            if "listening on" in line:
                yield line.rsplit(" ", 1)[1].strip(), proc.pid
                break
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextlib.contextmanager
def standalone_server() -> Iterator[str]:
    """``fake-salesforce serve`` in its own process, as users run it; yields its URL."""
    with served(FAKE_SERVE) as (url, _pid):
        yield url
