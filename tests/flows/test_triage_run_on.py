"""Reading rules from blind triage batch 9 (messages sent in a hurry, signs buried in other
news): each case is worded apart from the batch, so it tests the rule, not a sentence."""

from __future__ import annotations

import pytest

from flows.triage import RANK, assess

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
    # Someone finding the patient; "isn't responding" says what "not responding" says.
    ("my neighbour found her on the floor and she isn't responding", "emergency"),
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
    ("my neighbour also has secondaries and she is very sleepy on her morphine", "none"),
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
    ("her calcium level has gone down, is that good", "none"),
    ("mum went down in the kitchen and isn't responding", "emergency"),
    ("the contrast made me feel like i'd wet myself, is that normal", "none"),
    ("had the dye an hour ago and now i'm boiling hot and shivery", "urgent"),
    ("the cancer has made my hip bone weak, will radiotherapy help", "none"),
    ("how painful is it after a bone marrow biopsy", "none"),
    ("i've got a ct next week is it the one with the dye", "none"),
    ("how long will i be there roughly", "none"),
]


@pytest.mark.parametrize(("text", "level"), CASES)
def test_run_on_messages_are_read_for_who_when_and_how_bad(text: str, level: str) -> None:
    assert assess(text).level == level, assess(text)


# A review of the first version of these rules found each of these losing its warning: a
# question opening after any "will"; "next month" making a report a question; "one off"
# as over, even negated; "(the patient)" making the relative who tells of her someone
# else; "said her" read as the teller's own; "another lady" as someone else; a clause
# between a sign's halves; "blood clot" rewritten wherever it stood. Each must keep it.
KEEP = [
    ("mums lips have gone blue will the ambulance be long", "emergency"),
    ("she is having a fit will the paramedics be long?", "emergency"),
    ("my chest pain is crushing would the out of hours doctor come out", "emergency"),
    ("she's really confused and drowsy is the chemo tomorrow still on", "urgent"),
    ("my leg is hot swollen and red will the clinic see me", "urgent"),
    ("is it normal for my picc arm to be swollen and hot with my next chemo next month?",
     "urgent"),
    ("not a one off, coughing up blood for 3 days", "emergency"),
    ("nosebleed yesterday was a one off but today its been going for an hour", "urgent"),
    ("Mum (the patient) - dad found her on the floor and she's not breathing", "emergency"),
    ("mum (the patient), dad has just rung, she's collapsed", "emergency"),
    ("my son said her lips looked blue when he went in this morning", "emergency"),
    ("my neighbour said her face has dropped on one side", "emergency"),
    ("another lady with secondaries here, crushing chest pain since an hour ago", "emergency"),
    ("other lady with mets here coughing up blood", "emergency"),
    ("she was sick and we were worried, it had blood in it", "emergency"),
    ("her breathing anyway i'm worried, it's much worse and she's struggling", "urgent"),
    ("i coughed up a blood clot in the sink this morning", "emergency"),
    ("she vomited and there was a blood clot in the bowl", "emergency"),
    ("there's a blood clot in my wee and it's really painful to go", "urgent"),
    # Serious misses the same review found in the rules as they were before.
    ("she's had another fit", "emergency"),
    ("she's had two fits this morning", "emergency"),
    ("no she isn't breathing", "emergency"),
    ("i've been vomiting blood, will it stop on its own?", "emergency"),
    ("another patient here, coughing up blood since this morning", "emergency"),
    ("my daughter has secondary breast cancer, her legs have gone weak and she can't wee",
     "urgent"),
    ("my daughter is on chemo and has a temperature of 38.6", "urgent"),
    ("she's had 3 nosebleeds today and this one won't stop after an hour", "urgent"),
    ("it isn't just a headache, she's being sick and her neck is stiff", "urgent"),
    ("it isn't a small amount of blood, she's vomited a cup full", "emergency"),
    ("the oramorph isn't touching the pain", "urgent"),
]


@pytest.mark.parametrize(("text", "level"), KEEP)
def test_a_warning_is_kept_through_the_new_reading_rules(text: str, level: str) -> None:
    assert RANK[assess(text).level] <= RANK[level], assess(text)
