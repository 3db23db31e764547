"""`supportline campaign ...`: nurses' reminder campaigns from the terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import redis

from bot import config
from bot.masking import mask

# The pipeline's modules are imported inside each command: `supportline --help` and the
# light commands load this group without RQ, the importer or the content.

PROGRESS_AFTER = 200  # rows or patients: below this the work is done in a blink


def _settings() -> dict[str, Any]:
    return config.load()


def _redis(settings: dict[str, Any]) -> redis.Redis:
    """REDIS_URL, else the embedded server (started here and stopped at exit if needed)."""
    from bot.store.client import connect, url

    return connect(url(settings))


def _tz(settings: dict[str, Any]) -> ZoneInfo:
    return config.clinic_tz(settings)


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _progress(label: str, total: int, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on standard error for work of more than a moment."""
    if quiet or total < PROGRESS_AFTER:
        yield lambda done, total: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        seen = 0

        def update(done: int, total: int) -> None:
            nonlocal seen
            bar.update(done - seen)
            seen = done

        yield update


def _out(data: Any) -> None:
    click.echo(json.dumps(data, indent=1))


@click.group()
def campaign() -> None:
    """Reminder campaigns: import, list, show, cancel, message."""


@campaign.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="A name the nurses will recognise.")
@click.option("--dry-run", is_flag=True, help="Check and print the plan; schedule nothing.")
@click.option("--by", "created_by", default="", help="Who is importing (for the record).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--over-capacity", is_flag=True,
              help="Schedule even when some texts cannot go out before their latest "
                   "useful moment within the sending capacity.")
def import_(file: Path, name: str, dry_run: bool, created_by: str, as_json: bool,
            over_capacity: bool) -> None:
    """Import FILE.csv (phone,test,appointment[,location,name]) and schedule its reminders.

    Every row is checked first; if any is bad, each is reported with its line number and
    nothing from the file is scheduled (exit status 1). Texts are spread within the
    sending capacity (SMS_PER_SECOND times SMS_SENDERS), counting what other campaigns
    already have scheduled; if some cannot go in time, nothing is scheduled (exit status
    1) unless --over-capacity is given.
    """
    from bot.outbound import campaigns, importer
    from bot.outbound.appointments import quiet_hours

    settings = _settings()
    tz = _tz(settings)
    quiet = quiet_hours(settings)
    data = file.read_bytes()
    lines = data.count(b"\n")
    with _progress("Checking rows", lines, as_json) as progress:
        checked = importer.check(data, tz, _now(), quiet, progress,
                                 calling=config.calling(settings))
    capacity = None
    made = None
    if checked.ok:
        r = _redis(settings)
        try:
            with campaigns.planning_lock(r):
                rows, capacity = campaigns.spread(
                    r, checked.rows, config.send_capacity(settings), tz, quiet,
                    call_hours=config.calling(settings).hours)
                checked.rows = rows
                if not dry_run and (capacity.fits or over_capacity):
                    with _progress("Scheduling", len(rows), as_json) as progress:
                        made = campaigns.create(r, name, rows, _now(), created_by, progress)
        except campaigns.PlanningBusy as exc:
            raise click.ClickException(
                "Another campaign has been scheduling for 15 minutes; nothing was scheduled. "
                "Try again when it has finished."
            ) from exc
    report = importer.to_json(checked, tz, capacity, calling=config.calling(settings))
    report = {"campaign": made.id if made else None, "name": name, "dry_run": dry_run,
              "scheduled": made.reminders if made else 0, **report}
    if as_json:
        _out(report)
    else:
        _print_import(report)
    sys.exit(0 if checked.ok and (made is not None or dry_run) else 1)


def _print_import(report: dict[str, Any]) -> None:
    for p in report["patients"]:
        click.echo(f"line {p['line']}: {p['phone']} {p['test']} at {p['appointment']}")
        for rem in p["reminders"]:
            note = f"  ({rem['note']})" if rem.get("note") else ""
            click.echo(f"  {rem['send_at']}  {rem['segments']} seg {rem['encoding']}{note}")
            click.echo("    " + rem["text"].replace("\n", "\n    "))
        for skip in p["skipped"]:
            click.echo(f"  not sent: {skip['kind']}: {skip['reason']}")
    for e in report["errors"]:
        click.echo(f"line {e['line']}: {e['error']}", err=True)
    n = len(report["patients"])
    capacity = report.get("capacity")
    if capacity:
        _print_capacity(capacity)
    if report["errors"]:
        click.echo(
            f"\n{len(report['errors'])} bad rows: nothing was scheduled. "
            "Fix them and import again.",
            err=True,
        )
    elif capacity and not capacity["fits"] and not report["campaign"] and not report["dry_run"]:
        click.echo(
            "\nNothing was scheduled: some texts cannot go out in time within the sending "
            "capacity. Split the campaign, add senders (SMS_SENDERS), or import with "
            "--over-capacity to schedule it anyway.",
            err=True,
        )
    elif report["dry_run"]:
        click.echo(
            f"\nDry run: {n} patients, {report['segments_total']} segments; nothing scheduled."
        )
    else:
        click.echo(
            f"\nCampaign {report['campaign']} ({report['name']}): {n} patients, "
            f"{report['scheduled']} reminder{'s' if report['scheduled'] != 1 else ''} scheduled, "
            f"{report['segments_total']} segments."
        )


