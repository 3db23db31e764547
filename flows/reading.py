"""One reading of a message: its sentences and clauses, and what each is about.

Triage needs more than words: who a clause is about (the patient, or a friend or the
cat), when (now, or over), and whether it reports something or asks for information or
about the future. The reading answers those once per message, so the rules can stay
about symptoms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from flows import text as tx

Words = Callable[[str], list[str]]


def _phrases(items: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tx.phrase(p) for p in items)


def _bar(text: str) -> tuple[tuple[str, ...], ...]:
    return _phrases(text.split("|"))


NEGATORS = frozenset(
    tx.stem(w)
    for w in [
        "no", "not", "never", "without", "don't", "doesn't", "didn't", "haven't", "hasn't",
        "hadn't", "isn't", "aren't", "wasn't", "weren't", "nor", "none", "denies", "neither",
    ]
)
# "not sure if I have a temperature" is doubt, not denial; "not only" is not denial.
# "doesn't know what day it is" denies knowing, not the sign.
DOUBT_AFTER = frozenset(
    tx.stem(w)
    for w in ["sure", "certain", "only", "just", "know", "knows", "remember", "expect", "want",
              # "hasn't stopped vomiting": it goes on
              "stopped", "stop",
              # "the oramorph isn't touching the pain": the medicine fails, the pain is there
              "touching", "helping", "working", "shifting", "easing", "holding"]
)
# "No, she isn't breathing": "no" answers a question; the words after it say what is so.
ANSWERED = frozenset(
    tx.stem(w) for w in ["she", "he", "i", "it", "she's", "he's", "i'm", "it's", "we", "they",
                         "mum", "dad", "shes", "hes", "im", "its"]
)
# A list keeps its negation: "no headaches or sickness".
LIST_JOINERS = frozenset(
    tx.stem(w) for w in ["or", "nor", "and", "any", "a", "an", "of", "the", "sign", "signs", "more"]
)
HYPOTHETICAL = frozenset(
    tx.stem(w) for w in ["if", "incase", "whether", "supposing"]
)
HYPOTHETICAL_SAY = tx.stem("say")
# A clause that opens a supposition ("if I get the runs", "say I fell") that goes on; the
# words themselves, since "says" and "say" share a stem.
_SUPPOSES = re.compile(
    r"\s*(?:(?:so|and|but|ok|okay|hi|well|um|er|just)\s+)*(?:if|incase|say|suppose|supposing)\b"
)
# Statements about people in general ("you might go yellow", "some people get sores").
GENERIC = _bar(
    "you might|you may|you could|you can get|you can have|you can go|people get|some people|"
    "can cause|might cause|may cause|could cause|i'd read|i read that|i've read|they said you"
)
DOUBT_BEFORE = frozenset(
    tx.stem(w)
    for w in ["sure", "certain", "know", "wonder", "wondering", "ok", "okay", "alright", "normal"]
)

# A sentence about the past ("a fit years ago") is history, not a warning sign now.
PAST = _bar(
    "years ago|year ago|months ago|month ago|weeks ago|week ago|in the past|"
    "when i was first diagnosed|back in the|last cycle|last round|last time|previous cycle|"
    "first cycle|first round|last course|a while back|last month|last year|at christmas|last week|"
    "last summer|last winter|last spring|last autumn|on my last|after my last|with my last|"
    "at the weekend|last weekend|over christmas|turned out to be|turned out i had|"
    "after her last|after his last|after last|on her last|on his last"
)
# Long ago is history even if the sentence goes on in the present.
LONG_AGO = _bar("years ago|year ago|months ago|back in the|last year|turned out i had")
# Otherwise, a sentence that also says what is happening now is about now.
NOW = _bar(
    "now|today|tonight|still|again|this morning|this afternoon|this evening|since|"
    "currently|at the moment|getting|keep|worse|yesterday|last night|right now|over the last|"
    "for the last|in the last|past few|all month|all week|this week|for days|for weeks|"
    "is|are|am|i'm|she's|he's|feel|feeling|than|suddenly|can't|won't|wasn't like this|"
    "not like this|never used to|didn't used to|last two days|last few days|these last|it's|its|"
    "the last week|this last week|the last fortnight|the past week|the past fortnight|"
    # Has now, told in the present perfect: "had a PE 2 years ago and I've got chest pain".
    "i've got|ive got|i have got|she's got|he's got|has got|have got|has turned|have turned|"
    "has started|have started|"
    # A change of colour or feel, in the present perfect, is now: "her skin has gone a
    # yellowish colour, her LFTs were up last week" (not "had gone").
    "has gone yellow|has gone yellowish|has gone a yellow|has gone a yellowish|"
    "has gone pale|has gone very pale|has gone grey|has gone gray|has gone blue|"
    "has gone white|has gone dark|has gone red|has gone purple|has gone orange|"
    "has gone numb|has gone weak|has gone floppy|have gone yellow|"
    "have gone yellowish|have gone a yellow|have gone a yellowish|have gone pale|"
    "have gone very pale|have gone grey|have gone gray|have gone blue|"
    "have gone white|have gone dark|have gone red|have gone purple|have gone orange|"
    "have gone numb|have gone weak|have gone floppy"
)
# Now, as written before words are trimmed: a verb in its present form ("it looks red")
# is now, though "looked" trims to the same word.
_SAYS_NOW = re.compile(
    r"\b(?:looks|seems|feels|hurts|aches|stings|throbs|bleeds|itches|burns|oozes|weeps|leaks|"
    r"swells|tingles|spreads)\b"
)
# Still the same day: a sign that has only just stopped ("it's stopped now", "an hour ago").
JUST_NOW = _bar(
    "just now|just had|just stopped|has just|minutes ago|mins ago|min ago|an hour ago|hour ago|"
    "at lunchtime|at teatime|at tea time|at dinner time|"
    "earlier|tonight|this morning|this afternoon|this evening|"
    "stopped now but|over now but|it's stopped now|it has stopped now|it stopped now|"
    "it's passed now|she's stopped now|he's stopped now|it's over now"
)
AGAIN = _bar(
    "again|today|tonight|this morning|right now|started|this week|this afternoon|"
    "this evening|another one|had another"
)
RESOLVED = _bar(
    "fine now|all fine|better now|gone now|all good now|nothing since|settled now|ok now|"
    "okay now|cleared up|all sorted|sorted now|fine since|been fine|feel fine now|"
    "settled down|went away|gone away|passed now|stopped now|all better|back to normal|"
    "no problems since|fine after|fine again|right as rain|healed|has healed|have healed|"
    "much better|feeling better|feel better|is better|are better|has gone away|have gone away|"
    "has stopped|has settled|have settled|wore off|worn off|recovered|stopped straight away|"
    "stopped after|she's fine now|he's fine now|she is fine now|he is fine now|normal since|"
    "been normal|came down|come down|swelling went down|swelling has gone down|gone down now|"
    "hasn't come back|not come back|not since|none since|"
    "no temp since|no temperature since|went after|gone after|cleared up|all clear|benign|"
    "went in a|went in two|went in three|went in a few|went within|gone in a|it settled|"
    "settled by|not happened again|hasn't happened again|not happened since|"
    "hasn't happened since|not had it since|haven't had it since|eating normally|"
    "bright as a button|completely normal|stopped on|did the trick|"
    "worked a treat|it passed|that passed|passed off|got better|sorted itself|fine this time|"
    "has faded|faded now|faded away|clear now|it's clear|turned out to be|stopped within|"
    "stopped in a few|stopped in 5|stopped in five|stopped in 10|stopped in ten|"
    "went by|haven't had another|not had another|gone completely|"
    "gone right down|all normal|completely gone|has completely gone|all gone|has gone now|"
    "sorted with|fine ever since|fine every day since|"
    "went once|it went when|now is normal|now normal|normal now|been grand|grand since|grand now|"
    "been good since|been ok since|been okay since|fine all week|no problems|"
    # Over, in so many words ("the bleeding has finally stopped", "sorted thanks").
    "finally stopped|finally gone|finally cleared|sorted thanks|sorted thank|it's sorted|"
    "its sorted|back to doing her|back to doing his|back to doing my"
)
# Before an end, these ask about it or wait for it rather than report it ("will it pass",
# "when does it go away", "hoping it settles").
END_AWAITED = frozenset(
    tx.stem(w)
    for w in [
        "will", "would", "should", "shall", "does", "do", "when", "till", "until", "til",
        "wait", "waiting", "hope", "hoping", "for", "whether",
    ]
)
# Before an end, these say it has not come ("won't stop after an hour").
_NOT_ENDED = frozenset(
    tx.stem(w) for w in ["won't", "can't", "hasn't", "haven't", "didn't", "not", "isn't", "never"]
)
_SUBJECT_IT = frozenset(tx.stem(w) for w in ["it", "they", "this", "she", "he", "that"])
# What says a sign is still going on, even beside "fine now" ("was better, now worse again").
STILL = _bar(
    "still|again|worse|getting worse|getting bigger|keep|keeps|it came back|it's come back|"
    "has come back|have come back|came back again|returned|but since|all of a sudden|suddenly|"
    "started again|apart from|except for|"
    "but now|now i|now my|now she|now he|now it's|now its|now her|now his|not fine|"
    "not better|isn't better|no better|hasn't gone|not gone|won't go|won't stop|"
    "hasn't stopped|not stopped|not settled|hasn't settled|not healed|hasn't healed"
)
# Beside a time just now, these say the fit was long ago ("earlier this year, none since").
NOT_JUST = _bar(
    "earlier this year|earlier in|this year|last year|years ago|months ago|in the past|used to"
)
CANNOT = _bar("can't|cannot|can not|won't|unable to")
# Told after an end in the same sentence ("the bleeding has stopped but she has a temp of
# 38.5"), these say what is so now.
AFTER_END = CANNOT + _bar("has|have|has got|have got|has gone|have gone|gone very|is|are")
# "in 2019" is history; "she thinks it's 1985" is not.
# Beside "it's gone now", only these keep a clause about now ("chest pain this morning").
CURRENT = STILL + _bar(
    "now|right now|this morning|this afternoon|this evening|tonight|today|is|are|am|feel|"
    "feels|feeling|i'm|she's|he's"
)
_YEAR = re.compile(r"\b(?:in|since|back in|from)\s+(?:19[5-9]\d|20[0-2]\d)\b")

QUESTION_WORDS = frozenset(
    tx.stem(w)
    for w in [
        "what", "is", "are", "can", "could", "does", "do", "should", "how", "when", "which",
        "why", "will", "would", "who", "where", "shall", "may", "might", "has", "have", "did",
    ]
)
WH_WORDS = frozenset(tx.stem(w) for w in ["what", "which", "how", "when", "why", "who", "where"])
AUXILIARIES = frozenset(
    tx.stem(w)
    for w in [
        "is", "are", "was", "were", "do", "does", "did", "can", "could", "should", "will",
        "would", "shall", "may", "might", "has", "have", "long", "much", "many", "often",
        "soon", "bad", "about", "if",
    ]
)
# What follows a verb that opens a question ("is it", "does that"); not "I" or "my", which
# open reports as often as questions ("can't breathe").
INVERTED_SUBJECTS = frozenset(tx.stem(w) for w in ["it", "that"])
# Verbs that open a short question about a test ("does it hurt"); not "have" or "is a bit",
# which open reports with the subject dropped ("have a high temperature").
INVERTING_VERBS = frozenset(
    tx.stem(w) for w in ["is", "does", "do", "will", "would", "can", "could", "should"]
)
SHORT_QUESTION = 4  # words: "is it very painful"; a longer clause may report a sign
# Words before a question that do not stop it being one ("hi, is it normal...").
LEADERS = frozenset(
    tx.stem(w)
    for w in [
        "and", "also", "so", "but", "hi", "hello", "hiya", "ok", "okay", "oh", "just", "quick",
        "question", "please", "sorry", "um", "er", "erm", "well", "right", "or",
    ]
)
# Words that make a yes/no opening a question even without a "?".
ASKING = _bar(
    "side effect|side effects|normal|common|usual|expected|safe|ok to|okay to|possible|"
    "likely|a sign of|mean|means|worry about|should i|should she|should he|cause|causes|"
    "give you|make you|just asking|only asking|asking for|something|does that|do they|"
    # What a treatment does, or the chance of something: asked, not felt.
    "risk|at risk|chance of|chances of|reduce|prevent|protect|lower the|strengthen|ease|"
    "a symptom|symptom of|symptoms of|a sign|signs of|sign that|signs that|"
    "happen with|happen on|happens with|happens on|common with|normal with|normal on|"
    # One thing or another: "is it my whole body or just the sore bit".
    "or just the|or just my|or just her|or is it"
)
# Words that show the sender is describing something happening to someone now; a
# question without them ("is chest pain a side effect?") asks for information.
EXPERIENCE = _bar(
    "i'm|i've|i have|i am|i feel|i keep|i got|i can't|i had|i been|been|since|now|today|"
    "tonight|this morning|last night|still|she's|he's|she has|he has|mum|dad|mam|wife|husband|"
    "got a|my|me|currently|at the moment|getting|worse|keep|i think|i'm getting|"
    "i've got|her|his|him|can't|won't|cannot|unable|help me|help her|help him|please help|"
    "please|really|so bad|very|"
    "keeps|started|all day|all night|hours|minutes"
)
# A question about something still to come ("will the biopsy hurt?"), or about what a
# test or treatment is like ("is the bone scan injection painful").
_TO_COME = (
    "will|going to|gonna|tomorrow|next week|after the|before the|during the|would|"
    "afterwards|later|expect|likely|on friday|on monday|on tuesday|on wednesday|"
    "on thursday|on saturday|on sunday|next time|when i have|when i start|when i get|"
    "once i start|will i|before i start|before i take|before starting"
)
TO_COME = _bar(_TO_COME)
_PROCEDURES = (
    "first|scan|injection|biopsy|infusion|drip|jab|cannula|needle|"
    "port|picc|mri|ct|pet|petscan|x ray|xray|treatment|chemo|radiotherapy|radio|rads|bx|"
    "operation|procedure|"
    "dye|tracer|test|tests|bloodtest|anaesthetic|local|general|ultrasound|x-ray|scanner|"
    "drug|drugs|tablet|tablets|medicine|medicines|medication|pill|pills|hormone therapy|"
    "steroids|targeted therapy|bone drugs|surgery"
)
PROCEDURES = _bar(_PROCEDURES)
CAUSES = _bar(
    "side effect|side effects|cause|causes|caused|a sign|sign of|symptom|normal|common|"
    "usual|expected|because of|due to|from the|from my"
)
FUTURE = _bar(_TO_COME + "|" + _PROCEDURES)
# When something happened, said of something happening now ("bright red this morning").
WHEN_NOW = _bar(
    "this morning|this afternoon|this evening|today|tonight|last night|just now|right now|"
    "at the moment|since|again|keeps|keep|started yesterday|started last|started on|"
    "started this|started today|all day|all night|for days|for hours|hours|still"
)
# Said after a question about a sign: it is happening ("is chest pain a side effect? I
# have it now").
TOLD_OF = _bar(
    "i have it|i've got it|i have got it|happening now|it's happening|its happening|"
    "i'm having it|im having it|she has it|he has it|she's got it|he's got it|i get it now|"
    "got it now|having it now|have it now|noticed it|noticed this|spotted it|only noticed|"
    "just noticed|it started|it's started|its started|started this morning|started today"
)
# Asking whether doing something is normal is asked by someone doing it ("is it normal to
# cough up blood"), unless it is about a test or treatment or what is to come.
NORMAL_TO = _bar(
    "normal to|normal for|normal that|normal if|ok to|okay to|alright to|ok that|okay that|"
    "ok if|okay if|alright if|common to|usual to|is it normal|is this normal|is that normal|"
    "meant to be|supposed to be|should i be this|should i be so|should it be this|"
    "should the|should it|should my|should her|should his|"
    # Asking for a judgement on what is happening: "should I worry about this cough".
    "should i worry|should i be worried|should i be concerned|do i need to worry|"
    "should we worry|should we be worried|is it something to worry|"
    # Asking what to take or do for it: said by someone who has it.
    "what can i take|what should i take|what else can i|what can i do|what do i do|"
    "what do u do|what do you do|what should i do|what can we do|what do we do|what helps|"
    "what will help|what would help|anything i can take|how do i stop|how can i stop|"
    "how do i ease|how can i ease|what drops|what cream|what can i use|what should i use"
)
OWN_THINGS = _bar("my|her|his")
# Time still to come, not "after the morphine" (which may be now).
STRICT_FUTURE = _bar("will|going to|gonna|tomorrow|next week|next time|would|when i start")
AFTER_IT = _bar("after|afterwards|after it|after that")
# A question about when something ends is asked by someone who has it ("will the hot
# flushes ever stop", "will the sickness pass on its own").
END_ASKED = _bar(
    "ever stop|ever go|ever end|ever ease|ever settle|ever get better|will it stop|will it go|"
    "will they stop|will they go|will this stop|will this go|will it pass|will this pass|"
    "when will it|when will they|when will this|on its own|on their own|how long will it last|"
    "how long will this last|how long will they last"
)
# Asking what to do ("do I still have to not eat"): asked, whatever else it says.
INSTRUCTION_ASKS = _bar(
    "do i need to|do i have to|am i allowed|are we allowed|does she need to|does he need to|"
    "do i still have to|do i still need to|does she still need to|does she still have to|"
    "do we need to|do we have to|am i meant to|am i supposed to|is she meant to|"
    "is she supposed to|are we meant to|are we supposed to"
)
JUST_ASKING = _bar("just asking|only asking|asking for when|asking for future|asking in case")
# Questions about what is to come, wherever they stand in a clause.
FUTURE_ASKS = _bar(
    "will it|will i|will she|will he|will they|will that|will this|is it going to|"
    "how long will|how long does|how long do|how long is|how long until|does it hurt|"
    "do they hurt|does that hurt"
)
# A clause that starts like this goes on about whoever the last one was about
# ("my mum, who drives me, has had a fall").
CONTINUES = frozenset(
    tx.stem(w)
    for w in [
        "who", "which", "that", "has", "had", "have", "is", "was", "were", "been", "keeps",
        "kept", "started", "got",
    ]
)
# What someone reports as happening to them now, even inside a question.
NOW_REPORT = _bar(
    "i'm in|i'm getting|i'm having|i'm feeling|i'm still|i'm being|i'm so|i've got|i've been|"
    "i have got|i am in|i am getting|i keep|i can't|been|since|right now|at the moment|"
    "currently|this morning|last night|tonight|all day|all night|she's got|he's got|"
    "she has got|he has got|keeps|it started|has started|have started|started yesterday|"
    "started today|for two days|for days|today|be this|feel this|be so|feel so|this bad|"
    "this much|with this|like this"
)
# Said after these, a sign is something feared, not felt ("worried about the pain"),
# unless the rest names whose body it is or when ("worried about the pain in my chest").
WORRY = _bar(
    "worried about|worry about|worrying about|scared of|scared about|nervous about|afraid of|"
    "frightened of|dreading the|dreading it|anxious about|terrified of|wimp with|"
    "frightened that|scared that|worried that|terrified that|convince myself|every twinge|"
    "every ache|every little"
)
OWNED = _bar("my|her|his|me|now|since|today|tonight|still|this morning|last night|i've got|got")
JUDGEMENT = _bar("should|do i need to|do we need to|is it something to|need i")


def asks_judgement(words: tuple[str, ...] | list[str]) -> bool:
    """True when a clause asks whether something is a worry ("should mum be worried that")."""
    worry = _first_at(list(words), WORRY)
    return worry < len(words) and contains(words[: worry + 1], JUDGEMENT)


# After a fear, someone doing it now is felt, not feared ("worried that I'm coughing up
# blood"), unless what follows is still to come ("scared I'm going to be sick").
DOING_NOW = _bar("i'm|i am|she's|she is|he's|he is|i keep|she keeps|he keeps")
STILL_TO_COME = _bar("going to|gonna|will|might|may|could|would|getting|get")

# Someone who is not the patient: a clause about them ("my friend fainted at work")
# is not the patient's warning sign. Close family are often writing *about* the patient
# ("mum has collapsed"), so they count as the patient unless the writer says they are
# the patient themselves ("my husband has a cold, is it safe while I'm on chemo").
OTHERS = _bar(
    "friend|friends|mate|neighbour|neighbor|colleague|workmate|boss|cat|dog|pet|puppy|"
    "kitten|grandson|granddaughter|grandchild|grandchildren|grandkids|grandkid|kids|kid|"
    "child|children|baby|toddler|nephew|niece|cousin|another patient|other patient|"
    "other patients|someone|somebody|a lady|a woman|a man|the lady|the woman|the man|"
    "bloke|son|daughter|brother|uncle|auntie|aunt|a girl|a patient|people|everyone|"
    "lots of people|anyone|lady|woman|man|gentleman|fella|boy|girl|little boy|little girl|"
    "lad|lass|wee one|bairn|grandad|grandpa|granda|sister in law|brother in law|not the patient|"
    "not patient"
)
# A grown-up son or daughter may be the patient, written about by a parent.
KIN = _bar("son|daughter")
CHILDHOOD = _bar("school|nursery|playgroup|little|toddler|baby|cot|pram|he's 3|she's 3")
FOR = _bar("for")
# "Is it normal for my husband to...": the words that judge before "for".
JUDGED = frozenset(
    tx.stem(w) for w in ["normal", "ok", "okay", "usual", "common", "alright", "fine", "safe"]
)
AGE_WORDS = frozenset(tx.stem(w) for w in ["year", "yr", "years", "yrs", "month", "months"])
# Someone else's family, told of by them ("my friend said her husband collapsed").
THEIR_FAMILY = _bar(
    "her husband|his wife|her wife|his husband|her partner|his partner|her mum|his mum|"
    "her dad|his dad|their mum|their dad"
)
# What someone else does when they tell of the patient ("my son found mum", "my friend says mum").
TELLING = frozenset(
    tx.stem(w)
    for w in ["found", "find", "saw", "seen", "noticed", "says", "said", "thinks", "told", "heard",
              "took", "checked", "reckons", "thought"]
)
# Seeing or finding someone: "found me" is the writer found, unlike "told me".
PERCEIVING = frozenset(
    tx.stem(w) for w in ["found", "find", "saw", "seen", "noticed", "checked"]
)
I_SUBJECT = frozenset(tx.stem(w) for w in ["i", "i'm", "i've", "i'd", "im", "ive"])
FAMILY = _bar(
    "mum|mam|mom|mummy|mother|dad|father|wife|husband|partner|hubby|nan|nana|gran|granny|"
    "grandma|sister|mother in law|other half|fiance"
)
FAMILY_WORDS = frozenset(p[0] for p in FAMILY if len(p) == 1)
PERSON_WORDS = FAMILY_WORDS | frozenset(p[0] for p in OTHERS if len(p) == 1)
PRONOUNS = frozenset(
    ["she", "he", "they", "she's", "he's", "shes", "hes", "her", "his", "him", "it", "it's"]
)
DETERMINERS = frozenset(
    tx.stem(w)
    for w in [
        "my", "our", "the", "a", "an", "me", "his", "her", "their", "your", "sorry", "and",
        "hi", "hello", "so", "also", "but", "little", "poor", "old", "best", "one", "of",
        "um", "er", "erm", "well", "oh", "ok", "okay", "anyway", "just",
    ]
)
PREPOSITIONS = frozenset(
    tx.stem(w)
    for w in [
        "at", "to", "with", "for", "from", "of", "about", "on", "over", "around", "near",
        "next", "by", "into", "onto", "past",
    ]
)
MY = frozenset(["my", "me"])
MY_AND_THEIRS = MY | {"her", "his"}
FIRST_PERSON = _bar("i|i'm|i've|i'd|i'll|me|myself")
# The writer is texting for the patient ("neighbour here typing for Brenda"): the helper
# named is the writer, and what follows is about the patient.
PROXY = _bar(
    "texting for|typing for|writing for|on behalf of|carer for|carer here|messaging for|"
    # "I'm the patient's daughter" (the 's is gone by now)
    "i'm the patient daughter|i'm a patient daughter|i am the patient daughter|"
    "i'm the patient son|i'm a patient son|i'm the patient husband|i'm the patient wife|"
    "i'm the patients daughter|i'm a patients daughter|i'm the patients son|"
    "texting on behalf|neighbour texting|neighbour here|friend here|she can't text|"
    "he can't text"
)
# Someone named is said not to be the patient ("dad (he doesn't have cancer, I do)").
NOT_PATIENT = _bar(
    "doesn't have cancer|does not have cancer|no cancer|not the patient|isn't the patient|"
    "not a patient|not under you|not patient"
)
NAMED_PATIENT = _bar(
    "she's the patient|he's the patient|she is the patient|he is the patient|"
    "they're the patient|they are the patient"
)
# A relative who has the illness or its treatment is the patient ("my daughter has
# secondary breast cancer, her legs have gone weak"), not a neighbour who also has it.
ILL = _bar(
    "has secondary breast cancer|has secondaries|has breast cancer|has metastatic|has mets|"
    "is on chemo|is having chemo|has secondary|has got secondaries|has got breast cancer|"
    "on chemo|having chemo|on treatment|had chemo|has chemo|with secondary|with secondaries|"
    "with breast cancer|with mets|the patient|is the patient"
)
# The writer says they are the patient, so family they mention are someone else.
SELF_PATIENT = _bar(
    "i'm on chemo|my chemo|my treatment|my cancer|my appointment|my scan|my results|my diagnosis|"
    "i'm on|while i'm|take me to|my history|my infusion|my tablets|my nurse|my oncologist|"
    "can i still have|i can still have|have my chemo|for me to be|around him on|around her on|"
    "don't catch it|not catch it|catch it off|keep away from him|keep away from her|"
    "could that happen to me|happen to me|"
    "i have cancer|my secondaries|my mets|i'm having|i am on|i'm receiving|my next cycle|"
    "worrying about me|worried about me|looking after me|look after me|looks after me|"
    "caring for me|cares for me|i'm the one|i am the one|i'm the patient|i am the patient"
)

CLAUSE_BREAK = re.compile(
    r"(?<!\d)[.,;:!?\n]|[.,;:!?\n](?!\d)|[()]"
    r"|\s[-\u2013]\s(?=(?:she|he|i|i'm|it|it's|her|his|mum|dad|my|the|they|we|now|still)\b)"
    r"|\b(?:but|although|though|however|except|and then"
    r"|whereas|plus|also|and(?= (?:i|i'm|i've|im|ive|my|me|she|he|she's|he's|shes|hes|"
    r"mum|mam|dad|her|his|now|then|it's|its|the)\b))\b"
)
_END_MARKS = ".,;:!?\n"
SENTENCE_BREAK = re.compile(r"(?<!\d)[.!?\n]|[.!?\n](?!\d)")


@dataclass(frozen=True)
class Clause:
    """A run of words within a sentence, and what it is about."""

    text: str
    words: tuple[str, ...]
    other: bool  # about someone who is not the patient
    over: bool  # says that what it names has passed
    asks: bool  # asks for information or about something to come, reports nothing now
    past: bool = False  # history, or over: not now
    kin: bool = False  # about a son or daughter, who may be the patient
    aside: bool = False  # said in brackets or between dashes


@dataclass(frozen=True)
class Sentence:
    """A sentence and its clauses."""

    text: str
    words: tuple[str, ...]
    clauses: tuple[Clause, ...]
    past: bool  # history, or over: not now


@dataclass(frozen=True)
class Reading:
    """What a message says, sentence by sentence."""

    cleaned: str
    sentences: tuple[Sentence, ...]
    self_patient: bool  # the writer says they are the patient


def read(cleaned: str, words: Words) -> Reading:
    """Read cleaned text into sentences and clauses with their context."""
    sentences = []
    all_words = words(cleaned)
    self_patient = contains(all_words, SELF_PATIENT) or contains(all_words, NOT_PATIENT)
    # "My daughter (she's the patient) has a temperature": whoever is named is the patient.
    named_patient = not self_patient and contains(all_words, NAMED_PATIENT)
    # "My daughter has secondary breast cancer": that son or daughter is the patient.
    ill_kin = not self_patient and _kin_is_ill(all_words)
    # A relative writing about mum: "her chest" is the patient's chest.
    own = MY_AND_THEIRS if not self_patient and contains(all_words, FAMILY) else MY
    proxy = contains(all_words, PROXY)
    other = kin = False
    for raw in sentences_of(cleaned):
        sent_words = words(raw)
        if not sent_words:
            continue
        # A new sentence is about the patient unless it goes on about the same person.
        other = other and sent_words[0] in PRONOUNS
        parts, aside = _parts(raw)
        question = "?" in raw
        supposing = False
        # "Is it normal to feel sick all day and also have a sore mouth": what is judged
        # goes on after "and", told as much as the first.
        judging = False
        clauses = []
        for n, part in enumerate(parts):
            cw = sent_words if len(parts) == 1 else words(part)
            if not cw:
                continue
            # An aside in brackets ("dad (he doesn't have cancer, I do) has...") does not
            # change who the sentence is about.
            # A sentence's first clause starts afresh ("is it normal for my husband to...").
            skip = (n > 0 and cw[0] in CONTINUES) or proxy or aside[n]
            who = None if skip else _who(cw, self_patient, own)
            if (named_patient or (ill_kin and _kin_subject(cw))) and who:
                who = False
            if who is not None:
                other = who
                # A grown-up son or daughter seen now, not told of ("my son told me he has
                # chest pain" is his own), not a child, nor the child of a writer who is
                # the patient, nor their friend ("my son's friend had a fit").
                kin = (
                    who
                    and not self_patient
                    and _kin_subject(cw)
                    and not _child_by_age(cw)
                    and not contains(cw, CHILDHOOD)
                    and not TELLING & set(cw)
                )
            last = n == len(parts) - 1
            # "If the kids bring a bug home and I get the runs, ..." supposes throughout.
            if _SUPPOSES.match(part):
                supposing = True
            elif cw[0] in WH_WORDS or cw[0] in QUESTION_WORDS:
                supposing = False
            asks = supposing or _asks(cw, question and last, question)
            if judging and cw[0] in CONTINUES and not contains(cw, FUTURE):
                asks = False
            judging = (judging and cw[0] in CONTINUES) or (not asks and contains(cw, NORMAL_TO))
            clauses.append(
                Clause(part, tuple(cw), other, _over(cw), asks, kin=other and kin, aside=aside[n])
            )
        # Whether it is over is judged on what the sentence reports, not on what it asks
        # ("all fine now, can I still have my chemo").
        told = [w for c in clauses if not c.asks for w in c.words] or sent_words
        past = _about_past(raw, told)
        if past:
            # A clause that says what is happening now is about now, whatever the rest
            # says ("mum doesn't know what day it is, asked for her mum (died years ago)").
            now = CURRENT if _over(told) else NOW
            ended = next((i for i, c in enumerate(clauses) if c.over), len(clauses))
            # Only after a history of years, in a story that does not end ("nothing since").
            long_ago = contains(told, LONG_AGO) or _YEAR.search(raw) is not None
            dated = next((i for i, c in enumerate(clauses) if _dates_it(c)), len(clauses))
            if not long_ago or ended < len(clauses):
                dated = len(clauses)
            clauses = [
                replace(c, past=not (
                    contains(c.words, now)
                    or (now is NOW and _SAYS_NOW.search(c.text) is not None)
                    or _cannot_now(c, i > ended)
                    # "Had a PE 2 years ago, chest pain and breathless": told after the
                    # history, with no past verb of its own, it is what is happening.
                    or (i > dated and not c.over and _PAST_VERB.search(c.text) is None)
                ))
                for i, c in enumerate(clauses)
            ]
        else:
            clauses = [replace(c, past=past) for c in clauses]
        sentences.append(Sentence(raw, tuple(sent_words), tuple(clauses), past))
    return Reading(cleaned, tuple(sentences), self_patient)


def _parts(sentence: str) -> tuple[list[str], list[bool]]:
    """A sentence's clauses, and for each whether it stands inside brackets."""
    parts: list[str] = []
    aside: list[bool] = []
    start, depth = 0, 0
    for m in CLAUSE_BREAK.finditer(sentence):
        piece = sentence[start : m.start()]
        if piece.strip(_END_MARKS + " "):
            parts.append(piece)
            aside.append(depth > 0)
        mark = m.group(0)
        depth = depth + 1 if mark == "(" else max(0, depth - 1) if mark == ")" else depth
        start = m.end()
    piece = sentence[start:]
    if piece.strip(_END_MARKS + " "):
        parts.append(piece)
        aside.append(depth > 0)
    return parts, aside


