"""Every Redis key the line uses, named once: the map in docs/architecture.md follows it.

Record hashes are `<PREFIX>:<id>` (see `HashRecord.key_for`); their prefixes are here too.
RQ's own keys (`rq:*`) belong to RQ. tests/test_layout.py fails on a key written elsewhere.
"""

from __future__ import annotations

# --- Patients' texts and calls -----------------------------------------------------------


def conversation(number: str) -> str:
    """A number's text conversation (JSON, 24 hours)."""
    return f"conv:{number}"


def sms_reply(message_sid: str) -> str:
    """The reply already given to an inbound text, for Twilio's retries (48 hours)."""
    return f"sms:reply:{message_sid}"


def awaiting(number: str) -> str:
    """The appointment a number's last reminder was about, while a reply can refer to it."""
    return f"awaiting:{number}"


def history(number: str) -> str:
    """A number's messages by text and by phone (list, 90 days)."""
    return f"history:{number}"


OPTOUTS = "optouts"  # hash: number -> when it opted out


def call_state(call_sid: str) -> str:
    """A call's menu state (JSON, 4 hours)."""
    return f"call:{call_sid}"


def call_record(call_sid: str) -> str:
    """A call's own record (hash, 90 days)."""
    return f"callrec:{call_sid}"


def call_callback(call_sid: str) -> str:
    """The call-back request a call's voicemail made, claimed once (90 days)."""
    return f"call:{call_sid}:callback"


RECENT_CALLS = "calls:recent"  # sorted set of call sids by time

ALERT = "alert"  # hash prefix: alert:<id>
ALERTS_OPEN = "alerts:open"
ALERTS_RESOLVED = "alerts:resolved"
ALERTS_ALL = "alerts:all"
CALLBACK = "callback"  # hash prefix: callback:<id>
CALLBACKS_OPEN = "callbacks:open"
CALLBACKS_RESOLVED = "callbacks:resolved"

STATS = "stats:"  # stats:<YYYYMMDDHH>, one hash of counters per UTC hour (400 days)


def stats_hour(hour: str) -> str:
    """The counters for one UTC hour, `hour` as YYYYMMDDHH."""
    return f"{STATS}{hour}"


# --- Outbound texts ---------------------------------------------------------------------

REMINDER = "reminder"  # hash prefix: reminder:<id>, any outbound text
SENDING = "reminders:sending"  # claimed and not yet answered by the API, scored by claim time


def sid(message_sid: str) -> str:
    """The reminder sent as a MessageSid (30 days)."""
    return f"sid:{message_sid}"


def early_status(message_sid: str) -> str:
    """A delivery report that came before the send job recorded its MessageSid (24 hours)."""
    return f"smsstatus:{message_sid}"


def rate_limit(sender: str) -> str:
    """A sender's next free sending moment, shared by every worker."""
    return f"ratelimit:{sender}"


OUTBOX = "outbox"  # list: what was "sent" with no Twilio account


# --- Reminder calls (a landline, or a patient who asked for calls) ------------------------


def reminder_call(call_sid: str) -> str:
    """A reminder call: its reminder, attempt, who answered and what they chose (hash)."""
    return f"remcall:{call_sid}"


CALL_OUTBOX = "calls:outbox"  # list: reminder calls "placed" with no Twilio account

PATIENT = "patient"  # hash prefix: patient:<number>


def patient_appointments(number: str) -> str:
    """A patient's appointments (set)."""
    return f"patient:{number}:appointments"


APPOINTMENT = "appointment"  # hash prefix: appointment:<id>


def appointment(appointment_id: str) -> str:
    """One appointment's hash."""
    return f"{APPOINTMENT}:{appointment_id}"


