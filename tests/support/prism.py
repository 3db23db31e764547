"""Prism serving Twilio's OpenAPI description as a strict mock, for the API contract test.

`make test` installs Prism (tools/prism, pinned in package-lock.json). The description is
vendored in tests/data/twilio-oai/ so a clean clone needs nothing outside the repository;
the shared copy in ../shared/twilio-oai/ is the fallback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / "tools" / "prism" / "node_modules" / ".bin" / "prism"
SPEC_NAME = "twilio_api_v2010.yaml"
SPEC_PLACES = (
    ROOT / "tests" / "data" / "twilio-oai" / SPEC_NAME,
    ROOT.parent / "shared" / "twilio-oai" / SPEC_NAME,
)
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


class PrismMissing(RuntimeError):
    """Prism or the description it serves is not where the tests look."""


def spec_path() -> Path:
    """Twilio's OpenAPI description of the 2010-04-01 API."""
    for place in SPEC_PLACES:
        if place.is_file():
            return place
    raise PrismMissing(
        "Twilio's OpenAPI description is missing: looked for "
        + " and ".join(str(p) for p in SPEC_PLACES)
        + ". Restore tests/data/twilio-oai/ from git."
    )


def prism_path() -> Path:
    """The pinned Prism command, or a clear message on how to install it."""
    if not PRISM.exists():
        raise PrismMissing(
            f"Prism is not installed at {os.path.relpath(PRISM, ROOT)}. Run `make test` (it runs "
            "`npm ci` in tools/prism), or `cd tools/prism && npm ci`."
        )
    if shutil.which("node") is None:
        raise PrismMissing("Prism needs Node.js: install `nodejs` (18 or newer), then `make test`.")
    return PRISM


def load_spec() -> dict[str, Any]:
    """The OpenAPI description as data (libyaml's parser: about half a second)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with spec_path().open("rb") as f:
        data: dict[str, Any] = yaml.load(f, Loader=loader)  # noqa: S506 - a safe loader
    return data


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrismMock:
    """`prism mock --errors` on a free loopback port, in its own process group."""

    def __init__(self, spec: Path | None = None) -> None:
        self.spec = spec or spec_path()
        self.port = 0
        self.startup_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        """What TWILIO_API_BASE_URL should be to send to the mock."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> PrismMock:
        """Start Prism and wait until it listens; retry once if the port was taken."""
        prism = prism_path()
        for attempt in range(3):
            self.port = free_port()
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - open while Prism runs
            started = time.monotonic()
            # --errors: an invalid request gets an error, not a made-up success.
            self._proc = subprocess.Popen(
                [str(prism), "mock", str(self.spec), "--errors",
                 "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # so stop() can end Prism and any child it forks
            )
            while time.monotonic() - started < timeout:
                if self._proc.poll() is not None:
                    break
                if _listening(self.port):
                    self.startup_seconds = time.monotonic() - started
                    return self
                time.sleep(0.05)
            log = self.log()
            self.stop()
            if "EADDRINUSE" in log and attempt < 2:
                continue
            raise RuntimeError(
                f"Prism did not start listening within {timeout:.0f}s; its output ends:\n"
                + log[-2000:]
            )
        raise AssertionError("unreachable")

    def log(self) -> str:
        """What Prism printed so far."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        """End the Prism process group this object started."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> PrismMock:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # The group Popen created for this process (start_new_session), nothing else.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
