"""The evaluation suite's scoring: each reply parsed by its item's question type and checked against the gold."""

from __future__ import annotations

import pandas as pd
import pytest
from evaluation.suite_items import CHOICES, INSTRUCTIONS, cells, frame, item

from balsa_core.evaluation.instruction_following import Constraint
from balsa_core.evaluation.replies import OPTION_LETTERS
from balsa_core.evaluation.suite import evaluation_metrics, prepare_items, score_replies


def prepared_mc() -> tuple[pd.DataFrame, str, str]:
    """One multiple-choice item; its correct letter and one wrong option's text."""
    prepared = prepare_items(frame(item("q", "multiple_choice", "Which?", "car horn", CHOICES)), INSTRUCTIONS, 5)
    options = prepared.loc[0, "options"]
    wrong = next(option for option in options if option != "car horn")
    return prepared, prepared.loc[0, "gold"], wrong


def test_multiple_choice_replies_by_letter_by_text_and_unreadable() -> None:
    prepared, letter, wrong = prepared_mc()
    wrong_letter = OPTION_LETTERS[list(prepared.loc[0, "options"]).index(wrong)]
    cases = [
        (f"({letter})", "car horn", True),
        (f"The answer is {letter.upper()}.", "car horn", True),
        ("It is a car horn.", "car horn", True),
        (f"({wrong_letter})", wrong, False),
        (wrong, wrong, False),
        ("I cannot tell.", None, False),
        (None, None, False),
    ]
    items = pd.concat([prepared] * len(cases), ignore_index=True)
    scored = score_replies(items, [reply for reply, _, _ in cases])
    assert cells(scored["reply"]) == [reply for reply, _, _ in cases]
    assert cells(scored["parsed"]) == [parsed for _, parsed, _ in cases]
    assert scored["correct"].tolist() == [correct for _, _, correct in cases]


def test_an_answer_named_loosely_or_by_index_is_scored_by_its_gold_letter() -> None:
    items = frame(
        item("loose", "multiple_choice", "Which?", "Car  Horn", CHOICES),
        item("index", "multiple_choice", "Which?", 2, CHOICES),
    )
    prepared = prepare_items(items, INSTRUCTIONS, 0)
    assert [options[OPTION_LETTERS.index(gold)] for options, gold in zip(prepared["options"], prepared["gold"])] == [
        "car horn",
        "car horn",
    ]
    scored = score_replies(prepared, ["a car horn", f"({prepared.loc[1, 'gold']})"])
    assert scored["correct"].tolist() == [True, True]
    assert evaluation_metrics(scored)["overall"]["acc"] == 100.0


def test_yes_no_replies() -> None:
    items = prepare_items(
        frame(
            *(item(f"y{i}", "yes_no", "Is there a dog?", answer) for i, answer in enumerate(["yes", "no", "yes", "no"]))
        ),
        INSTRUCTIONS,
        0,
    )
    scored = score_replies(items, ["Yes, there is.", "Yes.", "Maybe, hard to tell.", "No."])
    assert cells(scored["parsed"]) == ["yes", "yes", None, "no"]
    assert scored["correct"].tolist() == [True, False, False, True]


def test_open_replies() -> None:
    items = prepare_items(frame(*(item(f"o{i}", "open", "What animal?", "dog") for i in range(4))), INSTRUCTIONS, 0)
    scored = score_replies(items, ["A dog.", "dogs", "It is not a dog.", None])
    assert scored["correct"].tolist() == [True, True, False, False]
    # A wrong open answer is read (it is not unparsed), just not the gold word.
    assert cells(scored["parsed"]) == ["dog", "dog", "", ""]


def test_instruction_replies_are_checked_against_their_constraint() -> None:
    constraints = [
        Constraint.make("lowercase"),
        Constraint.make("include_keyword", keyword="audio"),
        Constraint.make("max_words", n=3),
        Constraint.make("end_phrase", phrase="That is all."),
    ]
    items = prepare_items(
        frame(
            *(
                item(
                    f"i{i}",
                    "instruction",
                    f"Describe it. {c.instruction}",
                    c.to_json(),
                    constraint_kind=c.kind,
                    constraint=c.to_json(),
                )
                for i, c in enumerate(constraints)
            )
        ),
        INSTRUCTIONS,
        0,
    )
    followed = score_replies(items, ["a dog barks", "The audio has rain.", "Rain falls.", "Rain. That is all."])
    assert followed["correct"].all()
    assert followed["parsed"].tolist() == ["followed"] * 4
    broken = score_replies(items, ["A dog barks", "Rain falls.", "Rain falls on a roof.", None])
    assert not broken["correct"].any()
    assert broken["parsed"].tolist() == [""] * 4


def test_reply_count_must_match_and_unknown_types_are_errors() -> None:
    items = prepare_items(frame(item("y", "yes_no", "Is it?", "yes")), INSTRUCTIONS, 0)
    with pytest.raises(ValueError, match="2 replies for 1 items"):
        score_replies(items, ["yes", "no"])
    with pytest.raises(ValueError, match="unknown question type"):
        score_replies(items.assign(question_type="essay"), ["yes"])
