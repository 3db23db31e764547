"""For administrators: nurse accounts and the audit trail."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot.console import accounts, audit
from bot.console.blueprint import admin_required, bp, current_nurse, db, record
from bot.console.forms import AddNurseForm
from bot.web.clock import now

AUDIT_PAGE = 100


@bp.route("/nurses", methods=["GET", "POST"])
@admin_required
def nurses() -> Response | tuple[str, int]:
    """Everyone who can sign in, and a form to add a nurse."""
    form = AddNurseForm()
    error = ""
    if form.validate_on_submit():
        try:
            added = accounts.add(
                db(),
                form.email.data or "",
                form.password.data or "",
                admin=bool(form.admin.data),
                at=now(),
                by=current_nurse().email,
            )
        except accounts.AccountError as exc:
            error = str(exc)
        else:
            record("nurse_added", added.email, "administrator" if added.admin else "nurse")
            flash(f"Added {added.email}. They can sign in now.", "info")
            return redirect(url_for("console.nurses"))
    status = 400 if (error or form.errors) else 200
    html = render_template(
        "console/nurses.html",
        form=form,
        error=error,
        people=accounts.everyone(db()),
        min_password=accounts.MIN_PASSWORD,
    )
    return html, status


@bp.get("/audit")
@admin_required
def audit_trail() -> str:
    """The audit trail, newest first, a page at a time."""
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    r = db()
    found = audit.entries(r, (page - 1) * AUDIT_PAGE, AUDIT_PAGE)
    pages = max(1, -(-audit.size(r) // AUDIT_PAGE))
    return render_template("console/audit.html", entries=found, page=page, pages=pages)
