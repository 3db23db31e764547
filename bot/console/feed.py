"""The hospital feed: every message received, what became of it, and trying a failed one again.

For the nurses and the integration engineer alike. Numbers in the kept messages are
masked here as everywhere on the console; the message text is shown, since a field in it
is usually what went wrong.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot.console.blueprint import bp, db, record
from bot.console.forms import ButtonForm
from bot.feeds import bookings, messages
from bot.feeds.replay import replay
from bot.masking import mask_text
from bot.web.clock import now

LIMIT = 200
SHOW = {"all": "All messages", "problems": "Failed, or not mapped to a test"}
STATUS = {
    "received": "Received (being applied, or stopped part way)",
    "applied": "Applied",
    "ignored": "Nothing to do",
    "failed": "Failed",
}


@bp.get("/feed")
def feed() -> tuple[str, int]:
    """Messages from the hospital's system, newest first, with counts and unmapped codes."""
    r = db()
    show = request.args.get("show", "all")
    show = show if show in SHOW else "all"
    found = messages.recent(r, LIMIT, problems=show == "problems")
    return render_template(
        "console/feed.html", rows=found, show=show, shows=SHOW, statuses=STATUS,
        counts=messages.counts(r), unmapped=messages.unmapped(r),
        no_mobile=r.scard(bookings.NO_MOBILE), form=ButtonForm(), campaign=bookings.CAMPAIGN,
    ), 200


@bp.get("/feed/<message_id>")
def feed_message(message_id: str) -> tuple[str, int]:
    """One message: its text (numbers masked), its outcome, and a button to try it again."""
    kept = messages.find(db(), message_id)
    if kept is None:
        abort(404)
    return render_template(
        "console/feed_message.html", m=kept, text=mask_text(kept.raw).replace("\r", "\n"),
        statuses=STATUS, form=ButtonForm(), campaign=bookings.CAMPAIGN,
    ), 200


@bp.post("/feed/<message_id>/replay")
def feed_replay(message_id: str) -> Response:
    """Apply a failed or unmapped message again, with the codes file as it is now."""
    r = db()
    kept = messages.find(r, message_id)
    if kept is None:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    if not kept.replayable:
        flash("That message was already applied; there is nothing to try again.", "info")
        return redirect(url_for("console.feed_message", message_id=kept.id))
    try:
        settings = bookings.current(current_app.config)
    except bookings.FeedError as exc:
        flash(f"The feed's settings cannot be used: {exc}", "error")
        return redirect(url_for("console.feed_message", message_id=kept.id))
    done = replay(r, settings, kept, now())
    record("feed_replayed", f"feed/{kept.id}", f"{kept.label} {kept.control_id}: {done.status}")
    if done.status == "failed":
        flash(f"Tried again and it failed: {done.error}", "error")
    else:
        flash(f"Tried again: {STATUS[done.status].lower()}. {done.note}", "info")
    return redirect(url_for("console.feed_message", message_id=kept.id))
