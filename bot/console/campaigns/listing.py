"""Campaigns: the list, and a new campaign from a file or one patient, previewed first.

Nothing is scheduled until the nurse has seen every text with its send time and cost and
pressed Schedule; a file with any bad row is reported by line number and nothing from
it is kept. Big files are checked and imported on a background thread with a progress
bar; small ones (and the tests' client) are done within the request.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot import config
from bot.console import audit
from bot.console.blueprint import bp, clinic_tz, current_nurse, db, record
from bot.console.campaigns import tasks, uploads
from bot.console.campaigns.forms import SingleForm, UploadForm, test_titles
from bot.console.campaigns.shared import (
    CAMPAIGN_STATUS,
    REMINDER_STATUS,
    SYNC_LINES,
    SYNC_WAIT,
    calling,
    capacity,
    kind_label,
    quiet,
)
from bot.console.forms import ButtonForm
from bot.masking import mask
from bot.outbound import campaigns as pipeline
from bot.web.clock import clock, now
from flows import reminder_call
from flows.engine import Context
from flows.reminders import PlanError, format_date, texts_for

PREVIEW_PAGE = 50  # patients per page of the preview, each with all their texts
LIST_LIMIT = 200
WORKBOOK = b"PK\x03\x04"  # an .xlsx file is a zip archive


# --- The list ---------------------------------------------------------------------------


@bp.get("/campaigns")
def campaigns() -> str:
    """Every campaign, newest first, with how many of its texts are in each status."""
    r = db()
    rows = [(c, pipeline.detail(r, c).counts()) for c in pipeline.all_campaigns(r, LIST_LIMIT)]
    return render_template(
        "console/campaigns.html", rows=rows, statuses=REMINDER_STATUS,
        campaign_status=CAMPAIGN_STATUS,
    )


# --- New: upload or one patient ----------------------------------------------------------


def _new_page(upload_form: UploadForm, single_form: SingleForm, status: int = 200,
              error: str = "", which: str = "") -> tuple[str, int]:
    return render_template(
        "console/campaign_new.html", upload_form=upload_form, single_form=single_form,
        error=error, which=which, sync_lines=SYNC_LINES, max_mb=uploads.MAX_BYTES // 2**20,
        tests=test_titles(),
    ), status


@bp.get("/campaigns/new")
def campaign_new() -> tuple[str, int]:
    """The two ways to start a campaign."""
    return _new_page(UploadForm(prefix="upload"), SingleForm(prefix="single"))


@bp.post("/campaigns/new/file")
def campaign_upload() -> Response | tuple[str, int]:
    """Keep the uploaded file, check it, and show the preview (or the progress of checking)."""
    form = UploadForm(prefix="upload")
    if not form.validate_on_submit():
        return _new_page(form, SingleForm(prefix="single", formdata=None), 400, which="upload")
    storage = form.file.data
    data = storage.stream.read(uploads.MAX_BYTES + 1)
    if len(data) > uploads.MAX_BYTES:
        form.file.errors = [f"The file is bigger than {uploads.MAX_BYTES // 2**20} MB. "
                            "Split it into smaller files."]
        return _new_page(form, SingleForm(prefix="single", formdata=None), 400, which="upload")
    if data.startswith(WORKBOOK):
        form.file.errors = ["This is an Excel workbook, not a CSV file. In Excel choose "
                            "File, Save As, and pick \u201cCSV UTF-8\u201d, then upload that."]
        return _new_page(form, SingleForm(prefix="single", formdata=None), 400, which="upload")
    text, note = uploads.decode(data)
    filename = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:120]
    upload = uploads.new(current_nurse().email, form.name.data.strip(), now(), "file",
                         filename, note)
    uploads.save(db(), upload, text)
    record("campaign_upload", f"uploads/{upload.id}",
           f"{filename or 'a file'}: {upload.lines} lines, for {upload.name!r}")
    if upload.lines <= SYNC_LINES:
        uploads.check(db(), upload, clinic_tz(), now(), quiet(), capacity(), calling=calling())
        return redirect(url_for("console.campaign_preview", token=upload.id))
    return _check_in_background(upload)


def _check_in_background(upload: uploads.Upload) -> Response:
    r, tz, moment, q, per_second = db(), clinic_tz(), now(), quiet(), capacity()
    terms = calling()
    uploads.move(r, upload.id, "new", "checking")
    task = tasks.new(r, upload.by, "check", f"Checking \u201c{upload.name}\u201d", upload.id,
                     moment)
    r.hset(upload.key, "task", task.id)

    def work(report: tasks.Reporter) -> tasks.Outcome:
        try:
            report.stage("Checking rows", upload.lines)
            checked = uploads.check(r, upload, tz, moment, q, per_second, progress=report,
                                    store_progress=_staged(report, "Preparing the preview", 0),
                                    calling=terms)
        except Exception:
            uploads.discard(r, upload.id)
            raise
        if checked.errors:
            return tasks.Outcome(f"{len(checked.errors)} rows have problems. "
                                 "Nothing was scheduled.")
        return tasks.Outcome("The file is checked. Look through the plan before you "
                             "schedule it.")

    tasks.start(current_app._get_current_object(), r, task, work, clock())  # type: ignore[attr-defined]
    return redirect(url_for("console.campaign_task", task_id=task.id))


def single_csv(form: SingleForm) -> str:
    """One patient's form as a campaign file, so it is checked exactly as a file is."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["phone", "test", "appointment", "location", "name"])
    when = f"{form.date.data.isoformat()} {form.time.data.strftime('%H:%M')}"
    w.writerow([form.phone.data.strip(), form.test.data, when,
                (form.place.data or "").strip(), (form.patient_name.data or "").strip()])
    return out.getvalue()


