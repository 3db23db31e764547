"""`supportline run`: Redis, the web app and an RQ worker, started and stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from bot import config
from bot.dev.embedded import EmbeddedRedis


def _bin(name: str) -> str:
    """A console script installed beside this Python (gunicorn, rq)."""
    return str(Path(sys.executable).parent / name)


def run_stack(host: str, port: int) -> int:
    """Run until Ctrl-C or until a part dies; return the exit status."""
    settings = config.load()
    config.check(settings)
    instance = Path(settings["INSTANCE_PATH"])
    embedded: EmbeddedRedis | None = None
    url = settings.get("REDIS_URL")
    if not url:
        embedded = EmbeddedRedis(instance)
        url = embedded.start()
    config.auth_token(settings)  # make the development token before the children read it
    env = {**os.environ, "REDIS_URL": str(url), "INSTANCE_PATH": str(instance)}
    children = {
        "web": subprocess.Popen(
            [
                _bin("gunicorn"),
                "--preload",  # the app and its content are loaded once and shared by the workers
                "--workers",
                "2",
                "--bind",
                f"{host}:{port}",
                "--access-logfile",
                "-",
                "bot:create_app()",
            ],
            env=env,
            # Ctrl-C reaches only this process, which stops the children in order:
            # web and worker first, Redis last, so nothing loses its server mid-shutdown.
            start_new_session=True,
        ),
        "worker": subprocess.Popen(
            [
                _bin("rq"), "worker", "--with-scheduler",
                "--worker-class", "workers.worker.SendWorker",
                "--url", str(url), "default",
            ],
            env=env,
            start_new_session=True,
        ),
    }
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    base = f"http://{host}:{port}"
    token_source = (
        "TWILIO_AUTH_TOKEN"
        if settings.get("TWILIO_AUTH_TOKEN")
        else str(instance / config.DEV_TOKEN_FILE)
    )
    twilio = (
        "Twilio account"
        if settings.get("TWILIO_ACCOUNT_SID")
        else "no Twilio account: nothing leaves this machine"
    )
    simulator = (
        "" if settings.get("TWILIO_ACCOUNT_SID") or settings.get("TWILIO_AUTH_TOKEN")
        else f"  phone simulator {base}/simulator/   (text and ring the line from a browser)\n"
    )
    print(
        "\nSupport line running:\n"
        f"{simulator}"
        f"  nurse console   {base}/console/   "
        "(make a login first: .venv/bin/supportline nurse add you@example.org --admin)\n"
        f"  SMS webhook     {base}/sms   (POST, signed)\n"
        f"  voice webhook   {base}/voice   (POST, signed)\n"
        f"  delivery status {base}/sms/status   (POST, signed)\n"
        f"  health          {base}/healthz\n"
        f"  Redis           {url}" + ("   (embedded)" if embedded else "") + "\n"
        f"  worker          rq worker --with-scheduler, SendWorker (queue: default)\n"
        f"  Twilio          {twilio}\n"
        f"  signing token   {token_source}\n"
        "\nTalk to it from another terminal:  supportline chat   (or .venv/bin/supportline chat)\n"
        "Stop everything with Ctrl-C.\n",
        flush=True,
    )
    status = 0
    while not stopping:
        for name, proc in children.items():
            if proc.poll() is not None:
                print(
                    f"{name} stopped with status {proc.returncode}; stopping the rest.", flush=True
                )
                status, stopping = 1, True
        time.sleep(0.2)
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in children.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    if embedded:
        embedded.stop()
    print("Stopped.", flush=True)
    return status
