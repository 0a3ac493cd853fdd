from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from balsa_core.evaluation.metrics import class_scorer, classification_metrics, rate_scorer, yes_no_metrics


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


def test_old_unparsed_spelling_counts_as_unparsed() -> None:
    assert yes_no_metrics(["yes", "no"], ["yes", "unparsed"]) == yes_no_metrics(["yes", "no"], ["yes", None])


def test_classification_metrics_hand_computed_yes_no() -> None:
    # 10 items, 4 yes / 6 no; predictions per item:
    #   gold yes: yes yes yes no          gold no: no no no yes None None
    # Confusion counts (rows gold, columns predicted):
    #            yes  no  unparsed
    #   yes       3    1     0
    #   no        1    3     2
    # yes: TP 3, FP 1, FN 1 -> precision 3/4 = 75 %, recall 3/4 = 75 %, F1 75 %.
    # no:  TP 3, FP 1, FN 3 -> precision 3/4 = 75 %, recall 3/6 = 50 %,
    #      F1 = 2 * 0.75 * 0.5 / 1.25 = 0.6 -> 60 %.
    # weighted (supports 4 and 6): precision (4 * 75 + 6 * 75) / 10 = 75 %,
    #      recall (4 * 75 + 6 * 50) / 10 = 60 % (= accuracy), F1 (4 * 75 + 6 * 60) / 10 = 66 %.
    # accuracy 6/10 = 60 %; yes-rate 4/10 = 40 % (3 TP + 1 FP); unparsed 2/10 = 20 %.
    gold = ["yes"] * 4 + ["no"] * 6
    predicted = ["yes", "yes", "yes", "no", "no", "no", "no", "yes", None, None]
    assert classification_metrics(gold, predicted, ["yes", "no"]) == pytest.approx(
        {
            "acc": 60.0,
            "precision_yes": 75.0,
            "recall_yes": 75.0,
            "f1_yes": 75.0,
            "precision_no": 75.0,
            "recall_no": 50.0,
            "f1_no": 60.0,
            "precision_weighted": 75.0,
            "recall_weighted": 60.0,
            "f1_weighted": 66.0,
            "unparsed": 20.0,
            "yes_rate": 40.0,
        }
    )


def test_classification_metrics_hand_computed_options() -> None:
    # Option letters, 5 items: gold a a b c c, predicted a b b None c.
    # a: TP 1, FP 0, FN 1 -> P 100, R 50, F1 66.67;  b: TP 1, FP 1, FN 0 -> P 50, R 100, F1 66.67;
    # c: TP 1, FP 0, FN 1 -> P 100, R 50, F1 66.67; d: no items, no predictions -> 0.
    # weighted by support 2/1/2: P (200 + 50 + 200) / 5 = 90, R (100 + 100 + 100) / 5 = 60, F1 66.67.
    metrics = classification_metrics(list("aabcc"), ["a", "b", "b", None, "c"], list("abcd"))
    assert metrics["acc"] == pytest.approx(60.0)
    assert [metrics[f"f1_{x}"] for x in "abcd"] == pytest.approx([200 / 3, 200 / 3, 200 / 3, 0.0])
    assert [metrics[f"precision_{x}"] for x in "abc"] == pytest.approx([100.0, 50.0, 100.0])
    assert metrics["precision_weighted"] == pytest.approx(90.0)
    assert metrics["recall_weighted"] == pytest.approx(60.0)
    assert metrics["f1_weighted"] == pytest.approx(200 / 3)
    assert metrics["unparsed"] == pytest.approx(20.0)
    assert "yes_rate" not in metrics


