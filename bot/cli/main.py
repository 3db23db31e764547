"""The `supportline` command: run the stack, talk to the bot, triage, check content."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
from collections.abc import Iterator

import click

from bot import config, masking

# Project modules are imported inside each command, not here: `supportline triage` and `ask`
# must start without Flask, Redis, the console or textstat (see _LazyGroup below).


def _lines(text: str | None) -> Iterator[str]:
    """TEXT if given, else one message per line of standard input."""
    if text is not None:
        yield text
        return
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line.strip():
            yield line


class _LazyGroup(click.Group):
    """A command group whose heavier subgroups are imported only when one is run.

    `triage` and `ask` then start without the console, its password hashing and the
    campaign importer (click's documented pattern for lazy subcommands).
    """

    lazy = {
        "campaign": ("bot.cli.campaign", "campaign"),
        "nurse": ("bot.cli.nurse", "nurse"),
        "retention": ("bot.cli.retention", "retention_group"),
        "feed": ("bot.cli.feed", "feed"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, the lazy ones included."""
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing its module first if it is one of the lazy ones."""
        if cmd_name in self.lazy:
            module, name = self.lazy[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), name)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Text and phone support line for people living with secondary breast cancer."""
    masking.install()


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address the web app listens on."
)
@click.option("--port", default=5000, show_default=True, help="Port the web app listens on.")
def run(host: str, port: int) -> None:
    """Run the whole stack: Redis (embedded unless REDIS_URL), the web app and a worker."""
    from bot.dev.runner import run_stack

    sys.exit(run_stack(host, port))


@main.command()
@click.option(
    "--from",
    "number",
    default="+447700900123",
    show_default=True,
    help="The phone number to text as (use Ofcom's drama range).",
)
def chat(number: str) -> None:
    """Text the bot from the terminal, as one phone number, through the signed webhook."""
    from bot.dev.localclient import LocalPhone

    phone = LocalPhone.in_process(number)
    click.echo(f"Texting the support line as {number}. Ctrl-D or Ctrl-C to stop.\n")
    while True:
        try:
            text = input("you> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        for reply in phone.send(text):
            click.echo(f"bot> {reply.replace(chr(10), chr(10) + '     ')}\n")


@main.command()
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per message.")
def ask(text: str | None, as_json: bool) -> None:
    """One fresh-conversation turn: the topic, triage and reply the bot would give.

    With no TEXT, reads one message per line from standard input.
    """
    from bot.deployment import context
    from flows.conversation import Conversation
    from flows.engine import step
    from flows.gsm import cost

    settings = config.load()
    for message in _lines(text):
        turn = step(Conversation(), message, context(settings))
        reply = "\n".join(turn.messages)
        # Each text is sent (and paid for) on its own: an answer and its safety line are two.
        costs = [cost(m) for m in turn.messages] or [cost("")]
        segments = sum(c.segments for c in costs)
        encoding = "GSM-7" if all(c.encoding == "GSM-7" for c in costs) else "UCS-2"
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "topic": turn.topic,
                        "triage": turn.triage.level,
                        "reply": reply,
                        "segments": segments,
                        "encoding": encoding,
                    }
                )
            )
        else:
            click.echo(
                f"[topic={turn.topic} triage={turn.triage.level} "
                f"segments={segments} {encoding}]\n{reply}\n"
            )


@main.command()
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per message.")
def triage(text: str | None, as_json: bool) -> None:
    """How urgently a message needs a person: emergency, urgent, same_day or none.

    With no TEXT, reads one message per line from standard input.
    """
    from flows.triage import assess

    for message in _lines(text):
        result = assess(message)
        if as_json:
            click.echo(json.dumps(result.to_dict()))
        else:
            click.echo(f"{result.level}: {result.reason}")


@main.group()
def content() -> None:
    """Check what the bot says."""


@content.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print every text as JSON.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Check review dates as of this day (default: today).",
)
def content_check(as_json: bool, today: dt.datetime | None) -> None:
    """Every text the bot can send: encoding, segments, reading level, review dates.

    Exits 1 if any text breaks a rule.
    """
    from bot.deployment import directory_for
    from flows.catalogue import entries
    from flows.knowledge import default_knowledge
    from flows.triage import default_rulebook

    day = today.date() if today else dt.date.today()
    # The deployment's own directory, so the texts checked carry its numbers and hours.
    try:
        directory = directory_for(config.load())
    except ValueError as exc:
        raise click.ClickException(f"NURSE_HOURS: {exc}") from None
    checked = [e.check(day) for e in entries(default_knowledge(), default_rulebook(), directory)]
    breaches = [c for c in checked if c["breaches"]]
    warnings = [
        f"{line.name}: patients are told the shipped hours ({line.describe_hours()}); "
        "set NURSE_HOURS to the team's own"
        for line in directory.placeholders()
    ]
    if as_json:
        click.echo(
            json.dumps(
                {"texts": checked, "breaches": len(breaches), "warnings": warnings}, indent=1
            )
        )
    else:
        for c in checked:
            mark = "FAIL" if c["breaches"] else "ok  "
            click.echo(
                f"{mark} {c['channel']:<5} {c['encoding']:<5} {c['segments']}seg "
                f"grade {c['reading_grade']:>4} due {c['review_due'] or '-':<10} "
                f"{c['source']}" + (f"  <- {'; '.join(c['breaches'])}" if c["breaches"] else "")
            )
        sms_count = sum(1 for c in checked if c["channel"] == "sms")
        click.echo(f"\n{len(checked)} texts ({sms_count} SMS), {len(breaches)} with breaches")
        for warning in warnings:
            click.echo(f"WARN {warning}")
    sys.exit(1 if breaches else 0)