def sentences_of(cleaned: str) -> list[str]:
    """Sentences with their closing punctuation kept, so a "?" can be seen."""
    out, start = [], 0
    for m in SENTENCE_BREAK.finditer(cleaned):
        out.append(cleaned[start : m.end()])
        start = m.end()
    out.append(cleaned[start:])
    return out


def negated(words: tuple[str, ...] | list[str], start: int) -> bool:
    """True when a negator ("no", "not", "haven't") governs words[start]."""
    for j in range(start - 1, max(-1, start - 7), -1):
        if words[j] in NEGATORS:
            after = words[j + 1] if j + 1 < len(words) else ""
            if after in DOUBT_AFTER or (words[j] == "no" and after in ANSWERED):
                return False
            # Near ("no fever") or over a list ("no headaches or sickness").
            return start - j <= 3 or any(w in LIST_JOINERS for w in words[j + 1 : start])
    return False


def hypothetical_start(words: tuple[str, ...] | list[str]) -> int:
    """Where an "if" clause or a fear starts ("what do I do if I get a fever"), or past the end."""
    worry = _first_at(list(words), WORRY)
    feared = words[worry:]
    doing = contains(feared, DOING_NOW) and not contains(feared, STILL_TO_COME)
    # "Should I worry about wetting myself?" asks whether what happens is a worry.
    judged = asks_judgement(words) and not contains(words, FUTURE)
    if worry < len(words) and not (contains(feared, OWNED) or doing or judged):
        return worry
    generic = _first_at(list(words), GENERIC)
    if generic < len(words):
        return generic
    for i, w in enumerate(words):
        if w in HYPOTHETICAL:
            before = words[max(0, i - 2) : i]
            if w == HYPOTHETICAL_SAY and i > 0:
                continue  # "say" opens a supposition only at the start
            if not any(b in DOUBT_BEFORE for b in before):
                return i
    return len(words) + 1


