"""A hung Redis mid-burst: how fast texts are answered while Redis is paused (SIGSTOP).

gunicorn with two sync workers (as the Procfile runs) on an embedded redis-server of its
own. Texts arrive at a steady rate; Redis is paused for a while in the middle, then
resumed. Prints reply times before, during and after the pause, whether warning signs
still got the urgent reply, and how soon after resuming normal replies came back.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twilio.request_validator import RequestValidator  # noqa: E402

from bench.load import BASE, ROOT, TOKEN, free_port, gunicorn  # noqa: E402
from bot.dev.embedded import EmbeddedRedis  # noqa: E402

TEXTS = ["can i eat before my ct", "temp 38.6 and shivering on chemo", "what is a bone scan"]
URGENT = "Call the 24-hour number"


def main() -> None:
    """Run the burst and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=4.0, help="texts per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the burst")
    parser.add_argument("--pause-at", type=float, default=5.0)
    parser.add_argument("--pause-for", type=float, default=15.0)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    server = EmbeddedRedis(tmp)
    url = server.start()
    assert server.process is not None
    pid = server.process.pid
    env = {"REDIS_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE,
           "INSTANCE_PATH": str(tmp), "PYTHONPATH": str(ROOT)}
    port = free_port()
    validator = RequestValidator(TOKEN)
    results: list[tuple[float, float, str, str]] = []  # sent at, seconds, text, reply
    lock = threading.Lock()

    def send(i: int, started: float) -> None:
        body = TEXTS[i % len(TEXTS)]
        form = {"From": f"+447700900{i % 1000:03d}", "To": "+447700900000", "Body": body,
                "MessageSid": "SM" + uuid.uuid4().hex, "NumMedia": "0",
                "AccountSid": "AC" + "0" * 32}
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": validator.compute_signature(f"{BASE}/sms", form)}
        t0 = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("POST", "/sms", urlencode(form), headers)
            reply = conn.getresponse().read().decode()
        except OSError as exc:
            reply = f"ERROR {exc}"
        finally:
            conn.close()
        with lock:
            results.append((t0 - started, time.monotonic() - t0, body, reply))

    try:
        with gunicorn("bot:create_app()", env, port, workers=2):
            for i in range(10):  # warm both workers
                send(i, time.monotonic())
            results.clear()
            started = time.monotonic()
            threads = []
            paused = resumed = False
            n = 0
            while (now := time.monotonic() - started) < args.seconds:
                if not paused and now >= args.pause_at:
                    os.kill(pid, signal.SIGSTOP)
                    paused = True
                if paused and not resumed and now >= args.pause_at + args.pause_for:
                    os.kill(pid, signal.SIGCONT)
                    resumed = True
                t = threading.Thread(target=send, args=(n, started))
                t.start()
                threads.append(t)
                n += 1
                time.sleep(max(0.0, n / args.rate - (time.monotonic() - started)))
            for t in threads:
                t.join()
    finally:
        os.kill(pid, signal.SIGCONT)
        server.stop()

    end = args.pause_at + args.pause_for
    phases = {
        "before the pause": [r for r in results if r[0] < args.pause_at],
        "Redis paused": [r for r in results if args.pause_at <= r[0] < end],
        "after resuming": [r for r in results if r[0] >= end],
    }
    print(f"POST /sms at {args.rate}/s for {args.seconds:.0f} s, gunicorn 2 sync workers; "
          f"Redis paused (SIGSTOP) from {args.pause_at:.0f} s for {args.pause_for:.0f} s")
    for name, rows in phases.items():
        if not rows:
            continue
        times = sorted(r[1] * 1000 for r in rows)
        slow = sum(t > 2000 for t in times)
        print(f"  {name:<17} {len(rows):3d} texts   p50 {times[len(times) // 2]:7.1f} ms   "
              f"p99 {times[min(len(times) - 1, int(len(times) * 0.99))]:7.1f} ms   "
              f"max {times[-1]:7.1f} ms   over 2 s: {slow}")
    warnings = [r for r in phases["Redis paused"] if "38.6" in r[2]]
    told = sum(URGENT in r[3] for r in warnings)
    print(f"  warning signs while paused: {told} of {len(warnings)} told to call the 24-hour line")
    back = [r for r in phases["after resuming"] if "bone scan" in r[2] and "999" not in r[3]]
    if back:
        print(f"  first normal answer {min(r[0] for r in back) - end:.1f} s after Redis resumed")
    else:
        print("  no normal answer after Redis resumed")


if __name__ == "__main__":
    main()
