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
    ("they found a blood clot in my lung back in 2019", "none"),
    ("could this be a blood clot in my calf? it's swollen and red", "urgent"),
    ("i think i have a blood clot in my leg", "urgent"),
    ("i'm on apixaban for a blood clot in my lung, can i fly", "none"),
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
    ("they keep using new words at clinic and i'm confused, what is a pet scan", "none"),
    ("i keep forgetting names and i'm so confused today", "urgent"),
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
    # A second review, of the rules as mended: each lost its warning under a first mend.
    ("My husband is the patient here, he's fitting and won't stop", "emergency"),
    ("Mum is a patient here at the hospice and she's fitting", "emergency"),
    ("Another lady here on the ward told me to text, my wife has collapsed", "emergency"),
    ("Mum isn't a patient here yet but she is coughing up blood", "emergency"),
    ("Mum has a temperature of 38.9 and she can't stand this morning", "emergency"),
    ("Dad can't stand the pain in his hip, he fell this morning", "urgent"),
    ("Mum thinks it's the war and keeps asking for her mother", "urgent"),
    ("I found a blood clot in my sick", "emergency"),
    ("The radiotherapy area is weeping and coming away", "urgent"),
    ("Her lips are coming off and she can't eat", "urgent"),
    ("The fall floored her, she hit her head and now she's drowsy", "emergency"),
    ("She's got red hot spots on her skin spreading all over", "urgent"),
    ("my face has gone droopy on one side with treatment tomorrow should I still go", "emergency"),
    ("Blood in my wee and clinic on Monday should I wait", "urgent"),
    ("She's been fitting on and off all morning", "emergency"),
    ("She hasn't stopped vomiting since last night", "urgent"),
    ("I haven't passed urine since yesterday morning", "urgent"),
    ("My stoma bag is full of blood", "emergency"),
    ("Mum's really sleepy and we can't get her to stay awake", "urgent"),
    ("Sudden severe headache like nothing before", "urgent"),
    ("My daughter isn't herself, she has secondary breast cancer", "urgent"),
    ("the lady here at reception told me to text, she's very confused, temp 38.5", "urgent"),
    # A third review, of the second mends.
    ("she stopped being sick but she has crushing chest pain", "emergency"),
    ("the bleeding has stopped but she can't breathe", "emergency"),
    ("i'm a patient's daughter, mum has collapsed and isn't responding", "emergency"),
    ("she hacked up a blood clot", "emergency"),
    ("there's a blood clot in her catheter", "urgent"),
    ("checked her temp, turned out she had a fever of 38.4", "urgent"),
    ("her feet are coming off in strips", "urgent"),
    ("her legs - both of them - have gone weak and numb", "urgent"),
    ("since the contrast her arm is burning hot, red and swollen", "urgent"),
    ("she came down with a temperature of 38.2", "urgent"),
    ("her fit lasted 5 minutes", "emergency"),
    ("she isn't able to pass urine", "urgent"),
    ("she isn't keeping anything down, not even water", "urgent"),
    ("her arm has gone weak and her face looks droopy", "emergency"),
    # A fourth review, of the third mends.
    ("I've got a blood clot in my leg", "urgent"),
    ("I think it's a clot, my calf is red and hot and I'm on chemo", "urgent"),
    ("my bones are weak and now my legs have given way", "urgent"),
    ("her fingertips are coming off since the capecitabine", "urgent"),
    ("she's had another fit in the kitchen", "emergency"),
    ("she fitted for about 5 minutes", "emergency"),
    ("the fit has stopped now - she's not responding to me", "emergency"),
    ("the bleeding has stopped now - she's grey and sweaty and can't breathe", "emergency"),
    ("mum hasn't come round after her fall", "emergency"),
    ("she's talking but it doesn't make sense", "urgent"),
    ("she had a fit, it's stopped now", "emergency"),
    ("my daughter is 35 and has secondaries, she has a temp of 39 and is confused", "urgent"),
    ("I've been fine every day since chemo apart from the diarrhoea, 8 times today", "urgent"),
    # A fifth review, of the fourth mends.
    ("his feet are coming off in chunks", "urgent"),
    ("bits are coming off the inside of my cheeks", "urgent"),
    ("how dangerous is it that my port site won't stop bleeding", "emergency"),
    ("how worrying is chest pain after herceptin it's crushing", "emergency"),
    ("she can't stand being upright without going dizzy and fainting", "urgent"),
    ("the bleeding has stopped but she has a temp of 38.5", "urgent"),
    ("she isn't passing urine", "urgent"),
    ("her legs aren't working", "urgent"),
    ("I'm not able to catch my breath even sitting still", "emergency"),
    ("he had a seizure an hour ago, it's stopped now and he's had none since", "emergency"),
    ("her fits are getting more frequent, 3 today", "emergency"),
    ("mum's face looks droopy", "emergency"),
    ("could this be a blood clot? my leg is red and throbbing", "urgent"),
    ("had a fit about 10 mins ago, never had one before", "emergency"),
    ("she fitted for a few minutes this morning", "emergency"),
    ("my daughter is 38 with secondary breast cancer, her legs have gone weak", "urgent"),
    # Session 10's safety review: each of these was lost by a rule tried and taken back.
    ("Chemo last Tuesday, temp 38.7 and shaking", "urgent"),
    ("Mum had chemo last Thursday and has been very breathless and her lips look blue",
     "emergency"),
    ("Had my op last week and it was ok but it has been bleeding through the dressing",
     "emergency"),
    ("Mum had chemo last week and it has left her very drowsy and hard to wake", "urgent"),
    ("My sister hasn't got cancer, mum has, and mum has just collapsed", "emergency"),
    ("Dad has never had cancer in his brain, but now he has had a fit", "emergency"),
    ("The leaflet mentions chest pain and mum has it now", "emergency"),
    ("The letter warns about bleeding gums, mum's got that", "urgent"),
    ("Had a fit 5 yrs ago, had another one this afternoon", "emergency"),
    ("Cant catch my breat", "emergency"),
    ("Sarted with chest pain an hour ago", "emergency"),
    ("Red sots all over her legs", "urgent"),
    ("Had my port put in on Monday, it hurts?", "same_day"),
    ("Had chemo last week, temp 38 since 2 days", "urgent"),
    ("Had chemo last week (ugh!) my temp has gone up to 38.5", "urgent"),
    ("I coughed and cleared it, there's blood in it", "urgent"),
    ("Antibiotics haven't fully cleared it, rash spreading and blistering", "urgent"),
    ("nothing has sorted the pain and it's agony", "urgent"),
    ("the pain is bad, paracetamol hasn't sorted it", "urgent"),
    ("had my biopsy last week and it looks red and hot", "same_day"),
    ("In the past hour I've got a temp of 38.6", "urgent"),
    ("Dad can't be woken", "emergency"),
    ("my wee's gone pink since this morning", "urgent"),
    # The second review: lost by rules tried and taken back (a form or leaflet's words,
    # "thinks it's", fasting, a weekday before a question, "sorted it", one mouth sign,
    # "since 2 days").
    ("The form asks about vomiting, does 6 times today count?", "urgent"),
    ("The leaflet warns about breathlessness, how bad is bad? Cant talk in full sentences",
     "urgent"),
    ("Mum thinks it's her wedding day and is asking for my dad who died years ago", "urgent"),
    ("Dad thought it was me trying to poison him, he's never like this", "urgent"),
    ("She can't eat before the scan anyway, but she hasnt eaten for 3 days and isn't drinking",
     "same_day"),
    ("apart from not eating she's fine, it's been 5 days", "same_day"),
    ("Since Friday will not wake up properly", "emergency"),
    ("The sun is making my radiotherapy skin blister and weep", "urgent"),
    ("Nurse sorted it, she collapsed at lunchtime", "emergency"),
    ("ulcers in my mouth, really sore, haven't been able to drink today", "urgent"),
    ("He has no wee since 2 days", "urgent"),
    ("Mouth feels raw like I burnt it on pizza, still managing soft food", "same_day"),
    # The third review: lost by rules tried and taken back (a clinician's "thinks it's",
    # "I know I can't eat before", "tomorrow, it hurts?") or narrowed ("nothing has sorted
    # the pain" keeps the pain).
    ("nothing is sorting the pain in dads chest", "emergency"),
    ("Nothing has sorted the pain, she's crying with her back", "same_day"),
    ("Nothing has sorted the pain in her back, she's in tears", "urgent"),
    ("They think it's sepsis", "urgent"),
    ("The doctor thinks it's a PE", "urgent"),
    ("They think it's morning when it's night, its new since yesterday", "urgent"),
    ("I know I can't eat before 2pm now, everything makes me sick", "same_day"),
    ("Not eating for 6 hours before the scan won't be hard, I haven't eaten for 3 days",
     "same_day"),
    ("My back hurts so much at night. MRI next week, it hurts?", "urgent"),
    ("her stitches have burat", "urgent"),
    # Found in the third review: told after a long-ago history, a sign with no past verb
    # of its own is happening now (before this session these gave no warning at all).
    ("Had a PE 2 years ago, chest pain and breathless", "emergency"),
    ("Had a clot 2 yrs ago, calf swollen and hot", "urgent"),
    ("Had sepsis 2 years ago, temp 38.5 and shivering", "urgent"),
    ("Had a fit 5 yrs ago, had another one this afternoon", "emergency"),
    ("Secondaries diagnosed 2 yrs ago, headache and vomiting", "urgent"),
    # The fourth review: "yrs" read as years (taken back) and a bracketed aside joined to
    # what is over (now only after a month or year named); present-perfect "now".
    ("had a PE 2 years ago and I've got chest pain", "emergency"),
    ("Had a DVT 3 yrs ago, got a hot swollen painful calf", "urgent"),
    ("Bone mets 2 yrs ago, legs have gone weak and I keep falling", "urgent"),
    ("I passed out at lunchtime (in Tesco!) and it hasn't happened since", "emergency"),
    # The fifth review: a bracketed aside joined to "it hasn't come back since" (taken back).
    ("Coughing up blood, had a PE in March (scary!) and it hasn't come back since",
     "emergency"),
    ("Mum had a fit at lunchtime (her first since last summer!) and it hasn't happened again",
     "emergency"),
]

