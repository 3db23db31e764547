"""`supportline retention`: purge or anonymise what the line no longer needs to keep."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from bot import config
from bot.store import client, retention


@click.group()
def retention_group() -> None:
    """What the line keeps about patients, and for how long (RETENTION_DAYS)."""


@retention_group.command("purge")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Keep this many days (default RETENTION_DAYS, else 400).")
@click.option("--anonymise", is_flag=True,
              help="Keep the records, with numbers masked and free text removed.")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def purge(days: int | None, anonymise: bool, dry_run: bool, as_json: bool) -> None:
    """Purge resolved alerts and call-backs, and finished campaigns, older than DAYS.

    Open alerts and call-backs and every opt-out are kept whatever their age.
    """
    keep = days or retention.days(config.load())
    with client.cli_redis() as r:
        report = retention.purge(
            r, datetime.now(UTC), keep, anonymise=anonymise, dry_run=dry_run
        )
    if as_json:
        click.echo(json.dumps({"days": keep, "anonymise": anonymise, "dry_run": dry_run,
                               **report.to_dict()}))
        return
    verb = "Would " + ("anonymise" if anonymise else "purge") if dry_run else (
        "Anonymised" if anonymise else "Purged")
    counts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in report.to_dict().items())
    click.echo(f"{verb} older than {keep} days: {counts}.")
