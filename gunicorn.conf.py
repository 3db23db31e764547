"""gunicorn reads this from the project root: the Procfile's web process and bench/ use it."""

from __future__ import annotations

import gc
from typing import Any


def when_ready(server: Any) -> None:
    """With --preload, freeze the loaded app before the workers fork, so they share it."""
    gc.freeze()


def post_worker_init(worker: Any) -> None:
    """Freeze what the app loaded (content, rules, word lists) out of the garbage collector.

    They live as long as the worker; without this, every full collection walks them all
    again, stalling a request for tens of milliseconds.
    """
    gc.freeze()
