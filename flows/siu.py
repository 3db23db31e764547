"""HL7 version 2 scheduling messages (SIU) read into Bookings, and the ACKs that answer them.

Parsed with python-hl7 (`hl7`). Times without an offset are the hospital's local time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import hl7
from hl7.datatypes import parse_datetime

from flows.feed import BOOK, CANCEL, MOVE, NO_SHOW, Booking, FieldError

EVENTS = {"S12": BOOK, "S13": MOVE, "S14": MOVE, "S15": CANCEL, "S26": NO_SHOW}
LABELS = {
    "S12": "new booking", "S13": "rescheduled", "S14": "modified", "S15": "cancelled",
    "S26": "did not attend",
}
# HL7 table 0357, message error condition codes.
REQUIRED_MISSING = "101"
DATA_TYPE_ERROR = "102"
UNSUPPORTED_TYPE = "200"
UNSUPPORTED_EVENT = "201"
INTERNAL_ERROR = "207"
_ERROR_TEXT = {
    REQUIRED_MISSING: "Required field missing",
    DATA_TYPE_ERROR: "Data type error",
    UNSUPPORTED_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT: "Unsupported event code",
    INTERNAL_ERROR: "Application internal error",
}


class Rejected(ValueError):
    """A message this line cannot process at all (not SIU, an event it does not take)."""

    def __init__(self, reason: str, code: str = UNSUPPORTED_TYPE) -> None:
        super().__init__(reason)
        self.code = code


def normalise(text: str) -> str:
    """Segments separated by carriage returns, as HL7 wants, whatever a file used."""
    return "\r".join(line for line in text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
                     if line.strip())


def parse(text: str) -> hl7.Message:
    """An HL7 message, or Rejected when it is not one."""
    text = normalise(text)
    if not text.startswith("MSH"):
        raise Rejected("This is not an HL7 version 2 message: it does not start with MSH.")
    try:
        return hl7.parse(text)
    except Exception as exc:  # python-hl7 raises several kinds on a malformed message
        raise Rejected(f"This HL7 message cannot be read: {exc}") from None


@lru_cache(maxsize=256)
def _path(path: str) -> tuple[str, int, tuple[int, ...]]:
    """"AIS2.F3.R1.C1" -> ("AIS", 2, (3, 1, 1)): python-hl7's accessor syntax, parsed once."""
    head, *rest = path.split(".")
    return head[:3], int(head[3:] or 1), tuple(int(x[1:] if x[0].isalpha() else x) for x in rest)


class Reader:
    """Fields of one message by python-hl7 accessor paths, its segments indexed once."""

    def __init__(self, msg: hl7.Message) -> None:
        self.segments: dict[str, list[Any]] = {}
        for segment in msg:
            self.segments.setdefault(str(segment[0][0]), []).append(segment)

    def count(self, name: str) -> int:
        """How many segments of this kind the message has."""
        return len(self.segments.get(name, ()))

    def get(self, path: str) -> str:
        """One field, component or repetition as text; "" when absent."""
        name, n, numbers = _path(path)
        found = self.segments.get(name, ())
        if len(found) < n:
            return ""
        try:
            return str(found[n - 1].extract_field(n, *numbers)).strip()
        except (KeyError, IndexError):
            return ""

    def repeats(self, path: str) -> int:
        """How many repetitions a field has."""
        name, n, numbers = _path(path)
        found = self.segments.get(name, ())
        if len(found) < n or numbers[0] >= len(found[n - 1]):
            return 0
        return len(found[n - 1](numbers[0]))


def reader(msg: hl7.Message) -> Reader:
    """The message's Reader, made once (a message is not changed once it has been read)."""
    found: Reader | None = getattr(msg, "_reader", None)
    if found is None:
        found = Reader(msg)
        msg._reader = found
    return found


def field(msg: hl7.Message, path: str) -> str:
    """One field, component or repetition as text; "" when the segment or field is absent."""
    return reader(msg).get(path)


def control_id(msg: hl7.Message) -> str:
    """MSH-10, the message control id that a resent message repeats."""
    return field(msg, "MSH.F10")


def sender(msg: hl7.Message) -> str:
    """Who sent it: sending application and facility (MSH-3, MSH-4)."""
    return f"{field(msg, 'MSH.F3.R1.C1')}/{field(msg, 'MSH.F4.R1.C1')}"


def trigger(msg: hl7.Message) -> str:
    """The message type and event, e.g. SIU^S12."""
    return f"{field(msg, 'MSH.F9.R1.C1')}^{field(msg, 'MSH.F9.R1.C2')}"


def when(value: str, what: str, tz: ZoneInfo) -> datetime:
    """An HL7 timestamp as an aware datetime; local clinic time when it has no offset."""
    try:
        parsed: datetime | None = parse_datetime(value)
    except (ValueError, TypeError):
        parsed = None
    if parsed is None:
        raise FieldError(f"{what} is {value!r}, which is not an HL7 date and time "
                         "(YYYYMMDDHHMM[SS][+ZZZZ])")
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    local = parsed.replace(tzinfo=tz)
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != parsed:
        raise FieldError(f"{what} {value} does not exist in {tz.key} time (the clocks go "
                         "forward then); send it with its offset")
    if local.utcoffset() != local.replace(fold=1).utcoffset():
        # Either reading could be an hour wrong, and message order hangs on it.
        raise FieldError(f"{what} {value} happens twice in {tz.key} time (the clocks go "
                         "back then); send it with its offset")
    return local.astimezone(UTC)


