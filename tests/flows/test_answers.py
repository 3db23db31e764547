"""Answers that fit the question: aspects, circumstances, feelings, follow-ups, speech."""

from __future__ import annotations

import csv
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ scores the blind sets

from bench.answers import (  # noqa: E402
    DATA,
    run_conversation,
    score_conversations,
    score_questions,
)
from bench.answers import ask as bench_ask  # noqa: E402
from flows import calls  # noqa: E402
from flows.conversation import Conversation  # noqa: E402
from flows.engine import Awaiting, Context, Turn, step  # noqa: E402
from flows.gsm import cost  # noqa: E402
from flows.knowledge import default_knowledge  # noqa: E402

LONDON = ZoneInfo("Europe/London")
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=LONDON)
NURSE = "0191 445 3735"
NOT_SURE = default_knowledge().messages["not_sure"].sms


def ask(text: str, conv: Conversation | None = None, awaiting: Awaiting | None = None) -> Turn:
    return step(conv or Conversation(), text, Context.default(now=MONDAY_10), awaiting=awaiting)


def reply(turn: Turn) -> str:
    return "\n".join(turn.messages)


@pytest.mark.parametrize(
    ("text", "topic", "fact"),
    [
        ("does the ct dye make you feel hot", "ct_scan", "hot all over"),
        ("can i have brekkie before my ct", "ct_scan", "4 hours"),
        ("is an mri loud", "mri_scan", "earplugs"),
        ("is the pet scan radiation safe for my grandson", "pet_ct_scan", "very small"),
        ("who does the biopsy", "biopsy", "outpatient"),
        ("when do i get my bone scan results", "bone_scan", "couple of weeks"),
        # What a named part looks for is that part ("the chest x-ray"), not the overview.
        ("what will a chest x-ray be looking for", "xray", "fluid"),
        ("PET scan 8am tomorrow. what time should i have my last meal tonight?",
         "pet_ct_scan", "6 hours"),
        ("mri tmrw what shud i leave at home", "mri_scan", "metal"),
    ],
)
def test_the_aspect_asked_is_answered(text: str, topic: str, fact: str) -> None:
    turn = ask(text)
    assert turn.topic == topic
    assert fact in reply(turn)


@pytest.mark.parametrize(
    ("text", "fact"),
    [("scan done this morning how long til i hear anything", "couple of weeks"),
     ("bloods done monday when will i hear", "couple of weeks"),
     ("will i be having scans regularly now to see if its working?", "regular scans")],
)
def test_results_asked_of_no_test_in_particular_get_the_results_answer(
    text: str, fact: str
) -> None:
    turn = ask(text)
    assert turn.topic == "results" and fact in reply(turn)


def test_which_one_asked_of_the_two_just_talked_about_answers_that_part_of_each() -> None:
    first = ask("what's a liver ultrasound like")
    second = ask("and the bone scan, is that the same kind of thing", first.conversation)
    third = ask("which one takes longer", second.conversation)
    said = reply(third)
    assert "few minutes" in said and "2 to 3 hours" in said
    # The order they came up in is kept: the first one is still the ultrasound.
    back = ask("going back to the first one, does it hurt", third.conversation)
    assert back.topic == "liver_ultrasound"


def test_which_one_of_two_named_tests_answers_that_part_of_each() -> None:
    said = reply(ask("ct or mri which one takes longer? i have both next week"))
    assert "10 to 30 minutes" in said and "30 minutes. Some scans take up to an hour" in said


@pytest.mark.parametrize(
    ("text", "topic"),
    [("nurse mentioned electro-something chemo for the lumps on my skin?? whats that",
      "chemotherapy"),
     ("and the other one he said, deno something?", "bone_drugs"),
     ("tamox something, is that a hormone one", "hormone_therapy")],
)
def test_who_said_it_and_half_remembered_names_do_not_hide_the_topic(
    text: str, topic: str
) -> None:
    assert ask(text).topic == topic


@pytest.mark.parametrize(
    "text",
    ["sorry. its just a lot tonight", "ok. shes putting a brave face on but i dont think shes ok",
     "um I just er I don't really know who to talk to you know about all this"],
)
def test_how_much_it_all_is_gets_the_kind_reply(text: str) -> None:
    said = reply(ask(text))
    assert "Macmillan" in said and NURSE in said and NOT_SURE not in said


@pytest.mark.parametrize("text", ["changing the subject, i need to rearrange my ct on friday",
                                  "can i change my appointment", "cant make it tomorrow"])
def test_a_request_to_move_a_booking_with_no_reminder_says_who_can(text: str) -> None:
    turn = ask(text)
    assert "number on your appointment letter" in reply(turn)
    assert not any(a.kind == "rearrange" for a in turn.actions)


@pytest.mark.parametrize("text", ["and if i cant do it?", "would a ct be ok instead",
                                  "ive also got a wedding ring that wont come off"])
def test_a_question_about_the_test_is_not_a_request_to_move_it(text: str) -> None:
    assert "appointment letter" not in reply(ask(text))


def test_a_hip_done_is_metal_for_the_mri() -> None:
    first = ask("can u have an mri if u have a pacemaker")
    said = reply(ask("she had her hip done too, is that a problem as well", first.conversation))
    assert "metal" in said


@pytest.mark.parametrize(
    ("text", "fact"),
    [("Can radiotherapy be used for secondaries in the brain?", "spread to the brain"),
     ("got lumps in my skin where the scar is, can radiotherapy treat that", "spread to the skin"),
     ("how is secondary bc diagnosed", "depend on your symptoms"),
     ("is there somewhere online to talk to others with secondary bc", "forum")],
)
def test_words_naming_the_illness_do_not_choose_the_part_asked(text: str, fact: str) -> None:
    assert fact in reply(ask(text))


@pytest.mark.parametrize(
    ("text", "fact"),
    [("chemo first then radiotherapy or other way round? trying to plan work",
      "order of your treatments"),
     ("which comes first, radiotherapy to my back or starting the new tablets?",
      "order of your treatments"),
     ("do i have the bone scan before or after the ct", "depend on your symptoms"),
     ("im 34 with 2 little ones. if this treatment stops working whats next??", "change it"),
     ("lie awake worrying herceptin will stop working. is there another targeted drug they "
      "could use", "several types")],
)
def test_the_order_of_things_and_what_comes_next_are_answered(text: str, fact: str) -> None:
    assert fact in reply(ask(text))


def test_eating_before_or_after_one_test_is_not_the_order_of_tests() -> None:
    assert "depend on your symptoms" not in reply(ask("do i eat before or after the ct"))


