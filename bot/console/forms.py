"""The console's forms (Flask-WTF): each carries a CSRF token and labels for every field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length

from bot.console.accounts import MAX_EMAIL, MAX_PASSWORD

NOTE_MAX = 2000


class LoginForm(FlaskForm):  # type: ignore[misc]
    """Sign in with email and password."""

    email = StringField("Email", validators=[DataRequired("Enter your email."),
                                             Length(max=MAX_EMAIL)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."),
                                                     Length(max=MAX_PASSWORD)])


class ButtonForm(FlaskForm):  # type: ignore[misc]
    """A form that is only a button (sign out, acknowledge, reveal): the token is its content."""


class ResolveForm(FlaskForm):  # type: ignore[misc]
    """Close an alert or call-back request with a note of what was done."""

    note = TextAreaField(
        "What was done",
        validators=[DataRequired("Write a note of what was done before resolving."),
                    Length(max=NOTE_MAX, message=f"Keep the note under {NOTE_MAX} characters.")],
    )


class AddNurseForm(FlaskForm):  # type: ignore[misc]
    """An administrator adds a nurse account."""

    email = StringField("Email", validators=[DataRequired("Enter the nurse's email."),
                                             Length(max=MAX_EMAIL)])
    password = PasswordField("Password", validators=[DataRequired("Choose a password.")])
    confirm = PasswordField(
        "Password again",
        validators=[DataRequired("Type the password again."),
                    EqualTo("password", "The two passwords are not the same.")],
    )
    admin = BooleanField("Administrator (can add nurses and read the audit trail)")
