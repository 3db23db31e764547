"""Follow-ups that lean on the conversation: going back, replies to a reminder, after a warning."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows.conversation import Conversation
from flows.engine import Awaiting, Context, Turn, step

LONDON = ZoneInfo("Europe/London")
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=LONDON)


def talk(*texts: str, reminder: str | None = None) -> list[Turn]:
    """Send each text in turn from one number, two minutes apart."""
    conv, turns = Conversation(), []
    awaiting = Awaiting("a1", reminder, MONDAY_10 + timedelta(days=3)) if reminder else None
    for n, text in enumerate(texts):
        now = MONDAY_10 + timedelta(minutes=2 * n)
        turn = step(conv, text, Context.default(now), awaiting=awaiting)
        conv = turn.conversation
        turns.append(turn)
    return turns


def said(turn: Turn) -> str:
    return "\n".join(turn.messages)


def test_going_back_to_the_first_test_answers_for_it() -> None:
    *_, last = talk(
        "how long does a ct scan take",
        "and an mri?",
        "going back to the first one, do i have to starve",
    )
    assert last.topic == "ct_scan" and "4 hours" in said(last)


def test_back_to_the_scan_after_a_warning_is_the_scan_before_it() -> None:
    *_, warning, back = talk(
        "how long does a pet ct take",
        "ive had a pain in my hip for 3 weeks and painkillers arent touching it",
        "ok. back to the scan, can i eat before",
    )
    assert warning.triage.level == "urgent"
    assert back.topic == "pet_ct_scan" and "6 hours" in said(back)


def test_the_wait_for_results_asked_after_a_fear_of_them() -> None:
    _, wait = talk(
        "waiting on my scan results and honestly im terrified", "how long will it take to hear"
    )
    assert "few days to a couple of weeks" in said(wait)


def test_a_lie_down_is_not_a_low_mood() -> None:
    *_, turn = talk(
        "my wife is having a liver biopsy, what is it",
        "its her husband, shes gone for a lie down. will she have to stay in overnight",
    )
    assert turn.topic == "biopsy" and "go home the same day" in said(turn)


def test_lay_words_for_a_part_of_the_test_just_discussed() -> None:
    _, dye = talk("whats a bone scan actually for", "do they put anything in me")
    assert "radioactive" in said(dye) and "injected" in said(dye)
    _, missed = talk("why do they want me to have a chest xray", "could it miss something")
    assert "may not show small areas" in said(missed)


def test_a_yes_after_right_confirms_and_a_move_with_a_lift_reason_rearranges() -> None:
    yes, move = talk(
        "right. yes ill be there then",
        "actually can i move it, my son cant drive me that day after all",
        reminder="ct_scan",
    )
    assert any(a.kind == "confirm" for a in yes.actions)
    assert any(a.kind == "rearrange" for a in move.actions)


def test_after_a_warning_playing_it_down_or_a_shut_gp_gets_the_number_again() -> None:
    for text in ("it's probably just a cold isn't it", "its sunday the gp is shut",
                 "she's got a ct booked next week, should we just wait for that"):
        _, turn = talk("Started chemo last week. Now hot and shaky, thermometer says 39", text)
        assert said(turn).startswith("Call the 24-hour number"), text


def test_after_a_warning_the_macmillan_number_asked_for_is_given() -> None:
    _, turn = talk(
        "Started chemo last week. Now hot and shaky, thermometer says 39",
        "ok my daughter is taking me now. whats the macmillan number for after",
    )
    assert "0808 808 00 00" in said(turn)


def test_changing_the_subject_is_not_a_follow_up() -> None:
    *_, turn = talk(
        "when will i get my biopsy results",
        "changing the subject, who is actually in charge of my care",
    )
    assert turn.topic == "treatment" and "oncologist" in said(turn)


def test_a_worry_about_a_part_of_the_test_just_discussed_gets_that_part() -> None:
    _, turn = talk("what happens at a bone scan", "mum's worried about the radioactive bit")
    assert turn.topic == "bone_scan" and "mildly radioactive" in said(turn)


def test_do_i_still_come_after_a_reminder_sends_them_to_the_team() -> None:
    (turn,) = talk("so do i still come or not", reminder="mri_scan")
    assert "ring the team" in said(turn) and turn.actions == []


def test_a_day_and_a_reason_it_cannot_be_kept_rearranges() -> None:
    (turn,) = talk("cant make thurs its my grandsons wedding", reminder="biopsy")
    assert [a.kind for a in turn.actions][:1] == ["rearrange"]
    (yes,) = talk("ok she says yes she'll be there", reminder="blood_tests")
    assert [a.kind for a in yes.actions] == ["confirm"]


def test_metalwork_from_an_old_break_is_a_circumstance_not_a_fracture() -> None:
    (turn,) = talk("she's having the MRI and she's got pins in her ankle from when she broke it")
    assert turn.triage.level == "none" and turn.aspect == "circumstance"
    (foundry,) = talk("MRI next week, I worked in a foundry for 20 years, does that matter")
    assert foundry.aspect == "circumstance" and "metal" in said(foundry)


def test_off_her_food_and_losing_weight_is_one_sign_not_two() -> None:
    (turn,) = talk("she's gone off her food and lost a lot of weight lately")
    assert turn.triage.level == "same_day"


def test_a_same_day_sign_beside_a_question_about_the_reminded_test_gets_both() -> None:
    (turn,) = talk("will it be loud, i get bad headaches", reminder="mri_scan")
    assert turn.triage.level == "same_day"
    assert "noisy" in turn.messages[0] and turn.messages[-1].startswith("Also, about")


def test_asking_what_to_do_before_the_test_is_not_a_sign() -> None:
    (turn,) = talk("yes confirmed thanks. do i still have to not eat", reminder="ct_scan")
    assert turn.triage.level == "none" and "4 hours" in said(turn)


def test_is_that_normal_beside_a_sign_still_gets_the_answer() -> None:
    (turn,) = talk("a bit sore where they did my biopsy yesterday, is that normal")
    assert turn.triage.level == "same_day"
    assert "couple of days" in turn.messages[0] and turn.messages[-1].startswith("Also, about")


def test_test_names_as_a_recogniser_hears_them() -> None:
    (ct,) = talk("see tea scan do I have to stop drinking as well as eating")
    assert ct.topic == "ct_scan"
    (bcn,) = talk("who is my bee see end")
    assert bcn.topic == "nurse"


def test_conversations_b6_causes() -> None:
    # Scans that puzzle a man with dementia are not new confusion.
    (puzzled,) = talk("my dad has dementia and all these scans keep confusing him")
    assert puzzled.triage.level == "none"
    # Asking how to fast with diabetes is a question, not "not eating".
    (fasting,) = talk(
        "im diabetic on insulin, how am i meant to not eat for 6 hours before my pet scan"
    )
    assert fasting.triage.level == "none" and fasting.aspect == "circumstance"
    # Sore after the test just discussed is the test's after, not a new pain.
    _, sore = talk("does a biopsy hurt", "is it normal to be sore after")
    assert sore.triage.level == "none" and "couple of days" in said(sore)
    (coming,) = talk("ok please put us down as coming", reminder="ct_scan")
    assert [a.kind for a in coming.actions] == ["confirm"]
    _, needle = talk("does a biopsy hurt", "how do they know where to put the needle")
    assert needle.topic == "biopsy" and "ultrasound" in said(needle)


def test_more_follow_ups_from_conversations_b6() -> None:
    # "6 hours" is how long to fast, not a question about opening hours.
    (fast,) = talk("Thank you. When I do go is it 6 hours with no food?", reminder="pet_ct_scan")
    assert "6 hours" in said(fast) and fast.topic == "pet_ct_scan"
    # After a warning, a part of the test talked about before it.
    *_, sore = talk(
        "had my biopsy yesterday and now its bleeding loads through the dressing",
        "is it normal to be sore after though",
    )
    assert sore.topic == "biopsy" and "couple of days" in said(sore)
    _, wait = talk("whats a bone scan", "um how long do I er wait after the the injection")
    assert "2 to 3 hours" in said(wait)
    (fear,) = talk("its 2am and i cant sleep. what if they find more", reminder="mri_scan")
    assert "normal to feel" in said(fear)
    _, who = talk("will my daughter get it too? is it in the family", "ok. who would i ask")
    assert who.topic == "nurse"


def test_a_death_in_reply_to_a_reminder_gets_sympathy_and_the_team_is_told() -> None:
    (turn,) = talk("sorry, mum passed away last week so she won't be coming", reminder="ct_scan")
    assert turn.messages[0].startswith("We are so sorry for your loss")
    assert "told the breast care team about the CT scan" in turn.messages[1]
    (callback,) = [a for a in turn.actions if a.kind == "callback"]
    assert "mum passed away last week" in callback.data["reason"]
    assert not any(a.kind in ("confirm", "rearrange") for a in turn.actions)


def test_a_stay_in_a_hospice_in_reply_to_a_reminder_is_passed_on() -> None:
    (turn,) = talk("dad is in the hospice now, he wont be able to come", reminder="bone_scan")
    assert turn.messages == [
        "Thank you for letting us know. We have told the breast care team about the bone scan"
        " on Thu 4 Jun at 10am, so you do not need to do anything about it."
    ]
    assert [a.kind for a in turn.actions] == ["callback"]


def test_died_is_not_the_prognosis_question_and_dying_still_is() -> None:
    (died,) = talk("she died on sunday")
    assert "sorry for your loss" in said(died)
    (dying,) = talk("is she dying")
    assert "cannot be cured" in said(dying)


def test_review_findings_about_answers() -> None:
    # Ordinary sentences with words a bereavement or prognosis reply listens for.
    for text in ("my scan date has passed and nobody has rung me",
                 "I passed on your message to mum, what time is her scan",
                 "im dying to know my results"):
        (turn,) = talk(text)
        assert "sorry for your loss" not in said(turn) and "cannot be cured" not in said(turn)
    # Questions about staying in are not news for the team.
    for text in ("will I be kept in overnight after the CT?",
                 "will I be admitted for the biopsy or is it a day case"):
        (turn,) = talk(text, reminder="ct_scan")
        assert not any(a.kind == "callback" for a in turn.actions), text
    # "Can I still go to work after the CT" is not whether the appointment stands.
    (work,) = talk("can I still go to work after the CT", reminder="ct_scan")
    assert "ring the team" not in said(work)
    # "Other question" goes on about the same test.
    _, hurt = talk("whats a bone scan", "other question, does it hurt")
    assert hurt.topic == "bone_scan"
    # A headache's own question after a warning is not the scan's.
    *_, last = talk("whats a bone scan", "bad headache and being sick since yesterday",
                    "how long does it last")
    assert "2 to 3 hours" not in said(last)
    # "How do I get back to work after chemo" is not what chemotherapy is.
    (back,) = talk("how do I get back to work after chemo")
    assert back.aspect != "what"
    (jelly,) = talk("can I have jelly before my CT")
    assert jelly.topic == "ct_scan"


def test_after_a_warning_an_ambulance_beside_macmillan_gets_the_number() -> None:
    _, turn = talk(
        "my mum is really out of breath, she cant finish a sentence",
        "should I ring macmillan or an ambulance",
    )
    assert said(turn).startswith("Call 999")


def test_a_serious_sign_asked_beside_a_mild_one_still_gets_its_line() -> None:
    (turn,) = talk("my mouth is sore. can chemo cause chest pain?")
    assert turn.triage.level == "same_day"
    assert "If this is happening now, call 999." in said(turn)


def test_a_reply_to_a_reminder_and_a_question_are_both_taken() -> None:
    (yes,) = talk("yes confirmed thanks. do i still have to not eat", reminder="ct_scan")
    assert [a.kind for a in yes.actions] == ["confirm"]
    assert "confirmed" in yes.messages[0] and "4 hours" in yes.messages[1]
    (move,) = talk("cant make it thursday. will i still get my results?", reminder="ct_scan")
    assert [a.kind for a in move.actions][:1] == ["rearrange"]
    assert "few days to a couple of weeks" in said(move)


def test_what_a_circumstance_means_for_the_test_is_said_again() -> None:
    first, last = talk("mri on friday and i have a pacemaker", "will they cancel it then?")
    assert "another scan" in said(first)
    assert "another scan" in said(last) and "not sure" not in said(last)


def test_after_a_reminder_a_late_circumstance_and_what_it_means() -> None:
    *_, last = talk("oh i forgot, i've had a stent put in", "so what happens, will they cancel it",
                    reminder="mri_scan")
    assert last.topic == "mri_scan" and "another scan" in said(last)


def test_what_a_circumstance_means_is_not_said_again_after_another_answer() -> None:
    *_, last = talk("mri on friday and i have a pacemaker", "how long does it take",
                    "will they cancel it then?")
    assert "pacemaker" not in said(last)


def test_the_circumstance_just_answered_is_kept_with_the_conversation() -> None:
    first = talk("mri on friday and i have a pacemaker")[0]
    stored = Conversation.from_dict(first.conversation.to_dict())
    assert stored.last_circumstance == "metal"


def test_after_a_warning_what_to_take_with_them_is_their_medicines() -> None:
    *_, last = talk("temp 38.9 and shivering on chemo",
                    "they want me in. should i take my tablets with me")
    assert "Take your medicines" in said(last)


def test_after_999_is_rung_what_to_tell_the_crew_is_answered_not_call_999() -> None:
    *_, last = talk("chest pain going down my arm",
                    "ive rung 999, theyre sending someone. anything i should tell them")
    assert "secondary breast cancer" in said(last) and "call 999 now" not in said(last)


def test_rent_and_self_employment_get_the_money_help() -> None:
    turn = talk("im self employed and cant work while im on chemo, how do i pay the rent")[0]
    assert "financial" in said(turn)


def test_news_just_given_gets_a_kind_reply_with_who_to_talk_to() -> None:
    turn = talk("just been told its spread to my liver")[0]
    assert "0808 808 00 00" in said(turn) and "445 3735" in said(turn)


def test_how_long_to_hang_about_after_the_injection_is_the_wait() -> None:
    *_, last = talk("what is a bone scan", "how long do i have to hang around after the jab")
    assert "2 to 3 hours" in said(last)


def test_will_it_make_me_feel_funny_after_the_dye_is_the_warm_feeling() -> None:
    *_, last = talk("why do i need dye for my ct", "will it make me feel funny")
    assert "hot" in said(last) and "not sure" not in said(last)


# --- batch 15's conversations: the two just talked about, corrections, comparisons ---


def test_the_first_one_and_the_other_one_are_the_two_compared_in_order() -> None:
    _, first, other, starve = talk(
        "my onc said i might need either a ct or a pet-ct, whats the difference",
        "how long is the first one",
        "and the other one",
        "do i have to starve for it",
    )
    assert first.topic == "ct_scan" and "10 to 30 minutes" in said(first)
    # The other one, and the same part asked of it.
    assert other.topic == "pet_ct_scan" and "30 to 90 minutes" in said(other)
    assert starve.topic == "pet_ct_scan" and "6 hours" in said(starve)


def test_does_the_second_ask_the_same_of_the_second_test_named() -> None:
    *_, last = talk(
        "will my ct scan give off radiation to my family after",
        "what about the pet ct, its radioactive isnt it",
        "the first one needs 4hrs no food, does the second?",
    )
    assert last.topic == "pet_ct_scan" and "6 hours" in said(last)


def test_the_other_day_is_no_reference_to_a_test() -> None:
    *_, last = talk("how long does a ct take", "what about an mri", "i had one the other day")
    assert last.topic != "ct_scan"


def test_a_correction_asks_the_same_part_of_the_test_meant() -> None:
    *_, last = talk("how long does the ct take", "sorry i meant the MRI not the CT")
    assert last.topic == "mri_scan" and "30 minutes" in said(last)
    assert "10 to 30" not in said(last)


def test_a_comparison_with_another_test_asks_the_same_part() -> None:
    *_, last = talk("how long does a liver ultrasound take", "and is a ct of the liver longer")
    assert last.topic == "ct_scan" and "10 to 30 minutes" in said(last)


def test_two_parts_asked_after_a_reminder_are_both_answered() -> None:
    (turn,) = talk("can i have a cuppa in the morning? and how long will it take",
                   reminder="ct_scan")
    assert "4 hours" in said(turn) and "10 to 30 minutes" in said(turn)


def test_another_time_offered_after_a_reminder_is_a_request_to_rearrange() -> None:
    (turn,) = talk("cant do 9am, could i come at 2 instead", reminder="mri_scan")
    assert "rearrange" in said(turn) and "not sure" not in said(turn)


def test_stopping_breastfeeding_is_asked_of_the_circumstance_not_read_as_breath() -> None:
    *_, last = talk("got a pet ct next week and im breastfeeding my 4 month old",
                    "do i have to stop feeding")
    assert "breastfeeding" in said(last) and "breathless" not in said(last).lower()


def test_under_general_asks_about_the_anaesthetic() -> None:
    *_, last = talk("what happens at a biopsy", "will it be under general")
    assert "local anaesthetic" in said(last)


def test_how_long_it_stays_sore_and_what_to_take_are_the_after() -> None:
    _, sore, take = talk(
        "what happens at a biopsy",
        "and er after like you know how long is it sore",
        "um can i take er paracetamol for it",
    )
    assert "couple of days" in said(sore) and "painkillers" in said(take)


def test_whats_chemo_is_what_it_is_not_which_one() -> None:
    (turn,) = talk("whats chemo")
    assert "destroy cancer cells" in said(turn)


def test_somewhere_to_go_and_sit_after_loneliness_is_the_drop_in_centres() -> None:
    *_, last = talk("i live on my own and feel so alone with it",
                    "is there somewhere i can just go and sit")
    assert "Maggie's" in said(last) and "drop in" in said(last)


def test_like_a_pregnancy_scan_is_a_likeness_not_a_pregnancy() -> None:
    (turn,) = talk("liver ultrasound next week, is it like a pregnancy scan with the cold jelly")
    assert turn.aspect == "what" and "sound waves" in said(turn)
    assert "pregnant" not in said(turn)


def test_bringing_the_baby_is_still_the_baby_after_a_radioactive_injection() -> None:
    # "Would like to bring the baby" is no likeness: the baby is near the injection.
    (turn,) = talk("got a bone scan tomorrow, would like to bring the baby with me, is that ok")
    assert turn.aspect == "circumstance" and "babies" in said(turn)


def test_asking_if_the_fear_just_told_is_normal_gets_the_kind_reply() -> None:
    (turn,) = talk("chemo starts next week, im 41 and terrified. is it normal to feel like this")
    assert "normal to feel" in said(turn) and "0808 808 00 00" in said(turn)


def test_not_wanting_chemo_again_gets_a_say_and_the_other_options() -> None:
    (turn,) = talk("chemo was awful last time. do I HAVE to have it again?")
    assert "preferences" in said(turn) and "hormone" in said(turn)


# --- batch 16's conversations ---


def test_is_that_normal_alone_is_asked_of_the_part_just_answered() -> None:
    *_, last = talk("ct tomorrow with dye, what do i need to do beforehand",
                    "what does the dye feel like", "is that normal?")
    assert last.aspect == "dye" and "few minutes" in said(last)


def test_running_late_after_a_reminder_says_to_ring_the_department() -> None:
    late, who = talk("running about 20 mins late, bus never came", "ok and who do i ring",
                     reminder="mri_scan")
    assert "running late" in said(late) and "letter" in said(who)


def test_cant_eat_from_when_after_a_reminder_is_the_fasting_rule() -> None:
    (turn,) = talk("and i cant eat from when", reminder="pet_ct_scan")
    assert "6 hours" in said(turn) and "today" not in said(turn)


def test_same_for_the_other_scan_after_a_circumstance_answers_it_for_that_scan() -> None:
    *_, last = talk("my wife has a pet ct next week. whats involved",
                    "our grandkids live with us, is that a problem after?",
                    "same for the other scan? she has a ct the week after")
    assert last.topic == "ct_scan" and "harm" in said(last)


def test_a_name_of_its_own_beats_the_reminded_test() -> None:
    (turn,) = talk("whats maggies?", reminder="bone_scan")
    assert "drop in" in said(turn)


def test_should_i_still_go_after_a_warning_says_ring_the_letter_number() -> None:
    *_, last = talk("really bad headache and been sick 3 times, i have brain mets",
                    "ive got my pet ct tomorrow morning, should i still go?")
    assert "appointment letter" in said(last) and "tell them" in said(last)


def test_sorry_for_asking_gets_a_kind_reply() -> None:
    *_, last = talk("biopsy confirmed its in my liver. how long have i got",
                    "sorry dont know why im asking a text line this")
    assert "do not be sorry" in said(last)


def test_is_it_free_and_open_at_weekends_are_the_lines_again() -> None:
    *_, free = talk("my sister wants to know if she can ring someone about me", "is that free?")
    assert "0808 808 00 00" in said(free)
    *_, weekend = talk("i need to talk to the breast nurse whats the number",
                       "is that er is that open at the weekend")
    assert "Monday to Friday" in said(weekend)