@pytest.mark.parametrize(
    ("text", "fact"),
    [("WHAT IS THE PLEURA THEY SAID ON MY XRAY THERE MIGHT BE FLUID BY THE PLEURA", "membranes"),
     ("can cancer hide on an xray", "may not show small areas"),
     ("I was ER positive first time round, will it still be the same now its spread?",
      "different"),
     ("can they operate on liver secondaries", "liver"),
     ("I need a crown at the dentist and I'm on Zometa. Should I tell the dentist?",
      "cancer team"),
     ("can u have more than one treatment at once? like tablets and injections together",
      "combination"),
     ("my onc wants me on hormone tablets AND palbociclib together, why both", "targeted"),
     ("whats the difference between a pet ct and a normal ct", "activity of cells"),
     ("bone scan showed some hot spots what does that mean", "abnormal areas"),
     ("After the injection how long till they actually do the bone scan?", "2 to 3 hours"),
     ("do i just sit there after the injection before the pet scan?", "at least an hour"),
     ("pet scan next week, is that at my usual hospital?", "specialist centres"),
     ("how long can it be kept under control? trying to plan things with the kids", "many years"),
     ("Will they do a mastectomy now it's spread?", "not usually"),
     ("my calcium came back high, why would a bone drug help calcium", "lower it"),
     ("how do they find the right spot for the biopsy needle? is it done blind", "ultrasound"),
     ("boss keeps asking when I'll be back. is there anyone who can help me with the work side",
      "Macmillan"),
     ("is secondary the same as a recurrence?? my onc used both words", "recurrence"),
     ("mets in my lung so do i get lung cancer chemo now", "breast cancer drugs"),
     ("gp thinks it might of spread wat happens now", "oncologist"),
     ("what are tumour makers", "protein"),
     ("bone scam injection is it radioactive", "mildly radioactive"),
     ("try pull negative what does it mean", "HER2"),
     ("palliative what does that mean", "relieve symptoms"),
     ("what does ER positive mean", "oestrogen"),
     ("onc said 'control not cure' what does that even mean", "cannot be cured"),
     ("dino sue mab??", "targeted"),
     ("nobody explains anything", "breast care nurses"),
     ("Diagnosed with breast cancer last week and now they say its already spread at the same "
      "time. Is that even possible?", "same time")],
)
def test_the_fact_asked_is_in_the_answer(text: str, fact: str) -> None:
    assert fact in reply(ask(text))


@pytest.mark.parametrize("text", [
    "gp referred me for tests for poss spread. who will i actualy see at the hosp",
    "Had a lumpectomy 3 yrs ago and now theres a new lump right in the scar. Is that secondary?",
    "why do i keep having scans every 3 months when i feel fine? it means a day off work"])
def test_words_near_a_topic_word_do_not_pull_the_answer_away(text: str) -> None:
    turn = ask(text)
    assert "Macmillan gives financial" not in reply(turn) and turn.topic != "surgery"


def test_after_a_warning_waiting_hours_for_a_call_back_is_advised_against() -> None:
    first = ask("temp 38.9 and shivering")
    said = reply(ask("i rang 111 and they said theyd call back in 4 hours", first.conversation))
    assert "do not wait hours" in said and "24-hour number" in said and "right thing" not in said


@pytest.mark.parametrize(
    ("then", "expected", "not_said"),
    [("rang 111 and they said to wait and see the GP tomorrow", "Follow what they told you",
      "right thing"),
     ("on our way but she's worse now", "Please do not wait", "right thing"),
     ("we're at a&e been waiting 5 hours and nobody has seen her, she looks grey",
      "Tell the staff", "right thing"),
     ("rang the chemo line, they said come in but we have no way to get there",
      "ask for an ambulance", "right thing"),
     ("called 999 but they said 2 hours, should I drive myself?", "do not drive",
      "right thing"),
     ("Will they know about my cancer?", "secondary breast cancer", "right thing")],
)
def test_after_a_warning_help_that_has_not_come_is_not_the_right_thing(
    then: str, expected: str, not_said: str
) -> None:
    # Found by session 11's safety review: "You have done the right thing" to people still
    # waiting, sent home or getting worse.
    first = ask("mum's temp is 38.5 and she had chemo last week")
    said = reply(ask(then, first.conversation))
    assert expected in said and not_said not in said


@pytest.mark.parametrize(
    "then",
    ["rang the ward, no answer", "rang 111 but the line was engaged",
     "111 said wait till morning but shes no better",
     "111 said see gp tmrw, her legs are getting weaker",
     "called 999 but then cancelled it as she felt better",
     "they said come in but she refuses to go",
     "rang 111 and they said go to a&e but we'll go in the morning instead",
     "im on my way home from work, can it wait till i get there in 2 hours",
     "on our way to hospital now, shes stopped responding to me",
     "111 said wait for GP monday. my sister reckons we should go now, whos right?"],
)
def test_after_a_warning_help_that_failed_or_is_refused_gets_the_advice_again(then: str) -> None:
    # Session 11's second review: each of these got "you have done the right thing" or
    # "follow what they told you" for a while.
    first = ask("mum's temp is 38.5 and she had chemo last week")
    said = reply(ask(then, first.conversation))
    assert "999" in said and "right thing" not in said and "Follow what they told" not in said


def test_after_an_emergency_being_told_to_wait_is_still_999() -> None:
    first = ask("mum has coughed up blood twice")
    said = reply(ask("111 said take paracetamol and see how she goes", first.conversation))
    assert "call 999 now" in said.lower() and "Follow what they told" not in said


def test_after_a_warning_being_told_to_come_in_is_the_right_thing() -> None:
    first = ask("had my chemo tues. now temp 38 and feel awful, is that normal")
    said = reply(ask("rang the number on my chemo card and they said come in to the assessment "
                     "unit, is that right", first.conversation))
    assert "right thing" in said and "follow" in said


def test_after_a_warning_the_support_line_for_later_is_still_given() -> None:
    first = ask("temp 38.9 and shivering")
    said = reply(ask("ok my daughter is taking me now. whats the macmillan number for after",
                     first.conversation))
    assert "0808 808 00 00" in said


def test_parking_and_transport_point_to_the_letter() -> None:
    appt = Awaiting("a1", "ct_scan", MONDAY_10 + timedelta(days=2))
    turn = ask("yes confirmed ta. is there parking there", awaiting=appt)
    assert any(a.kind == "confirm" for a in turn.actions)
    assert "appointment letter" in reply(turn) and NOT_SURE not in reply(turn)


def test_more_said_after_a_kind_reply_gets_kindness_not_not_sure() -> None:
    first = ask("keep thinking about my mum, i feel so low")
    said = reply(ask("sorry. i just keep sitting in the car outside hers before i go in",
                     first.conversation))
    assert NOT_SURE not in said and "Macmillan" in said