@bp.post("/campaigns/new/patient")
def campaign_single() -> Response | tuple[str, int]:
    """One patient's appointment: checked at once, then the same preview as a file."""
    form = SingleForm(prefix="single")
    blank_upload = UploadForm(prefix="upload", formdata=None)
    if not form.validate_on_submit():
        return _new_page(blank_upload, form, 400, which="single")
    tz = clinic_tz()
    name = (form.name.data or "").strip() or (
        f"{test_titles()[form.test.data]}, "
        f"{format_date(datetime.combine(form.date.data, form.time.data, tz), tz)}: one patient"
    )
    upload = uploads.new(current_nurse().email, name, now(), "single")
    r = db()
    uploads.save(r, upload, single_csv(form))
    checked = uploads.check(r, upload, tz, now(), quiet(), capacity(), calling=calling())
    if checked.errors:
        uploads.discard(r, upload.id)
        problems = "; ".join(str(e["error"]) for e in checked.errors)
        return _new_page(blank_upload, form, 400, error=_sentence(problems), which="single")
    record("campaign_upload", f"uploads/{upload.id}", f"one patient, for {upload.name!r}")
    return redirect(url_for("console.campaign_preview", token=upload.id))


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else text


# --- Preview and confirm ------------------------------------------------------------------


def _upload_or_gone(token: str) -> uploads.Upload | tuple[str, int]:
    found = uploads.find(db(), token, current_nurse().email)
    if found is None:
        return render_template("console/campaign_gone.html"), 404
    return found