def _sklearn_reference(gold: list, predicted: list, labels: list) -> dict[str, float]:
    """The metrics straight from scikit-learn, with None scored as a class of its own."""
    marker = "<unparsed>" if isinstance(labels[0], str) else -1
    scored = [marker if p is None else p for p in predicted]
    precision, recall, f1, _ = precision_recall_fscore_support(
        gold, scored, labels=labels, average=None, zero_division=0.0
    )
    weighted = precision_recall_fscore_support(gold, scored, labels=labels, average="weighted", zero_division=0.0)
    expected = {"acc": 100 * accuracy_score(gold, scored)}
    for i, label in enumerate(labels):
        expected[f"precision_{label}"] = 100 * precision[i]
        expected[f"recall_{label}"] = 100 * recall[i]
        expected[f"f1_{label}"] = 100 * f1[i]
    expected["precision_weighted"], expected["recall_weighted"], expected["f1_weighted"] = (
        100 * w for w in weighted[:3]
    )
    expected["unparsed"] = 100 * scored.count(marker) / len(scored)
    if "yes" in labels:
        expected["yes_rate"] = 100 * scored.count("yes") / len(scored)
    return expected


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(
    "labels", [["yes", "no"], ["a", "b", "c", "d"], [0, 1, 2], ["dog", "cat", "car horn", "siren", "rain"]]
)
def test_classification_metrics_equal_scikit_learn_on_random_predictions(seed: int, labels: list) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 400))
    gold = [labels[i] for i in rng.integers(0, len(labels), size)]
    draws = rng.integers(-1, len(labels), size)  # -1: unparsed
    predicted = [None if i < 0 else labels[i] for i in draws]
    assert classification_metrics(gold, predicted, labels) == pytest.approx(_sklearn_reference(gold, predicted, labels))


@pytest.mark.parametrize("seed", range(5))
def test_yes_no_metrics_are_classification_metrics(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    gold = rng.choice(["yes", "no"], size=200).tolist()
    predicted = [
        None if d == "none" else str(d) for d in rng.choice(["yes", "no", "none"], size=200, p=[0.5, 0.3, 0.2])
    ]
    full = classification_metrics(gold, predicted, ["yes", "no"])
    assert yes_no_metrics(gold, predicted) == {key: full[key] for key in yes_no_metrics(gold, predicted)}


def test_classification_metrics_with_numpy_and_nan_inputs() -> None:
    gold = np.array([0, 1, 2, 2])
    predicted = [0, np.int64(1), float("nan"), None]
    metrics = classification_metrics(gold, predicted, [0, 1, 2])
    assert metrics["acc"] == 50.0 and metrics["unparsed"] == 50.0 and metrics["recall_2"] == 0.0


@pytest.mark.parametrize(
    ("gold", "predicted", "labels", "message"),
    [
        (["a"], ["a"], [], "no answer classes"),
        (["a"], ["a"], ["a", "a"], "repeat"),
        ([], [], ["a", "b"], "no labels"),
        (["a", "b"], ["a"], ["a", "b"], "2 labels but 1 predictions"),
        (["a", "e"], ["a", "b"], ["a", "b"], "labels must be one of"),
        (["a", float("nan")], ["a", "b"], ["a", "b"], "labels must be one of"),
        (["a", "b"], ["a", "(b)"], ["a", "b"], "predictions must be one of"),
        (["a", "b"], ["a", ["b"]], ["a", "b"], "predictions must be one of"),
    ],
)
def test_classification_metrics_reject_malformed_input(gold, predicted, labels, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classification_metrics(gold, predicted, labels)


def test_a_scorer_scores_any_selection_and_gives_per_item_scores_of_shares() -> None:
    gold = ["yes", "no", "no", "yes", "no"]
    predicted = ["yes", "yes", None, "yes", "no"]
    scorer = class_scorer(gold, predicted, ["yes", "no"])
    picked = np.array([4, 0, 0, 2])
    assert scorer(picked) == classification_metrics(
        [gold[i] for i in picked], [predicted[i] for i in picked], ["yes", "no"]
    )
    assert scorer.per_item("acc").tolist() == [1.0, 0.0, 0.0, 1.0, 1.0]
    assert scorer.per_item("unparsed").tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert scorer.per_item("yes_rate").tolist() == [1.0, 1.0, 0.0, 1.0, 0.0]
    assert scorer.per_item("f1_weighted") is None  # not a share of items
    rates = rate_scorer({"if_rate": [True, False, True, True]})
    assert rates(np.array([1, 1, 2])) == pytest.approx({"if_rate": 100 / 3})
    assert rates.per_item("if_rate").tolist() == [1.0, 0.0, 1.0, 1.0] and rates.per_item("acc") is None