@pytest.mark.parametrize(
    ("first", "then", "fact"),
    [("what happens in a biopsy", "will they put me under", "local anaesthetic"),
     ("what is an mri", "can i have music on", "headphones"),
     ("whats a pet ct", "and do we have to go to the big hospital in town for it",
      "specialist centres"),
     ("what is a ct scan", "someone said the dye makes u feel like uve wet urself", "hot")],
)
def test_a_follow_up_in_everyday_words_gets_its_part(first: str, then: str, fact: str) -> None:
    said = reply(ask(then, ask(first).conversation))
    assert fact in said


def test_what_the_nurse_said_is_answered_not_the_nurse() -> None:
    said = reply(ask("nurse said me calcium is high from the bone cancer, can owt be done"))
    assert "calcium" in said and "bone drug" in said


def test_the_nurse_who_said_it_is_not_a_part_of_the_test_asked() -> None:
    turn = ask("the nurse said i need a bone scan, why")
    assert turn.topic == "bone_scan" and turn.aspect not in ("eat_drink", "prepare")


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("mri next week and I have a pacemaker", ["checklist", "another scan", NURSE]),
        ("im diabetic how do i fast for my pet scan", ["6 hours", "sugars", NURSE]),
        ("is the bone scan injection safe around my grandson", ["mildly radioactive", NURSE]),
        ("should i stop my tamoxifen before the ct", ["usual medicines", NURSE]),
        ("so claustrophobic, mri tomorrow", ["speak to the person", NURSE]),
    ],
)
def test_a_personal_circumstance_gets_the_fact_and_tell_the_team(
    text: str, facts: list[str]
) -> None:
    said = reply(ask(text))
    for fact in facts:
        assert fact in said, said
    assert "Tell your team before the appointment" in said


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("how long have i got", "cannot be cured"),
        ("is it hereditary, will my daughter get it", "genetic"),
        ("can someone come with me to my scan", "bring someone"),
        ("i feel so alone with all this", "not have to face this alone"),
        ("terrified of chemo", "very normal"),
        ("worried about money now im off work", "financial and practical support"),
    ],
)
def test_a_feeling_gets_a_kind_reply_never_not_sure(text: str, fact: str) -> None:
    turn = ask(text)
    said = reply(turn)
    assert fact in said, said
    assert NURSE in said or "0808 808 00 00" in said, said
    assert NOT_SURE not in said
    assert turn.triage.level == "none"


def test_a_follow_up_with_no_test_named_is_about_the_last_one() -> None:
    first = ask("what is a pet ct scan")
    assert first.topic == "pet_ct_scan"
    follow = ask("how long will i be there", conv=first.conversation)
    assert follow.topic == "pet_ct_scan" and "30 to 90 minutes" in reply(follow)


def test_after_a_reminder_a_question_is_about_that_test() -> None:
    awaiting = Awaiting("a1", "ct_scan", MONDAY_10 + timedelta(days=3))
    turn = ask("can i have a cup of tea before", awaiting=awaiting)
    assert turn.topic == "ct_scan" and "4 hours" in reply(turn)


@pytest.mark.parametrize("text", ["um er how long does the bone scan take you know",
                                  "er what is a bone scan"])
def test_a_speakers_er_is_not_the_receptor(text: str) -> None:
    assert ask(text).topic == "bone_scan"


@pytest.mark.parametrize("text", ["my first cancer was er+", "is my cancer er positive"])
def test_er_said_about_a_cancer_is_the_receptor(text: str) -> None:
    assert ask(text).topic == "receptors"


def test_asking_for_the_nurses_number_gets_it_in_the_first_text() -> None:
    turn = ask("oncology nurse number pls")
    assert NURSE in turn.messages[0]


def test_every_answer_to_the_blind_questions_is_plain_gsm7() -> None:
    from bench.answers import DATA

    for path in sorted(DATA.glob("questions_*.csv")):

        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                _, _, said = bench_ask(row["text"])
                assert cost(said).encoding == "GSM-7", (row["text"], said)


# --- the blind sets as regression tests (first-sight figures in tests/data/ANSWERS.md) ---


@pytest.mark.parametrize(
    ("name", "min_facts"),
    [
        # Floors about three points under what the line scores at the end of session 7
        # (tests/data/ANSWERS.md): a drop past one is a regression to explain.
        ("questions_b1_qa", 0.85), ("questions_b1_qb", 0.82), ("questions_b1_qc", 0.75),
        ("questions_b2_qd", 0.72), ("questions_b2_qe", 0.70), ("questions_b3_qf", 0.67),
        ("questions_b4_qg", 0.76), ("questions_b4_qh", 0.73), ("questions_b5_qi", 0.77),
        ("questions_b5_qj", 0.81), ("questions_b6_qk", 0.81), ("questions_b6_ql", 0.70),
        ("questions_b7_qm", 0.69), ("questions_b7_qn", 0.73),
        # Session 8: batch 8, three points under its figures after its causes were fixed.
        ("questions_b8_qo", 0.79), ("questions_b8_qp", 0.75), ("questions_b9_qr", 0.77),
        ("questions_b9_qs", 0.77),
        # Session 9: batch 10, three points under its figures after its causes were fixed.
        ("questions_b10_qt", 0.81), ("questions_b10_qu", 0.77),
        # Session 10: batch 11, three points under its figures after its causes were fixed.
        ("questions_b11_qv", 0.77), ("questions_b11_qw", 0.74),
        # Session 11: batches 12 and 13, three points under their figures after their
        # causes were fixed (first sight: qx 82.0, qy 80.0, qz 72.7, qzb 85.3).
        ("questions_b12_qx", 0.86), ("questions_b12_qy", 0.84),
        ("questions_b13_qz", 0.76), ("questions_b13_qzb", 0.91),
        # Session 12: batch 14, three points under its figures after its causes were fixed
        # (first sight: qzc 81.3, qzd 85.3).
        ("questions_b14_qzc", 0.80), ("questions_b14_qzd", 0.85),
        # Session 13: batches 15 and 16, three points under their figures after their
        # causes were fixed (first sight: qze 86.0, qzf 82.0, qzg 86.7, qzh 88.7).
        ("questions_b15_qze", 0.93), ("questions_b15_qzf", 0.87),
        ("questions_b16_qzg", 0.89), ("questions_b16_qzh", 0.89),
    ],
)
def test_blind_questions_keep_their_figures(name: str, min_facts: float) -> None:
    f = score_questions(DATA / f"{name}.csv")
    assert f.facts / f.with_facts >= min_facts, f"{name}: facts {f.facts}/{f.with_facts}"
    # "Not sure" at most 3% is the issue's own target, met on every set.
    assert f.not_sure / f.total <= 0.03, f"{name}: not sure {f.not_sure}/{f.total}"
    assert f.topic / f.total >= 0.80, f"{name}: topic {f.topic}/{f.total}"