def preview_rows(items: list[dict[str, Any]], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Checked rows with each reminder's words, as the preview shows them."""
    titles = test_titles()
    out = []
    for item in items:
        at = datetime.fromisoformat(item["at"])
        try:
            texts = texts_for(item["test"], at, item["location"], tz, name=item["name"] or None)
            problem = ""
        except PlanError as exc:  # the content changed since the check: say so, plainly
            texts, problem = {}, str(exc)
        reminders = [{**x, "label": kind_label(x["kind"]),
                      "text": texts.get(x["kind"].partition(":")[2], "")}
                     for x in item["reminders"]]
        if item.get("channel") == "call":
            reminders = [_as_call(item, x, at, tz) for x in reminders]
        skipped = [{**x, "label": kind_label(x["kind"])} for x in item["skipped"]]
        out.append({**item, "masked": mask(item["phone"]), "title": titles.get(item["test"],
                    item["test"]), "reminders": reminders, "skipped": skipped,
                    "problem": problem})
    return out


def _as_call(item: dict[str, Any], reminder: dict[str, Any], at: datetime,
             tz: ZoneInfo) -> dict[str, Any]:
    """A landline's reminder in the preview: the words it speaks and an estimated cost."""
    ctx = Context.default(now(), tz)
    about = reminder_call.Reminder(
        appointment="", test=item["test"], at=at, location=item["location"],
        kind=reminder["kind"], name=item["name"], number=ctx.directory["nurse"].number or "")
    try:
        words = reminder_call.script(about, ctx)
    except PlanError as exc:
        return {**reminder, "channel": "call", "text": "", "spoken": f"({exc})"}
    billed, cost = reminder_call.estimate(words, calling().price_per_minute)
    return {**reminder, "channel": "call", "text": "", "spoken": " ".join(words),
            "minutes": billed, "cost": f"{cost:.2f}"}


@bp.get("/campaigns/uploads/<token>")
def campaign_preview(token: str) -> Response | tuple[str, int]:
    """Every text the file would send, with send times and cost; or its bad rows."""
    found = _upload_or_gone(token)
    if not isinstance(found, uploads.Upload):
        return found
    upload = found
    if upload.state == "imported" and upload.campaign:
        return redirect(url_for("console.campaign", campaign_id=upload.campaign))
    if upload.state in ("new", "checking", "importing"):
        task_id = db().hget(upload.key, "task")
        if task_id:
            return redirect(url_for("console.campaign_task", task_id=task_id))
        return render_template("console/campaign_gone.html"), 404
    pages = max(1, -(-upload.appointments // PREVIEW_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    start = (page - 1) * PREVIEW_PAGE
    items = uploads.rows(db(), token, start, PREVIEW_PAGE) if upload.ok else []
    return render_template(
        "console/campaign_preview.html", upload=upload, rows=preview_rows(items, clinic_tz()),
        calling=calling(),
        page=page, pages=pages, start=start, form=ButtonForm(), errors=upload.error_list,
    ), 200 if upload.ok else 422


@bp.post("/campaigns/uploads/<token>/discard")
def campaign_discard(token: str) -> Response | tuple[str, int]:
    """Forget an upload without scheduling anything."""
    found = _upload_or_gone(token)
    if not isinstance(found, uploads.Upload):
        return found
    if found.state in ("checking", "importing"):
        flash("This file is being worked on and cannot be discarded now.", "info")
        return redirect(url_for("console.campaign_preview", token=token))
    if found.state != "imported":
        uploads.discard(db(), token)
        record("campaign_discard", f"uploads/{token}", found.name)
        flash(f"\u201c{found.name}\u201d was discarded. Nothing was scheduled.", "info")
    return redirect(url_for("console.campaign_new"))


def _created_message(c: pipeline.Campaign) -> str:
    return (f"\u201c{c.name}\u201d is scheduled: {c.reminders:,} reminders to {c.patients:,} "
            f"patient{'s' if c.patients != 1 else ''}, {c.segments:,} segments in all.")


@bp.post("/campaigns/uploads/<token>/confirm")
def campaign_confirm(token: str) -> Response | tuple[str, int]:
    """Schedule what the preview showed, after checking the file once more."""
    found = _upload_or_gone(token)
    if not isinstance(found, uploads.Upload):
        return found
    upload = found
    r = db()
    if not upload.ok or not uploads.move(r, token, "checked", "importing"):
        # Already scheduled (a second click), being scheduled, or not schedulable.
        return redirect(url_for("console.campaign_preview", token=token))
    tz, moment, q, who, ip = clinic_tz(), now(), quiet(), upload.by, request.remote_addr or ""
    if upload.lines > SYNC_LINES:
        task = tasks.new(r, who, "import", f"Scheduling \u201c{upload.name}\u201d", token, moment)
        r.hset(upload.key, "task", task.id)
        tasks.start(current_app._get_current_object(), r, task,  # type: ignore[attr-defined]
                    _import_work(r, upload, tz, moment, q, capacity(), ip, calling=calling()),
                    clock())
        return redirect(url_for("console.campaign_task", task_id=task.id))
    task = tasks.new(r, who, "import", f"Scheduling \u201c{upload.name}\u201d", token, moment)
    r.hset(upload.key, "task", task.id)  # a second click meanwhile is shown this task
    # In the request itself: wait seconds, not minutes, for another import to finish.
    outcome = tasks.execute(
        r, task, _import_work(r, upload, tz, moment, q, capacity(), ip, wait=SYNC_WAIT,
                             calling=calling()), clock()
    )
    if outcome.state == "done" and outcome.result:
        flash(outcome.message, "info")
        return redirect(url_for("console.campaign", campaign_id=outcome.result))
    if outcome.state == "failed":  # a changed plan is explained on the preview itself
        flash(outcome.message, "error")
    return redirect(url_for("console.campaign_preview", token=token))


def _import_work(r: Any, upload: uploads.Upload, tz: ZoneInfo, moment: datetime, q: Any,
                 per_second: float, ip: str, wait: float = 900.0, *,
                 calling: config.Calling) -> tasks.Work:
    """Check the file again and create the campaign; audited as the nurse who confirmed."""

    def work(report: tasks.Reporter) -> tasks.Outcome:
        report.stage("Checking the file again", upload.lines)
        try:
            done = uploads.import_checked(
                r, upload, tz, moment, q, per_second, check_progress=report,
                import_progress=_staged(report, "Scheduling reminders", upload.appointments),
                wait=wait, calling=calling,
            )
        except Exception:
            uploads.move(r, upload.id, "importing", "checked")  # let the nurse try again
            raise
        if done.campaign is None:
            return tasks.Outcome(done.problem)
        c = done.campaign
        audit.record(r, moment, upload.by, "campaign_created", f"campaigns/{c.id}",
                     f"{c.name!r}: {c.patients} patients, {c.reminders} reminders, "
                     f"{c.segments} segments", ip=ip)
        return tasks.Outcome(_created_message(c), result=c.id)

    return work


def _staged(report: tasks.Reporter, words: str, total: int) -> uploads.Progress:
    """A progress callback that starts its own stage on first use."""
    started = False

    def progress(done: int, of: int) -> None:
        nonlocal started
        if not started:
            started = True
            report.stage(words, total)
        report(done, of)

    return progress


# --- Background work ------------------------------------------------------------------------


def task_next(task: tasks.Task) -> str:
    """Where the nurse goes when a task has finished."""
    if task.kind == "check":
        return url_for("console.campaign_preview", token=task.ref)
    if task.kind == "import":
        if task.result:
            return url_for("console.campaign", campaign_id=task.result)
        return url_for("console.campaign_preview", token=task.ref)
    return url_for("console.campaign", campaign_id=task.ref)


def _task_or_404(task_id: str) -> tasks.Task:
    found = tasks.find(db(), task_id, current_nurse().email)
    if found is None:
        abort(404)
    return found


def progress_text(task: tasks.Task) -> str:
    """Where the work has got to, in words (shown and read out)."""
    if task.state != "running":
        return task.message
    if not task.total:
        return f"{task.stage}\u2026"
    return f"{task.stage}: {task.done:,} of {task.total:,} ({task.percent}%)"


@bp.get("/campaigns/tasks/<task_id>")
def campaign_task(task_id: str) -> Response | tuple[str, int]:
    """The progress bar for a big file; when the work is done, on to what it made."""
    task = _task_or_404(task_id)
    if task.state == "done":
        if task.kind != "import" or task.result:  # else the preview itself says what changed
            flash(task.message, "info")
        return redirect(task_next(task))
    stalled = task.stalled(now())
    return render_template("console/campaign_task.html", task=task, text=progress_text(task),
                           next_url=task_next(task), stalled=stalled), 200


@bp.get("/campaigns/tasks/<task_id>/progress")
def campaign_task_progress(task_id: str) -> Response:
    """How far a task has got, for the page's script to show."""
    task = _task_or_404(task_id)
    return jsonify(
        state=task.state, stage=task.stage, done=task.done, total=task.total,
        percent=task.percent, text=progress_text(task), stalled=task.stalled(now()),
        next=task_next(task), page=url_for("console.campaign_task", task_id=task.id),
    )

