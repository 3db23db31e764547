"""Reading rules from blind triage batch 9 (messages sent in a hurry, signs buried in other
news): each case is worded apart from the batch, so it tests the rule, not a sentence."""

from __future__ import annotations

import pytest

from flows.triage import assess

CASES = [
    # News first, then the sign, run on without a stop ("anyway", "and we").
    ("went to the garden centre and we had lunch anyway dad collapsed outside", "emergency"),
    ("mum fainted ten minutes ago and she hasn't come round", "emergency"),
    # A fit that has just stopped still needs an ambulance; one years ago is history.
    ("dad had a seizure about ten minutes ago, it's over now but he's very drowsy", "emergency"),
    ("she went stiff and her eyes rolled back earlier, it stopped after a minute", "emergency"),
    ("had a fit back in 2019, none since", "none"),
    ("she had a fit last month but she has been fine since", "none"),
    # A son or daughter may be the patient: a sign that needs an ambulance is not passed over.
    ("my son is jerking all over on the floor and won't respond", "emergency"),
    ("my daughter has a temperature of 38, can she still come to my appointment", "none"),
    # The teller's own legs, not the patient's; but someone finding the patient is hers.
    ("my friend said her chest hurts when she breathes, should I worry for myself", "none"),
    ("my neighbour found her on the floor and she isn't responding", "emergency"),
    # The patient named, so another relative's fall is someone else's.
    ("nan (the patient) is ok but grandad has had a fall and hit his head", "none"),
    ("nan (the patient) has had a fall and hit her head", "urgent"),
    # Too breathless to finish a sentence; grey round the mouth.
    ("he can only say a few words at a time he's that breathless", "emergency"),
    ("her breathing is bad and she's gone blue around her mouth", "emergency"),
    # Clumsiness on one side building over days; behaviour not like them.
    ("his right hand has been getting clumsy for a few days", "urgent"),
    ("dad keeps snapping at us, he's not been himself at all", "urgent"),
    ("heard a snap in my wrist when I fell and now I can't move it", "urgent"),
    # Speech that makes no sense, not a leaflet that puzzles.
    ("he keeps saying things that don't make sense", "urgent"),
    ("what the consultant said didn't make sense to me", "none"),
    # A mouth too sore for even soft food or drink.
    ("her mouth is that sore she can't even manage soup", "urgent"),
    # A clot in a vein is not bleeding; clots of blood are.
    ("they found a blood clot in my lung in march, I'm on the injections", "none"),
    ("coughing up blood clots", "emergency"),
    # A one-off that has passed; a question about a procedure still to come.
    ("got breathless on the stairs on saturday but it was a one off, fine since", "none"),
    ("having my port put in next month does the procedure hurt", "none"),
    # Figures of speech in questions, read as signs at first sight of blind batch 10.
    ("my husband can't stand needles, will he be ok at my appointment", "none"),
    ("she can't stand, her legs have gone", "urgent"),
    ("chemo floored her last time, will this one be as bad", "none"),
    ("my wedding ring won't come off, is that ok for the mri", "none"),
    ("the skin on my feet is coming off in strips", "urgent"),
    ("the doctors think it's in her liver now, what happens next", "none"),
    ("mum keeps asking where she is and thinks it's christmas", "urgent"),
    ("bone scan report mentions hot spots, what are they", "none"),
    ("so many new words at clinic and i'm confused, what is a pet scan", "none"),
]


@pytest.mark.parametrize(("text", "level"), CASES)
def test_run_on_messages_are_read_for_who_when_and_how_bad(text: str, level: str) -> None:
    assert assess(text).level == level, assess(text)
