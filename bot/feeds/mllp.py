"""The MLLP listener: HL7 messages over TCP, each answered with its ACK on the same socket."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import redis
from hl7.mllp import start_hl7_server
from hl7.mllp.exceptions import InvalidBlockError
from hl7.mllp.streams import HL7StreamReader, HL7StreamWriter

from bot.feeds import bookings, hl7feed
from bot.feeds.bookings import Feed
from flows import siu

log = logging.getLogger(__name__)
MAX_MESSAGE = 1 << 20  # bytes; an appointment message is a few hundred


def decode(block: bytes) -> str:
    """HL7 text: UTF-8, or the Windows code page many hospital systems still send."""
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("cp1252", errors="replace")


class Listener:
    """Answers every message on every connection, one message at a time per process."""

    def __init__(self, r: redis.Redis, settings: Mapping[str, Any],
                 clock: Callable[[], datetime]) -> None:
        self.r, self.settings, self.clock = r, settings, clock
        self.handled = 0

    def feed(self) -> Feed:
        """The feed's settings, with the codes file as it is now."""
        return bookings.current(self.settings)

    def answer(self, block: bytes) -> str:
        """The ACK for one MLLP block; AR when the line cannot keep the message."""
        text = decode(block)
        try:
            return hl7feed.handle(self.r, self.feed(), text, self.clock())
        except redis.RedisError as exc:
            # Not kept, so not accepted: the integration engine will send it again.
            log.error("feed message not stored (Redis: %s); answered AR", exc)
            return _not_stored(text)
        except Exception:
            log.exception("feed message failed unexpectedly; answered AR")
            return _not_stored(text)

    async def connection(self, reader: HL7StreamReader, writer: HL7StreamWriter) -> None:
        """Read blocks until the sender hangs up; answer each."""
        peer = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    block = await reader.readblock()
                except asyncio.IncompleteReadError:
                    break
                except (InvalidBlockError, ValueError) as exc:
                    why = f"Not an MLLP block: {exc}"
                    if not isinstance(exc, InvalidBlockError):
                        why = f"The message is over {MAX_MESSAGE} bytes, the most taken."
                        # Over the limit before its end: python-hl7 dropped what it read; the
                        # rest goes too, so the message gets one AR and the next its own ACK.
                        if "not found" in str(exc) and not await _skip_frame(reader):
                            break
                    writer.writeblock(siu.bare_ack("AR", why).encode())
                    await writer.drain()
                    continue
                writer.writeblock(self.answer(block).encode("utf-8"))
                await writer.drain()
                self.handled += 1
        except ConnectionError:
            log.info("feed connection from %s dropped", peer)
        finally:
            writer.close()


async def _skip_frame(reader: HL7StreamReader) -> bool:
    """Read and drop the rest of an oversized frame; False if the sender hung up first."""
    while True:
        try:
            await reader.readuntil(b"\x1c\r")
            return True
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)
        except asyncio.IncompleteReadError:
            return False


def _not_stored(text: str) -> str:
    why = "The message could not be stored; send it again."
    try:
        return str(siu.ack(siu.parse(text), "AR", why, siu.INTERNAL_ERROR))
    except siu.Rejected:
        return siu.bare_ack("AR", why)


async def serve(listener: Listener, host: str, port: int) -> asyncio.Server:
    """Start listening; the server object stops it."""
    server: asyncio.Server = await start_hl7_server(
        listener.connection, host, port, limit=MAX_MESSAGE
    )
    return server


def run(listener: Listener, host: str, port: int, ready: Callable[[int], None] | None = None
        ) -> None:
    """Listen until interrupted."""

    async def main() -> None:
        server = await serve(listener, host, port)
        bound = server.sockets[0].getsockname()[1]
        if ready:
            ready(bound)
        async with server:
            await server.serve_forever()

    asyncio.run(main())