@pytest.mark.parametrize(
    ("name", "min_passed"),
    [("conversations_b1", 63), ("conversations_b2", 35), ("conversations_b3", 35),
     ("conversations_b4", 28), ("conversations_b5", 31), ("conversations_b6", 28),
     ("conversations_b7", 29), ("conversations_b8", 23),
     ("conversations_b9", 30), ("conversations_b10", 27), ("conversations_b11", 32),
     ("conversations_b12", 36), ("conversations_b13", 35)],
)
def test_blind_conversations_keep_their_figures(name: str, min_passed: int) -> None:
    c = score_conversations(DATA / f"{name}.jsonl")
    assert c.passed >= min_passed, "\n".join(c.failures[:10])


def test_conversation_scoring_forbids_the_not_sure_reply_not_the_words() -> None:
    lost = {"id": "x", "turns": [{"send": "zzqx blorp", "forbid": ["not sure"]}]}
    # The prepare answer says "if you are not sure, ask your breast care nurse".
    asked = {
        "id": "y", "turns": [{"send": "how do i prepare for an x-ray", "forbid": ["not sure"]}]
    }
    assert run_conversation(lost) and not run_conversation(asked)


def test_conversation_scoring_fails_a_turn_that_lacks_its_fact() -> None:
    bad = {"id": "x", "turns": [{"send": "what is a ct scan", "expect": ["banana"]}]}
    good = {"id": "y", "turns": [{"send": "what is a ct scan", "expect": ["x-ray"]}]}
    assert run_conversation(bad) and not run_conversation(good)



@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("need to change the date", "rearrange"),
        ("er sorry um i can't make the er appointment on thursday", "rearrange"),
        ("uh yeah that's er that's fine yeah see you then", "confirm"),
        ("i cant go to the toilet", None),
        ("no that's not fine", None),
    ],
)
def test_replies_to_a_reminder_in_everyday_words(text: str, kind: str | None) -> None:
    from flows.replies import classify_reply

    assert classify_reply(text) == kind


def test_a_question_about_what_treatment_is_for_is_not_a_warning_sign() -> None:
    turn = ask("so what's the point of treatment")
    assert turn.triage.level == "none" and "control" in reply(turn)


def test_type_1_diabetes_is_not_a_low_blood_sugar_reading() -> None:
    turn = ask("I'm type 1 diabetic and have a PET-CT next week, how long without food")
    assert turn.triage.level == "none" and "6 hours" in reply(turn)


def test_after_an_urgent_reply_asking_to_wait_gets_call_now() -> None:
    first = ask("temp 38.6 and shivery on chemo")
    later = step(first.conversation, "should i wait till the morning",
                 Context.default(now=MONDAY_10 + timedelta(minutes=3)))
    assert later.messages[0].startswith("Call the 24-hour number your hospital gave you now")


def test_a_follow_up_about_waiting_after_a_bone_scan_answer_is_about_the_scan() -> None:
    first = ask("what happens at a bone scan")
    follow = ask("how long do i wait after", conv=first.conversation)
    assert follow.topic == "bone_scan" and "2 to 3 hours" in reply(follow)


def _call_say(words: str, confidence: float | None) -> calls.CallTurn:
    ctx = Context.default(now=MONDAY_10)
    turn = calls.step(calls.Call.new(ctx.now), calls.Heard("call"), ctx)
    return calls.step(turn.call, calls.Heard("input", speech=words, confidence=confidence), ctx)


def test_a_low_confidence_speech_result_is_asked_again_not_guessed() -> None:
    turn = _call_say("er", 0.2)
    assert any("did not catch that clearly" in s for s in turn.say)
    assert turn.call.state == "main"
    assert turn.topic is None


def test_a_warning_sign_is_acted_on_however_unsure_the_recogniser_is() -> None:
    turn = _call_say("crushing chest pain", 0.2)
    assert turn.triage.level == "emergency"


def test_a_clear_speech_result_is_used() -> None:
    turn = _call_say("bone scan", 0.9)
    assert turn.call.state == "test:bone_scan"


# --- Treatments and general topics answer the part asked, not their overview ---------------

K = default_knowledge()


@pytest.mark.parametrize(
    ("text", "topic", "section"),
    [
        ("how long will i be on hormone therapy", "hormone_therapy", "duration"),
        ("does radiotherapy make you tired", "radiotherapy", "side_effects"),
        ("will radiotherapy cure it", "radiotherapy", "cure"),
        ("is my chemo working", "chemotherapy", "results"),
        ("is there a support centre near me", "support", "local"),
        ("can i go on a clinical trial", "treatment", "clinical_trials"),
        ("does a lump in the scar mean secondary breast cancer", "about", "local_recurrence"),
    ],
)
def test_a_treatment_or_general_question_gets_the_section_asked(
    text: str, topic: str, section: str
) -> None:
    turn = ask(text)
    assert (turn.topic, turn.aspect) == (topic, section)
    said = K.topics[topic].sections[section].sms
    assert reply(turn) == f"{K.topics[topic].title}: {said}\n{K.messages['after_topic'].sms}"


def test_without_a_particular_question_a_treatment_gets_its_overview() -> None:
    turn = ask("tell me about hormone therapy")
    assert turn.aspect is None
    assert reply(turn).startswith(K.topics["hormone_therapy"].answer.sms[:60])


def test_a_medicine_is_a_circumstance_for_a_test_and_the_subject_of_its_own_question() -> None:
    before_ct = ask("should i stop my letrozole before the ct scan")
    assert "Do not stop" in reply(before_ct) or "do not stop" in reply(before_ct)
    on_it = ask("how long will i be on letrozole")
    assert (on_it.topic, on_it.aspect) == ("hormone_therapy", "duration")


@pytest.mark.parametrize(
    "text",
    ["do bone drugs reduce fracture risk", "do bone strengthening drugs ease pain",
     "is weight loss a symptom", "is nausea a symptom of secondary breast cancer"],
)
def test_a_question_about_what_a_drug_does_or_what_a_symptom_is_is_not_an_alert(
    text: str,
) -> None:
    turn = ask(text)
    assert turn.triage.level == "none", reply(turn)
    assert turn.topic in ("bone_drugs", "symptoms")


@pytest.mark.parametrize(
    "text",
    ["can the tablets ease the pain in my back, its agony since this morning",
     "do the drugs help, my leg went weak today"],
)
def test_the_same_words_with_a_sign_reported_now_still_alert(text: str) -> None:
    assert ask(text).triage.level in ("urgent", "emergency")


def test_on_the_phone_a_treatment_question_plays_the_section_asked() -> None:
    turn = _call_say("how long will I be on hormone therapy", 0.9)
    assert turn.call.state == "play:hormone_therapy:duration"
    assert turn.say[0] == K.topics["hormone_therapy"].sections["duration"].voice


