"""Helpers for the feed tests: SIU messages built with python-hl7, a real MLLP listener."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import hl7
import redis
from hl7.client import MLLPClient

from bot.feeds import mllp

LONDON = ZoneInfo("Europe/London")
CODES = """\
# The trust's own codes (a sample, as a deployment writes it).
procedures:
  RCTCAP: ct_scan        # CT chest, abdomen and pelvis
  NMPETCT: pet_ct_scan
  RMRSPINE: mri_scan
clinics:
  RAD-CT:
    place: CT, Imaging Department, Level 2, Freeman Hospital
  NM-BONE:
    test: bone_scan
    place: Nuclear Medicine, Level 1, Freeman Hospital
"""
SEGMENTS = ("SCH", "PID", "RGS", "AIS", "AIL", "AIP")


def _skeleton() -> hl7.Message:
    """An MSH segment, then empty SIU segments made with python-hl7's own containers."""
    msg = hl7.parse("MSH|^~\\&|PAS")
    for name in SEGMENTS:
        msg.append(msg.create_segment([msg.create_field([name])]))
    return msg


def hl7_time(when: datetime) -> str:
    """An HL7 timestamp with its offset, as a PAS sends it."""
    return when.strftime("%Y%m%d%H%M%S%z")


def siu(
    event: str,
    control: str,
    appointment: str,
    *,
    start: datetime | None,
    made: datetime,
    mobile: str | None = "+447700900123",
    home: str | None = "01632 960444",
    work: str | None = None,
    procedure: str = "RCTCAP",
    clinic: str = "RAD-CT",
    status: str = "Booked",
) -> hl7.Message:
    """A realistic SIU^Snn message (MSH, SCH, PID, RGS, AIS, AIL, AIP), built field by field."""
    msg = _skeleton()
    for path, value in {
        "MSH.F3": "PAS", "MSH.F4": "RTD", "MSH.F5": "SUPPORTLINE", "MSH.F6": "BCN",
        "MSH.F7": hl7_time(made), "MSH.F9.R1.C1": "SIU", "MSH.F9.R1.C2": event,
        "MSH.F9.R1.C3": "SIU_S12", "MSH.F10": control, "MSH.F11": "P", "MSH.F12": "2.5",
        "SCH.F1.R1.C1": f"P{appointment}", "SCH.F1.R1.C2": "ICE",
        "SCH.F2.R1.C1": appointment, "SCH.F2.R1.C2": "PAS",
        "SCH.F7.R1.C1": "FOLLOWUP", "SCH.F7.R1.C2": "Restaging scan",
        "SCH.F8.R1.C1": "ROUTINE", "SCH.F9": "30", "SCH.F10.R1.C1": "min",
        "SCH.F25.R1.C1": status,
        "RGS.F1": "1", "RGS.F2": "A",
        "PID.F1": "1", "PID.F3.R1.C1": "9990001234", "PID.F3.R1.C4": "NHS",
        "PID.F3.R1.C5": "NH", "PID.F5.R1.C1": "TESTPATIENT", "PID.F5.R1.C2": "JANE",
        "PID.F7": "19650412", "PID.F8": "F",
        "AIS.F1": "1", "AIS.F2": "A", "AIS.F3.R1.C1": procedure, "AIS.F3.R1.C2": "CT scan",
        "AIS.F3.R1.C3": "L",
        "AIL.F1": "1", "AIL.F2": "A", "AIL.F3.R1.C1": clinic, "AIL.F3.R1.C4": "RTD",
        "AIL.F3.R1.C9": "Freeman Imaging",
        "AIP.F1": "1", "AIP.F2": "A", "AIP.F3.R1.C1": "C1234567", "AIP.F3.R1.C2": "RADIOLOGIST",
        "AIP.F4.R1.C1": "RAD",
    }.items():
        msg[path] = value
    if start is not None:
        msg["SCH.F11.R1.C4"] = hl7_time(start)
        msg["AIS.F4"] = hl7_time(start)
        msg["AIS.F7"] = "30"
    # PID-13: a home landline, then the mobile (XTN: use PRN, equipment CP, number in
    # XTN-12); PID-14: a work landline (use WPN), when given.
    phones = ([(home, "PH")] if home else []) + ([(mobile, "CP")] if mobile else [])
    for n, (number, kind) in enumerate(phones, 1):
        msg[f"PID.F13.R{n}.C2"] = "PRN"
        msg[f"PID.F13.R{n}.C3"] = kind
        msg[f"PID.F13.R{n}.C12"] = number
    if work:
        msg["PID.F14.R1.C2"] = "WPN"
        msg["PID.F14.R1.C3"] = "PH"
        msg["PID.F14.R1.C12"] = work
    return msg


def ack_of(reply: bytes | str) -> hl7.Message:
    """The ACK the listener sent back, parsed."""
    text = reply.decode() if isinstance(reply, bytes) else reply
    return hl7.parse(text.strip("\x0b\x1c\r"))


def code(ack: hl7.Message) -> str:
    """MSA-1: AA, AE or AR."""
    return str(ack["MSA.F1"])


class RunningListener:
    """The real MLLP listener on a free port, serving from a thread of this process."""

    def __init__(self, r: redis.Redis, settings: Mapping[str, Any],
                 clock: Callable[[], datetime]) -> None:
        self.listener = mllp.Listener(r, settings, clock)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(mllp.serve(self.listener, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> RunningListener:
        self._thread.start()
        assert self._ready.wait(10), "the listener did not start"
        return self

    def stop(self) -> None:
        async def close() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @contextmanager
    def client(self) -> Iterator[MLLPClient]:
        """python-hl7's own MLLP client, connected over a real socket."""
        with MLLPClient("127.0.0.1", self.port) as c:
            yield c


def feed_settings(redis_url: str, instance: Path, **more: Any) -> dict[str, Any]:
    """Settings with the sample codes file in the instance folder."""
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "feed-codes.yaml").write_text(CODES)
    return {"REDIS_URL": redis_url, "INSTANCE_PATH": str(instance), "CLINIC_TZ": "Europe/London",
            "QUIET_HOURS": "21:00-08:00", **more}