def _phones(read: Reader) -> tuple[tuple[str, bool], ...]:
    """PID-13's numbers (home), then PID-14's (business), each marked True when sent as a
    mobile (equipment type CP); mobiles first, else in that order."""
    out: list[tuple[str, bool]] = []
    for field in ("PID.F13", "PID.F14"):
        for n in range(1, read.repeats(field) + 1):
            base = f"{field}.R{n}"
            number = read.get(f"{base}.C12") or read.get(f"{base}.C1")
            if not number:
                parts = [read.get(f"{base}.C{c}") for c in (5, 6, 7)]
                number = ("+" + parts[0] if parts[0] else "") + parts[1] + parts[2]
            email = "@" in number or read.get(f"{base}.C2") == "NET"
            if number and not email:
                out.append((number, read.get(f"{base}.C3").upper() == "CP"))
    return tuple(sorted(out, key=lambda x: not x[1]))  # mobiles first (a stable sort)


def _codes(read: Reader, segment: str, path: str) -> tuple[str, ...]:
    found = (read.get(f"{segment}{n}.{path}") for n in range(1, read.count(segment) + 1))
    return tuple(dict.fromkeys(code for code in found if code))


def booking(msg: hl7.Message, tz: ZoneInfo) -> Booking:
    """The booking an SIU message carries; Rejected or FieldError with the reason."""
    read = reader(msg)
    kind, event = read.get("MSH.F9.R1.C1"), read.get("MSH.F9.R1.C2")
    if kind != "SIU":
        raise Rejected(f"Only SIU scheduling messages are taken here, not {kind or 'this'}.")
    if event not in EVENTS:
        raise Rejected(f"SIU^{event} is not an event this line takes (it takes "
                       f"{', '.join(EVENTS)}).", UNSUPPORTED_EVENT)
    if not read.get("MSH.F10"):
        raise FieldError("MSH-10, the message control id, is empty", missing=True)
    sent = read.get("MSH.F7")
    if not sent:
        raise FieldError("MSH-7, the time of the message, is empty", missing=True)
    made = when(sent, "MSH-7 (the time of the message)", tz)
    appt_id = read.get("SCH.F2.R1.C1") or read.get("SCH.F1.R1.C1")
    if not appt_id:
        raise FieldError("SCH-1 and SCH-2, the appointment ids, are both empty", missing=True)
    start: datetime | None = None
    raw_start = read.get("SCH.F11.R1.C4") or read.get("AIS.F4")
    if raw_start:
        start = when(raw_start, "SCH-11.4 (the appointment start)", tz)
    elif EVENTS[event] in (BOOK, MOVE):
        raise FieldError("SCH-11.4 (and AIS-4), the appointment start, is empty", missing=True)
    return Booking(
        source="hl7",
        event=EVENTS[event],
        appointment_id=appt_id,
        message_time=made,
        start=start,
        procedures=_codes(read, "AIS", "F3.R1.C1"),
        clinics=_codes(read, "AIL", "F3.R1.C1"),
        phones=_phones(read),
        label=f"SIU^{event} ({LABELS[event]})",
    )


def _escape(msg: hl7.Message, text: str) -> str:
    return str(msg.escape(" ".join(text.split())))


def ack(msg: hl7.Message, code: str, text: str = "", error: str = "") -> hl7.Message:
    """The ACK for `msg`: AA, AE or AR, with the reason in MSA-3 and an ERR segment."""
    reply = msg.create_ack(code, application="SUPPORTLINE", facility=field(msg, "MSH.F6") or None)
    if not text:
        return reply
    reply.segment("MSA").assign_field(_escape(msg, text)[:80], 3)
    if code != "AA":
        err_code = error or (REQUIRED_MISSING if code == "AE" else UNSUPPORTED_TYPE)
        sep = str(msg.segment("MSH")(1))
        comp = str(msg.segment("MSH")(2))[0]
        err = sep.join(["ERR", "", "",
                        comp.join([err_code, _ERROR_TEXT.get(err_code, ""), "HL70357"]),
                        "E", "", "", "", _escape(msg, text)])
        return hl7.parse(str(reply).rstrip("\r") + "\r" + err)
    return reply


def bare_ack(code: str, text: str) -> str:
    """An ACK for something that could not be read as HL7 at all (no MSH to answer)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    clean = " ".join(text.replace("|", "/").replace("^", " ").replace("~", " ")
                     .replace("\\", "/").replace("&", "and").split())[:200]
    return (f"MSH|^~\\&|SUPPORTLINE||||{stamp}||ACK|{stamp}|P|2.5\r"
            f"MSA|{code}||{clean[:80]}\r"
            f"ERR|||{UNSUPPORTED_TYPE}^{_ERROR_TEXT[UNSUPPORTED_TYPE]}^HL70357|E||||{clean}")