@pytest.mark.parametrize(
    ("first", "then"),
    [("I can't stop crying since they told me it's spread", "what's the number"),
     ("the waiting for results is driving me mad", "are they open at the weekend"),
     ("who can i talk to, i feel so alone", "when can i ring them")],
)
def test_after_a_reply_that_offers_someone_to_talk_to_the_number_and_hours_follow(
    first: str, then: str
) -> None:
    turn = ask(then, ask(first).conversation)
    said = reply(turn)
    assert "0808 808 00 00" in said and NURSE in said
    assert "Monday to Friday" in said and NOT_SURE not in said


def test_a_feeling_about_a_named_test_keeps_the_test_for_the_next_question() -> None:
    turn = ask("does it hurt", ask("I'm terrified about my CT scan tomorrow").conversation)
    assert turn.topic == "ct_scan" and "painless" in reply(turn)


def test_a_question_that_names_no_topic_finds_the_section_its_words_ask() -> None:
    turn = ask("does it mean its gone everywhere")
    assert (turn.topic, turn.aspect) == ("about", "spread_more")
    assert NOT_SURE not in reply(turn)


def test_words_shared_by_two_topics_own_sections_pick_neither() -> None:
    # "tumour markers" asks a blood test's and a result's own section alike: no guess.
    m = default_knowledge()
    shared = [t.id for t in m.topics.values()
              if any("tumour markers" in c for c in t.cues.values())]
    assert len(shared) >= 2
    from flows.matcher import default_matcher
    assert default_matcher().own_section(default_matcher().words("tumour markers")) is None


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("How long is the PET-CT itself and can I go straight home afterwards?", "30", "home"),
        ("the noisy tube scan, does the dye injection hurt", "dye", "earplugs"),
        ("CT friday after work. how long does it take and can i go straight home after",
         "home", "10 to 30 minutes"),
    ],
)
def test_two_questions_in_one_text_get_two_answers(text: str, first: str, second: str) -> None:
    turn = ask(text)
    assert len(turn.messages) == 2
    assert first in reply(turn) and second in reply(turn), turn.messages
    assert all(cost(m).segments <= 2 for m in turn.messages)


@pytest.mark.parametrize(
    "text",
    ["biopsy results how long", "pet ct how long no food before",
     "the dye made me feel weird n hot all over last time, is that normal??"],
)
def test_how_long_or_is_that_normal_beside_one_question_is_still_one_question(text: str) -> None:
    assert len(ask(text).messages) == 1


def test_a_circumstance_with_a_question_about_the_test_gets_both() -> None:
    turn = ask("i hate needles, does the ct dye make you hot")
    assert "needles" in turn.messages[0] and NURSE in turn.messages[0]
    assert "hot all over" in turn.messages[1]


def test_worry_beside_a_practical_question_about_a_test_gets_the_answer() -> None:
    said = reply(ask("PET CT thursday, anything I need to do to get ready? "
                     "Im diabetic so worried about not eating"))
    assert "6 hours" in said and "sugars" in said
    assert "very normal to feel like this" not in said
    # Fear alone about a treatment is still met as a feeling.
    assert "normal to feel" in reply(ask("terrified of chemo"))


@pytest.mark.parametrize(
    "text",
    ["will my daughter get this too? shes only 19", "are my kids going to get breast cancer",
     "should my sisters get tested"],
)
def test_a_question_about_the_family_getting_it_is_heredity(text: str) -> None:
    said = reply(ask(text))
    assert "genetic advice" in said and NURSE in said


def test_the_family_getting_it_from_the_patient_after_a_scan_is_about_radiation() -> None:
    said = reply(ask("can my kids get it from me after the bone scan"))
    assert "radioactive" in said and "genetic" not in said


def test_asking_for_anyone_to_talk_to_gets_the_lines_not_not_sure() -> None:
    said = reply(ask("is there anyone i can actually talk to"))
    assert NOT_SURE not in said and NURSE in said and "0808 808 00 00" in said


def test_after_a_money_worry_about_treatment_the_number_is_macmillans() -> None:
    first = ask("im self employed and cant work thru treatment, worried sick about money")
    said = reply(ask("whats the number", first.conversation))
    assert "0808 808 00 00" in said and "9am to 8pm" in said


@pytest.mark.parametrize("text", ["its 2am does that matter", "is it too late to ring them"])
def test_after_an_urgent_reply_asking_if_the_hour_matters_gets_call_now(text: str) -> None:
    first = ask("on chemo and my temp is 38.5 and im shivery")
    said = reply(ask(text, first.conversation))
    assert "24-hour number" in said and "now" in said


@pytest.mark.parametrize("text", ["is it painful", "does it hurt", "is that painful"])
def test_a_question_put_verb_first_about_a_test_is_asked_not_reported(text: str) -> None:
    first = ask("liver ultrasound tmrw, what do they do?")
    turn = ask(text, first.conversation)
    assert turn.triage.level == "none" and turn.topic == "liver_ultrasound"
    assert "painless" in reply(turn)


def test_the_same_words_said_of_oneself_still_alert() -> None:
    assert ask("it is really painful and my leg is swollen").triage.level != "none"


def test_a_wedding_ring_is_not_a_request_for_a_number() -> None:
    said = reply(ask("can i keep my wedding ring on", awaiting=Awaiting(
        "appt1", "mri_scan", MONDAY_10 + timedelta(days=3))))
    assert "jewellery" in said or "metal" in said
    assert "Samaritans" not in said


def test_what_number_with_no_topic_named_gets_the_lines_after_a_test_answer() -> None:
    first = ask("sorry i cant make that day, hospital transport has fallen through",
                awaiting=Awaiting("appt1", "bone_scan", MONDAY_10 + timedelta(days=3)))
    assert any(a.kind == "rearrange" for a in first.actions)
    said = reply(ask("whats the number to call them", first.conversation))
    assert NURSE in said


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("will I be on treatment forever now", "ongoing"),
        ("do I get a say in my treatment or do the doctors just decide?", "preferences"),
        ("does hormone therapy work for everyone", "ER positive"),
        ("they said they cant do a biopsy on mine, why not?", "difficult area to reach"),
        ("do i have to stay in overnight for the biopsy", "outpatient"),
    ],
)
def test_what_the_leaflets_say_is_in_the_part_asked(text: str, fact: str) -> None:
    assert fact in reply(ask(text))


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("whats the difference between a pet ct and a normal ct", "PET-CT scan:", "CT scan:"),
        ("is radiotherapy the same as an x-ray?", "Radiotherapy:", "X-ray:"),
        ("targetted therapy vs chemo whats the diff", "Targeted therapy:", "Chemotherapy:"),
    ],
)
def test_two_things_compared_get_what_each_is(text: str, first: str, second: str) -> None:
    turn = ask(text)
    assert [m.split(" ")[0] for m in turn.messages] == [first.split(" ")[0], second.split(" ")[0]]
    assert turn.messages[0].startswith(first) and turn.messages[1].startswith(second)


