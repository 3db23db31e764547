"""`supportline run` as a person uses it: start the stack, then Ctrl-C in the terminal."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


def test_ctrl_c_stops_the_whole_stack_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "REDIS_URL", "PUBLIC_BASE_URL"))
    }
    env["INSTANCE_PATH"] = str(tmp_path)
    # Its own process group, as a shell gives a command: Ctrl-C signals the whole group.
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "supportline"), "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "the stack did not come up"
            time.sleep(0.2)
        time.sleep(1)  # let the worker and its scheduler settle in

        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    said = out.decode()
    assert proc.returncode == 0, said
    assert said.rstrip().endswith("Stopped."), said
    assert "Traceback" not in said and "could not connect to Redis" not in said, said
    assert not _healthy(port)
    # Redis was stopped last, and stopped for good: nothing answers on its socket.
    with socket.socket(socket.AF_UNIX) as s, pytest.raises(OSError):
        s.connect(str(tmp_path / "redis.sock"))
