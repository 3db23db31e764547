"""`supportline feed ...`: the MLLP listener, and replaying a file of messages at one."""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from bot import config

# The listener's modules (Redis, python-hl7, the bookings) are imported inside each
# command, so `supportline --help` and `feed send` stay light.

DEFAULT_PORT = 2575  # the port IANA registered for HL7 over MLLP
START, END = b"\x0b", b"\x1c\r"


def port_setting() -> int:
    """HL7_PORT, or 2575."""
    raw = config.load().get("HL7_PORT")
    return int(raw) if raw else DEFAULT_PORT


@click.group("feed")
def feed() -> None:
    """Appointments from the hospital's system (HL7v2 SIU over MLLP; FHIR is POST /feeds/fhir)."""


@feed.command("hl7")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: HL7_PORT, else 2575).")
def hl7_command(host: str, port: int | None) -> None:
    """Listen for SIU messages over MLLP and answer each with an ACK."""
    from bot.dev import simclock
    from bot.feeds.bookings import FeedError, from_settings
    from bot.feeds.mllp import Listener, run
    from bot.store.client import cli_redis

    settings = config.load()
    config.check(settings)
    try:
        feed_settings = from_settings(settings)
    except FeedError as exc:
        raise click.ClickException(str(exc)) from None
    chosen = port if port is not None else port_setting()

    def ready(bound: int) -> None:
        click.echo(f"Listening for HL7 (MLLP) on {host}:{bound}; "
                   f"{len(feed_settings.codes.procedures)} procedure and "
                   f"{len(feed_settings.codes.clinics)} clinic codes mapped. Ctrl-C stops.",
                   err=True)

    with cli_redis() as r, contextlib.suppress(KeyboardInterrupt):
        run(Listener(r, settings, lambda: simclock.now(settings)), host, chosen, ready)


def split(text: str) -> Iterator[str]:
    """The messages in a file: each starts at an MSH segment (any line endings)."""
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip() or line.startswith(("FHS", "BHS", "BTS", "FTS")):
            continue
        if line.startswith("MSH") and current:
            yield "\r".join(current)
            current = []
        current.append(line)
    if current:
        yield "\r".join(current)


def exchange(sock: socket.socket, message: str, timeout: float) -> str:
    """Send one message in an MLLP block and read the whole ACK block back."""
    sock.settimeout(timeout)
    sock.sendall(START + message.encode("utf-8") + END)
    data = b""
    while not data.endswith(END):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the listener closed the connection without an answer")
        data += chunk
    return data.strip(START + END).decode("utf-8", errors="replace")


@feed.command("send")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="The listener's address.")
@click.option("--port", type=int, default=None, help="Its port (default: HL7_PORT, else 2575).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for each ACK.")
def send_command(file: Path, host: str, port: int | None, timeout: float) -> None:
    """Replay a file of HL7 messages at a listener, one at a time, printing each ACK.

    Exits 1 if any message was not accepted (AE or AR).
    """
    from flows import siu

    chosen = port if port is not None else port_setting()
    bad = 0
    with socket.create_connection((host, chosen), timeout=timeout) as sock:
        for n, message in enumerate(split(file.read_text(encoding="utf-8")), 1):
            reply = exchange(sock, message, timeout)
            ack = siu.parse(reply)
            code = siu.field(ack, "MSA.F1")
            text = siu.field(ack, "MSA.F3") or siu.field(ack, "ERR.F8")
            control = siu.field(siu.parse(message), "MSH.F10")
            click.echo(f"{n}\t{control}\t{code}\t{text}")
            bad += code != "AA"
    if bad:
        click.echo(f"{bad} message{'s' if bad != 1 else ''} not accepted", err=True)
        sys.exit(1)
