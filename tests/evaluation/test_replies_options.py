"""Multiple choice: parse_option by letter and by option text, format_options and the seeded shuffle_options."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balsa_core.evaluation.replies import format_options, parse_open, parse_option, parse_yes_no, shuffle_options

CHOICES = ["dog barking", "cat meowing", "car horn", "church bells"]

# Replies naming the option by letter, for CHOICES unless a row gives its own choices.
LETTER_REPLIES = [
    # The whole reply is a letter.
    ("a", 0),
    ("B", 1),
    ("b", 1),
    ("(c)", 2),
    ("d)", 3),
    ("B.", 1),
    ("[C]", 2),
    ("**B**", 1),
    ("**(C)**", 2),
    ("Ｂ", 1),
    ("a)", 0),
    ("A.", 0),
    # A letter after an answer cue.
    ("Answer: B", 1),
    ("Answer: (d)", 3),
    ("Answer - C", 2),
    ("Final answer: A", 0),
    ("My answer: b)", 1),
    ("The answer is (c)", 2),
    ("The answer is C.", 2),
    ("The correct answer is option B.", 1),
    ("The answer is option (d): church bells.", 3),
    ("The correct option is b", 1),
    ("I would choose B.", 1),
    ("I choose option c.", 2),
    ("I'd go with (d) because of the ringing.", 3),
    ("B is the correct answer.", 1),
    ("(B) is correct", 1),
    # The letter wins over option texts mentioned later.
    ("The answer is (b) cat meowing, not (a) dog barking.", 1),
    # Weaker cues.
    ("option c", 2),
    ("Option A", 0),
    ("Option B: cat meowing", 1),
    ("It's B.", 1),
    ("It's (a), the dog barking.", 0),
    ("It's not (a), it's (b).", 1),
    # A letter marker opening the reply.
    ("(b) cat meowing", 1),
    ("b) cat meowing", 1),
    ("B. Cat meowing", 1),
    ("C: car horn", 2),
    ("D - church bells", 3),
    # A bracketed or standalone letter anywhere.
    ("I think (b) fits best.", 1),
    ("Among the options, (c) car horn is the best match.", 2),
    ("I'd say B.", 1),
    ("I'm not sure. Maybe B?", 1),
    # Letters of no option, negated, or offered together: no answer.
    ("(e)", None),
    ("The answer is E.", None),
    ("Not (a).", None),
    ("A or B", None),
    ("Either (a) or (b).", None),
    ("(a) and (c)", None),
    ("I cannot listen to audio.", None),
    ("e.g. a dog", None),
    # "I" and "i" are option letters only in brackets (here with ten options).
    ("(i)", 8, list("abcdefghij")),
    ("I think (i)", 8, list("abcdefghij")),
    # "A" followed by words is the article unless the words are option a's text.
    ("A dog is barking.", 1, ["cat", "dog"]),
    ("A dog is barking.", 0, ["dog", "cat"]),
    ("A dog barking.", 1, ["dog", "dog barking"]),
    ("a dog", 0, ["dog", "dog barking"]),
    ("A male speaker.", 0, ["male speaker", "female speaker"]),
    ("It's a guitar.", 1, ["piano", "guitar", "violin"]),
    ("The answer is a dog barking", 0, ["dog barking", "cat"]),
    ("The answer is a dog barking", 1, ["cat", "dog barking"]),
]

# Replies naming the option by its text, for CHOICES unless a row gives its own choices.
TEXT_REPLIES = [
    ("dog barking", 0),
    ("Dog barking.", 0),
    ("The dog barking.", 0),
    ("I hear a dog barking in the background.", 0),
    ("It sounds like a car horn.", 2),
    ("car horn", 2),
    ("Car-horn", 2),
    ("CHURCH BELLS", 3),
    ("  church   bells  ", 3),
    ("The sound is church bells ringing.", 3),
    ("Church bells are ringing while a dog is barking.", 3),
    ("It's the sound of church bells.", 3),
    ("Cat meowing, clearly.", 1),
    ("cat meowing!!!", 1),
    ("**Car horn**", 2),
    ('"cat meowing"', 1),
    ("Définitely a car horn", 2),
    ("I believe it's the car horn honking twice.", 2),
    # After "the answer is", its clause is read first.
    ("The answer is the car horn.", 2),
    ("The answer is: dog barking.", 0),
    ("Answer: church bells", 3),
    ("The answer is the car horn, not the church bells.", 2),
    ("The answer is the car horn. A dog barking would sound different.", 2),
    # Negated mentions do not count.
    ("A car horn, not a dog barking.", 2),
    ("It is not a dog barking; it is a cat meowing.", 1),
    ("I can't hear a dog barking, but I hear a car horn.", 2),
    ("There is a cat meowing and no dog barking.", 1),
    ("Neither a dog barking nor a cat meowing; it is a car horn.", 2),
    # Part of one option, or a plural.
    ("cat", 1),
    ("bells", 3),
    ("horn", 2),
    ("dog", 0),
    ("car horns", 2),
    ("Church bell", 3),
    # Several options, none, or nothing: no answer.
    ("dog barking or cat meowing", None),
    ("Either a car horn or church bells.", None),
    ("Both dog barking and cat meowing.", None),
    ("The audio contains a car horn. A dog barking would sound different.", None),
    ("a bird singing", None),
    ("I don't hear any of these sounds.", None),
    ("None of the above.", None),
    ("", None),
    ("   ", None),
    # Own choices: numbers, nested texts, yes/no options.
    ("2", 1, ["one", "two", "three", "four"]),
    ("Two times.", 1, ["one", "two", "three", "four"]),
    ("three", 2, ["1", "2", "3"]),
    ("female speaker", 1, ["male speaker", "female speaker"]),
    ("outdoors", 1, ["indoors", "outdoors"]),
    ("No.", 1, ["Yes", "No"]),
    ("Thunder and rain", None, ["rain", "thunder", "wind", "waves"]),
    ("The dog is barking, I think.", None, ["dog barking", "cat meowing"]),
    ("A dog barking, not just a dog.", 1, ["dog", "dog barking"]),
]


def _option_case(row: tuple) -> tuple[str, list[str], int | None]:
    reply, expected, *choices = row
    return reply, (choices[0] if choices else CHOICES), expected


@pytest.mark.parametrize(("reply", "choices", "expected"), [_option_case(row) for row in LETTER_REPLIES])
def test_parse_option_by_letter(reply: str, choices: list[str], expected: int | None) -> None:
    assert parse_option(reply, choices) == expected


@pytest.mark.parametrize(("reply", "choices", "expected"), [_option_case(row) for row in TEXT_REPLIES])
def test_parse_option_by_text(reply: str, choices: list[str], expected: int | None) -> None:
    assert parse_option(reply, choices) == expected


def test_option_tables_are_large_enough() -> None:
    assert len(LETTER_REPLIES) >= 40 and len(TEXT_REPLIES) >= 40


def test_parse_option_on_missing_reply_or_choices() -> None:
    assert parse_option(None, CHOICES) is None  # type: ignore[arg-type]
    assert parse_option(float("nan"), CHOICES) is None  # type: ignore[arg-type]
    assert parse_option("(a)", []) is None
    assert parse_option("a", [float("nan"), "cat"]) == 0  # the letter still names option a
    assert parse_option("cat", [None, "cat"]) == 1  # type: ignore[list-item]


def test_identical_options_give_the_first() -> None:
    assert parse_option("a dog", ["cat", "dog", "Dog"]) == 1


def test_long_reply_is_parsed() -> None:
    assert parse_option("blah " * 20_000 + "The answer is (c).", CHOICES) == 2
    assert parse_option("dog barking " * 5_000, CHOICES) == 0


@settings(max_examples=300, deadline=None)
@given(st.text(), st.lists(st.text(max_size=30), max_size=30))
def test_parse_option_never_raises(reply: str, choices: list[str]) -> None:
    parsed = parse_option(reply, choices)
    assert parsed is None or 0 <= parsed < min(len(choices), 26)


_LETTERISH = st.lists(
    st.sampled_from([*"abcdeiABCDI()[].,:;-/ ", "answer ", "option ", "it's ", "not ", "or ", "is correct"])
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_LETTERISH, st.lists(st.sampled_from(["dog", "cat", "a", "b", "dog barking", "", "not"]), max_size=6))
def test_parse_option_never_raises_on_letter_like_replies(reply: str, choices: list[str]) -> None:
    parsed = parse_option(reply, choices)
    assert parsed is None or 0 <= parsed < len(choices)


def test_format_options() -> None:
    assert format_options(["dog", "cat", "car horn"]) == "(a) dog\n(b) cat\n(c) car horn"
    assert format_options([]) == ""
    assert format_options([" two\nlines "]) == "(a) two lines"
    with pytest.raises(ValueError, match="at most 26"):
        format_options(["x"] * 27)


def test_formatted_options_parse_back() -> None:
    lines = format_options(CHOICES).splitlines()
    assert [parse_option(line, CHOICES) for line in lines] == [0, 1, 2, 3]


def test_shuffle_is_deterministic_per_seed_and_item() -> None:
    first = shuffle_options(CHOICES, "car horn", seed=7, item_id="clip-1")
    assert shuffle_options(CHOICES, "car horn", seed=7, item_id="clip-1") == first
    assert shuffle_options(CHOICES, 2, seed=7, item_id="clip-1") == first  # answer by index


def test_shuffle_is_independent_of_other_items() -> None:
    ids = [f"clip-{i}" for i in range(50)]
    forward = {i: shuffle_options(CHOICES, "dog barking", 3, i) for i in ids}
    backward = {i: shuffle_options(CHOICES, "dog barking", 3, i) for i in reversed(ids[::2])}
    assert all(backward[i] == forward[i] for i in backward)


def test_shuffle_varies_with_item_and_seed() -> None:
    orders = {tuple(shuffle_options(CHOICES, 0, 0, i)[0]) for i in range(100)}
    assert len(orders) > 10
    assert any(shuffle_options(CHOICES, 0, 0, i) != shuffle_options(CHOICES, 0, 1, i) for i in range(10))


def test_shuffle_spreads_the_answer_over_all_letters() -> None:
    letters = [shuffle_options(CHOICES, "dog barking", 0, i)[1] for i in range(400)]
    counts = {letter: letters.count(letter) for letter in "abcd"}
    assert all(60 <= count <= 140 for count in counts.values()), counts


def test_shuffled_letter_names_the_answer() -> None:
    for item in range(30):
        shuffled, letter = shuffle_options(CHOICES, "church bells", 11, item)
        assert sorted(shuffled) == sorted(CHOICES)
        assert shuffled["abcd".index(letter)] == "church bells"
        assert parse_option(f"({letter})", shuffled) == shuffled.index("church bells")


def test_shuffle_rejects_an_answer_that_is_no_choice() -> None:
    with pytest.raises(ValueError, match="not one of the choices"):
        shuffle_options(CHOICES, "bird song", 0, "x")
    with pytest.raises(ValueError, match="out of range"):
        shuffle_options(CHOICES, 4, 0, "x")
    assert shuffle_options(CHOICES, " Car Horn ", 0, "x") == shuffle_options(CHOICES, "car horn", 0, "x")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=26, unique=True), st.data(), st.integers(), st.text())
def test_shuffle_keeps_the_answer(choices: list[str], data: st.DataObject, seed: int, item_id: str) -> None:
    answer = data.draw(st.integers(0, len(choices) - 1))
    shuffled, letter = shuffle_options(choices, answer, seed, item_id)
    assert sorted(shuffled) == sorted(choices)
    assert shuffled[ord(letter) - ord("a")] == choices[answer]


def test_parsers_on_odd_strings() -> None:
    odd = ["", " ", "\n\t", "\x00", "🐶🐱", "ǅ", "İ", "ß" * 10_000, "(" * 5000, "a" * 100_000, "\ud800"]
    for text in odd:
        assert parse_yes_no(text) in ("yes", "no", None)
        assert parse_option(text, CHOICES) in (None, 0, 1, 2, 3)
        assert parse_open(text, "dog") in (True, False)
        assert parse_open("dog", text) in (True, False)
