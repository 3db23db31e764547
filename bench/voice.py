"""Benchmark the phone line's webhooks under gunicorn (one sync worker) against a floor app.

Whole calls, each request after the last as Twilio would send them: the ring, keypad
choices, spoken questions and warning signs (from the evaluation sets), silence, a call put
through that nobody answers, voicemail, and now and then a text asked for. The floor app
does the least any signed, stateful voice webhook must: check the signature, one Redis read
and one write, and answer a <Gather> with one <Say>.

Prints requests per second and p50/p99 latency for both, and the ratio. Targets (as for the
text line): at least 0.8 times the floor's throughput, p99 at most 25 ms.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from flask import Flask, Response, abort, request  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402
from twilio.twiml.voice_response import VoiceResponse  # noqa: E402

from bench.load import (  # noqa: E402
    BASE,
    ROOT,
    TOKEN,
    Figures,
    Step,
    add_round_args,
    bench_redis,
    load_sequences,
    run_rounds,
)


def create_voice_floor_app() -> Flask:
    """The least any signed, stateful voice webhook must do."""
    app = Flask(__name__)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    base = os.environ["PUBLIC_BASE_URL"].rstrip("/")
    r = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)

    @app.post("/voice")
    @app.post("/voice/<path:rest>")
    def voice(rest: str = "") -> Response:
        query = request.query_string.decode()
        url = base + request.path + (f"?{query}" if query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(url, request.form, signature):
            abort(403)
        key = "floor:" + request.form.get("CallSid", "")
        r.get(key)
        r.set(key, request.form.get("Digits", "") + request.form.get("SpeechResult", ""), ex=3600)
        reply = VoiceResponse()
        gather = reply.gather(input="dtmf speech", action=base + "/voice/input", num_digits=1)
        gather.say("Thank you for calling.", voice="Polly.Amy-Neural", language="en-GB")
        return Response(str(reply), mimetype="text/xml")

    return app


def spoken() -> tuple[list[str], list[str]]:
    """Questions and warning signs, as a caller might say them (the evaluation sets)."""
    out: dict[str, list[str]] = {}
    for name in ("matcher_dev.csv", "triage_dev.csv"):
        with open(ROOT / "tests" / "data" / name, newline="") as f:
            out[name] = [row["text"] for row in csv.DictReader(f)]
    return out["matcher_dev.csv"], out["triage_dev.csv"]


def calls() -> list[list[tuple[str, dict[str, str]]]]:
    """Call scripts: (webhook, fields) in order; the turn number is filled in as they run."""
    questions, warnings = spoken()
    scripts = []
    for i in range(40):
        q, w = questions[i % len(questions)], warnings[i % len(warnings)]
        keypad = [("call", {}), ("input", {"Digits": "1"}), ("input", {"Digits": "5"}),
                  ("input", {"Digits": "2"}), ("input", {"Digits": "3"}),
                  ("input", {"Digits": "*"}), ("input", {"Digits": "0"}), ("input", {}),
                  ("input", {"Digits": "6"}), ("dialled", {"DialCallStatus": "no-answer"}),
                  ("dialled", {"DialCallStatus": "busy"}),
                  ("recorded", {"RecordingUrl": "https://api.twilio.com/rec/RE" + "0" * 32,
                                "RecordingDuration": "12"})]
        speech = [("call", {}), ("input", {"SpeechResult": q, "Confidence": "0.9"}),
                  ("input", {"Digits": "1"}), ("input", {"SpeechResult": "main menu"}),
                  ("input", {"SpeechResult": w, "Confidence": "0.8"}),
                  ("input", {"Digits": "0"}), ("input", {"Digits": "3"}),
                  ("input", {"Digits": "9"}), ("input", {"SpeechResult": "goodbye"})]
        if i % 4 == 0:
            speech.insert(3, ("input", {"Digits": "2"}))  # a text of what they heard
        scripts.append(keypad if i % 2 else speech)
    return scripts


def sequence_for(scripts: list[list[tuple[str, dict[str, str]]]]) -> Callable[[int], list[Step]]:
    """Turns a call number into its signed-request steps."""

    def steps(n: int) -> list[Step]:
        sid = "CA" + uuid.uuid4().hex
        caller = f"+447700900{n % 1000:03d}"
        out: list[Step] = []
        for turn, (hook, fields) in enumerate(scripts[n % len(scripts)]):
            path = "/voice" if hook == "call" else f"/voice/{hook}?t={turn}"
            form = {"AccountSid": "AC" + "0" * 32, "CallSid": sid, "From": caller,
                    "To": "+447700900000", "CallStatus": "in-progress", **fields}
            out.append((path, form))
        return out

    return steps


def main() -> None:
    """Run both apps in turn and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="calls per round")
    add_round_args(parser)
    args = parser.parse_args()
    steps = sequence_for(calls())

    def measure(port: int) -> Figures:
        load_sequences(port, TOKEN, BASE, steps, 20, 1)  # warm up
        return load_sequences(port, TOKEN, BASE, steps, args.calls, args.concurrency)

    with bench_redis("bench-voice-") as (_, env, where):
        comparison = run_rounds(
            "bench.voice:create_voice_floor_app()", env, args.rounds, measure
        )
    print(
        f"POST /voice and its actions: {args.calls} whole calls "
        f"({comparison.best(1).requests} signed requests) x {args.rounds} rounds "
        f"(best of each shown), concurrency {args.concurrency}, gunicorn 1 sync worker, "
        f"Redis {where}"
    )
    for line in comparison.report():
        print(line)
    if any(f.errors for pair in comparison.rounds for f in pair):
        print("errors: some requests were not answered with 200/204 (see counts above)")


if __name__ == "__main__":
    main()