CAMPAIGN = "campaign"  # hash prefix: campaign:<id>
CAMPAIGNS = "campaigns"  # sorted set of campaign ids
PLANNING_LOCK = "campaigns:planning"  # held while a campaign is planned against the others
PLANNING_SLOTS = "campaigns:planning:slots"  # held while any texts take sending minutes
PLANNING_RESERVED = "campaigns:planning:reserved"  # minute -> texts an import has yet to write


def campaign(campaign_id: str) -> str:
    """One campaign's hash."""
    return f"{CAMPAIGN}:{campaign_id}"


def campaign_appointments(campaign_id: str) -> str:
    """A campaign's appointments (set)."""
    return f"campaign:{campaign_id}:appointments"


def campaign_patients(campaign_id: str) -> str:
    """A campaign's patients (set)."""
    return f"campaign:{campaign_id}:patients"


def campaign_messages(campaign_id: str) -> str:
    """The one-off messages a nurse sent to a campaign (list of reminder ids)."""
    return f"campaign:{campaign_id}:messages"


# --- The hospital feed ------------------------------------------------------------------

FEED_MESSAGE = "feedmsg"  # hash prefix: feedmsg:<id>
FEED_MESSAGES = "feed:messages"  # every message, by the time it arrived
FEED_PROBLEMS = "feed:problems"  # failed ones, and ones ignored for want of a mapping
FEED_COUNTS = "feed:counts"  # messages by outcome
FEED_UNMAPPED = "feed:unmapped"  # unmapped codes, by how often they came
FEED_NO_MOBILE = "feed:no_mobile"  # the hospital's appointments we cannot text about
FEED_APPOINTMENTS = "feed:appt:"  # prefix of feed_appointment keys, for scanning


def feed_seen(source: str, sender: str, control_id: str) -> str:
    """The kept message with this control id from this sender."""
    return f"feed:seen:{source}:{sender}:{control_id}"


def feed_appointment(source: str, appointment_id: str) -> str:
    """The hospital's appointment id mapped to ours (hash)."""
    return f"{FEED_APPOINTMENTS}{source}:{appointment_id}"


LOCK = ":lock"  # suffix: a feed appointment held while one message is applied to it


def feed_appointment_lock(source: str, appointment_id: str) -> str:
    """Held (SET NX, expiring) while one message is applied to the appointment."""
    return feed_appointment(source, appointment_id) + LOCK


# --- The console ------------------------------------------------------------------------

NURSES = "nurses"  # set of nurse emails


def nurse(email: str) -> str:
    """A nurse's account (hash)."""
    return f"nurse:{email}"


def console_session(token: str) -> str:
    """A signed-in session (the cookie holds only the token)."""
    return f"console:session:{token}"


def login_failures(email: str, client: str) -> str:
    """Failed sign-ins for an email from one client."""
    return f"console:failures:{email}|{client}"


def login_locked(email: str, client: str) -> str:
    """An email locked out for one client."""
    return f"console:locked:{email}|{client}"


def client_failures(client: str) -> str:
    """Failed sign-ins from one client, whatever the email."""
    return f"console:client-failures:{client}"


def client_locked(client: str) -> str:
    """A client locked out, whatever the email."""
    return f"console:client-locked:{client}"


LOGIN_FAILURES = "console:failures:"  # prefixes of the two above, for scanning
LOGIN_LOCKED = "console:locked:"

AUDIT = "console:audit"  # the audit trail (list, newest first, trimmed)
UPLOAD = "console:upload"  # prefix: console:upload:<token> and its :csv and :rows
TASK = "console:task"  # prefix: console:task:<id>


def upload_csv(token: str) -> str:
    """An uploaded campaign file's bytes."""
    return f"{UPLOAD}:{token}:csv"


def upload_rows(token: str) -> str:
    """An uploaded campaign file's checked rows."""
    return f"{UPLOAD}:{token}:rows"


# --- Development tools ------------------------------------------------------------------


def simulator_call(call_sid: str) -> str:
    """A simulated call's state in the phone simulator."""
    return f"simulator:call:{call_sid}"
