"""Closed-ended instruction following: constraint checkers, item building, IF rate and forgetting rate."""

from __future__ import annotations

import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balsa_core.evaluation.instruction_following import (
    ITEM_COLUMNS,
    KINDS,
    Constraint,
    build_if_items,
    check_items,
    forgetting_rate,
    if_rate,
)

C = Constraint.make
CASES: list[tuple[Constraint, list[str], list[str]]] = [
    (
        C("lowercase"),
        ["a dog is barking in the distance.", "i hear rain on a tin roof, and some thunder.", "engine noise: 2 cars"],
        ["A dog is barking.", "i hear a dog. It barks.", "the BBC news jingle", "1234 ..."],
    ),
    (
        C("uppercase"),
        ["A DOG IS BARKING.", "I HEAR RAIN AND THUNDER, 2 TIMES.", "CAR ENGINE - IDLING"],
        ["A dog is barking.", "A DOG IS BARKINg.", "i hear rain", "42!"],
    ),
    (
        C("bullet_points", n=3),
        [
            "* A dog barks.\n* A car passes.\n* Birds chirp.",
            "Sounds:\n* dog\n* car\n* birds\nThat's all.",
            "  * one\n  * two\n  - three",
        ],
        [
            "* A dog barks.\n* A car passes.",
            "* a\n* b\n* c\n* d",
            "A dog barks, a car passes and birds chirp.",
            "**Sounds**\n* a\n* b\n---",
        ],
    ),
    (
        C("quotation"),
        ['"A dog is barking."', '  "I hear rain, then thunder."\n', '"The audio contains "speech" and music."'],
        ["A dog is barking.", '"A dog is barking.', "\u201cA dog is barking.\u201d", '"'],
    ),
    (
        C("include_keyword", keyword="sound"),
        ["The sound of rain fills the room.", "SOUND: a dog barking.", "I think the loudest sound is a siren."],
        ["A dog is barking.", "The sounds are rain and thunder.", "It is a resounding crash."],
    ),
    (
        C("forbidden_word", word="audio"),
        ["A dog is barking.", "The recording has rain.", "Audiophiles would enjoy this track."],
        ["The audio has a dog barking.", "AUDIO: rain.", "In this audio, I hear a car."],
    ),
    (
        C("no_comma"),
        ["A dog is barking.", "Rain falls and thunder rolls.", "Two cars pass by\nthen silence."],
        ["A dog, a cat.", "Rain falls, thunder rolls.", "Yes\uff0cit is rain."],
    ),
    (
        C("end_phrase", phrase="Hope this helps."),
        [
            "A dog is barking. Hope this helps.",
            "Rain and thunder.\nhope this helps.",
            '"A car passes by. Hope this helps."',
        ],
        ["Hope this helps. A dog is barking.", "A dog is barking. Hope this helps!", "A dog. Hope this helps. Bye"],
    ),
    (
        C("json_format"),
        ['{"answer": "dog barking"}', '```json\n{"sounds": ["rain", "thunder"]}\n```', ' {"a": 1, "b": null} \n'],
        ['["dog", "cat"]', "answer: dog barking", '{"answer": "dog"', "```json\n{'a': 1}\n```"],
    ),
    (
        C("max_words", n=5),
        ["A dog is barking.", "Rain.", "Thunder, rain, and wind."],
        ["A dog is barking very loudly outside.", "one two three four five six", "I hear rain and thunder now."],
    ),
    (
        C("start_with", prefix="Answer:"),
        ["Answer: a dog is barking.", "  Answer: rain", "Answer:yes"],
        ["The answer: a dog.", "answer: dog", "A dog. Answer: dog", "**Answer:** dog"],
    ),
]


def test_cases_cover_every_kind() -> None:
    assert {c.kind for c, _, _ in CASES} == set(KINDS)


@pytest.mark.parametrize(
    ("constraint", "response", "expected"),
    [(c, r, True) for c, ok, _ in CASES for r in ok] + [(c, r, False) for c, _, bad in CASES for r in bad],
)
def test_checker_table(constraint: Constraint, response: str, expected: bool) -> None:
    assert constraint.check(response) is expected


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("response", [None, "", "   \n", float("nan"), 3])
def test_blank_and_non_string_responses_fail(kind: str, response: object) -> None:
    assert Constraint.make(kind, **KINDS[kind].sample(random.Random(0))).check(response) is False


