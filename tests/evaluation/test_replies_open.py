"""parse_open: a short free-text reply against the gold word and its aliases."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balsa_core.evaluation.replies import OPEN_MAX_WORDS, parse_open

OPEN_REPLIES = [
    ("dog", "dog", True),
    ("Dog.", "dog", True),
    ("A dog.", "dog", True),
    ("The dog", "dog", True),
    ("It is a dog barking.", "dog", True),
    ("dogs", "dog", True),
    ("birds", "bird", True),
    ("bird", "birds", True),
    ("Birds are chirping.", "bird", True),
    ("A man is speaking.", "man", True),
    ("I think it's a train.", "train", True),
    ("Maybe a train?", "train", True),
    ("train", "Train.", True),
    ("WATER", "water", True),
    ("Water!", "water", True),
    ("the water is running", "water", True),
    ("The sound is coming from a car engine.", "car", True),
    ("The sound of a car horn honking", "car horn", True),
    ("café", "Café", True),
    # Numbers as words or digits.
    ("Two.", "2", True),
    ("2", "two", True),
    ("two times", "2", True),
    ("twice", "two", True),
    ("Three", "3", True),
    ("3", "three", True),
    ("twenty-one", "21", True),
    ("Twenty one times.", "21", True),
    ("seven", "7", True),
    ("eleven", "11", True),
    ("Zero", "0", True),
    ("once", "1", True),
    ("one", "1", True),
    ("4", "3", False),
    ("four", "three", False),
    ("twenty", "21", False),
    # Yes/no words as open answers.
    ("Yes", "yes", True),
    ("No", "yes", False),
    ("Yes.", "no", False),
    ("No, it is not.", "no", True),
    # Wrong, partial, negated or empty.
    ("cat", "dog", False),
    ("hotdog", "dog", False),
    ("woman", "man", False),
    ("A woman is speaking.", "man", False),
    ("rainfall", "rain", False),
    ("Raining", "rain", False),
    ("horn", "car horn", False),
    ("indoors", "outdoors", False),
    ("Not a dog.", "dog", False),
    ("It's not a dog, it's a cat.", "dog", False),
    ("It's not a dog, it's a cat.", "cat", True),
    ("I don't hear any dog.", "dog", False),
    ("I'm not sure.", "dog", False),
    ("", "dog", False),
    ("   ", "dog", False),
    ("Dog", "", False),
    ("dog", "the", False),
    # A long reply is no short answer even when it names the gold word.
    (
        "In this recording I can hear many different things such as wind, traffic, people talking and a dog",
        "dog",
        False,
    ),
]


@pytest.mark.parametrize(("reply", "gold", "expected"), OPEN_REPLIES)
def test_parse_open_on_real_looking_replies(reply: str, gold: str, expected: bool) -> None:
    assert parse_open(reply, gold) is expected


def test_open_table_is_large_enough() -> None:
    assert len(OPEN_REPLIES) >= 40


def test_long_reply_limit() -> None:
    assert len(OPEN_REPLIES[-1][0].split()) > OPEN_MAX_WORDS


@pytest.mark.parametrize(
    ("reply", "gold", "aliases", "expected"),
    [
        ("Outside.", "outdoors", ["outside"], True),
        ("It is raining heavily", "rain", ["raining"], True),
        ("A kid.", "child", ["kid", "children"], True),
        ("A kid.", "child", None, False),
        ("A kid.", "child", [None, float("nan"), ""], False),
    ],
)
def test_parse_open_with_aliases(reply: str, gold: str, aliases: list | None, expected: bool) -> None:
    assert parse_open(reply, gold, aliases) is expected


def test_parse_open_takes_aliases_in_any_container() -> None:
    assert parse_open("A kid.", "child", "kid") is True  # type: ignore[arg-type]
    assert parse_open("A kid.", "child", np.array(["kid", "children"])) is True  # type: ignore[arg-type]
    assert parse_open("A kid.", "child", pd.Series(["kid"])) is True  # type: ignore[arg-type]
    assert parse_open("A kid.", "child", 3) is False  # type: ignore[arg-type]


def test_parse_open_on_missing_values() -> None:
    assert parse_open(None, "dog") is False  # type: ignore[arg-type]
    assert parse_open(float("nan"), "dog") is False  # type: ignore[arg-type]
    assert parse_open("dog", None) is False  # type: ignore[arg-type]
    assert parse_open("dog", float("nan")) is False  # type: ignore[arg-type]
    assert parse_open("2", 2) is True  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.none() | st.lists(st.text(max_size=20), max_size=5))
def test_parse_open_never_raises(reply: str, gold: str, aliases: list[str] | None) -> None:
    assert parse_open(reply, gold, aliases) in (True, False)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_open_reply_equal_to_gold_is_correct(word: str) -> None:
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", word).casefold().replace("'", ""))
    if set(words) - {"a", "an", "the"}:
        assert parse_open(word, word) is True
