"""Every text the bot can send or say, with what it costs and how hard it is to read."""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from typing import Any

import textstat

from flows import sms
from flows.directory import Directory
from flows.engine import told_reason, urgent_line
from flows.gsm import cost, is_gsm7
from flows.knowledge import Knowledge
from flows.personal import default_personal
from flows.reminders import default_content as reminder_content
from flows.reminders import samples as reminder_samples
from flows.triage import Rulebook

MAX_GRADE = 8.0  # Flesch-Kincaid grade 8 is a reading age of about 13: our ceiling.
MAX_SEGMENTS = 2


@dataclass(frozen=True)
class Entry:
    """One text: where it comes from, its channel and its words."""

    source: str
    channel: str  # "sms" or "voice"
    text: str
    reviewed: dt.date | None = None
    review_due: dt.date | None = None
    sources: tuple[str, ...] = ()

    def check(self, today: dt.date, max_grade: float = MAX_GRADE) -> dict[str, Any]:
        """Measure the entry and list its breaches."""
        c = cost(self.text)
        # A menu line is a sentence of its own, not part of one long sentence.
        prose = self.text.replace("\n", ". ")
        grade = float(textstat.flesch_kincaid_grade(prose)) if len(prose.split()) > 8 else 0.0
        breaches = []
        if self.channel == "sms":
            if not is_gsm7(self.text):
                bad = sorted({ch for ch in self.text if not is_gsm7(ch)})
                breaches.append(f"not GSM-7: {''.join(bad)!r}")
            if c.segments > MAX_SEGMENTS:
                breaches.append(f"{c.segments} segments (at most {MAX_SEGMENTS})")
        if grade > max_grade:
            breaches.append(f"reading grade {grade:.1f} (at most {max_grade:.0f})")
        if self.review_due and self.review_due < today:
            breaches.append(f"review overdue since {self.review_due.isoformat()}")
        return {
            "source": self.source,
            "channel": self.channel,
            "text": self.text,
            "encoding": c.encoding,
            "segments": c.segments,
            "characters": len(self.text),
            "reading_grade": round(grade, 1),
            "reviewed": self.reviewed.isoformat() if self.reviewed else None,
            "review_due": self.review_due.isoformat() if self.review_due else None,
            "sources": list(self.sources),
            "breaches": breaches,
        }


class _Blank(dict[str, str]):
    """Fills a {placeholder} the samples below do not name so it reads as one: [name]."""

    def __missing__(self, key: str) -> str:
        return f"[{key}]"


ACUTE_SAMPLE = "(24-hour no.)"  # 13 characters, as "0191 445 3735"


def entries(knowledge: Knowledge, rulebook: Rulebook, directory: Directory) -> list[Entry]:
    """Every SMS page and spoken text the engine can produce from the content."""
    msgs = knowledge.messages
    more = msgs["more_hint"].sms
    out: list[Entry] = []

    def add_sms(source: str, body: str, footer: str = "", **meta: Any) -> None:
        for i, page in enumerate(sms.paginate(body, footer, more), 1):
            out.append(Entry(f"{source} (page {i})" if i > 1 else source, "sms", page, **meta))

    for topic in knowledge.topics.values():
        meta: dict[str, Any] = {
            "reviewed": topic.reviewed,
            "review_due": topic.review_due,
            "sources": topic.sources,
        }
        add_sms(f"topic {topic.id}", topic.answer.sms, msgs["after_topic"].sms, **meta)
        out.append(Entry(f"topic {topic.id}", "voice", topic.answer.voice, **meta))
        for name, section in topic.sections.items():
            add_sms(
                f"topic {topic.id} {name}",
                f"{topic.title}: {section.sms}",
                msgs["after_section" if topic.is_test else "after_topic"].sms,
                **meta,
            )
            out.append(Entry(f"topic {topic.id} {name}", "voice", section.voice, **meta))
    personal = default_personal()
    numbers = {
        "nurse": directory["nurse"].number or "",
        "macmillan": directory["macmillan"].number or "",
        "maggies": directory["maggies"].number or "",
        "samaritans": directory["samaritans"].number or "",
        "breast_cancer_now": directory["breast_cancer_now"].number or "",
    }
    tail = msgs["circumstance_tail"].sms.format(nurse=numbers["nurse"])
    for c in personal.circumstances.values():
        for topic_id, answer in c.answers.items():
            label = f"circumstance {c.id} {topic_id}"
            out.append(Entry(label, "sms", f"{answer} {tail}"))
            out.append(Entry(label, "voice", f"{answer} {msgs['circumstance_tail'].voice}"))
    for f in personal.feelings.values():
        said = f.reply.format(**numbers)
        out.append(Entry(f"feeling {f.id}", "sms", said))
        out.append(Entry(f"feeling {f.id}", "voice", said))
    # Sample values that read as what they are, and the directory's real numbers, so a
    # reviewer sees what a patient would (never a made-up number presented as a fact).
    call, urgent = urgent_line(directory)
    fill = _Blank(
        title="Liver ultrasound",
        count="8",
        close="5pm",
        reason="new cough",
        when="on Monday at 9am",
        nurse_hours=directory["nurse"].describe_hours(),
        test="CT scan",
        slot="Wed 2 Dec at 2:15pm",
        call=call,
        urgent=urgent,
        advice="(the advice for the warning sign)",
        **numbers,
    )
    for key, text in msgs.items():
        if key in ("emergency", "urgent", "same_day"):
            continue
        add_sms(f"message {key}", string.Formatter().vformat(text.sms, (), fill))
        out.append(
            Entry(f"message {key}", "voice", string.Formatter().vformat(text.voice, (), fill))
        )
    due = dt.date.fromisoformat(rulebook.review_due) if rulebook.review_due else None
    reviewed = dt.date.fromisoformat(rulebook.reviewed) if rulebook.reviewed else None
    nurse = directory["nurse"]
    # Urgent texts are checked both ways: as sent now, and with the hospital's 24-hour
    # number set. Until it is, a sample as long as a UK number stands in for it.
    has_acute = bool(directory["acute_oncology"].number)
    for configured in (False,) if has_acute else (False, True):
        d = directory.with_number("acute_oncology", ACUTE_SAMPLE) if configured else directory
        call, _ = urgent_line(d)
        for rule in rulebook.rules:
            if rule.level == "urgent" or (rule.level != "urgent" and not configured):
                values = {
                    "advice": rule.advice,
                    "reason": told_reason(rule.reason),
                    "call": call,
                    "nurse": nurse.number or "",
                    "nurse_hours": nurse.describe_hours(),
                }
                text = knowledge.message(rule.level, **values)
                label = f"triage {rule.id}" + (" (line configured)" if configured else "")
                out.append(Entry(label, "sms", text.sms, reviewed, due))
                out.append(Entry(label, "voice", text.voice, reviewed, due))
    rc = reminder_content()
    for source, body in reminder_samples(rc):
        out.append(Entry(source, "sms", body, rc.reviewed, rc.review_due, rc.sources))
    from flows.calls import spoken_texts  # the phone line builds on this module's imports
    from flows.engine import Context

    ctx = Context.default(dt.datetime.now(dt.UTC), directory=directory)
    for source, spoken in spoken_texts(ctx):
        out.append(Entry(source, "voice", spoken))
    return out