def _print_capacity(capacity: dict[str, Any]) -> None:
    """The spread: texts an hour against what the line can send, and any warning."""
    if not capacity["per_second"]:
        click.echo("\nSending capacity: no limit set (SMS_PER_SECOND is 0); nothing spread.")
        return
    click.echo(
        f"\nSending capacity: {capacity['per_second']:g} texts a second "
        f"({capacity['per_minute']:,} a minute), shared with campaigns already scheduled."
    )
    click.echo(f"  {'hour':<25} {'texts':>7} {'others':>7}")
    for h in capacity["hours"]:
        click.echo(f"  {h['hour']:<25} {h['texts']:>7,} {h['others']:>7,}")
    click.echo(
        f"  {capacity['moved']:,} of {capacity['texts']:,} texts go a minute or more later "
        f"than their usual moment to share the sending (at most "
        f"{capacity['latest_minutes']:,} minutes); "
        f"busiest minute {capacity['peak_per_minute']:,} texts."
    )
    over = capacity["over_capacity"]
    if over:
        numbers = list(dict.fromkeys(o["line"] for o in over))
        lines = ", ".join(str(n) for n in numbers[:20])
        if len(numbers) > 20:
            lines += f" and {len(numbers) - 20} more"
        click.echo(
            f"WARNING: {len(over):,} texts cannot go out before their latest useful moment "
            f"within the sending capacity (lines {lines}).",
            err=True,
        )


@campaign.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """Every campaign, newest first, with its reminders' status counts."""
    from bot.outbound import campaigns

    r = _redis(_settings())
    rows = []
    for c in campaigns.all_campaigns(r):
        rows.append({**c.to_dict(), "counts": campaigns.detail(r, c).counts()})
    if as_json:
        _out({"campaigns": rows})
        return
    if not rows:
        click.echo("No campaigns yet. Import one: supportline campaign import FILE --name NAME")
    for row in rows:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(row["counts"].items()))
        click.echo(
            f"{row['id']}  {row['status']:<9} {row['name']}  "
            f"({row['patients']} patients; {counts})"
        )


def _find(r: redis.Redis, campaign_id: str) -> Any:
    from bot.outbound import campaigns

    found = campaigns.find(r, campaign_id)
    if found is None:
        raise click.ClickException(f"no campaign {campaign_id!r}; see: supportline campaign list")
    return found


@campaign.command("show")
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(campaign_id: str, as_json: bool) -> None:
    """One campaign: each appointment and each reminder with its status."""
    from bot.outbound import campaigns

    settings = _settings()
    tz = _tz(settings)
    r = _redis(settings)
    detail = campaigns.detail(r, _find(r, campaign_id))
    data = {
        **detail.campaign.to_dict(),
        "counts": detail.counts(),
        "appointments": [
            {**a.to_dict(), "reminders": [x.to_dict() for x in detail.reminders[a.id]]}
            for a in detail.appointments
        ],
        "messages": [x.to_dict() for x in detail.messages],
    }
    if as_json:
        _out(data)
        return
    c = detail.campaign
    click.echo(f"{c.name} ({c.id}), {c.status}, made {c.created_at} by {c.created_by or '-'}")
    for a in detail.appointments:
        local = a.at_dt.astimezone(tz).strftime("%a %d %b %Y %H:%M")
        click.echo(f"\n{mask(a.patient)}  {a.test} {local} at {a.location}  [{a.status}]")
        for x in detail.reminders[a.id]:
            when = x.send_at_dt.astimezone(tz).strftime("%a %d %b %H:%M")
            extra = f"  {x.error}" if x.error else ""
            click.echo(f"  {when}  {x.kind:<28} {x.status}{extra}")
    for x in detail.messages:
        click.echo(f"\nmessage to {mask(x.to)}: {x.status}  {x.body[:60]}")


@campaign.command("cancel")
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cancel(campaign_id: str, as_json: bool) -> None:
    """Cancel a campaign: none of its pending reminders will be sent."""
    from bot.outbound import campaigns

    r = _redis(_settings())
    found = _find(r, campaign_id)
    n = len(found.appointment_ids(r))
    with _progress("Cancelling", n, as_json) as progress:
        stopped = campaigns.cancel(r, found, progress)
    if as_json:
        _out({"campaign": found.id, "status": found.status, "cancelled_reminders": stopped})
    else:
        click.echo(
            f"Campaign {found.id} cancelled: {stopped} pending "
            f"reminder{'s' if stopped != 1 else ''} will not be sent."
        )


@campaign.command("message")
@click.argument("campaign_id")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def message(campaign_id: str, text: str, as_json: bool) -> None:
    """Text every active patient in a campaign now (opted-out patients are left out)."""
    from bot.outbound import campaigns
    from flows.gsm import cost
    from flows.reminders import PlanError, check_private

    settings = _settings()
    r = _redis(settings)
    found = _find(r, campaign_id)
    if found.status != "active":
        raise click.ClickException(f"campaign {found.id} is {found.status}; nothing was sent")
    if not text.strip():
        raise click.ClickException("the message is empty")
    c = cost(text)
    try:
        check_private(text)  # before the progress bar, so a refusal reads cleanly
        with _progress("Queueing", len(found.appointment_ids(r)), as_json) as progress:
            sent = campaigns.message(r, found, text, _now(), progress,
                                     per_second=config.send_capacity(settings))
    except PlanError as exc:
        raise click.ClickException(f"{exc} Nothing was sent.") from None
    if as_json:
        _out({
            "campaign": found.id, "queued": len(sent), "segments": c.segments,
            "encoding": c.encoding, "messages": [x.id for x in sent],
        })
    else:
        click.echo(
            f"Queued to {len(sent)} patients ({c.segments} segments each, {c.encoding})."
        )