# The same review's false alarms from a first mend: none of these is a warning sign.
CALM = [
    ("My lips are dry, we went on holiday, the sea was so blue", "none"),
    ("My breathing is good, we went to the garage, the car makes a funny noise", "none"),
    ("My seizures have stopped now with the keppra, when can I drive again?", "none"),
    ("My son's friend had a fit at school today, can I still have chemo?", "none"),
    ("My mum has secondary breast cancer, my little boy has a temperature of 38.5", "none"),
    ("I've been irritable with my kids since starting letrozole, is that normal?", "none"),
    ("she fell and her arm snapped at the wrist", "urgent"),
    ("the district nurse won't come round till tuesday", "none"),
    ("we haven't come to a decision about the trial", "none"),
    ("she fitted me for a mastectomy bra", "none"),
    ("another fit of giggles at the support group", "none"),
    ("my wig was fitted today", "none"),
    ("the consultant was speaking so fast it didn't make sense", "none"),
    ("i'm on clexane for my dvt, can i fly", "none"),
    ("markers gone down, is that good", "none"),
    ("mum has had a fit in the past but nothing since, she's fine now", "none"),
    ("she has been sick 6 times but it has settled now", "none"),
    ("I've been fitted for a prosthesis", "none"),
    ("the cancer isn't responding to the chemo", "none"),
    ("my husband isn't with us anymore", "none"),
    ("she hasn't come round to the idea of a hospice", "none"),
    ("her fits are getting less since the new tablets", "none"),
    ("is it a blood clot risk if I fly long haul on tamoxifen?", "none"),
    ("another patient's daughter had a fit in the waiting room", "none"),
    ("the tape on my hands came off", "none"),
    ("she had a fit earlier this year, fine since, can she drive?", "none"),
    ("the nurse hasn't come round yet today to do mum's dressing", "none"),
    ("I had my bra fitting today", "none"),
    ("another fitting for my compression sleeve next week", "none"),
    ("the GP fitted me in today", "none"),
    ("the consultant was talking and it didn't make sense, can someone explain", "none"),
    ("mum isn't breathing a word about it to anyone", "none"),
    ("he isn't answering my texts, is my appointment still on", "none"),
    ("my daughter is having a fit about the wedding plans ha", "none"),
    ("she's been out of it all week with a cold", "none"),
    ("I think it's my letrozole giving me the joint pain, is that common", "same_day"),
    # Found in the last read of the change: a swelling that went down is over, as it was.
    ("her ankles were swollen but the swelling went down after the water tablets", "none"),
    ("the lumps have gone down since chemo", "none"),
    # Session 10: over-reads mended, and false alarms a tried rule made.
    ("I'd like rosé with dinner, is alcohol ok on chemo?", "none"),
    ("Mum only groans about the hospital food", "none"),
    ("I take a few spoons of sugar in my tea, is that ok?", "none"),
    ("Had a curry last night, my mouth is burning haha", "none"),
    ("My wee turned pink after beetroot", "none"),
    ("We lost days waiting for the referral letter", "none"),
    ("had chest pain 3 yrs ago, turned out to be my gallbladder", "none"),
    ("The GP hasn't sorted the pain clinic referral yet", "none"),
    ("Years ago, a seizure after a head injury, nothing since", "none"),
    ("The chest pain I had last week has gone", "none"),
    ("Mum was very muddled last week with her water infection, she's back to doing her "
     "crosswords", "none"),
]


@pytest.mark.parametrize(("text", "level"), CALM)
def test_ordinary_news_beside_a_body_part_is_not_a_warning(text: str, level: str) -> None:
    assert assess(text).level == level, assess(text)


@pytest.mark.parametrize(("text", "level"), KEEP)
def test_a_warning_is_kept_through_the_new_reading_rules(text: str, level: str) -> None:
    assert RANK[assess(text).level] <= RANK[level], assess(text)
