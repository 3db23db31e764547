"""The Campaigns section's forms (Flask-WTF): every field labelled, every form with a token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField, TelField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from flows.knowledge import default_knowledge
from flows.reminders import TESTS

NAME_MAX = 120
PLACE_MAX = 120
PATIENT_NAME_MAX = 40
MESSAGE_MAX = 1600  # Twilio's own limit for one message body


def test_titles() -> dict[str, str]:
    """Each test reminders are sent for, by id, with the name patients know it by."""
    topics = default_knowledge().topics
    return {t: topics[t].title if t in topics else t.replace("_", " ").capitalize()
            for t in TESTS}


class UploadForm(FlaskForm):  # type: ignore[misc]
    """A campaign from a CSV file."""

    name = StringField(
        "Campaign name",
        validators=[DataRequired("Give the campaign a name you will recognise."),
                    Length(max=NAME_MAX, message=f"Keep the name under {NAME_MAX} characters.")],
    )
    file = FileField("CSV file", validators=[FileRequired("Choose the CSV file to upload.")])


class SingleForm(FlaskForm):  # type: ignore[misc]
    """A campaign for one patient's appointment."""

    phone = TelField(
        "Mobile number",
        validators=[DataRequired("Enter the patient's mobile number."), Length(max=40)],
    )
    test = SelectField("Test", validators=[DataRequired("Choose the test.")])
    date = DateField("Date", validators=[InputRequired("Enter the date of the appointment.")])
    time = TimeField("Time", validators=[InputRequired("Enter the time of the appointment.")])
    place = StringField(
        "Place (optional)",
        validators=[Optional(), Length(max=PLACE_MAX,
                                       message=f"Keep the place under {PLACE_MAX} characters.")],
    )
    patient_name = StringField(
        "Patient's first name (optional)",
        validators=[Optional(), Length(max=PATIENT_NAME_MAX,
                                       message=f"Keep the name under {PATIENT_NAME_MAX} "
                                               "characters.")],
    )
    name = StringField(
        "Campaign name (optional)",
        validators=[Optional(), Length(max=NAME_MAX,
                                       message=f"Keep the name under {NAME_MAX} characters.")],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.test.choices = [("", "Choose a test")] + list(test_titles().items())


class RescheduleForm(FlaskForm):  # type: ignore[misc]
    """Move one appointment to a new date and time (and place)."""

    date = DateField("New date", validators=[InputRequired("Enter the new date.")])
    time = TimeField("New time", validators=[InputRequired("Enter the new time.")])
    place = StringField(
        "Place",
        validators=[Optional(), Length(max=PLACE_MAX,
                                       message=f"Keep the place under {PLACE_MAX} characters.")],
    )


class MessageForm(FlaskForm):  # type: ignore[misc]
    """A one-off text to everyone in a campaign."""

    text = TextAreaField(
        "Message",
        validators=[DataRequired("Write the message first."),
                    Length(max=MESSAGE_MAX,
                           message=f"Keep the message under {MESSAGE_MAX} characters.")],
    )
