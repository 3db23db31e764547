"""A circuit breaker for Redis on the webhooks: after a failure, go straight to the safe reply.

A Redis that is down fails at once; one that hangs makes every request wait for its
timeout, and two sync workers then answer about one request a second while Twilio gives
up at 15 seconds. After a failure the breaker stays open for a few seconds, and every
text and call in that time gets the safe fallback (triage still runs) without touching
Redis. Then one request is let through to try again: if it succeeds, normal service is back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

OPEN_SECONDS = 5.0


class Breaker:
    """Closed (use Redis), open (do not, until `open_seconds` pass), then one trial."""

    def __init__(
        self, open_seconds: float = OPEN_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.open_seconds = open_seconds
        self.clock = clock
        self._until = 0.0
        self._trial = False
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """True when a request may use Redis: closed, or the one trial after opening."""
        with self._lock:
            if self._until == 0.0:
                return True
            if self.clock() < self._until or self._trial:
                return False
            self._trial = True  # one request tries; the rest keep the fallback meanwhile
            return True

    def failed(self) -> None:
        """Redis failed: stay away from it for `open_seconds`."""
        with self._lock:
            self._until = self.clock() + self.open_seconds
            self._trial = False

    def succeeded(self) -> None:
        """Redis answered: back to normal."""
        with self._lock:
            self._until = 0.0
            self._trial = False

    @property
    def is_open(self) -> bool:
        """True while requests are being sent to the fallback."""
        with self._lock:
            return self._until != 0.0