def test_two_tests_named_without_comparing_them_is_not_a_comparison() -> None:
    assert len(ask("bone scan then ct same day, can i eat before the ct").messages) <= 2
    assert not ask("ct scan after my x-ray, how long does it take").messages[0].startswith("X-ray")


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("pet ct scan friday, how long do i not eat for", "6 hours"),
        ("how do they know where to put the needle for the biopsy", "ultrasound or a CT scan"),
        ("who looks at the biopsy afterwards", "pathologist"),
        ("oncologist says they cant biopsy mine. is that bad?", "difficult area to reach"),
        ("pet tracer what is it", "radioactive"),
    ],
)
def test_how_long_a_fast_lasts_and_who_and_how_a_biopsy_is_done(text: str, fact: str) -> None:
    assert fact in reply(ask(text))


def test_a_practical_question_with_a_hard_one_gets_both() -> None:
    turn = ask("is there radiation with an ultrasound? my daughter is pregnant and wants to "
               "come in with me")
    assert "sound waves" in turn.messages[0] and "bring someone" in turn.messages[1]
    # Asking to bring someone is the hard question itself, not a second one.
    assert len(ask("scared of the MRI, can I bring someone?").messages) == 1


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("will i meet the nurse at my oncology appt", "oncology appointments"),
        ("why do i have to go off and come back after the bone scan injection", "2 to 3 hours"),
        ("does the bone scan do all of me or just my back where it hurts", "whole body"),
    ],
)
def test_the_nurses_and_the_bone_scan_wait_in_the_leaflets_words(text: str, fact: str) -> None:
    assert fact in reply(ask(text))


def test_a_worry_with_a_question_of_its_own_gets_the_answer_and_kindness() -> None:
    turn = ask("terrified its gonna go everywhere now, brain next. is that what happens")
    assert "does not mean it will go" in turn.messages[0]
    assert "normal to feel" in turn.messages[1]


@pytest.mark.parametrize("text", ["i feel so alone", "how long have i got"])
def test_a_hard_question_gets_its_own_reply_once(text: str) -> None:
    assert len(ask(text).messages) == 1


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("results back, its in my liver. what happens now?", "MDT"),
        ("GP says he's referring me to the hospital. who will I see first?", "oncologist"),
        ("lump come back in my mastectomy scar, is that secondary?", "not secondary"),
    ],
)
def test_what_happens_next_and_who_you_see(text: str, fact: str) -> None:
    assert fact in reply(ask(text))


@pytest.mark.parametrize(
    "text",
    ["she doesnt want to make a fuss, can it wait till monday", "im on my own",
     "She says she'll be fine by the morning", "shall i just see gp tmrw"],
)
def test_after_a_warning_putting_it_off_gets_the_number_again(text: str) -> None:
    first = ask("on chemo and my temp is 38.5 and im shivery")
    said = reply(ask(text, first.conversation))
    assert "24-hour number" in said and "now" in said


@pytest.mark.parametrize(("text", "kind"), [("ok see u tues", "confirm"),
                                            ("grand, confirmed", "confirm"),
                                            ("see u another day", None)])
def test_confirming_in_text_speak(text: str, kind: str | None) -> None:
    from flows.replies import classify_reply

    assert classify_reply(text) == kind


def test_when_are_they_open_naming_nothing_gets_the_lines_and_hours() -> None:
    first = ask("chemo starts next week and im terrified")
    said = reply(ask("what times is it open", first.conversation))
    assert "9am to 5pm" in said and NURSE in said


@pytest.mark.parametrize(
    ("first", "then", "fact"),
    [
        ("wots a pet scan, got one nxt wk", "do i have to go far for it", "specialist centre"),
        ("what is a ct scan", "can i take her straight home after", "home"),
        ("what happens at a biopsy", "and how long till i know", "couple of weeks"),
        ("any support groups near me", "Is there anywhere I could go in person?", "Maggie's"),
    ],
)
def test_follow_ups_in_everyday_words(first: str, then: str, fact: str) -> None:
    said = reply(ask(then, ask(first).conversation))
    assert fact in said and NOT_SURE not in said


def test_a_misspelling_listed_for_one_test_is_still_corrected_for_another() -> None:
    assert ask("hi my mum has a bone scna on tuesday, what actually is it?").topic == "bone_scan"
    assert ask("ct scna what is it").topic == "ct_scan"


def test_the_same_question_about_another_test_keeps_the_part_asked() -> None:
    first = ask("can i eat before my ct")
    then = ask("what about for the pet scan next month", first.conversation)
    assert "6 hours" in reply(then)
    # Unless the rest of the message asks another part.
    assert "painless" in reply(ask("and the mri, does it hurt", first.conversation))


def test_being_on_a_drug_is_what_the_question_is_about() -> None:
    assert ask("why am i on steroids with my chemo").topic == "steroids"
    assert ask("steroids with my chemo").topic == "steroids"


def test_the_last_part_answered_survives_the_conversation_store() -> None:
    conv = ask("can i eat before my ct").conversation
    assert Conversation.from_dict(conv.to_dict()).last_aspect == "eat_drink"
    assert Conversation.from_dict({"state": "main"}).last_aspect is None


@pytest.mark.parametrize(
    ("text", "topic"),
    [("she's got an em are eye tomorrow", "mri_scan"), ("the pet see tee next week", "pet_ct_scan"),
     ("what's a cat scan", "ct_scan")],
)
def test_a_test_spelt_out_by_the_speech_recogniser_is_that_test(text: str, topic: str) -> None:
    assert ask(text).topic == topic


def test_how_do_they_do_it_after_a_test_is_what_it_is() -> None:
    first = ask("and does the liver scan hurt")
    assert "sound waves" in reply(ask("how do they do it", first.conversation))


@pytest.mark.parametrize(
    ("text", "topic"),
    [("can radio help my bone pain", "radiotherapy"), ("does radio make u tired", "radiotherapy"),
     ("will the bone jab make my bones stronger", "bone_drugs"),
     ("does the mri use radio waves", "mri_scan")],
)
def test_lay_words_for_treatments(text: str, topic: str) -> None:
    assert ask(text).topic == topic


