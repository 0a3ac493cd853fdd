from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from balsa_core.evaluation.metrics import yes_no_metrics


def test_hand_computed_example() -> None:
    labels = ["yes"] * 4 + ["no"] * 6
    predictions = ["yes", "yes", "yes", "no"] + ["no", "no", "no", "yes", None, None]
    # Correct: 3 of the yes items + 3 of the no items -> acc = 6/10 = 60 %.
    # yes: TP 3, FP 1 (a "no" item answered yes), FN 1 -> P 3/4, R 3/4 -> F1 = 0.75 -> 75 %.
    # no:  TP 3, FP 1 (a "yes" item answered no), FN 3 (one yes + two unparsed)
    #      -> P 3/4, R 3/6 -> F1 = 2 * 0.75 * 0.5 / (0.75 + 0.5) = 0.75 / 1.25 = 0.6 -> 60 %.
    # weighted by support 4 yes / 6 no: (4 * 75 + 6 * 60) / 10 = (300 + 360) / 10 = 66 %.
    # yes-rate: 4 of 10 answers are "yes" -> 40 %; unparsed: 2 of 10 -> 20 %.
    assert yes_no_metrics(labels, predictions) == pytest.approx(
        {
            "acc": 60.0,
            "f1_yes": 75.0,
            "f1_no": 60.0,
            "f1_weighted": 66.0,
            "yes_rate": 40.0,
            "unparsed": 20.0,
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equal_to_scikit_learn_on_random_predictions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.choice(["yes", "no"], size=500, p=[0.4, 0.6]).tolist()
    draws = rng.choice(["yes", "no", "none"], size=500)
    predictions = [None if draw == "none" else str(draw) for draw in draws]
    scored = ["unparsed" if p is None else p for p in predictions]
    per_class = f1_score(labels, scored, labels=["yes", "no"], average=None)
    expected = {
        "acc": 100 * accuracy_score(labels, scored),
        "f1_yes": 100 * per_class[0],
        "f1_no": 100 * per_class[1],
        "f1_weighted": 100 * f1_score(labels, scored, labels=["yes", "no"], average="weighted"),
        "yes_rate": 100 * scored.count("yes") / 500,
        "unparsed": 100 * scored.count("unparsed") / 500,
    }
    assert yes_no_metrics(labels, predictions) == pytest.approx(expected)


def test_unparsed_is_a_miss_for_either_class() -> None:
    metrics = yes_no_metrics(["yes", "no"], [None, None])
    assert metrics["acc"] == 0.0 and metrics["f1_yes"] == 0.0 and metrics["f1_no"] == 0.0
    assert metrics["unparsed"] == 100.0 and metrics["yes_rate"] == 0.0


def test_perfect_answers() -> None:
    metrics = yes_no_metrics(["yes", "no", "no"], ["yes", "no", "no"])
    assert metrics["acc"] == metrics["f1_weighted"] == 100.0
    assert metrics["yes_rate"] == pytest.approx(100 / 3)


def test_nan_prediction_counts_as_unparsed() -> None:
    assert yes_no_metrics(["yes", "no"], ["yes", float("nan")])["unparsed"] == 50.0


def test_empty_input_is_an_error() -> None:
    with pytest.raises(ValueError, match="no labels"):
        yes_no_metrics([], [])


@pytest.mark.parametrize(
    ("labels", "predictions", "message"),
    [
        (["yes", "no"], ["yes"], "2 labels but 1 predictions"),
        (["Yes", "no"], ["yes", "no"], "labels must be"),
        (["yes", "no"], ["Yes, a dog", "no"], "predictions must be"),
    ],
)
def test_malformed_input_is_an_error(labels, predictions, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        yes_no_metrics(labels, predictions)
