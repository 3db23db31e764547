"""One campaign and one appointment: what was sent, what came back, and what a nurse can do.

Cancelling a campaign, moving or cancelling an appointment and texting everyone all go
through the reminder pipeline (bot.campaigns, bot.appointments); this module only asks
the nurse, calls it, and writes the audit trail.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from bot.console import audit, sessions
from bot.console.blueprint import (
    bp,
    clinic_tz,
    current_nurse,
    db,
    record,
    safe_next,
    wants_json,
)
from bot.console.campaigns import tasks
from bot.console.campaigns.forms import MessageForm, RescheduleForm, test_titles
from bot.console.campaigns.shared import (
    CAMPAIGN_STATUS,
    REMINDER_STATUS,
    SYNC_LINES,
    calling,
    capacity,
    kind_label,
    quiet,
)
from bot.console.forms import ButtonForm
from bot.console.today import national, revealed_refs
from bot.feeds.bookings import CAMPAIGN as FEED_CAMPAIGN
from bot.outbound import appointments, importer
from bot.outbound import campaigns as pipeline
from bot.outbound.appointments import Appointment
from bot.outbound.texts import PENDING, Reminder
from bot.store import records
from bot.web.clock import clock, now
from flows.gsm import GSM7_ALL, cost
from flows.reminders import PRIVATE_FIRST_LINE, PlanError, is_private

APPOINTMENT_STATUS = {
    "booked": "Booked: no reply yet",
    "confirmed": "Confirmed by the patient",
    "rearrange": "Asked to rearrange",
    "cancelled": "Cancelled",
    "did_not_attend": "Did not attend (the hospital says)",
}
SOURCES = {  # where an appointment came from, for people
    "hl7": "The hospital's system (HL7 message)",
    "fhir": "The hospital's system (FHIR)",
}
PROBLEM_STATUSES = frozenset(["failed", "undelivered", "expired"])
SHOW = {
    "all": "All appointments",
    "rearrange": "Asked to rearrange",
    "confirmed": "Confirmed",
    "booked": "No reply yet",
    "cancelled": "Cancelled",
    "problems": "A text that failed or was too late",
}
APPOINTMENTS_PAGE = 100
IMPORT_GIVES_UP = timedelta(minutes=30)  # the biggest file allowed imports in a few minutes


def _campaign(campaign_id: str) -> pipeline.Campaign:
    found = pipeline.find(db(), campaign_id)
    if found is None:
        abort(404)
    return found


def _appointment(c: pipeline.Campaign, appointment_id: str) -> Appointment:
    found = Appointment.fetch(db(), appointment_id)
    if found is None or found.campaign != c.id:
        abort(404)
    return found


def _ref(appt: Appointment) -> str:
    return f"appointments/{appt.id}"


def _local(value: str | datetime) -> str:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(clinic_tz()).strftime("%a %-d %b %Y, %H:%M")


def message_groups(messages: list[Reminder]) -> list[dict[str, Any]]:
    """One-off messages, one entry per text sent to the campaign, newest first."""
    groups: dict[tuple[str, str], list[Reminder]] = {}
    for m in messages:
        groups.setdefault((m.created_at, m.body), []).append(m)
    out = [{"at": at, "text": body, "count": len(ms),
            "counts": Counter(m.status for m in ms), "cost": cost(body)}
           for (at, body), ms in groups.items()]
    out.sort(key=lambda g: str(g["at"]), reverse=True)
    return out


def _shows(show: str, appt: Appointment, reminders: list[Reminder]) -> bool:
    if show == "all":
        return True
    if show == "problems":
        return any(x.status in PROBLEM_STATUSES for x in reminders)
    return appt.status == show


# --- One campaign ----------------------------------------------------------------------------


@bp.get("/campaigns/<campaign_id>")
def campaign(campaign_id: str) -> tuple[str, int]:
    """A campaign's patients, appointments, replies, reminders and one-off messages."""
    c = _campaign(campaign_id)
    d = pipeline.detail(db(), c)
    show = request.args.get("show", "all")
    show = show if show in SHOW else "all"
    chosen = [a for a in d.appointments if _shows(show, a, d.reminders.get(a.id, []))]
    pages = max(1, -(-len(chosen) // APPOINTMENTS_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    start = (page - 1) * APPOINTMENTS_PAGE
    shown = revealed_refs()
    rows = [{"appt": a, "reminders": d.reminders.get(a.id, []), "revealed": _ref(a) in shown}
            for a in chosen[start:start + APPOINTMENTS_PAGE]]
    return render_template(
        "console/campaign.html", c=c, counts=d.counts(), rows=rows, page=page, pages=pages,
        start=start, matching=len(chosen), show=show, shows=SHOW,
        replies=Counter(a.status for a in d.appointments),
        messages=message_groups(d.messages), titles=test_titles(), kind_label=kind_label,
        statuses=REMINDER_STATUS, appointment_status=APPOINTMENT_STATUS,
        campaign_status=CAMPAIGN_STATUS, national=national, importing=still_importing(c),
        standing=c.id == FEED_CAMPAIGN,
    ), 200


def still_importing(c: pipeline.Campaign) -> bool:
    """True while an import may still be writing the campaign (it would undo a cancel).

    An import that has said nothing for IMPORT_GIVES_UP has died with its process; what it
    wrote never sends, and cancelling it tidies that away.
    """
    if c.status != "importing" or not c.created_at:
        return False
    return now() - datetime.fromisoformat(c.created_at) < IMPORT_GIVES_UP


def _background(kind: str, title: str, c: pipeline.Campaign, work: tasks.Work) -> Response:
    r = db()
    task = tasks.new(r, current_nurse().email, kind, title, c.id, now())
    tasks.start(current_app._get_current_object(), r, task, work, clock())  # type: ignore[attr-defined]
    return redirect(url_for("console.campaign_task", task_id=task.id))


def _run(kind: str, title: str, c: pipeline.Campaign, big: bool, work: tasks.Work) -> Response:
    """Do the work now, or on a thread with a progress bar when it is big."""
    if big:
        return _background(kind, title, c, work)
    r = db()
    task = tasks.execute(r, tasks.new(r, current_nurse().email, kind, title, c.id, now()),
                         work, clock())
    flash(task.message, "info" if task.state == "done" else "error")
    return redirect(url_for("console.campaign", campaign_id=c.id))


@bp.route("/campaigns/<campaign_id>/cancel", methods=["GET", "POST"])
def campaign_cancel(campaign_id: str) -> Response | tuple[str, int]:
    """Ask, then stop every reminder of the campaign still to be sent."""
    c = _campaign(campaign_id)
    if c.status == "cancelled":
        flash(f"\u201c{c.name}\u201d was already cancelled.", "info")
        return redirect(url_for("console.campaign", campaign_id=c.id))
    if c.id == FEED_CAMPAIGN:
        flash("The hospital feed's campaign stays open while the hospital sends bookings: "
              "cancel single appointments here, or ask the hospital to cancel them.", "error")
        return redirect(url_for("console.campaign", campaign_id=c.id))
    if still_importing(c):
        flash(f"\u201c{c.name}\u201d is still being saved. Cancel it once that has finished.",
              "error")
        return redirect(url_for("console.campaign", campaign_id=c.id))
    r = db()
    form = ButtonForm()
    if not form.validate_on_submit():
        counts = pipeline.detail(r, c).counts()
        pending = sum(n for status, n in counts.items() if status in PENDING)
        return render_template(
            "console/campaign_confirm.html", form=form, c=c,
            title=f"Cancel \u201c{c.name}\u201d?", form_id="cancel-campaign-form",
            lines=[f"{pending:,} reminder{'s' if pending != 1 else ''} still to be sent will "
                   "not be sent.",
                   "Texts already sent cannot be taken back. This cannot be undone."],
            button="Yes, cancel the campaign", button_id="confirm-cancel-campaign",
            back=url_for("console.campaign", campaign_id=c.id),
        ), 200
    who, ip, moment = current_nurse().email, request.remote_addr or "", now()
    size = len(c.appointment_ids(r))

    def work(report: tasks.Reporter) -> tasks.Outcome:
        report.stage("Cancelling reminders", size)
        stopped = pipeline.cancel(r, c, report)
        audit.record(r, moment, who, "campaign_cancelled", f"campaigns/{c.id}",
                     f"{c.name!r}: {stopped} reminders stopped", ip=ip)
        return tasks.Outcome(f"\u201c{c.name}\u201d is cancelled: {stopped:,} reminder"
                             f"{'s' if stopped != 1 else ''} will not be sent.")

    return _run("cancel", f"Cancelling \u201c{c.name}\u201d", c, size > SYNC_LINES, work)


# --- One appointment ------------------------------------------------------------------------


def _appointment_page(c: pipeline.Campaign, appt: Appointment, form: RescheduleForm,
                      error: str = "", status: int = 200) -> tuple[str, int]:
    r = db()
    tz = clinic_tz()
    reminders = []
    for x in Reminder.fetch_many(r, appt.reminder_ids):
        try:
            words = appointments.text_of(r, x, tz)
        except PlanError as exc:
            words = f"(These words cannot be made now: {exc})"
        reminders.append({"r": x, "label": kind_label(x.kind), "text": words})
    revealed = _ref(appt) in revealed_refs()
    return render_template(
        "console/campaign_appointment.html", c=c, a=appt, reminders=reminders, form=form,
        error=error, revealed=revealed, national=national, titles=test_titles(),
        appointment_status=APPOINTMENT_STATUS, statuses=REMINDER_STATUS,
        can_change=c.status == "active", source=source_of(c, appt),
    ), status


def source_of(c: pipeline.Campaign, appt: Appointment) -> str:
    """Where the appointment came from: the feed, a campaign file, or typed in."""
    if appt.source:
        return SOURCES.get(appt.source, appt.source)
    how = db().hget(c.key, "source")
    if how == "single":
        return f"Typed in on the console, in the campaign \u201c{c.name}\u201d"
    return f"A campaign file (CSV), in the campaign \u201c{c.name}\u201d"


@bp.get("/campaigns/<campaign_id>/appointments/<appointment_id>")
def campaign_appointment(campaign_id: str, appointment_id: str) -> tuple[str, int]:
    """One appointment: its reminders with their words, and forms to move or cancel it."""
    c = _campaign(campaign_id)
    appt = _appointment(c, appointment_id)
    local = appt.at_dt.astimezone(clinic_tz())
    form = RescheduleForm(prefix="reschedule", data={"date": local.date(), "time": local.time(),
                                                     "place": appt.location})
    return _appointment_page(c, appt, form)


@bp.post("/campaigns/<campaign_id>/appointments/<appointment_id>/reschedule")
def campaign_reschedule(campaign_id: str, appointment_id: str) -> Response | tuple[str, int]:
    """Move an appointment: its reminders still to go are replaced by a plan for the new time."""
    c = _campaign(campaign_id)
    appt = _appointment(c, appointment_id)
    form = RescheduleForm(prefix="reschedule")
    if c.status != "active":
        return _appointment_page(c, appt, form, "This campaign is not active, so its "
                                 "appointments cannot be moved.", 409)
    if not form.validate_on_submit():
        return _appointment_page(c, appt, form, status=400)
    tz, moment = clinic_tz(), now()
    try:
        at = importer.parse_when(
            f"{form.date.data.isoformat()} {form.time.data.strftime('%H:%M')}", tz)
    except ValueError as exc:
        return _appointment_page(c, appt, form, _plain(str(exc)), 400)
    if at <= moment:
        return _appointment_page(c, appt, form, "The new date and time have already passed.",
                                 400)
    place = (form.place.data or "").strip()
    location = place if place and place != appt.location else None
    before = _local(appt.at_dt)
    try:
        new = appointments.reschedule(db(), appt, at, tz, quiet(), moment, location=location,
                                      per_second=capacity(), call_hours=calling().hours)
    except PlanError as exc:
        return _appointment_page(c, appt, form, str(exc), 400)
    after = _local(at)
    record("appointment_rescheduled", _ref(appt),
           f"{before} -> {after}" + (f", at {location}" if location else ""))
    flash(f"The appointment is moved to {after}. {len(new)} reminder"
          f"{'s' if len(new) != 1 else ''} will go for the new time; the old ones will not.",
          "info")
    return redirect(url_for("console.campaign_appointment", campaign_id=c.id,
                            appointment_id=appt.id))


def _plain(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


@bp.route("/campaigns/<campaign_id>/appointments/<appointment_id>/cancel",
          methods=["GET", "POST"])
def campaign_appointment_cancel(campaign_id: str, appointment_id: str
                                ) -> Response | tuple[str, int]:
    """Ask, then cancel one appointment's reminders."""
    c = _campaign(campaign_id)
    appt = _appointment(c, appointment_id)
    back = url_for("console.campaign_appointment", campaign_id=c.id, appointment_id=appt.id)
    if appt.status == "cancelled":
        flash("This appointment was already cancelled.", "info")
        return redirect(back)
    form = ButtonForm()
    if not form.validate_on_submit():
        title = test_titles().get(appt.test, appt.test)
        return render_template(
            "console/campaign_confirm.html", form=form, c=c,
            title=f"Cancel the {title} on {_local(appt.at_dt)}?",
            form_id="cancel-appointment-form",
            lines=["Its reminders still to be sent will not be sent. The patient is not "
                   "told: contact them yourself if they need to know.",
                   "To change the time instead, go back and move the appointment."],
            button="Yes, cancel the appointment", button_id="confirm-cancel-appointment",
            back=back,
        ), 200
    stopped = appointments.cancel(db(), appt)
    record("appointment_cancelled", _ref(appt),
           f"{appt.test} on {_local(appt.at_dt)}: {stopped} reminders stopped")
    flash(f"The appointment is cancelled: {stopped} reminder{'s' if stopped != 1 else ''} "
          "will not be sent.", "info")
    return redirect(back)


@bp.post("/campaigns/<campaign_id>/appointments/<appointment_id>/reveal")
def campaign_reveal(campaign_id: str, appointment_id: str) -> Response:
    """Show a patient's full number; recorded in the audit trail."""
    c = _campaign(campaign_id)
    appt = _appointment(c, appointment_id)
    sessions.reveal(db(), g.session_token, _ref(appt), now())
    record("reveal_number", _ref(appt))
    if wants_json():
        return jsonify(number=appt.patient, display=national(appt.patient))
    back = safe_next(request.form.get("next"))
    return redirect(back or url_for("console.campaign", campaign_id=c.id)
                    + f"#appointment-{appt.id}")


# --- Texting everyone -----------------------------------------------------------------------


def recipients(c: pipeline.Campaign) -> tuple[int, int]:
    """(patients a one-off would go to, patients left out because they opted out)."""
    r = db()
    appts = Appointment.fetch_many(r, c.appointment_ids(r))
    numbers = list(dict.fromkeys(a.patient for a in appts if a.status != "cancelled"))
    out = sum(1 for n in numbers if records.is_opted_out(r, n))
    return len(numbers) - out, out


def describe(text: str) -> dict[str, Any]:
    """What a text costs and anything wrong with it, for the form and its live counter."""
    c = cost(text)
    others = list(dict.fromkeys(ch for ch in text if ch not in GSM7_ALL))
    private = is_private(text) if text else True
    summary = _cost_words(c.segments, c.encoding, others, len(text))
    if not private:
        summary += " The first line says what the appointment is for: keep it plain."
    return {
        "characters": len(text), "segments": c.segments, "encoding": c.encoding,
        "units": c.units, "others": others, "private": private, "summary": summary,
    }


def _cost_words(segments: int, encoding: str, others: list[str], characters: int) -> str:
    if not characters:
        return "Nothing written yet."
    words = (f"{characters} character{'s' if characters != 1 else ''}: "
             f"{segments} segment{'s' if segments != 1 else ''} per patient")
    if encoding != "GSM-7":
        shown = " ".join(others[:8])
        words += (f". These characters make every segment shorter (70 characters, not 160): "
                  f"{shown}. Plain quotes and dashes cost less")
    elif segments > 2:
        words += ". Long messages cost more and are harder to read on a phone"
    return words + "."


def _message_page(c: pipeline.Campaign, form: MessageForm, error: str = "",
                  status: int = 200) -> tuple[str, int]:
    count, opted_out = recipients(c)
    return render_template(
        "console/campaign_message.html", c=c, form=form, error=error, count=count,
        opted_out=opted_out, cost=describe(form.text.data or ""),
        can_send=c.status == "active",
    ), status


@bp.route("/campaigns/<campaign_id>/message", methods=["GET", "POST"])
def campaign_message(campaign_id: str) -> Response | tuple[str, int]:
    """Write a text and send it now to everyone in the campaign with an appointment."""
    c = _campaign(campaign_id)
    form = MessageForm(prefix="message")
    if request.method == "GET":
        return _message_page(c, form)
    if c.status != "active":
        return _message_page(c, form, "This campaign is not active, so nothing was sent.", 409)
    if not form.validate_on_submit():
        return _message_page(c, form, status=400)
    text = (form.text.data or "").strip().replace("\r\n", "\n")
    if not is_private(text):
        form.text.errors = [PRIVATE_FIRST_LINE]
        return _message_page(c, form, status=400)
    count, _ = recipients(c)
    if count == 0:
        return _message_page(c, form, "Nobody in this campaign can be texted: every "
                             "appointment is cancelled or the patients have opted out.", 409)
    r, who, ip, moment = db(), current_nurse().email, request.remote_addr or "", now()
    segments = cost(text).segments
    per_second = capacity()  # read here: the work may run on another thread

    def work(report: tasks.Reporter) -> tasks.Outcome:
        report.stage("Queueing the message", count)
        sent = pipeline.message(r, c, text, moment, report, per_second=per_second)
        audit.record(r, moment, who, "campaign_message", f"campaigns/{c.id}",
                     f"to {len(sent)} patients, {segments} segments each", ip=ip)
        return tasks.Outcome(f"The message is on its way to {len(sent):,} patient"
                             f"{'s' if len(sent) != 1 else ''} ({segments} segment"
                             f"{'s' if segments != 1 else ''} each).")

    return _run("message", f"Texting everyone in \u201c{c.name}\u201d", c, count > SYNC_LINES,
                work)


@bp.post("/campaigns/segments")
def campaign_segments() -> Response:
    """The cost of a draft text, for the live counter under the message box."""
    return jsonify(describe(request.form.get("text", "")[:5000]))
