"""The evaluation suite's prompts: options shuffled per item, lettered, with the answer instruction."""

from __future__ import annotations

import pandas as pd
from evaluation.suite_items import CHOICES, INSTRUCTIONS, frame, item

from balsa_core.evaluation.instruction_following import Constraint
from balsa_core.evaluation.replies import OPTION_LETTERS
from balsa_core.evaluation.suite import AnswerInstructions, prepare_items


def mc_items(count: int, answer_index: int = 1) -> pd.DataFrame:
    return frame(
        *(
            item(f"mc-{i}", "multiple_choice", "Which sound is it?", CHOICES[answer_index], CHOICES)
            for i in range(count)
        )
    )


# --------------------------------------------------------------------------- prepare_items


def test_multiple_choice_options_are_a_permutation_with_the_gold_letter_on_the_answer() -> None:
    prepared = prepare_items(mc_items(20), INSTRUCTIONS, shuffle_seed=7)
    for row in prepared.itertuples(index=False):
        assert sorted(row.options) == sorted(CHOICES)
        assert row.gold in OPTION_LETTERS[: len(CHOICES)]
        assert row.options[OPTION_LETTERS.index(row.gold)] == "cat meowing"
    # Twenty items with four options: the answer does not always sit at the same letter.
    assert prepared["gold"].nunique() > 1


def test_same_seed_gives_the_same_order_whatever_the_other_items() -> None:
    alone = prepare_items(mc_items(1), INSTRUCTIONS, shuffle_seed=3)
    many = prepare_items(mc_items(10).iloc[::-1].reset_index(drop=True), INSTRUCTIONS, shuffle_seed=3)
    in_many = many.set_index("item_id").loc["mc-0"]
    assert list(in_many["options"]) == list(alone.loc[0, "options"])
    assert in_many["gold"] == alone.loc[0, "gold"]
    again = prepare_items(mc_items(10), INSTRUCTIONS, shuffle_seed=3).set_index("item_id")
    assert again.loc[many["item_id"], "options"].tolist() == many["options"].tolist()


def test_a_different_seed_changes_some_order() -> None:
    first = prepare_items(mc_items(10), INSTRUCTIONS, shuffle_seed=0)
    second = prepare_items(mc_items(10), INSTRUCTIONS, shuffle_seed=1)
    assert first["options"].tolist() != second["options"].tolist()


def test_multiple_choice_prompt_is_question_lettered_options_and_instruction() -> None:
    prepared = prepare_items(
        frame(item("q", "multiple_choice", "  Which\nsound   is it? ", "rain", CHOICES)), INSTRUCTIONS, 0
    )
    options = prepared.loc[0, "options"]
    lettered = "\n".join(f"({letter}) {option}" for letter, option in zip("abcd", options))
    assert prepared.loc[0, "prompt"] == f"Which sound is it?\n{lettered}\nAnswer with the option's letter."


def test_yes_no_and_open_items_keep_their_question_and_answer_and_get_their_instruction() -> None:
    items = frame(
        item("y", "yes_no", "Is there a dog barking?", "no"),
        item("o", "open", "What animal is heard?", "bird"),
    )
    prepared = prepare_items(items, INSTRUCTIONS, 0)
    assert prepared["options"].tolist() == [[], []]
    assert prepared["gold"].tolist() == ["no", "bird"]
    assert prepared["prompt"].tolist() == [
        "Is there a dog barking?\nAnswer yes or no.",
        "What animal is heard?\nAnswer in one word.",
    ]
    # The item columns themselves are untouched.
    pd.testing.assert_frame_equal(prepared[items.columns], items)


def test_without_instructions_the_prompt_is_the_bare_question() -> None:
    prepared = prepare_items(frame(item("y", "yes_no", "Is it raining?", "yes")), AnswerInstructions(), 0)
    assert prepared.loc[0, "prompt"] == "Is it raining?"


def test_instruction_items_get_no_answer_instruction_and_keep_their_layout() -> None:
    constraint = Constraint.make("bullet_points", n=2)
    question = f"Describe the audio. {constraint.instruction}"
    assert "\n" in question
    items = frame(
        item(
            "i",
            "instruction",
            question,
            constraint.to_json(),
            constraint_kind="bullet_points",
            constraint=constraint.to_json(),
        )
    )
    prepared = prepare_items(items, INSTRUCTIONS, 0)
    assert prepared.loc[0, "prompt"] == question
    assert prepared.loc[0, "gold"] == constraint.to_json()
    assert prepared.loc[0, "options"] == []
