"""The app's clock: the real time, a test's, or the local stack's simulated one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from flask import current_app


def clock() -> Callable[[], datetime]:
    """The clock itself, for work that outlives the request."""
    return cast(Callable[[], datetime], current_app.config["CLOCK"])


def now() -> datetime:
    """The app's time now (aware)."""
    return clock()()