@settings(max_examples=300, deadline=None)
@given(constraint=st.sampled_from([c for c, _, _ in CASES]), response=st.text())
def test_checkers_never_raise(constraint: Constraint, response: str) -> None:
    assert isinstance(constraint.check(response), bool)


@settings(max_examples=100, deadline=None)
@given(response=st.recursive(st.text(alphabet='{}[]",: 0123456789a\n`'), lambda s: s.map(lambda x: x * 2)))
def test_json_checker_never_raises_on_json_like_noise(response: str) -> None:
    assert isinstance(Constraint.make("json_format").check(response), bool)


def test_constraint_roundtrip_and_instruction() -> None:
    c = Constraint.make("bullet_points", n=4)
    assert Constraint.from_json("bullet_points", c.to_json()) == c
    assert "exactly 4 bullet points" in c.instruction
    assert Constraint.make("end_phrase", phrase="That is all.").instruction.count('"That is all."') == 1
    with pytest.raises(ValueError, match="unknown constraint kind"):
        Constraint.make("haiku")


BASES = ["What sound do you hear?", "Describe the audio.", "Is there a dog barking in the audio?"]


def test_build_if_items_shape_and_determinism() -> None:
    items = build_if_items(BASES, None, per_prompt=3, seed=7)
    assert list(items.columns) == ITEM_COLUMNS
    assert len(items) == 9 and items["item_id"].is_unique
    assert items.equals(build_if_items(BASES, None, per_prompt=3, seed=7))
    assert not items.equals(build_if_items(BASES, None, per_prompt=3, seed=8))
    for _, row in items.iterrows():
        c = Constraint.from_json(row.constraint_kind, row.constraint)
        assert row.prompt == f"{row.base_prompt} {c.instruction}"
        assert isinstance(json.loads(row.constraint), dict)
    assert all(g.constraint_kind.is_unique for _, g in items.groupby("base_prompt"))


def test_build_if_items_restricted_kinds_and_errors() -> None:
    items = build_if_items(BASES, ["lowercase", "no_comma"], per_prompt=2, seed=0)
    assert set(items["constraint_kind"]) == {"lowercase", "no_comma"}
    with pytest.raises(ValueError, match="unknown"):
        build_if_items(BASES, ["lowercase", "nope"], per_prompt=1, seed=0)
    with pytest.raises(ValueError, match="per_prompt"):
        build_if_items(BASES, ["lowercase"], per_prompt=2, seed=0)
    assert build_if_items([], None, per_prompt=1, seed=0).empty


def test_if_rate_sequence_and_mapping() -> None:
    items = build_if_items(BASES, ["lowercase"], per_prompt=1, seed=0)
    responses = ["a dog barks.", "A dog barks.", None]
    assert if_rate(items, responses) == pytest.approx(100 / 3)
    assert check_items(items, responses) == [True, False, False]
    by_id = {items.item_id[0]: "a dog barks.", items.item_id[1]: "rain."}  # third missing -> failure
    assert if_rate(items, by_id) == pytest.approx(200 / 3)
    with pytest.raises(ValueError, match="responses"):
        if_rate(items, ["a"])
    assert math.isnan(if_rate(items.iloc[:0], []))


def test_forgetting_rate_matches_paper_sign() -> None:
    # Table VII: backbone IFrate ~91.04 reproduces the reported deltas, negative = forgetting.
    assert forgetting_rate(14.63, 91.04) == pytest.approx(-83.93, abs=0.01)
    assert forgetting_rate(89.37, 91.04) == pytest.approx(-1.82, abs=0.02)
    assert forgetting_rate(91.02, 91.04) == pytest.approx(-0.02, abs=0.01)
    assert forgetting_rate(50.0, 50.0) == 0.0
    assert forgetting_rate(60.0, 50.0) == pytest.approx(20.0)
    assert math.isnan(forgetting_rate(10.0, 0.0))
    assert math.isnan(forgetting_rate(float("nan"), 50.0))
