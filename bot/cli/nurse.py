"""`supportline nurse`: accounts for the nurse console, from the terminal."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from bot.console import accounts, lockout
from bot.store import client


def _checked(password: str) -> str:
    problem = accounts.password_problem(password)
    if problem:
        raise click.BadParameter(problem)
    return password


def _ask_password() -> str:
    value: str = click.prompt(
        "Password", hide_input=True, confirmation_prompt="Password again", value_proc=_checked
    )
    return value


@click.group()
def nurse() -> None:
    """Accounts for the nurse console."""


@nurse.command("add")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Can add nurses and read the audit trail.")
def add(email: str, admin: bool) -> None:
    """Add a nurse who signs in with EMAIL; asks for the password twice."""
    normal = accounts.normalise_email(email)
    if normal is None:
        raise click.BadParameter(f"{email!r} is not an email address.", param_hint="EMAIL")
    with client.cli_redis() as r:
        if accounts.get(r, normal):
            raise click.ClickException(f"There is already an account for {normal}.")
        password = _ask_password()
        try:
            accounts.add(r, normal, password, admin=admin, at=datetime.now(UTC))
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from exc
    role = "administrator" if admin else "nurse"
    click.echo(f"Added {normal} ({role}). They can sign in at /console/login.")


@nurse.command("password")
@click.argument("email")
def password(email: str) -> None:
    """Set a new password for EMAIL (this also lifts a lockout)."""
    normal = accounts.normalise_email(email) or email
    with client.cli_redis() as r:
        if not accounts.get(r, normal):
            raise click.ClickException(f"There is no account for {normal}.")
        accounts.set_password(r, normal, _ask_password())
        lockout.clear(r, normal)
    click.echo(f"New password set for {normal}.")


@nurse.command("list")
def list_nurses() -> None:
    """Everyone who can sign in."""
    with client.cli_redis() as r:
        people = accounts.everyone(r)
    for p in people:
        click.echo(f"{p.email}{'  (administrator)' if p.admin else ''}")
    if not people:
        click.echo("No accounts yet: add one with `.venv/bin/supportline nurse add EMAIL --admin`.")
