"""Do answers fit the question? Topic, aspect, the facts a right answer must carry, and
"not sure" replies, on blind question sets and scripted conversations.

Question sets (`tests/data/questions_*.csv`): text, topic, aspect, facts, note. `facts` is
`a|b;c` (a or b, and c), matched case-insensitively in what the patient receives.
Conversations (`tests/data/conversations_*.jsonl`): turns of {send, expect, forbid}; a
first {"reminder": test} means a reminder for that test was just sent.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.conversation import Conversation  # noqa: E402
from flows.engine import Awaiting, Context, step  # noqa: E402
from flows.knowledge import default_knowledge  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # a Monday morning: the nurse line is open


def not_sure_texts() -> tuple[str, ...]:
    """The start of each reply that means the line did not understand."""
    m = default_knowledge().messages
    return tuple(m[k].sms[:40] for k in ("not_sure",) if k in m)


def has(reply: str, fact: str) -> bool:
    """True when one of the alternatives in `fact` ("a|b") is in the reply."""
    low = reply.lower()
    return any(alt.strip() and alt.strip().lower() in low for alt in fact.split("|"))


@dataclass
class QuestionFigures:
    """What one question set scored."""

    name: str
    total: int = 0
    topic: int = 0
    aspect_asked: int = 0
    aspect: int = 0
    with_facts: int = 0
    facts: int = 0
    not_sure: int = 0
    misses: list[str] = field(default_factory=list)


def ask(text: str) -> tuple[str | None, str | None, str]:
    """One fresh-conversation turn: topic, aspect and what the patient receives."""
    turn = step(Conversation(), text, Context.default(NOW))
    return turn.topic, turn.aspect, "\n".join(turn.messages)


def score_questions(path: Path) -> QuestionFigures:
    """Topic, aspect and fact accuracy and the "not sure" count of one question set."""
    fig = QuestionFigures(path.stem)
    unsure = not_sure_texts()
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        topic, aspect, reply = ask(row["text"])
        fig.total += 1
        fig.topic += topic == row["topic"]
        if row["aspect"] and row["aspect"] not in ("circumstance", "feeling"):
            fig.aspect_asked += 1
            fig.aspect += topic == row["topic"] and aspect == row["aspect"]
        facts = [x for x in row["facts"].split(";") if x.strip()]
        if facts:
            fig.with_facts += 1
            ok = all(has(reply, fact) for fact in facts)
            fig.facts += ok
            if not ok:
                fig.misses.append(f"[{row['topic']}/{row['aspect']} -> {topic}/{aspect}] "
                                  f"{row['text']!r} lacks {row['facts']!r}")
        fig.not_sure += any(reply.startswith(u) for u in unsure)
    return fig


@dataclass
class ConversationFigures:
    """What the scripted conversations scored."""

    conversations: int = 0
    passed: int = 0
    turns: int = 0
    turns_passed: int = 0
    failures: list[str] = field(default_factory=list)


def score_conversations(path: Path) -> ConversationFigures:
    """Each conversation turn by turn: every expected fact there, nothing forbidden."""
    fig = ConversationFigures()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        script = json.loads(line)
        fig.conversations += 1
        problems = run_conversation(script)
        for _, problem in problems:
            fig.failures.append(f"{script['id']} ({script.get('kind', '')}): {problem}")
        turns = [t for t in script["turns"] if "send" in t]
        fig.turns += len(turns)
        fig.passed += not problems
        fig.turns_passed += len(turns) - len({n for n, _ in problems})
    return fig


def run_conversation(script: dict[str, Any]) -> list[tuple[int, str]]:
    """Send each turn; return (turn number, what went wrong), empty when it passes."""
    conv = Conversation()
    awaiting = None
    problems: list[tuple[int, str]] = []
    now = NOW
    for n, turn in enumerate(script["turns"]):
        if "reminder" in turn:
            awaiting = Awaiting("appt1", str(turn["reminder"]), NOW + timedelta(days=3))
            continue
        now += timedelta(minutes=2)
        result = step(conv, str(turn["send"]), Context.default(now), awaiting=awaiting)
        conv = result.conversation
        reply = "\n".join(result.messages)
        for fact in turn.get("expect", []):
            if not has(reply, fact):
                problems.append((n, f"{turn['send']!r} -> {reply[:120]!r} lacks {fact!r}"))
        for word in turn.get("forbid", []):
            # The writers' brief names the line's "not sure" reply; a text that happens to
            # say "if you are not sure, ask your nurse" is not it.
            if word == "not sure":
                if any(u in reply for u in not_sure_texts()):
                    problems.append((n, f"{turn['send']!r} -> {reply[:120]!r} has {word!r}"))
            elif has(reply, word):
                problems.append((n, f"{turn['send']!r} -> {reply[:120]!r} has {word!r}"))
    return problems


def report(paths: list[Path], conversations: list[Path], misses: bool = False) -> None:
    """Print the figures for question sets and conversation scripts."""
    print("Answers (topic; aspect where one is asked; the facts a right answer must carry)")
    for path in paths:
        f = score_questions(path)
        print(
            f"  {f.name:<16} topic {f.topic}/{f.total} = {f.topic / f.total:6.1%}   "
            f"aspect {f.aspect}/{f.aspect_asked} = {f.aspect / max(1, f.aspect_asked):6.1%}   "
            f"facts {f.facts}/{f.with_facts} = {f.facts / max(1, f.with_facts):6.1%}   "
            f"not sure {f.not_sure}/{f.total} = {f.not_sure / f.total:5.1%}"
        )
        if misses:
            for m in f.misses:
                print(f"      {m[:230]}")
    for path in conversations:
        c = score_conversations(path)
        print(
            f"  {path.stem:<16} conversations {c.passed}/{c.conversations} passed   "
            f"turns {c.turns_passed}/{c.turns}"
        )
        if misses:
            for m in c.failures:
                print(f"      {m[:230]}")


if __name__ == "__main__":
    args = sys.argv[1:]
    show = "--misses" in args
    args = [a for a in args if a != "--misses"]
    chosen = [Path(a).resolve() if Path(a).exists() else DATA / a for a in args]
    qs = [p for p in chosen if p.suffix == ".csv"] or sorted(DATA.glob("questions_*.csv"))
    cs = [p for p in chosen if p.suffix == ".jsonl"] or sorted(DATA.glob("conversations_*.jsonl"))
    report(qs, cs, show)