@pytest.mark.parametrize(
    ("text", "topic"),
    [("how long does the jelly scan on my liver take", "liver_ultrasound"),
     ("letter says USS abdomen, wot do they do", "liver_ultrasound"),
     ("after the glucose scan can she go home", "pet_ct_scan"),
     ("why do they keep checking my calcium", "blood_tests"),
     ("still under the breast team for follow up, who arranges the tests", "diagnosis")],
)
def test_names_from_letters_and_lay_names_for_tests(text: str, topic: str) -> None:
    assert ask(text).topic == topic


def test_a_known_words_possessive_is_the_word() -> None:
    said = reply(ask("friend of mine has lost her breast nurse's number, can you give it me"))
    assert NURSE in said


def test_what_a_message_tells_counts_less_than_what_it_asks() -> None:
    turn = ask("my daughter is coming with me and has to get back for work. how long am i in "
               "the MRI tube for")
    assert turn.aspect == "duration"


@pytest.mark.parametrize(
    ("text", "fact"),
    [("whats targeted therapy", "signals"), ("whats palbociclib", "grow"),
     ("whats radiotherapy", "high-energy")],
)
def test_whats_asks_what_it_is(text: str, fact: str) -> None:
    assert fact in reply(ask(text))


def test_a_circumstance_with_a_tests_own_part_asked_gets_both() -> None:
    first = ask("mri tomorrow")
    turn = ask("Is it very loud? My hearing aids whistle at the best of times.", first.conversation)
    assert "metal" in turn.messages[0] and "earplugs" in turn.messages[1]


@pytest.mark.parametrize(
    "text",
    ["can i just take paracetamol n see", "do i drive her in or get an ambulance",
     "she says dont make a fuss she'll ring the nurse on monday"],
)
def test_after_an_emergency_trying_something_first_or_how_to_get_there_gets_999(
    text: str,
) -> None:
    first = ask("my mum cant breathe properly and her lips are blue")
    assert "Call 999 now" in reply(ask(text, first.conversation))


def test_how_much_time_in_hospital_is_not_a_prognosis_question() -> None:
    assert "cannot be cured" not in reply(ask("How much time I must stay in the hospital?"))
    assert "normal to feel" in reply(ask("Is normal to feel like this?"))


def test_on_the_phone_two_questions_at_once_are_both_answered() -> None:
    turn = _call_say("how long is the PET-CT itself and can I go straight home afterwards", 0.9)
    pet = K.topics["pet_ct_scan"].sections
    assert turn.say[0] == pet["duration"].voice
    assert pet["after"].voice in turn.say


@pytest.mark.parametrize(
    ("text", "level"),
    [("have a high temperature", "urgent"), ("has the shakes", "urgent"),
     ("is a bit confused", "urgent"), ("is a bit breathless and chest pain", "emergency"),
     ("could this be serious have chest pain", "emergency"),
     ("has a high temperature and is shivering", "urgent")],
)
def test_a_sign_reported_without_i_is_still_a_sign(text: str, level: str) -> None:
    # A verb first opens a short question about a test ("is it painful"), never a report
    # with its subject dropped.
    assert ask(text).triage.level == level


# --- the review of session 7's changes: each finding kept as a test ---


@pytest.mark.parametrize("text", ["where do i go", "who do i speak to", "ring 111 or 999?",
                                  "cant get through", "nobody is answering"])
def test_after_a_warning_asking_where_or_who_or_not_getting_through_gets_the_number(
    text: str,
) -> None:
    first = ask("temp 38.9 and shivering")
    assert "24-hour number" in reply(ask(text, first.conversation))


@pytest.mark.parametrize(
    "text",
    ["my CT is at 9am, can I eat before", "dont want to bother anyone but what is a bone scan",
     "does it matter if I miss my letrozole tonight", "thanks, we are in the ambulance now",
     "I rang them and they said to come in tomorrow morning"],
)
def test_after_a_warning_a_question_of_its_own_or_help_under_way_is_not_told_to_call(
    text: str,
) -> None:
    first = ask("temp 38.9 and shivering")
    assert "24-hour number" not in reply(ask(text, first.conversation))


@pytest.mark.parametrize(
    "text",
    ["its 2am tho will anyone answer", "cant i just wait till my appt on monday",
     "its my mum actually not me, shes 78 and keeps saying not to fuss"],
)
def test_after_a_warning_the_hour_the_wait_or_whose_it_is_gets_the_number_again(
    text: str,
) -> None:
    first = ask("temp 38.9 and shivering")
    said = reply(ask(text, first.conversation))
    assert "24-hour number" in said and "not sure" not in said


def test_after_a_warning_what_to_tell_them_says_what_they_need_to_know() -> None:
    first = ask("temp 38.9 and shivering")
    said = reply(ask("ok my husbands taking me. what do i tell them when i get there",
                     first.conversation))
    assert "secondary breast cancer" in said and "treatment" in said


@pytest.mark.parametrize(
    "text",
    ["she says shes fine and not to call anyone",
     "i had something like this last month and it went off with paracetamol tho",
     "she took paracetamol and its come down a bit, do we still need to",
     "its 11pm, cant it wait till my clinic on thurs"],
)
def test_after_a_warning_anything_else_said_about_it_gets_the_advice_again(text: str) -> None:
    first = ask("my wife had chemo last wk, shes got a temperature of 38 and feels rough")
    said = reply(ask(text, first.conversation))
    assert "24-hour number" in said and "999" in said and NOT_SURE not in said


def test_after_an_emergency_anything_else_said_gets_999_again() -> None:
    first = ask("my mum is really breathless tonight, she can barely talk")
    assert "999" in reply(first)
    said = reply(ask("she says shes fine and not to call anyone", first.conversation))
    assert "call 999 now" in said and NOT_SURE not in said


@pytest.mark.parametrize(("sign", "expected"), [
    ("temp 38.9 and shivering", "ask someone to take you"),
    ("crushing chest pain going down my arm", "call 999 now for an ambulance"),
])
def test_after_a_warning_driving_yourself_is_advised_against(sign: str, expected: str) -> None:
    first = ask(sign)
    said = reply(ask("can i drive myself", first.conversation))
    assert "do not drive" in said.lower() and expected in said.lower()


def test_after_a_warning_help_on_its_way_is_the_right_thing() -> None:
    first = ask("my mum is really breathless tonight, she can barely talk")
    said = reply(ask("ok ambulance is on its way", first.conversation))
    assert "right thing" in said and "999" in said


def test_after_a_warning_what_to_tell_them_names_the_sign() -> None:
    first = ask("new pain in my back the last few days and now my legs feel numb and tingly")
    said = reply(ask("ok my husband can take me. what do i tell them", first.conversation))
    assert "numbness" in said and "secondary breast cancer" in said


def test_hours_after_a_warning_not_understood_is_not_taken_as_pushback() -> None:
    first = ask("my wife had chemo last wk, shes got a temperature of 38 and feels rough")
    later = step(first.conversation, "she says shes fine and not to call anyone",
                 Context.default(now=MONDAY_10 + timedelta(hours=5)))
    assert reply(later) == NOT_SURE


