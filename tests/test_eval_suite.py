"""The evaluation suite: prompts from items, replies scored per question type, metrics through scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

from balsa_core.evaluation.instruction_following import Constraint
from balsa_core.evaluation.replies import OPTION_LETTERS
from balsa_core.evaluation.suite import AnswerInstructions, evaluation_metrics, prepare_items, score_replies

INSTRUCTIONS = AnswerInstructions(
    yes_no="Answer yes or no.", multiple_choice="Answer with the option's letter.", open="Answer in one word."
)


def item(item_id, question_type, question, answer, choices=(), subset="", **extra) -> dict:
    return {
        "item_id": item_id,
        "benchmark": "test",
        "subset": subset,
        "audio_path": f"/audio/{item_id}.wav",
        "question": question,
        "choices": list(choices),
        "answer": answer,
        "question_type": question_type,
        **extra,
    }


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def cells(column: pd.Series) -> list:
    """The column's values with missing ones as None (pandas' string columns hold NaN)."""
    return [None if pd.isna(value) else value for value in column]


CHOICES = ["dog barking", "cat meowing", "car horn", "rain"]


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


# --------------------------------------------------------------------------- score_replies


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


# --------------------------------------------------------------------------- evaluation_metrics


def sklearn_metrics(gold: list[str], predicted: list[str | None], labels: list[str]) -> dict[str, float]:
    """The reference: unparsed replies as one more class no gold item has."""
    guess = ["<unparsed>" if value is None else value for value in predicted]
    precision, recall, f1, _ = precision_recall_fscore_support(
        gold, guess, labels=labels, average="weighted", zero_division=0
    )
    return {
        "acc": 100 * accuracy_score(gold, guess),
        "precision_weighted": 100 * precision,
        "recall_weighted": 100 * recall,
        "f1_weighted": 100 * f1,
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_yes_no_metrics_equal_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    answers = rng.choice(["yes", "no"], size=300, p=[0.3, 0.7]).tolist()
    replies = rng.choice(["Yes.", "No.", "I am not sure."], size=300).tolist()
    items = prepare_items(
        frame(*(item(f"y{i}", "yes_no", "Is there a dog?", answer) for i, answer in enumerate(answers))),
        INSTRUCTIONS,
        0,
    )
    scored = score_replies(items, replies)
    predicted = [{"Yes.": "yes", "No.": "no"}.get(reply) for reply in replies]
    assert cells(scored["parsed"]) == predicted
    metrics = evaluation_metrics(scored)
    expected = sklearn_metrics(answers, predicted, ["yes", "no"])
    assert {key: metrics["overall"][key] for key in expected} == pytest.approx(expected)
    assert metrics["overall"]["unparsed"] == pytest.approx(100 * sum(p is None for p in predicted) / 300)
    assert metrics["subsets"] == {}


@pytest.mark.parametrize("seed", [0, 1])
def test_multiple_choice_metrics_equal_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    answers = rng.choice(CHOICES, size=200).tolist()
    items = prepare_items(
        frame(*(item(f"m{i}", "multiple_choice", "Which?", answer, CHOICES) for i, answer in enumerate(answers))),
        INSTRUCTIONS,
        seed,
    )
    # Replies pick a random option by letter, or say nothing readable.
    picks = rng.integers(-1, len(CHOICES), size=200)
    replies = ["No idea." if pick < 0 else f"({OPTION_LETTERS[pick]})" for pick in picks]
    predicted = [None if pick < 0 else items.loc[i, "options"][pick] for i, pick in enumerate(picks)]
    scored = score_replies(items, replies)
    assert cells(scored["parsed"]) == predicted
    metrics = evaluation_metrics(scored)
    expected = sklearn_metrics(answers, predicted, sorted(CHOICES))
    assert {key: metrics["overall"][key] for key in expected} == pytest.approx(expected)
    assert metrics["overall"]["acc"] == pytest.approx(100 * scored["correct"].mean())
    assert metrics["overall"]["unparsed"] == pytest.approx(100 * np.mean(picks < 0))


def test_subsets_only_when_there_are_several() -> None:
    answers = ["yes", "no", "yes", "no", "yes", "no"]
    subsets = ["single", "single", "single", "multi", "multi", "multi"]
    items = prepare_items(
        frame(
            *(
                item(f"y{i}", "yes_no", "Is it?", answer, subset=subset)
                for i, (answer, subset) in enumerate(zip(answers, subsets))
            )
        ),
        INSTRUCTIONS,
        0,
    )
    replies = ["yes", "yes", "yes", "no", "no", "no"]
    metrics = evaluation_metrics(score_replies(items, replies))
    assert sorted(metrics["subsets"]) == ["multi", "single"]
    # single: 2 of 3 right; multi: 2 of 3 right; overall 4 of 6.
    assert metrics["subsets"]["single"]["acc"] == pytest.approx(200 / 3)
    assert metrics["subsets"]["multi"]["acc"] == pytest.approx(200 / 3)
    assert metrics["subsets"]["single"]["yes_rate"] == pytest.approx(100.0)
    assert metrics["overall"]["acc"] == pytest.approx(200 / 3)

    one_subset = evaluation_metrics(score_replies(items.assign(subset="random"), replies))
    assert one_subset["subsets"] == {}
    assert one_subset["overall"] == metrics["overall"]


def test_mixed_yes_no_and_open_items_give_only_accuracy_and_unparsed() -> None:
    items = prepare_items(
        frame(
            item("y1", "yes_no", "Is it?", "yes"),
            item("y2", "yes_no", "Is it?", "no"),
            item("o1", "open", "What?", "dog"),
            item("o2", "open", "What?", "rain"),
        ),
        INSTRUCTIONS,
        0,
    )
    metrics = evaluation_metrics(score_replies(items, ["Yes.", "Hard to say.", "a dog", "snow"]))
    # Right: y1 and o1 -> 50 %; unparsed: y2 only (a wrong open word is not unparsed) -> 25 %.
    assert metrics["overall"] == pytest.approx({"acc": 50.0, "unparsed": 25.0})


def test_instruction_items_give_the_if_rate() -> None:
    constraint = Constraint.make("no_comma")
    items = prepare_items(
        frame(
            *(
                item(f"i{i}", "instruction", "Say it.", "", constraint_kind="no_comma", constraint=constraint.to_json())
                for i in range(4)
            )
        ),
        INSTRUCTIONS,
        0,
    )
    metrics = evaluation_metrics(score_replies(items, ["ok", "a, b", "fine", ""]))
    assert metrics["overall"] == pytest.approx({"if_rate": 50.0})


def test_hand_computed_yes_no_example() -> None:
    answers = ["yes"] * 5 + ["no"] * 5
    replies = ["Yes.", "Yes.", "Yes.", "No.", "Unclear."] + ["No.", "No.", "Yes.", "Yes.", "No."]
    # Confusion (gold -> predicted): yes->yes 3, yes->no 1, yes->unparsed 1; no->no 3, no->yes 2.
    # acc = 6/10 = 60 %.
    # yes: TP 3, FP 2, FN 2 -> P 3/5, R 3/5 -> F1 60 %.
    # no:  TP 3, FP 1, FN 2 -> P 3/4, R 3/5 -> F1 = 2 * 0.75 * 0.6 / 1.35 = 0.9 / 1.35 = 2/3 -> 66.67 %.
    # weighted (support 5 and 5): (60 + 66.67) / 2 = 63.33 %.
    # yes_rate: 5 of 10 replies read as yes -> 50 %; unparsed 1 of 10 -> 10 %.
    items = prepare_items(
        frame(*(item(f"y{i}", "yes_no", "Is it?", answer) for i, answer in enumerate(answers))), INSTRUCTIONS, 0
    )
    overall = evaluation_metrics(score_replies(items, replies))["overall"]
    expected = {
        "acc": 60.0,
        "f1_yes": 60.0,
        "f1_no": 200 / 3,
        "f1_weighted": (60.0 + 200 / 3) / 2,
        "yes_rate": 50.0,
        "unparsed": 10.0,
    }
    assert {key: overall[key] for key in expected} == pytest.approx(expected)


def test_prepared_items_score_alike_after_a_parquet_round_trip(tmp_path) -> None:
    items = prepare_items(
        frame(
            item("m", "multiple_choice", "Which?", "rain", CHOICES),
            item("y", "yes_no", "Is it?", "no"),
        ).assign(subset=["mc", "yn"]),
        INSTRUCTIONS,
        2,
    )
    path = tmp_path / "items.parquet"
    items.to_parquet(path, index=False)
    read = pd.read_parquet(path)
    replies = [f"({items.loc[0, 'gold']})", "Nope."]
    original, round_trip = score_replies(items, replies), score_replies(read, replies)
    assert round_trip["correct"].tolist() == original["correct"].tolist() == [True, True]
    assert evaluation_metrics(round_trip) == evaluation_metrics(original)


def test_no_scored_items_give_no_metrics() -> None:
    empty = prepare_items(frame(item("y", "yes_no", "Is it?", "yes")).iloc[:0], INSTRUCTIONS, 0)
    assert evaluation_metrics(score_replies(empty, [])) == {"overall": {}, "subsets": {}}
