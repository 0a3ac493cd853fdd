"""The evaluation suite's metrics, overall and per subset, checked against scikit-learn and by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evaluation.suite_items import CHOICES, INSTRUCTIONS, cells, frame, item
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

from balsa_core.evaluation.instruction_following import Constraint
from balsa_core.evaluation.replies import OPTION_LETTERS
from balsa_core.evaluation.suite import evaluation_metrics, prepare_items, score_replies


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
