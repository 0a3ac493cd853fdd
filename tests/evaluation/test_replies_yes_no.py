"""parse_yes_no on replies as audio LLMs write them: leading and later answer words, absence and presence statements."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balsa_core.evaluation.replies import parse_yes_no

REPLIES = [
    # Leading answer word.
    ("Yes.", "yes"),
    ("yes", "yes"),
    ("YES", "yes"),
    ("yes, there is a siren", "yes"),
    ("Yes! A dog is clearly barking in the background.", "yes"),
    ("**Yes**", "yes"),
    ("**No**", "no"),
    ("No.", "no"),
    ("No, I don't hear any dog barking.", "no"),
    ("no", "no"),
    ("Nope, only rain.", "no"),
    ("Yep.", "yes"),
    ("Yeah, a car horn honks twice.", "yes"),
    ("Absolutely, the siren is loud.", "yes"),
    ("Absolutely not.", "no"),
    ("Certainly not", "no"),
    ("Certainly! There is a bell ringing.", "yes"),
    ("Of course not.", "no"),
    ("Definitely.", "yes"),
    ("Not at all.", "no"),
    ("Not really, it is mostly wind noise.", "no"),
    ("Indeed, a cat meows.", "yes"),
    ("Correct.", "yes"),
    ("Answer: Yes", "yes"),
    ("The answer is no.", "no"),
    ('  \n"Yes" ', "yes"),
    ("No dog barking can be heard; there is a man speaking.", "no"),
    # Explicit answer word later in the reply.
    ("Based on the audio, yes.", "yes"),
    ("After listening carefully, I would say no.", "no"),
    ("From what I can hear: yes, there is music.", "yes"),
    # Statements about absence or presence.
    ("There is no sound of a dog.", "no"),
    ("There's no siren in this clip.", "no"),
    ("I cannot hear any dog barking", "no"),
    ("I can’t hear a baby crying in this recording.", "no"),
    ("The audio does not contain the sound of a train.", "no"),
    ("The audio doesn't contain any thunder.", "no"),
    ("I did not notice any footsteps.", "no"),
    ("I am unable to hear any birds chirping.", "no"),
    ("The sound of a helicopter is absent.", "no"),
    ("The sound of a bell is not present in the audio.", "no"),
    ("I don't think so.", "no"),
    ("The audio contains the sound of a dog barking.", "yes"),
    ("I can hear a siren wailing in the distance.", "yes"),
    ("A car horn can be heard near the end.", "yes"),
    ("There is a sound of rain falling.", "yes"),
    ("There's no doubt a dog is barking here.", "yes"),
    ("I think so.", "yes"),
    # Mixed, hedged, refused, empty or unrelated: no answer.
    ("Yes and no", None),
    ("Yes and no; it could be a dog or a wolf.", None),
    ("Yes or no?", None),
    ("yes/no", None),
    ("", None),
    ("   ", None),
    ("...", None),
    ("I'm not sure.", None),
    ("It's hard to tell from this clip.", None),
    ("Possibly, the recording is noisy.", None),
    ("I cannot determine that from the audio.", None),
    ("As an AI language model, I cannot listen to audio.", None),
    ("The weather is nice today.", None),
    ("42", None),
    ("Yesterday I went to the market.", None),
    ("Nobody knows.", None),
    # Negation wins: a reply that denies the sound and then describes others is a no.
    ("The dog cannot be heard; there is a cat meowing instead.", "no"),
    # Styles small audio LLMs answer in.
    ("yes, there is a dog barking", "yes"),
    ("No, I don't hear...", "no"),
    ("There is no siren in the audio.", "no"),
    ("I can hear a dog barking, so yes", "yes"),
    ("Absolutely.", "yes"),
    ("Not at all", "no"),
    ("The answer is: No", "no"),
    ("I'm not sure", None),
    ("No doubt, a dog is barking.", "yes"),
    ("Without a doubt.", "yes"),
    ("Unfortunately, no.", "no"),
    ("Sure.", "yes"),
    ("Negative.", "no"),
    ("Nah.", "no"),
    ("Yes, but it is faint.", "yes"),
    ("I hear a dog barking.", "yes"),
    ("Assistant: Yes", "yes"),
    ("YES!!!", "yes"),
    ("Ｙｅｓ", "yes"),
    ("There are no birds chirping in this clip.", "no"),
    ("Maybe.", None),
    ("I don't know.", None),
]


@pytest.mark.parametrize(("reply", "expected"), REPLIES)
def test_parse_yes_no_on_real_looking_replies(reply: str, expected: str | None) -> None:
    assert parse_yes_no(reply) == expected


def test_table_is_large_enough() -> None:
    assert len(REPLIES) >= 40


def test_non_string_reply_is_unparsed() -> None:
    # A missing generation read back from CSV is NaN.
    assert parse_yes_no(float("nan")) is None  # type: ignore[arg-type]


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_parse_yes_no_never_raises(reply: str) -> None:
    assert parse_yes_no(reply) in ("yes", "no", None)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["Yes", "No"]), st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_leading_answer_word_wins_over_the_rest(word: str, rest: str) -> None:
    reply = f"{word}. {rest}"
    assert parse_yes_no(reply) in (word.lower(), None)