def contains(words: tuple[str, ...] | list[str], seqs: tuple[tuple[str, ...], ...]) -> bool:
    """True when any of the phrases `seqs` appears in `words`."""
    by_first = _first_words(seqs)
    seq = list(words)
    return any(tx.find(seq, s) for w in by_first.keys() & set(seq) for s in by_first[w])


@lru_cache(maxsize=64)
def _first_words(seqs: tuple[tuple[str, ...], ...]) -> dict[str, list[tuple[str, ...]]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    for seq in seqs:
        if seq:
            out.setdefault(seq[0], []).append(seq)
    return out


def _first_at(words: list[str], seqs: tuple[tuple[str, ...], ...]) -> int:
    by_first = _first_words(seqs)
    for i, w in enumerate(words):
        for s in by_first.get(w, ()):
            if tuple(words[i : i + len(s)]) == s:
                return i
    return len(words)


def _who(
    words: list[str], self_patient: bool, own: frozenset[str] = frozenset(["my", "me"])
) -> bool | None:
    """True if a clause is about someone else, False if about the patient, None if silent."""
    other_at = _first_at(words, OTHERS)
    if self_patient:
        other_at = min(other_at, _first_at(words, FAMILY))
    told = _told_of(words, other_at, self_patient, own)
    if told is not None:
        return told
    before = words[:other_at]
    # "My mum's friend has a cough": the friend is who it is about, whoever "my" names
    # (but not "mum and a friend went out, and she fainted").
    if (
        0 < other_at < min(4, len(words))
        and before[-1] in FAMILY_WORDS
        and all(w in DETERMINERS or w in FAMILY_WORDS for w in before)
    ):
        return True
    if _child_by_age(words):
        return True
    # Someone else is who a clause is about only as its subject ("my friend fainted",
    # "is it normal for my husband to be this tired"), not as an object ("tripped over
    # the cat", "waiting for my son to come").
    subject = other_at <= 3 and all(w in DETERMINERS for w in words[:other_at])
    if not (subject or _judged_for(words, other_at)):
        other_at = len(words)
    first_at = min(_first_at(words, FIRST_PERSON), _own_at(words, own))
    # "me neighbour's leg" is "my neighbour's leg" in many parts of the UK.
    if first_at < len(words) - 1 and words[first_at] == "me" and first_at + 1 == other_at:
        first_at = len(words)
    family_at = len(words) if self_patient else _first_at(words, FAMILY)
    patient_at = min(first_at, family_at)
    if other_at < patient_at:
        return True
    if patient_at < len(words):
        return False
    return None


def _told_of(
    words: list[str], other_at: int, self_patient: bool, own: frozenset[str]
) -> bool | None:
    """False when someone else finds or tells of the patient ("my son found mum", "my
    neighbour has just found her", "my daughter says my eyes look yellow"), else None."""
    for at in range(other_at + 1, min(other_at + 5, len(words))):
        if words[at] not in TELLING:
            continue
        told = words[at + 1 :]
        lead = told[1:] if told[:1] == ["that"] else told
        # "My friend found me collapsed", "says I look yellow", "noticed I'm confused": the
        # writer is the patient ("told me he has chest pain" is his own).
        if lead[:1] and (
            lead[0] in I_SUBJECT
            or (lead[0] == "me" and (words[at] in PERCEIVING or lead[1:2] and lead[1] in I_SUBJECT))
        ):
            return False
        # Whose the sign is: mine ("my eyes"), the patient's ("mum", "her"), not theirs
        # ("he has chest pain", "her husband collapsed").
        mine = _own_at(told, own - {"me"}) < len(told)  # "told me he has" is his
        # "My son told me he has chest pain": his own; "my mum's friend says she is very
        # confused": mum, who the friend is named by.
        by_family = any(w in FAMILY_WORDS for w in words[:other_at])
        subject = told[:1] in (["he"], ["she"], ["they"])
        theirs = (subject and not by_family) or _first_at(told, THEIR_FAMILY) < len(told)
        family = not self_patient and _first_at(told, FAMILY) < len(told)
        pronoun = told[:1] in (["her"], ["him"]) or (subject and by_family)
        if (mine or family or pronoun) and not theirs:
            return False
        return None
    return None


def _kin_is_ill(words: list[str]) -> bool:
    """True when a son or daughter is said to have the illness or be treated for it."""
    named = _first_at(words, KIN)
    # "My daughter is 35 and has secondaries", "my daughter who is on chemo": the illness
    # told after the son or daughter is named.
    return any(at > named for seq in ILL for at in tx.find(words, seq))


def _kin_subject(words: list[str]) -> bool:
    """True when the first person a clause names is a son or daughter, not someone of theirs."""
    for i, w in enumerate(words):
        if w in PERSON_WORDS:
            after = words[i + 1] if i + 1 < len(words) else ""
            # "my daughter", not "another patient's daughter" or "her friend's son"
            mine = i == 0 or words[i - 1] in DETERMINERS
            return (w,) in KIN and mine and after not in PERSON_WORDS
    return False


def _child_by_age(words: list[str]) -> bool:
    """ "My 6 year old has a temperature": a child named by age, not "my 80 year old mum"."""
    for i in range(len(words) - 3):
        if words[i] in ("my", "our") and words[i + 1].isdigit() and words[i + 2] in AGE_WORDS:
            after = words[i + 4 : i + 5] if words[i + 3] == "old" else []
            return words[i + 3] == "old" and not (after and after[0] in PERSON_WORDS)
    return False


def _judged_for(words: list[str], other_at: int) -> bool:
    """ "Is it normal for my husband to be this tired": the husband is who it is about."""
    for_at = _first_at(words, FOR)
    return (
        0 < for_at < other_at
        and words[for_at - 1] in JUDGED
        and all(w in DETERMINERS for w in words[for_at + 1 : other_at])
    )


def _own_at(words: list[str], own: frozenset[str]) -> int:
    """Where "my" names the patient's own body or things ("my chest"), not someone."""
    for i, w in enumerate(words[:-1]):
        # Three words on: "my 6 year old" names a child as surely as "my son".
        after = words[i + 1 : i + 4]
        if w in own and _first_at(after, OTHERS + FAMILY) >= len(after):
            return i
    return len(words)


def _over(words: list[str] | tuple[str, ...]) -> bool:
    if not contains(words, RESOLVED):
        return False
    # An end asked about or waited for has not come: "will it pass", "waiting for it to
    # settle" are said of a sign still going on (stems make "passed" and "pass" one word).
    listed = list(words)
    if all(_end_awaited(listed, i) for seq in RESOLVED for i in tx.find(listed, seq)):
        return False
    # "hasn't come back" says it is over, though "come back" alone would say it is not.
    return not contains(_without(list(words), RESOLVED), STILL)


def _end_awaited(words: list[str], at: int) -> bool:
    """True when words before `at` ask about, wait for or deny the end found there ("will it
    stop on its own", "won't stop after an hour")."""
    before = words[at - 1] if at > 0 else ""
    if before in _SUBJECT_IT and at > 1:
        before = words[at - 2]  # "will it stop", "will she settle"
    return before in END_AWAITED or before in _NOT_ENDED


def _without(words: list[str], seqs: tuple[tuple[str, ...], ...]) -> list[str]:
    """Words with every run matching one of `seqs` replaced by a gap marker."""
    out = list(words)
    for seq in seqs:
        for i in tx.find(words, seq):
            out[i : i + len(seq)] = ["|"] * len(seq)
    return out


def _cannot_now(clause: Clause, after_end: bool = False) -> bool:
    """ "The bleeding has stopped but she can't breathe", "... but she has a temp of 38.5":
    what she cannot do (or, told after the end, has), in a clause that is not itself over
    and names no time past, is now."""
    return (
        contains(clause.words, AFTER_END if after_end else CANNOT)
        and not clause.over
        and not contains(clause.words, PAST)
        and not contains(clause.words, LONG_AGO)
    )


# A verb or phrase that puts a clause in the past, as written ("she had a fit then").
_PAST_VERB = re.compile(
    r"\b(?:was|wasn'?t|were|weren'?t|had|hadn'?t|did|didn'?t|went|came|got|turned|used to|"
    r"back then|at the time|that time|then|before|previously|since|ago|last|fine|ok|okay|"
    r"better|gone|cleared|settled|stopped)\b"
)


def _dates_it(clause: Clause) -> bool:
    """True when a clause names a time in the past ("2 years ago", "in 2019", "last week")."""
    return contains(clause.words, PAST) or _YEAR.search(clause.text) is not None


def _about_past(sentence: str, words: list[str]) -> bool:
    if _over(words):
        return True
    if not (contains(words, PAST) or _YEAR.search(sentence)):
        return False
    if (contains(words, LONG_AGO) or _YEAR.search(sentence)) and not contains(words, AGAIN):
        return True
    return not (contains(words, NOW) or _SAYS_NOW.search(sentence))


_ELSE = tx.stem("else")
_HOW = tx.stem("how")
_HOW_LIKE = frozenset(tx.stem(w) for w in ["sore", "painful", "uncomfortable", "long"])


def puts_a_question(words: tuple[str, ...] | list[str]) -> bool:
    """True when a clause is put as a question, even one read as a report ("is that normal",
    "should I worry"): what the message asks may still be answered beside a sign."""
    return contains(words, NORMAL_TO) or contains(words, END_ASKED) or asks_judgement(words)


def _asks(words: list[str], question_mark: bool, in_question: bool = False) -> bool:
    """True when a clause asks for information, or about what is to come, and reports nothing."""
    i = 0
    while i < len(words) - 1 and words[i] in LEADERS:
        i += 1
    rest = words[i:]
    first = rest[0]
    # "can hardly breathe" is not a question: a yes/no opening needs a "?" or asking words.
    # "where they did my biopsy is red" reports; "where do I go" asks.
    # "who else can I talk to", "how sore is it after": a word between the question word
    # and its verb.
    # "how sore is it after" asks what is to come; "how dangerous is it that my port won't
    # stop bleeding" asks a judgement of what is happening, and stays a report.
    how_like = first == _HOW and len(rest) > 1 and rest[1] in _HOW_LIKE
    between = len(rest) > 2 and (rest[1] == _ELSE or how_like) and rest[2] in AUXILIARIES
    wh = first in WH_WORDS and (
        question_mark or in_question or (len(rest) > 1 and rest[1] in AUXILIARIES) or between
    )
    # "is it painful", "does it hurt": a verb before its subject asks, "?" or not.
    inverted = (
        1 < len(rest) <= SHORT_QUESTION
        and rest[0] in INVERTING_VERBS
        and rest[1] in INVERTED_SUBJECTS
    )
    asks = wh or (
        first in QUESTION_WORDS
        and first not in WH_WORDS
        and (question_mark or inverted or contains(rest, ASKING) or contains(rest, FUTURE))
    )
    if contains(rest, JUST_ASKING):
        return True
    if contains(rest, INSTRUCTION_ASKS):
        # "Do I still have to not eat" asks; "do I need to call 999, my chest is crushing"
        # reports too: what follows the asking words decides.
        told = _without(list(rest), INSTRUCTION_ASKS)
        if contains(rest, PROCEDURES) or not (
            contains(told, EXPERIENCE) or contains(told, NOW_REPORT)
        ):
            return True
    if not asks:
        return contains(rest, FUTURE_ASKS) and not contains(rest, NOW_REPORT)
    now = contains(rest, NOW_REPORT)
    # "Is it normal for my PICC arm to be swollen": whose arm says it is happening.
    own = contains(rest, OWN_THINGS) and not contains(rest, STRICT_FUTURE)
    normal = contains(rest, NORMAL_TO) or asks_judgement(rest)
    # "Is it normal to be sore after": after the test just talked about; not "this chest
    # pain after my chemo", which says whose and when.
    after = contains(rest, AFTER_IT) and not (own or now)
    if normal and not after and (not contains(rest, FUTURE) or now or own):
        return False
    if contains(rest, END_ASKED) and (not contains(rest, PROCEDURES) or now):
        return False
    # "Should I be this out of breath", "is it normal, it started today": what happens now.
    if now and not contains(rest, TO_COME):
        return False
    if not contains(rest, EXPERIENCE):
        return True
    return contains(rest, FUTURE) and not contains(rest, NOW_REPORT)