def test_without_a_warning_not_understood_is_still_not_sure() -> None:
    assert reply(ask("she says shes fine and not to call anyone")) == NOT_SURE


def test_cannot_get_hold_of_the_nurses_gets_the_other_lines() -> None:
    first = ask("whats the number for the breast care nurses")
    said = reply(ask("and if i cant get hold of them?", first.conversation))
    assert "Macmillan" in said and "116 123" in said


def test_a_long_reminder_reply_with_a_reason_is_a_rearrange() -> None:
    appt = Awaiting("a1", "mri_scan", MONDAY_10 + timedelta(days=2))
    turn = ask("Hi sorry I cant make wednesday, my daughter cant drive me that day. Can we "
               "move it", awaiting=appt)
    assert any(a.kind == "rearrange" for a in turn.actions)


def test_after_a_warning_the_nurses_number_for_another_day_is_the_nurses() -> None:
    first = ask("temp 38.9 and shivering")
    said = reply(ask("ok. whats the nurses number anyway for after", first.conversation))
    assert "445 3735" in said and "24-hour number" not in said


@pytest.mark.parametrize(("text", "action"), [("cant make it tomorrow", "rearrange"),
                                              ("yes ill be there tomorrow", "confirm")])
def test_after_a_warning_a_reply_to_a_reminder_is_still_recorded(text: str, action: str) -> None:
    first = ask("temp 38.9 and shivering")
    appt = Awaiting("a1", "ct_scan", MONDAY_10 + timedelta(days=1))
    turn = ask(text, first.conversation, awaiting=appt)
    assert any(a.kind == action for a in turn.actions)


@pytest.mark.parametrize(
    "text",
    ["she wont be there, she passed away", "cant come, had a fall at work",
     "cant make it, off work with a chest infection", "cant come, away in hospital"],
)
def test_a_death_an_illness_or_a_fall_is_not_a_reason_to_rearrange(text: str) -> None:
    from flows.replies import classify_reply

    assert classify_reply(text) is None


def test_the_rearrange_call_back_keeps_the_patients_words() -> None:
    appt = Awaiting("a1", "ct_scan", MONDAY_10 + timedelta(days=2))
    turn = ask("actually need to move it, got a funeral that day", awaiting=appt)
    (callback,) = [a for a in turn.actions if a.kind == "callback"]
    assert "funeral" in callback.data["reason"]


@pytest.mark.parametrize("text", ["is the radiation safe for her too",
                                  "my daughter had cancer, will this affect her too?"])
def test_her_too_is_not_her2(text: str) -> None:
    assert ask(text).aspect != "her2"


def test_a_comparison_with_a_question_of_its_own_answers_the_question() -> None:
    said = reply(ask("is the PET the same as a CT? and do i need to fast"))
    assert "6 hours" in said


@pytest.mark.parametrize(
    ("text", "topic", "fact"),
    [
        # A speech recogniser splits a long word it does not know into two.
        ("the bye opsy from her lung what are they checking for", "biopsy", "receptors"),
        ("what happens at the bi opsy", "biopsy", "sample"),
        # Asked about someone else, a hard question is still the hard question.
        ("my sister keeps asking how long mum has got", "support", "many years"),
        ("is there help with practical stuff, the farm doesnt run itself", "support", "practical"),
        ("can we get a second opinion before she starts anything", "results", "MDT"),
        ("sharon bell number please", "nurse", "0191 445 2180"),
    ],
)
def test_split_words_third_persons_and_named_nurses(text: str, topic: str, fact: str) -> None:
    turn = ask(text)
    assert turn.topic == topic, reply(turn)
    assert fact in reply(turn)


def test_two_ordinary_words_are_not_joined_into_a_test() -> None:
    # "any more" is two words; "radio therapy" needs no joining ("radio" is a lay name).
    assert ask("do i need any more scans after this").topic != "radiotherapy"


def test_one_test_taken_for_another_gets_what_each_is() -> None:
    turn = ask("is a ct just a posh xray?")
    assert "series of x-rays" in reply(turn) and "low dose of radiation" in reply(turn)


def test_words_in_a_scan_report_are_for_the_team_to_explain() -> None:
    turn = ask("report mentions multiple lesions in the liver, whats a lesion")
    assert turn.topic == "results" and "oncologist" in reply(turn)


@pytest.mark.parametrize(
    ("text", "topic", "fact"),
    [
        ("whats an MDT", "treatment", "team of specialists"),
        ("rang the nurse 3 times, no answer. who else can i call?", "nurse", "0808 808 00 00"),
        ("letter says bone scintigraphy, is that a bone scan", "bone_scan", "bone"),
        ("is it normal to be sore after a biopsy", "biopsy", "couple of days"),
        ("im in south shields, any support round here", "support", "0191 456 5081"),
        ("will they operate", "surgery", "not usually"),
    ],
)
def test_batch_9_causes(text: str, topic: str, fact: str) -> None:
    turn = ask(text)
    assert turn.topic == topic, reply(turn)
    assert fact in reply(turn)


def test_confused_after_a_question_is_puzzled_not_a_confused_mind() -> None:
    puzzled = ask("is denosumab a targeted therapy or a bone drug? confused")
    assert puzzled.triage.level == "none"
    assert ask("mum is really confused today and sleepy").triage.level == "urgent"


def test_a_second_part_asked_with_one_word_of_its_own_is_answered_too() -> None:
    said = reply(ask("does a ct hurt and how long is it"))
    assert "painless" in said and "10 to 30 minutes" in said


# --- batch 15's single questions: each a cause, worded apart from the batch ---


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        # Scots: "cannae" is "can't".
        ("the doctor says they cannae do a biopsy on me, why not", "difficult area"),
        # "How do X work" with more words between, and as written in a second language.
        ("how do these hormone tablets of mine work against it", "oestrogen"),
        ("targeted therapy how it work?", "signals"),
        # "What is that" at the end asks what the part just named is.
        ("my letter mentions contrast for the mri, what is that", "contrast medium"),
        # A say in the treatment; whether it makes you better.
        ("do i get any say in which treatment i have", "preferences"),
        ("is the chemo to make me better or just to help", "cannot cure"),
        # Never given a nurse: who to contact.
        ("i was never given a nurse, who do i contact", "445 3735"),
        # Getting ready, asked of someone else.
        ("what does he have to do before his ct scan", "4 hours"),
        ("whats palbociclib, they want it with my hormone tablets", "palbociclib"),
    ],
)
def test_batch15_causes_are_answered(text: str, fact: str) -> None:
    assert fact in "\n".join(ask(text).messages), ask(text).messages
